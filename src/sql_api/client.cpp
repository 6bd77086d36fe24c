// Client functions: start an orchestration, raise an event, send a queue message, cancel an
// instance. Each enqueues one message in the caller's transaction and wakes the dispatchers
// when it commits. Messages for an instance go through the per-role isolation check.
#include "core/model/work_item.hpp"
#include "duroxide/semver.hpp"
#include "pg/guard.hpp"
#include "runtime/wakeup.hpp"
#include "sql_api/access.hpp"
#include "sql_api/arguments.hpp"
#include "store/store.hpp"

namespace {

using namespace duroxide;

// Enqueues a start, owned by the calling role.
void enqueue_start(const core::WorkItem& item) {
    pg::SpiConnection spi;
    store::Store(spi).enqueue_orchestrator(item, std::to_string(sql_api::calling_role()));
    runtime::wake_at_commit(runtime::kWakeDispatchers);
}

// Enqueues a message for an existing instance the caller may reach (see sql_api/access.hpp).
void enqueue_for(const std::string& instance, const core::WorkItem& item) {
    pg::SpiConnection spi;
    store::Store store(spi);
    sql_api::check_instance_access(instance, store.instance_owner(instance));
    store.enqueue_orchestrator(item);
    runtime::wake_at_commit(runtime::kWakeDispatchers);
}

std::string text_or_empty(FunctionCallInfo fcinfo, int n) {
    return sql_api::optional_text(fcinfo, n).value_or("");
}

} // namespace

// start_orchestration(instance text, name text, input text, version text)
DUROXIDE_SQL_FUNCTION(duroxide_start_orchestration) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance id");
    const std::string name = sql_api::required_text(fcinfo, 1, "orchestration name");
    const std::string input = text_or_empty(fcinfo, 2);
    const std::optional<std::string> version = sql_api::optional_text(fcinfo, 3);
    sql_api::check_identifier(instance, "instance id");
    sql_api::check_identifier(name, "orchestration name");
    sql_api::check_payload(input, "input");
    if (version) {
        try {
            (void)Semver::parse(*version);
        } catch (const std::invalid_argument& e) {
            throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, e.what());
        }
    }
    enqueue_start({core::work::StartOrchestration{instance, name, input, version, std::nullopt,
                                                  std::nullopt, 1}});
    PG_RETURN_VOID();
}

// raise_event(instance text, event_name text, data text)
DUROXIDE_SQL_FUNCTION(duroxide_raise_event) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance id");
    const std::string name = sql_api::required_text(fcinfo, 1, "event name");
    const std::string data = text_or_empty(fcinfo, 2);
    sql_api::check_identifier(instance, "instance id");
    sql_api::check_identifier(name, "event name");
    sql_api::check_payload(data, "event data");
    enqueue_for(instance, {core::work::ExternalRaised{instance, name, data}});
    PG_RETURN_VOID();
}

// enqueue_event(instance text, queue text, data text)
DUROXIDE_SQL_FUNCTION(duroxide_enqueue_event) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance id");
    const std::string queue = sql_api::required_text(fcinfo, 1, "queue name");
    const std::string data = text_or_empty(fcinfo, 2);
    sql_api::check_identifier(instance, "instance id");
    sql_api::check_identifier(queue, "queue name");
    sql_api::check_payload(data, "message");
    enqueue_for(instance, {core::work::QueueMessage{instance, queue, data}});
    PG_RETURN_VOID();
}

// cancel_instance(instance text, reason text)
DUROXIDE_SQL_FUNCTION(duroxide_cancel_instance) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance id");
    const std::string reason = text_or_empty(fcinfo, 1);
    sql_api::check_identifier(instance, "instance id");
    sql_api::check_payload(reason, "reason");
    enqueue_for(instance, {core::work::CancelInstance{instance, reason}});
    PG_RETURN_VOID();
}
