#include "store/store.hpp"

#include "core/codec/json_codec.hpp"
#include "pg/guard.hpp"

#include <algorithm>
#include <variant>

namespace duroxide::store {

namespace {

using pg::SqlText;
namespace codec = core::codec;

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

// A lease row is free when it expired or its owner is not a live duroxide worker.
#define LEASE_IS_FREE(table)                                                                       \
    "(" table ".locked_until <= clock_timestamp() OR NOT duroxide._lock_holder_alive(" table       \
    ".locked_by))"

std::optional<OrchestrationBatch> Store::fetch_orchestration_item(int64_t owner,
                                                                  int lock_timeout_ms) {
    const std::string owner_text = std::to_string(owner);
    const std::string timeout_text = std::to_string(lock_timeout_ms);
    std::vector<std::string> contended; // instances another dispatcher locked first
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::string skip = "{";
        for (size_t i = 0; i < contended.size(); ++i) {
            skip += (i ? "," : "") + std::string("\"") + contended[i] + "\"";
        }
        skip += "}";
        auto candidate = spi_.execute(
            "SELECT q.instance_id FROM duroxide.orchestrator_queue q "
            "WHERE q.visible_at <= clock_timestamp() AND q.instance_id <> ALL ($1::text[]) "
            "  AND NOT EXISTS (SELECT 1 FROM duroxide.instance_locks l "
            "    WHERE l.instance_id = q.instance_id AND NOT " LEASE_IS_FREE(
                "l") ") "
                     "ORDER BY q.visible_at, q.id LIMIT 1",
            std::vector<SqlText>{skip});
        if (candidate.rows.empty()) {
            return std::nullopt;
        }
        OrchestrationBatch batch;
        batch.instance = *candidate.rows[0][0];
        auto lock = spi_.execute(
            "INSERT INTO duroxide.instance_locks AS l (instance_id, lock_token, locked_until, "
            "  locked_by) "
            "VALUES ($1, gen_random_uuid()::text, "
            "  clock_timestamp() + $2::int * interval '1 millisecond', $3::bigint) "
            "ON CONFLICT (instance_id) DO UPDATE SET lock_token = excluded.lock_token, "
            "  locked_until = excluded.locked_until, locked_by = excluded.locked_by, "
            "  locked_at = clock_timestamp() "
            "WHERE " LEASE_IS_FREE("l") " RETURNING lock_token",
            std::vector<SqlText>{batch.instance, timeout_text, owner_text});
        if (lock.rows.empty()) {
            contended.push_back(batch.instance);
            continue;
        }
        batch.lock_token = *lock.rows[0][0];
        const std::vector<SqlText> instance{batch.instance};
        auto messages = spi_.execute("UPDATE duroxide.orchestrator_queue SET lock_token = $2, "
                                     "  attempt_count = attempt_count + 1 "
                                     "WHERE instance_id = $1 AND visible_at <= clock_timestamp() "
                                     "RETURNING id, work_item, attempt_count",
                                     std::vector<SqlText>{batch.instance, batch.lock_token});
        std::vector<std::pair<int64_t, std::string>> ordered;
        for (const auto& row : messages.rows) {
            ordered.emplace_back(std::stoll(*row[0]), *row[1]);
            batch.attempt_count =
                std::max(batch.attempt_count, static_cast<uint32_t>(std::stoul(*row[2])));
        }
        std::sort(ordered.begin(), ordered.end());
        for (const auto& [id, work_item] : ordered) {
            batch.messages.push_back(codec::decode_work_item(work_item));
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
            auto history = spi_.execute(
                "SELECT event_data FROM duroxide.history "
                "WHERE instance_id = $1 AND execution_id = $2::bigint ORDER BY event_id",
                std::vector<SqlText>{batch.instance, std::to_string(batch.execution_id)});
            for (const auto& row : history.rows) {
                batch.history.push_back(codec::decode_event(*row[0]));
            }
        }
        return batch;
    }
    return std::nullopt;
}

void Store::ack_orchestration_item(const OrchestrationBatch& batch, uint64_t execution_id,
                                   const core::TurnResult& turn) {
    const std::string execution = std::to_string(execution_id);
    auto released = spi_.execute(
        "DELETE FROM duroxide.instance_locks WHERE instance_id = $1 AND lock_token = $2 "
        "  AND locked_until > clock_timestamp() RETURNING 1",
        std::vector<SqlText>{batch.instance, batch.lock_token});
    if (released.rows.empty()) {
        throw LeaseLost("the instance lock of \"" + batch.instance +
                        "\" expired or was taken over: this turn is discarded");
    }
    spi_.execute("DELETE FROM duroxide.orchestrator_queue WHERE lock_token = $1",
                 std::vector<SqlText>{batch.lock_token});
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

void Store::abandon_orchestration_item(const OrchestrationBatch& batch, int64_t delay_ms,
                                       bool ignore_attempt) {
    auto released = spi_.execute("DELETE FROM duroxide.instance_locks "
                                 "WHERE instance_id = $1 AND lock_token = $2 RETURNING 1",
                                 std::vector<SqlText>{batch.instance, batch.lock_token});
    if (released.rows.empty()) {
        throw LeaseLost("the instance lock of \"" + batch.instance + "\" was taken over");
    }
    spi_.execute("UPDATE duroxide.orchestrator_queue SET lock_token = NULL, "
                 "  visible_at = clock_timestamp() + $2::bigint * interval '1 millisecond', "
                 "  attempt_count = CASE WHEN $3::boolean THEN greatest(attempt_count - 1, 0) "
                 "    ELSE attempt_count END "
                 "WHERE lock_token = $1",
                 std::vector<SqlText>{batch.lock_token, std::to_string(delay_ms),
                                      ignore_attempt ? "true" : "false"});
}

std::optional<FetchedActivity> Store::fetch_work_item(int64_t owner, int lock_timeout_ms) {
    auto rows =
        spi_.execute("UPDATE duroxide.worker_queue SET lock_token = gen_random_uuid()::text, "
                     "  locked_until = clock_timestamp() + $1::int * interval '1 millisecond', "
                     "  locked_by = $2::bigint, attempt_count = attempt_count + 1 "
                     "WHERE id = (SELECT w.id FROM duroxide.worker_queue w "
                     "  WHERE w.visible_at <= clock_timestamp() "
                     "    AND (w.lock_token IS NULL OR " LEASE_IS_FREE(
                         "w") ") "
                              "  ORDER BY w.id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                              "RETURNING id, work_item, lock_token, attempt_count",
                     std::vector<SqlText>{std::to_string(lock_timeout_ms), std::to_string(owner)});
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    const auto& row = rows.rows[0];
    core::WorkItem item = codec::decode_work_item(*row[1]);
    return FetchedActivity{std::stoll(*row[0]), *row[2], static_cast<uint32_t>(std::stoul(*row[3])),
                           std::get<core::work::ActivityExecute>(item.kind)};
}

void Store::ack_work_item(const FetchedActivity& activity, const core::WorkItem& completion) {
    auto deleted =
        spi_.execute("DELETE FROM duroxide.worker_queue WHERE id = $1::bigint AND lock_token = $2 "
                     "  AND locked_until > clock_timestamp() RETURNING 1",
                     std::vector<SqlText>{std::to_string(activity.id), activity.lock_token});
    if (deleted.rows.empty()) {
        throw LeaseLost("activity " + activity.item.name + " #" + std::to_string(activity.item.id) +
                        " of \"" + activity.item.instance +
                        "\" was cancelled or its lease expired: its completion is discarded");
    }
    enqueue_orchestrator(completion);
}

bool Store::renew_work_item_lock(const FetchedActivity& activity, int lock_timeout_ms) {
    auto renewed =
        spi_.execute("UPDATE duroxide.worker_queue "
                     "SET locked_until = clock_timestamp() + $3::int * interval '1 millisecond' "
                     "WHERE id = $1::bigint AND lock_token = $2 RETURNING 1",
                     std::vector<SqlText>{std::to_string(activity.id), activity.lock_token,
                                          std::to_string(lock_timeout_ms)});
    return !renewed.rows.empty();
}

void Store::abandon_work_item(const FetchedActivity& activity, int64_t delay_ms,
                              bool ignore_attempt) {
    spi_.execute("UPDATE duroxide.worker_queue SET lock_token = NULL, locked_until = NULL, "
                 "  locked_by = NULL, "
                 "  visible_at = clock_timestamp() + $3::bigint * interval '1 millisecond', "
                 "  attempt_count = CASE WHEN $4::boolean THEN greatest(attempt_count - 1, 0) "
                 "    ELSE attempt_count END "
                 "WHERE id = $1::bigint AND lock_token = $2",
                 std::vector<SqlText>{std::to_string(activity.id), activity.lock_token,
                                      std::to_string(delay_ms), ignore_attempt ? "true" : "false"});
}

std::optional<int64_t> Store::ms_until_next_visible(Queue queue) {
    auto rows = spi_.execute(
        queue == Queue::Orchestrator
            ? "SELECT ceil(extract(epoch FROM min(visible_at) - clock_timestamp()) * 1000)::bigint "
              "FROM duroxide.orchestrator_queue WHERE visible_at > clock_timestamp()"
            : "SELECT ceil(extract(epoch FROM min(visible_at) - clock_timestamp()) * 1000)::bigint "
              "FROM duroxide.worker_queue WHERE visible_at > clock_timestamp()",
        {}, true);
    if (rows.rows.empty() || !rows.rows[0][0]) {
        return std::nullopt;
    }
    return std::stoll(*rows.rows[0][0]);
}

} // namespace duroxide::store
