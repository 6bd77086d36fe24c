#include "runtime/activity/sql_activity_errors.hpp"

#include "duroxide/orchestration_context.hpp"

extern "C" {
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace duroxide::runtime {

Datum call_activity_function(Oid function, Datum argument) {
    LOCAL_FCINFO(fcinfo, 1);
    FmgrInfo flinfo;
    fmgr_info(function, &flinfo);
    InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, nullptr, nullptr);
    fcinfo->args[0].value = argument;
    fcinfo->args[0].isnull = false;
    Datum result = FunctionCallInvoke(fcinfo);
    if (fcinfo->isnull) {
        ereport(ERROR,
                (errcode(ERRCODE_NOT_NULL_VIOLATION),
                 errmsg("SQL activity function %s returned NULL",
                        quote_qualified_identifier(get_namespace_name(get_func_namespace(function)),
                                                   get_func_name(function))),
                 errhint("An SQL activity must return a value: a function whose UPDATE ... "
                         "RETURNING matched no row returns NULL; return COALESCE(..., "
                         "'<default>') or raise an error instead.")));
    }
    return result;
}

core::WorkItem sql_activity_failed(const core::work::ActivityExecute& item,
                                   const pg::SqlError& error) {
    const std::string sqlstate = error.sqlstate_text();
    std::string message = error.what();
    if (sqlstate == kNonRetryableSqlstate) {
        message = std::string(kNonRetryablePrefix) + message;
    }
    auto optional = [](const std::string& value) {
        return value.empty() ? std::nullopt : std::optional<std::string>(value);
    };
    core::ErrorDetails details = core::ErrorDetails::activity_failed(std::move(message));
    std::get<core::ApplicationError>(details.value).sql = core::SqlErrorFields{
        .sqlstate = sqlstate,
        .detail = optional(error.detail()),
        .hint = optional(error.hint()),
        .context = optional(error.context()),
    };
    return core::WorkItem{
        core::work::ActivityFailed{item.instance, item.execution_id, item.id, std::move(details)}};
}

} // namespace duroxide::runtime
