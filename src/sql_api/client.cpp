// Client functions: start an orchestration, raise an event, send a queue message, cancel an
// instance. Each enqueues one message in the caller's transaction and wakes the dispatchers
// when it commits, and says whether it did (docs/sql-reference.md "Client functions").
//
// What a caller learns about ids it may not reach (per-role isolation): a start of such an id
// fails with "instance id is not available" (nothing about the instance), and a message for
// one returns false exactly as for an id that does not exist.
#include "core/model/work_item.hpp"
#include "core/validation/message_quote.hpp"
#include "core/schedule/policy.hpp"
#include "core/validation/reserved_ids.hpp"
#include "duroxide/semver.hpp"
#include "pg/guard.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/services/schedule_runner.hpp"
#include "sql_api/access.hpp"
#include "sql_api/arguments.hpp"
#include "store/instance_claims.hpp"
#include "store/store.hpp"

namespace {

using namespace duroxide;

struct StartRequest {
    std::string instance, name, input;
    std::optional<std::string> version;
    bool allow_unregistered = false;
};

void check_version(const std::optional<std::string>& version) {
    if (!version) {
        return;
    }
    try {
        (void)Semver::parse(*version);
    } catch (const std::invalid_argument&) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "version " + core::quoted(*version) + " is not a semantic version", {},
                           "Give MAJOR.MINOR.PATCH, for example '1.0.0', or NULL for the "
                           "version the version policy picks.");
    }
}

void check_not_generated_child_id(const std::string& instance) {
    if (core::is_generated_child_id(instance)) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "instance id " + core::quoted(instance) +
                               " has the form reserved for sub-orchestrations",
                           {},
                           "Ids ending in \"::sub::<number>\" are given to the children an "
                           "orchestration starts; choose another id.");
    }
}

// "schedule:..." ids are the runs of recurring schedules (core/schedule/policy.hpp): only the
// dispatcher firing a schedule starts them, so a client cannot take a future fire's id.
void check_not_schedule_id(const std::string& instance) {
    if (core::schedule::is_schedule_instance_id(instance) && !runtime::starting_scheduled_run()) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "instance id " + core::quoted(instance) +
                               " has the form reserved for recurring schedules",
                           {},
                           "Ids starting with \"schedule:\" are given to the runs of "
                           "duroxide.create_schedule's schedules; choose another id.");
    }
}

// Refuses a name/version nothing registered provides, unless the caller opted in.
void check_provided(pg::SpiConnection& spi, const StartRequest& request) {
    if (request.allow_unregistered ||
        store::orchestration_provided(spi, request.name, request.version)) {
        return;
    }
    const std::string what = "orchestration " + core::quoted(request.name) +
                             (request.version ? " version " + core::quoted(*request.version) : "");
    throw pg::SqlError(ERRCODE_UNDEFINED_OBJECT, what + " is not registered",
                       "Registered orchestrations: " + store::registered_orchestrations(spi) + ".",
                       "Register the plugin that provides it (duroxide.register_plugin), or pass "
                       "allow_unregistered => true to start it before it is deployed (it stays "
                       "Pending until a registered handler runs it).");
}

// Whether the start was queued (false: the instance already exists with this orchestration).
bool start(const StartRequest& request) {
    pg::SpiConnection spi;
    store::lock_instance_id(spi, request.instance);
    if (auto claim = store::instance_claim(spi, request.instance)) {
        if (!sql_api::may_access(claim->owner)) {
            // Nothing about the other role's instance: not its name, state or owner.
            throw pg::SqlError(ERRCODE_UNIQUE_VIOLATION,
                               "instance id " + core::quoted(request.instance) +
                                   " is not available",
                               {}, "Choose another instance id.");
        }
        if (claim->orchestration != request.name) {
            throw pg::SqlError(
                ERRCODE_UNIQUE_VIOLATION,
                "instance " + core::quoted(request.instance) + " already exists as orchestration " +
                    core::quoted(claim->orchestration) + ", not " + core::quoted(request.name),
                {}, "Choose another instance id for a different orchestration.");
        }
        return false;
    }
    // Only a start that would create the instance needs a provider: a repeated start of an
    // existing instance stays a no-op whatever is registered now.
    check_provided(spi, request);
    store::Store(spi).enqueue_orchestrator(
        {core::work::StartOrchestration{.instance = request.instance,
                                        .orchestration = request.name,
                                        .input = request.input,
                                        .version = request.version,
                                        .parent_instance = std::nullopt,
                                        .parent_id = std::nullopt,
                                        .execution_id = 1,
                                        .parent_execution_id = std::nullopt}},
        sql_api::calling_role());
    runtime::wake_at_commit(runtime::kWakeDispatchers);
    return true;
}

