// The C side of duroxide.rewind_instance and of the graceful duroxide.cancel_instance
// (sql/install/66_rewind_cancel.sql): the rewind plan of a history (core::plan_rewind; a
// refusal becomes the error the caller sees) and the wake-up at commit of the workers that
// the SQL functions queued work for.
#include "core/codec/json_codec.hpp"
#include "core/replay/rewind.hpp"
#include "pg/guard.hpp"
#include "pg/sql_error.hpp"
#include "runtime/process/wakeup.hpp"
#include "sql_api/arguments.hpp"

#include <string>
#include <vector>

namespace {

using duroxide::core::RewindRefusal;

int sqlstate_of(RewindRefusal::Reason reason) {
    return reason == RewindRefusal::Reason::Unsupported ? ERRCODE_FEATURE_NOT_SUPPORTED
                                                        : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
}

struct PlanRow {
    const char* action;
    uint64_t event_id;
    std::string detail;
};

} // namespace

// duroxide._rewind_plan(instance text, history text) → (action, event_id, detail): `history`
// is the current execution's events as a JSON array, oldest first. Actions: drop (an event
// leaves the history), activity (detail: the ActivityExecute to queue), timer (detail: the
// TimerFired to queue unless queued), child (detail: the sub-orchestration to rewind).
DUROXIDE_SQL_FUNCTION(duroxide_rewind_plan) {
    namespace core = duroxide::core;
    const std::string instance = duroxide::sql_api::required_text(fcinfo, 0, "instance");
    const std::string history_json = duroxide::sql_api::required_text(fcinfo, 1, "history");
    std::vector<core::Event> history;
    try {
        history = core::codec::decode_history(history_json);
    } catch (const std::exception& e) {
        throw duroxide::pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                                     "cannot rewind instance \"" + instance.substr(0, 200) +
                                         "\": its history does not decode",
                                     e.what(), "Start a new instance.");
    }
    const auto planned = core::plan_rewind(history);
    if (const auto* refusal = std::get_if<RewindRefusal>(&planned)) {
        throw duroxide::pg::SqlError(sqlstate_of(refusal->reason),
                                     "cannot rewind instance \"" + instance.substr(0, 200) +
                                         "\": " + refusal->message,
                                     {}, refusal->hint);
    }
    const auto& plan = std::get<core::RewindPlan>(planned);
    std::vector<PlanRow> rows;
    for (uint64_t id : plan.dropped_event_ids) {
        rows.push_back({"drop", id, {}});
    }
    for (const auto& activity : plan.activities) {
        rows.push_back({"activity", activity.id, core::codec::encode(core::WorkItem{activity})});
    }
    for (const auto& timer : plan.timers) {
        rows.push_back({"timer", timer.id, core::codec::encode(core::WorkItem{timer})});
    }
    for (const auto& [id, child] : plan.children) {
        rows.push_back({"child", id, child});
    }

    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    duroxide::pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& row : rows) {
        const char* action = row.action;
        const int64 event_id = static_cast<int64>(row.event_id);
        const char* detail = row.detail.empty() ? nullptr : row.detail.c_str();
        duroxide::pg::call([rsinfo, action, event_id, detail] {
            Datum values[3] = {CStringGetTextDatum(action), Int64GetDatum(event_id),
                               detail ? CStringGetTextDatum(detail) : Datum(0)};
            bool nulls[3] = {false, false, detail == nullptr};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

// duroxide._wake_at_commit(): the dispatchers, activity workers and status waiters of this
// database look for work when the calling transaction commits.
DUROXIDE_SQL_FUNCTION(duroxide_wake_at_commit) {
    duroxide::runtime::wake_at_commit(duroxide::runtime::kWakeDispatchers |
                                      duroxide::runtime::kWakeActivityWorkers |
                                      duroxide::runtime::kWakeStatusWaiters);
    PG_RETURN_VOID();
}
