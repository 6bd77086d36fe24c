#include "runtime/activity/sql_activity.hpp"

#include "core/validation/identifiers.hpp"
#include "pg/compat.hpp"
#include "pg/guard.hpp"
#include "core/validation/identifiers.hpp"
#include "runtime/activity/activity_envelope.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/activity/sql_activity_errors.hpp"
#include "runtime/activity/sql_activity_registration.hpp"
#include "runtime/process/gucs.hpp"

#include <stdexcept>
#include <string>

extern "C" {
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace duroxide::runtime {

namespace {

// Calls function(input) with fmgr and returns the result's text output.
std::string call_function(const SqlActivity& activity, const std::string& input) {
    const char* input_text = input.c_str();
    char* output = pg::call([&activity, input_text]() -> char* {
        Oid input_function, input_param;
        getTypeInputInfo(activity.input_type, &input_function, &input_param);
        Datum argument =
            OidInputFunctionCall(input_function, const_cast<char*>(input_text), input_param, -1);
        Datum result = call_activity_function(activity.function, argument);
        Oid output_function;
        bool varlena;
        getTypeOutputInfo(activity.output_type, &output_function, &varlena);
        return OidOutputFunctionCall(output_function, result);
    });
    std::string value(output);
    pfree(output);
    return value;
}

} // namespace

core::WorkItem run_sql_activity(const SqlActivity& activity,
                                const core::work::ActivityExecute& item) {
    auto failed = [&item](std::string message) {
        return core::WorkItem{
            core::work::ActivityFailed{item.instance, item.execution_id, item.id,
                                       core::ErrorDetails::activity_failed(std::move(message))}};
    };
    // A dropped function is not the activity's failure but a broken registration, like an
    // unregistered activity: the attempt is given back (the caller counts it as an
    // infrastructure failure) and the activity fails as poison after duroxide.max_attempts,
    // unless the function is registered again meanwhile.
    const bool exists = pg::call([&activity] {
        return SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(activity.function));
    });
    if (!exists) {
        throw std::runtime_error("the function of SQL activity \"" + item.name + "\" (oid " +
                                 std::to_string(activity.function) +
                                 ") no longer exists; register the activity again");
    }
    verify_sql_activity_registration(activity, item.name); // owner, definition, superuser
    const bool allowed = pg::call([&activity] {
        return pg::compat::function_aclcheck(activity.function, activity.run_as, ACL_EXECUTE) ==
               ACLCHECK_OK;
    });
    if (!allowed) {
        return failed("permission denied: the role that registered activity \"" + item.name +
                      "\" can no longer execute its function");
    }
    // As the registering role, never as the worker's superuser, in the activity envelope
    // (runtime/activity/activity_envelope.hpp): settings rolled back, no session state left, a
    // timeout. The registration's own statement_timeout, else duroxide.activity_statement_timeout.
    const pg::EnvelopeSettings envelope = activity_envelope(
        activity.run_as, activity.statement_timeout_ms, "SQL activity \"" + item.name + "\"");
    try {
        std::string result = run_activity_code(envelope, [&] {
            std::string output = call_function(activity, item.input);
            // Over duroxide.max_payload_size: fails, and its writes roll back with it.
            if (auto problem = core::output_limit_problem(
                    "activity", item.name, output,
                    static_cast<std::size_t>(settings.max_payload_kb) * 1024)) {
                throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, std::move(*problem));
            }
            return output;
        });
        return core::WorkItem{core::work::ActivityCompleted{item.instance, item.execution_id,
                                                            item.id, std::move(result)}};
    } catch (const pg::SqlError& e) {
        return sql_activity_failed(item, e);
    }
}

} // namespace duroxide::runtime
