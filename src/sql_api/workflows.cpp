// duroxide._validate_workflow(definition text): the validator of SQL-authored workflows
// (core/workflow/definition.hpp) at the SQL boundary, for duroxide.define_workflow and the
// start of an ad-hoc definition (sql/install/75_workflows.sql). A refusal is SQLSTATE 22023
// with the JSON path of the offending node in its DETAIL.
#include "core/workflow/definition.hpp"
#include "pg/guard.hpp"
#include "sql_api/arguments.hpp"

DUROXIDE_SQL_FUNCTION(duroxide_validate_workflow) {
    using namespace duroxide;
    const std::string definition = sql_api::required_text(fcinfo, 0, "workflow definition");
    try {
        (void)core::workflow::parse_definition_text(definition);
    } catch (const core::workflow::DefinitionError& e) {
        std::string message = e.message();
        if (message.size() > 512) {
            message = message.substr(0, 512) + "...";
        }
        std::string path = e.path();
        if (path.size() > 512) {
            path = path.substr(0, 512) + "...";
        }
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "invalid workflow definition: " + message, "at " + path,
                           "See the node kinds and limits in docs/workflows.md.");
    }
    PG_RETURN_VOID();
}
