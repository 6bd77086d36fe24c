#include "store/store.hpp"

#include "core/codec/json_codec.hpp"
#include "pg/guard.hpp"

#include <variant>

namespace duroxide::store {

namespace {

using pg::SqlText;
namespace codec = core::codec;

std::string bigint_array(const std::vector<int64_t>& ids) {
    std::string text = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
        text += (i ? "," : "") + std::to_string(ids[i]);
    }
    return text + "}";
}

const char* status_name(core::ExecutionStatus status) {
    switch (status) {
    case core::ExecutionStatus::Completed:
        return "Completed";
    case core::ExecutionStatus::Failed:
        return "Failed";
    case core::ExecutionStatus::ContinuedAsNew:
        return "ContinuedAsNew";
    case core::ExecutionStatus::Running:
        break;
    }
    return "Running";
}

} // namespace

void Store::enqueue_orchestrator(const core::WorkItem& item) {
    std::optional<std::string> visible_at_ms;
    if (auto* timer = std::get_if<core::work::TimerFired>(&item.kind)) {
        visible_at_ms = std::to_string(timer->fire_at_ms);
    }
    spi_.execute("INSERT INTO duroxide.orchestrator_queue (instance_id, work_item, visible_at) "
                 "VALUES ($1, $2, CASE WHEN $3 IS NULL THEN clock_timestamp() "
                 "ELSE to_timestamp($3::bigint / 1000.0) END)",
                 std::vector<SqlText>{item.target_instance(), codec::encode(item), visible_at_ms});
}

std::optional<OrchestrationBatch> Store::claim_orchestration_batch() {
    auto candidate = spi_.execute(
        "SELECT q.instance_id FROM duroxide.orchestrator_queue q "
        "WHERE q.visible_at <= clock_timestamp() "
        "  AND pg_try_advisory_xact_lock(hashtextextended('duroxide:' || q.instance_id, 0)) "
        "ORDER BY q.visible_at, q.id LIMIT 1 FOR UPDATE SKIP LOCKED");
    if (candidate.rows.empty()) {
        return std::nullopt;
    }
    OrchestrationBatch batch;
    batch.instance = *candidate.rows[0][0];
    const std::vector<SqlText> instance{batch.instance};
    auto messages = spi_.execute("SELECT id, work_item FROM duroxide.orchestrator_queue "
                                 "WHERE instance_id = $1 AND visible_at <= clock_timestamp() "
                                 "ORDER BY id FOR UPDATE",
                                 instance);
    for (const auto& row : messages.rows) {
        batch.message_ids.push_back(std::stoll(*row[0]));
        batch.messages.push_back(codec::decode_work_item(*row[1]));
    }
    auto current =
        spi_.execute("SELECT i.current_execution_id, e.status FROM duroxide.instances i "
                     "LEFT JOIN duroxide.executions e ON e.instance_id = i.instance_id "
                     "  AND e.execution_id = i.current_execution_id WHERE i.instance_id = $1",
                     instance);
    if (!current.rows.empty()) {
        batch.instance_exists = true;
        batch.execution_id = std::stoull(*current.rows[0][0]);
        batch.execution_status = current.rows[0][1].value_or("");
        auto history =
            spi_.execute("SELECT event_data FROM duroxide.history "
                         "WHERE instance_id = $1 AND execution_id = $2::bigint "
                         "ORDER BY event_id",
                         std::vector<SqlText>{batch.instance, std::to_string(batch.execution_id)});
        for (const auto& row : history.rows) {
            batch.history.push_back(codec::decode_event(*row[0]));
        }
    }
    return batch;
}