// Enqueues a message for an instance the caller may reach (an instance row, or a start queued
// before, in this transaction or a committed one); false, writing nothing, otherwise.
bool enqueue_for(const std::string& instance, const core::WorkItem& item) {
    pg::SpiConnection spi;
    auto claim = store::instance_claim(spi, instance);
    if (!claim || !sql_api::may_access(claim->owner)) {
        return false;
    }
    store::Store(spi).enqueue_orchestrator(item);
    runtime::wake_at_commit(runtime::kWakeDispatchers);
    return true;
}

std::string text_or_empty(FunctionCallInfo fcinfo, int n) {
    return sql_api::optional_text(fcinfo, n).value_or("");
}

} // namespace

// start_orchestration(instance text, name text, input text, version text,
//                     allow_unregistered boolean) → boolean
DUROXIDE_SQL_FUNCTION(duroxide_start_orchestration) {
    StartRequest request{
        .instance = sql_api::required_text(fcinfo, 0, "instance id"),
        .name = sql_api::required_text(fcinfo, 1, "orchestration name"),
        .input = text_or_empty(fcinfo, 2),
        .version = sql_api::optional_text(fcinfo, 3),
        .allow_unregistered = PG_NARGS() > 4 && !PG_ARGISNULL(4) && PG_GETARG_BOOL(4),
    };
    if (PG_NARGS() > 4 && PG_ARGISNULL(4)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "allow_unregistered must not be null");
    }
    sql_api::check_identifier(request.instance, "instance id");
    sql_api::check_identifier(request.name, "orchestration name");
    check_not_generated_child_id(request.instance);
    check_not_schedule_id(request.instance);
    sql_api::check_payload(request.input, "input");
    check_version(request.version);
    PG_RETURN_BOOL(start(request));
}

// raise_event(instance text, event_name text, data text) → boolean
DUROXIDE_SQL_FUNCTION(duroxide_raise_event) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance id");
    const std::string name = sql_api::required_text(fcinfo, 1, "event name");
    const std::string data = text_or_empty(fcinfo, 2);
    sql_api::check_identifier(instance, "instance id");
    sql_api::check_identifier(name, "event name");
    sql_api::check_payload(data, "event data");
    PG_RETURN_BOOL(enqueue_for(instance, {core::work::ExternalRaised{instance, name, data}}));
}

// enqueue_event(instance text, queue text, data text) → boolean
DUROXIDE_SQL_FUNCTION(duroxide_enqueue_event) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance id");
    const std::string queue = sql_api::required_text(fcinfo, 1, "queue name");
    const std::string data = text_or_empty(fcinfo, 2);
    sql_api::check_identifier(instance, "instance id");
    sql_api::check_identifier(queue, "queue name");
    sql_api::check_payload(data, "message");
    PG_RETURN_BOOL(enqueue_for(instance, {core::work::QueueMessage{instance, queue, data}}));
}

// cancel_instance(instance text, reason text) → boolean
DUROXIDE_SQL_FUNCTION(duroxide_cancel_instance) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance id");
    const std::string reason = text_or_empty(fcinfo, 1);
    sql_api::check_identifier(instance, "instance id");
    sql_api::check_payload(reason, "reason");
    PG_RETURN_BOOL(enqueue_for(instance, {core::work::CancelInstance{instance, reason}}));
}
