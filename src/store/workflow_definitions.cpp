#include "store/workflow_definitions.hpp"

#include "store/sql_values.hpp"
#include "store/statements.hpp"

#include <vector>

namespace duroxide::store {

std::optional<StoredWorkflow> load_workflow_for_instance(pg::SpiConnection& spi,
                                                         const std::string& name,
                                                         const std::optional<std::string>& version,
                                                         Oid role, const std::string& instance) {
    Statements statements(spi);
    const std::vector<pg::SqlText> lookup{name, version, oid_text(role)};
    auto rows = statements.execute(
        "SELECT d.version, d.definition::pg_catalog.text, "
        "       duroxide._workflow_default_version_allowed(d.owner_role, $3::pg_catalog.oid) "
        "  FROM duroxide.workflow_definitions d "
        " WHERE d.name = $1 AND d.version = COALESCE($2::pg_catalog.text, "
        "         (SELECT p.version FROM duroxide.workflow_version_policies p WHERE p.name = $1), "
        "         d.version) "
        "   AND duroxide._may_start_workflow(d.name, d.owner_role, $3::pg_catalog.oid) "
        " ORDER BY pg_catalog.string_to_array(d.version, '.')::pg_catalog.int4[] DESC LIMIT 1",
        lookup, true);
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    StoredWorkflow found{.version = *rows.rows[0][0],
                         .definition = *rows.rows[0][1],
                         .needs_version = !version && *rows.rows[0][2] != "t"};
    if (found.needs_version) {
        return found; // nothing recorded: the step fails
    }
    const std::vector<pg::SqlText> record{instance, name, found.version};
    statements.execute("INSERT INTO duroxide.workflow_instances AS w (instance_id, name, version) "
                       "VALUES ($1, $2, $3) ON CONFLICT (instance_id) DO UPDATE "
                       "   SET name = excluded.name, version = excluded.version",
                       record);
    return found;
}

} // namespace duroxide::store