void Store::record_turn(const OrchestrationBatch& batch, uint64_t execution_id,
                        const core::TurnResult& turn) {
    const std::string execution = std::to_string(execution_id);
    spi_.execute("DELETE FROM duroxide.orchestrator_queue WHERE id = ANY ($1::bigint[])",
                 std::vector<SqlText>{bigint_array(batch.message_ids)});
    if (turn.orchestration_name) {
        spi_.execute("INSERT INTO duroxide.instances AS i (instance_id, orchestration_name, "
                     "  orchestration_version, current_execution_id, parent_instance_id) "
                     "VALUES ($1, $2, $3, $4::bigint, $5) "
                     "ON CONFLICT (instance_id) DO UPDATE SET orchestration_name = "
                     "excluded.orchestration_name, "
                     "  orchestration_version = excluded.orchestration_version, "
                     "  current_execution_id = greatest(i.current_execution_id, "
                     "excluded.current_execution_id), "
                     "  updated_at = clock_timestamp()",
                     std::vector<SqlText>{batch.instance, *turn.orchestration_name,
                                          turn.orchestration_version, execution,
                                          turn.parent_instance});
        spi_.execute("INSERT INTO duroxide.executions (instance_id, execution_id) "
                     "VALUES ($1, $2::bigint) ON CONFLICT DO NOTHING",
                     std::vector<SqlText>{batch.instance, execution});
    }
    std::optional<std::optional<std::string>> custom_status;
    for (const core::Event& event : turn.history_delta) {
        // Append-only: a duplicate event id is a primary-key violation, never an overwrite.
        spi_.execute("INSERT INTO duroxide.history (instance_id, execution_id, event_id, "
                     "event_type, event_data) VALUES ($1, $2::bigint, $3::bigint, $4, $5)",
                     std::vector<SqlText>{batch.instance, execution, std::to_string(event.event_id),
                                          std::string(event.type_name()), codec::encode(event)});
        if (auto* status = std::get_if<core::events::CustomStatusUpdated>(&event.kind)) {
            custom_status = status->status;
        }
    }
    if (custom_status) {
        spi_.execute("UPDATE duroxide.instances SET custom_status = $2, "
                     "custom_status_version = custom_status_version + 1, "
                     "updated_at = clock_timestamp() WHERE instance_id = $1",
                     std::vector<SqlText>{batch.instance, *custom_status});
    }
    if (turn.status != core::ExecutionStatus::Running) {
        spi_.execute(
            "UPDATE duroxide.executions SET status = $3, output = $4, error = $5, "
            "completed_at = CASE WHEN $3 = 'ContinuedAsNew' THEN NULL "
            "ELSE clock_timestamp() END WHERE instance_id = $1 AND execution_id = $2::bigint",
            std::vector<SqlText>{batch.instance, execution, std::string(status_name(turn.status)),
                                 turn.output,
                                 turn.error ? SqlText(codec::encode(*turn.error)) : SqlText()});
        spi_.execute("UPDATE duroxide.instances SET updated_at = clock_timestamp() "
                     "WHERE instance_id = $1",
                     std::vector<SqlText>{batch.instance});
    }
    for (const core::WorkItem& item : turn.worker_items) {
        const auto& execute = std::get<core::work::ActivityExecute>(item.kind);
        spi_.execute(
            "INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, "
            "activity_id, session_id, tag) VALUES ($1, $2, $3::bigint, $4::bigint, $5, $6)",
            std::vector<SqlText>{codec::encode(item), execute.instance,
                                 std::to_string(execute.execution_id), std::to_string(execute.id),
                                 execute.session_id, execute.tag});
    }
    for (const core::CancelledActivity& cancelled : turn.cancelled_activities) {
        spi_.execute("DELETE FROM duroxide.worker_queue WHERE instance_id = $1 "
                     "AND execution_id = $2::bigint AND activity_id = $3::bigint",
                     std::vector<SqlText>{cancelled.instance,
                                          std::to_string(cancelled.execution_id),
                                          std::to_string(cancelled.activity_id)});
    }
    for (const core::WorkItem& item : turn.orchestrator_items) {
        enqueue_orchestrator(item);
    }
}

void Store::postpone_batch(const OrchestrationBatch& batch, uint64_t delay_ms) {
    spi_.execute("UPDATE duroxide.orchestrator_queue SET attempt_count = attempt_count + 1, "
                 "visible_at = clock_timestamp() + $2::bigint * interval '1 millisecond' "
                 "WHERE id = ANY ($1::bigint[])",
                 std::vector<SqlText>{bigint_array(batch.message_ids), std::to_string(delay_ms)});
}

std::optional<ClaimedActivity> Store::claim_activity() {
    auto rows = spi_.execute("SELECT id, work_item FROM duroxide.worker_queue "
                             "WHERE visible_at <= clock_timestamp() "
                             "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED");
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    core::WorkItem item = codec::decode_work_item(*rows.rows[0][1]);
    return ClaimedActivity{std::stoll(*rows.rows[0][0]),
                           std::get<core::work::ActivityExecute>(item.kind)};
}

void Store::postpone_activity(const ClaimedActivity& activity, uint64_t delay_ms) {
    spi_.execute("UPDATE duroxide.worker_queue SET attempt_count = attempt_count + 1, "
                 "visible_at = clock_timestamp() + $2::bigint * interval '1 millisecond' "
                 "WHERE id = $1::bigint",
                 std::vector<SqlText>{std::to_string(activity.id), std::to_string(delay_ms)});
}

void Store::complete_activity(const ClaimedActivity& activity, const core::WorkItem& completion) {
    spi_.execute("DELETE FROM duroxide.worker_queue WHERE id = $1::bigint",
                 std::vector<SqlText>{std::to_string(activity.id)});
    enqueue_orchestrator(completion);
}

std::optional<int64_t> Store::ms_until_next_visible() {
    auto rows = spi_.execute(
        "SELECT ceil(extract(epoch FROM min(visible_at) - clock_timestamp()) * 1000)::bigint "
        "FROM duroxide.orchestrator_queue WHERE visible_at > clock_timestamp()",
        {}, true);
    if (rows.rows.empty() || !rows.rows[0][0]) {
        return std::nullopt;
    }
    return std::stoll(*rows.rows[0][0]);
}

} // namespace duroxide::store
