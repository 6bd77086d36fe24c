#include "store/store.hpp"

#include "core/codec/json_codec.hpp"
#include "duroxide/semver.hpp"
#include "duroxide/version.hpp"
#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "store/activity_access_cache.hpp"
#include "store/lease_sql.hpp"
#include "store/session_sql.hpp"
#include "store/sql_values.hpp"

#include <variant>

namespace duroxide::store {

namespace {

using pg::SqlText;
namespace codec = core::codec;

} // namespace

const std::string& library_version_num() {
    static const std::string num = [] {
        const Semver v = Semver::parse(kLibraryVersion);
        return std::to_string(uint64_t{v.major} * 1000000 + v.minor * 1000 + v.patch);
    }();
    return num;
}

const char* execution_status_name(core::ExecutionStatus status) {
    return status_text(status);
}

std::string text_array(const std::vector<std::string>& values) {
    std::string literal = "{";
    for (size_t i = 0; i < values.size(); ++i) {
        literal += i ? ",\"" : "\"";
        for (char c : values[i]) {
            if (c == '"' || c == '\\') {
                literal += '\\';
            }
            literal += c;
        }
        literal += '"';
    }
    return literal + "}";
}

void Store::enqueue_orchestrator(const core::WorkItem& item, std::optional<Oid> started_by) {
    if (std::holds_alternative<core::work::ActivityExecute>(item.kind)) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "an ActivityExecute belongs on the worker queue, not an orchestrator's");
    }
    std::optional<std::string> visible_at_ms;
    if (auto* timer = std::get_if<core::work::TimerFired>(&item.kind)) {
        visible_at_ms = std::to_string(timer->fire_at_ms);
    }
    spi_.execute("INSERT INTO duroxide.orchestrator_queue (instance_id, work_item, visible_at, "
                 "  started_by) "
                 "VALUES ($1, $2, CASE WHEN $3 IS NULL THEN pg_catalog.clock_timestamp() "
                 "ELSE pg_catalog.to_timestamp($3::bigint / 1000.0) END, $4::oid)",
                 std::vector<SqlText>{item.target_instance(), codec::encode(item), visible_at_ms,
                                      oid_text(started_by)});
}

std::optional<Oid> Store::instance_owner(const std::string& instance) {
    auto rows = spi_.execute("SELECT owner_role FROM duroxide.instances WHERE instance_id = $1",
                             std::vector<SqlText>{instance}, true);
    return rows.rows.empty() ? std::nullopt : oid_of(rows.rows[0][0]);
}

// What a released instance lock row is set to: no token (so that no ack, renewal or abandon
// of an earlier lock matches it) and a lease that ended at -infinity (so that LEASE_IS_FREE
// holds and every check for a live holder, which requires locked_until > now, fails).
#define FREE_LOCK_ROW "lock_token = NULL, locked_until = '-infinity'"

// The end of an ack's release statement (after a `released` CTE returning the lock's claim):
// the claimed messages are deleted; one row when the release matched.
// Then, only once the release matched, the instance's row is locked without waiting (held:
// the ack's later statements write that row; a row another transaction holds fails the
// statement with lock_not_available instead of stalling the ack).
#define RELEASE_DELETES_CLAIM                                                                      \
    "gone AS (DELETE FROM duroxide.orchestrator_queue q USING released r "                         \
    "  WHERE q.instance_id = $1 AND q.id = ANY (r.claimed)), "                                     \
    "held AS (SELECT 1 FROM duroxide.instances i "                                                 \
    "  WHERE i.instance_id = $1 AND EXISTS (SELECT 1 FROM released) "                              \
    "  FOR NO KEY UPDATE OF i NOWAIT) "                                                            \
    "SELECT (SELECT pg_catalog.count(*) FROM held) FROM released"

void Store::ack_orchestration_item(const OrchestrationBatch& batch, uint64_t execution_id,
                                   const core::TurnResult& turn) {
    const std::string execution = std::to_string(execution_id);
    // Release the lock (still ours, unexpired). The row stays, marked free (FREE_LOCK_ROW), so
    // that the next turn's fetch takes it with an update in place (a HOT update: instance_id,
    // its only indexed column, never changes) instead of an insert, a delete and a dead index
    // entry per turn. An instance that completed or failed is not expected back: its row goes.
    const bool finished = turn.status == core::ExecutionStatus::Completed ||
                          turn.status == core::ExecutionStatus::Failed;
    // The release deletes the messages the lock's claim lists (and only those: a message
    // queued since the fetch stays for the next turn). The statements below write the
    // instance's row (and kv_delta's foreign key locks it): the release statement takes it
    // first without waiting (RELEASE_DELETES_CLAIM). A row held by another transaction would
    // otherwise stall this ack, and with it every turn recorded in the same transaction.
    pg::SpiRows released;
    try {
        released = spi_.execute(
            finished ? "WITH released AS (DELETE FROM duroxide.instance_locks "
                       "  WHERE instance_id = $1 AND lock_token = $2 "
                       "    AND locked_until > pg_catalog.clock_timestamp() RETURNING "
                       "claimed), " RELEASE_DELETES_CLAIM
                     : "WITH released AS (UPDATE duroxide.instance_locks SET " FREE_LOCK_ROW " "
                       "  WHERE instance_id = $1 AND lock_token = $2 "
                       "    AND locked_until > pg_catalog.clock_timestamp() RETURNING "
                       "claimed), " RELEASE_DELETES_CLAIM,
            std::vector<SqlText>{batch.instance, batch.lock_token});
    } catch (const pg::SqlError& e) {
        if (e.sqlstate() != ERRCODE_LOCK_NOT_AVAILABLE) {
            throw;
        }
        throw InstanceRowBusy("the row of instance \"" + batch.instance +
                              "\" is locked by another transaction: its turn waits for it");
    }
    if (released.rows.empty()) {
        throw LeaseLost("the instance lock of \"" + batch.instance +
                        "\" expired or was taken over: this turn is discarded");
    }
    if (turn.orchestration_name) {
        // One statement: the execution's foreign key is checked at its end, after the
        // instance row is in.
        spi_.execute("WITH inst AS (INSERT INTO duroxide.instances AS i (instance_id, "
                     "  orchestration_name, orchestration_version, current_execution_id, "
                     "  parent_instance_id, owner_role) "
                     "VALUES ($1, $2, $3, $4::bigint, $5, $6::oid) "
                     "ON CONFLICT (instance_id) DO UPDATE SET orchestration_name = "
                     "excluded.orchestration_name, "
                     "  orchestration_version = excluded.orchestration_version, "
                     "  current_execution_id = greatest(i.current_execution_id, "
                     "excluded.current_execution_id), "
                     "  updated_at = pg_catalog.clock_timestamp()) "
                     "INSERT INTO duroxide.executions (instance_id, execution_id, "
                     "  duroxide_version_num) "
                     "VALUES ($1, $4::bigint, $7::int) ON CONFLICT DO NOTHING",
                     std::vector<SqlText>{batch.instance, *turn.orchestration_name,
                                          turn.orchestration_version, execution,
                                          turn.parent_instance, oid_text(batch.owner_role),
                                          library_version_num()});
    }
    std::optional<std::optional<std::string>> custom_status;
    std::vector<std::string> ids, types, data;
    for (const core::Event& event : turn.history_delta) {
        ids.push_back(std::to_string(event.event_id));
        types.emplace_back(event.type_name());
        // The stored form (json_codec.hpp); an event of another instance or execution: full.
        const bool keys_are_the_rows =
            event.instance_id == batch.instance && event.execution_id == execution_id;
        data.push_back(keys_are_the_rows ? codec::encode_stored(event) : codec::encode(event));
        if (auto* status = std::get_if<core::events::CustomStatusUpdated>(&event.kind)) {
            custom_status = status->status;
        }
    }
    if (!ids.empty()) {
        // Append-only: a duplicate event id is a primary-key violation, never an overwrite.
        spi_.execute("INSERT INTO duroxide.history (instance_id, execution_id, event_id, "
                     "  event_type, event_data) "
                     "SELECT $1, $2::bigint, e.id::bigint, e.type, e.data "
                     "FROM unnest($3::text[], $4::text[], $5::text[]) AS e(id, type, data)",
                     std::vector<SqlText>{batch.instance, execution, text_array(ids),
                                          text_array(types), text_array(data)});
    }
    if (custom_status) {
        spi_.execute("UPDATE duroxide.instances SET custom_status = $2, "
                     "custom_status_version = custom_status_version + 1, "
                     "updated_at = pg_catalog.clock_timestamp() WHERE instance_id = $1",
                     std::vector<SqlText>{batch.instance, *custom_status});
    }
    if (turn.status != core::ExecutionStatus::Running) {
        spi_.execute(
            "WITH ended AS (UPDATE duroxide.executions SET status = $3, output = $4, error = $5, "
            "  completed_at = pg_catalog.clock_timestamp() "
            "  WHERE instance_id = $1 AND execution_id = $2::bigint) "
            "UPDATE duroxide.instances SET updated_at = pg_catalog.clock_timestamp() "
            "WHERE instance_id = $1",
            std::vector<SqlText>{batch.instance, execution, std::string(status_text(turn.status)),
                                 turn.output,
                                 turn.error ? SqlText(codec::encode(*turn.error)) : SqlText()});
    }
    if (!turn.worker_items.empty()) {
        std::vector<std::string> items, activity_ids, sessions, tags;
        std::vector<std::string> has_session, has_tag;
        for (const core::WorkItem& item : turn.worker_items) {
            const auto& execute = std::get<core::work::ActivityExecute>(item.kind);
            items.push_back(codec::encode(item));
            activity_ids.push_back(std::to_string(execute.id));
            sessions.push_back(execute.session_id.value_or(""));
            has_session.push_back(execute.session_id ? "t" : "f");
            tags.push_back(execute.tag.value_or(""));
            has_tag.push_back(execute.tag ? "t" : "f");
        }
        spi_.execute("INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, "
                     "  activity_id, session_id, tag) "
                     "SELECT w.item, $1, $2::bigint, w.id::bigint, "
                     "  CASE WHEN w.has_session THEN w.session END, "
                     "  CASE WHEN w.has_tag THEN w.tag END "
                     "FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], "
                     "  $8::boolean[]) AS w(item, id, session, has_session, tag, has_tag)",
                     std::vector<SqlText>{batch.instance, execution, text_array(items),
                                          text_array(activity_ids), text_array(sessions),
                                          text_array(has_session), text_array(tags),
                                          text_array(has_tag)});
    }
    // After the inserts: an activity scheduled and cancelled in the same turn leaves no row.
    for (const core::CancelledActivity& cancelled : turn.cancelled_activities) {
        spi_.execute("DELETE FROM duroxide.worker_queue WHERE instance_id = $1 "
                     "AND execution_id = $2::bigint AND activity_id = $3::bigint",
                     std::vector<SqlText>{cancelled.instance,
                                          std::to_string(cancelled.execution_id),
                                          std::to_string(cancelled.activity_id)});
    }
    record_kv_changes(batch.instance, turn);
    record_session_changes(batch.instance, execution_id, turn);
    // Children and detached orchestrations belong to the same role as their starter.
    enqueue_orchestrator_items(turn.orchestrator_items, batch.owner_role);
}

void Store::enqueue_orchestrator_items(std::span<const core::WorkItem> items,
                                       std::optional<Oid> started_by) {
    if (items.size() == 1) {
        enqueue_orchestrator(items[0], started_by);
        return;
    }
    if (items.empty()) {
        return;
    }
    std::vector<std::string> instances, encoded, fire_at_ms;
    for (const core::WorkItem& item : items) {
        instances.push_back(item.target_instance());
        encoded.push_back(codec::encode(item));
        auto* timer = std::get_if<core::work::TimerFired>(&item.kind);
        fire_at_ms.push_back(timer ? std::to_string(timer->fire_at_ms) : "");
    }
    spi_.execute(
        "INSERT INTO duroxide.orchestrator_queue (instance_id, work_item, visible_at, "
        "  started_by) "
        "SELECT m.instance, m.item, CASE WHEN m.fire_at = '' THEN pg_catalog.clock_timestamp() "
        "  ELSE pg_catalog.to_timestamp(m.fire_at::bigint / 1000.0) END, $4::oid "
        "FROM unnest($1::text[], $2::text[], $3::text[]) AS m(instance, item, fire_at)",
        std::vector<SqlText>{text_array(instances), text_array(encoded), text_array(fire_at_ms),
                             oid_text(started_by)});
}

void Store::abandon_orchestration_item(const OrchestrationBatch& batch, int64_t delay_ms,
                                       bool ignore_attempt) {
    // The claimed messages come back after the delay with this fetch's attempt counted (the
    // fetch did not write it), unless ignore_attempt.
    auto released = spi_.execute(
        "WITH released AS (UPDATE duroxide.instance_locks SET " FREE_LOCK_ROW " "
        "  WHERE instance_id = $1 AND lock_token = $2 RETURNING claimed), "
        "moved AS (UPDATE duroxide.orchestrator_queue q "
        "  SET visible_at = pg_catalog.clock_timestamp() + $3::bigint * interval '1 millisecond', "
        "    attempt_count = q.attempt_count + CASE WHEN $4::boolean THEN 0 ELSE 1 END "
        "  FROM released r WHERE q.instance_id = $1 AND q.id = ANY (r.claimed)) "
        "SELECT 1 FROM released",
        std::vector<SqlText>{batch.instance, batch.lock_token, std::to_string(delay_ms),
                             ignore_attempt ? "true" : "false"});
    if (released.rows.empty()) {
        throw LeaseLost("the instance lock of \"" + batch.instance + "\" was taken over");
    }
}

bool Store::renew_orchestration_item_lock(const OrchestrationBatch& batch, int lock_timeout_ms) {
    return !spi_.execute("UPDATE duroxide.instance_locks "
                         "SET locked_until = pg_catalog.clock_timestamp() + $3::int * interval '1 "
                         "millisecond' "
                         "WHERE instance_id = $1 AND lock_token = $2 "
                         "  AND locked_until > pg_catalog.clock_timestamp() RETURNING 1",
                         std::vector<SqlText>{batch.instance, batch.lock_token,
                                              std::to_string(lock_timeout_ms)})
                .rows.empty();
}

std::vector<SessionKey> Store::renew_sessions(const SessionOwner& sessions, int idle_timeout_ms) {
    auto rows = spi_.execute(
        "WITH renewed AS ("
        "  UPDATE duroxide.session_locks "
        "  SET locked_until = pg_catalog.clock_timestamp() + $3::int * interval '1 millisecond' "
        "  WHERE owner_id = $1 AND locked_by = $2::bigint AND locked_until > "
        "pg_catalog.clock_timestamp() "
        "    AND last_activity_at > pg_catalog.clock_timestamp() - $4::int * interval '1 "
        "millisecond' "
        "  RETURNING instance_id, session_id) "
        "SELECT instance_id, session_id FROM renewed "
        "UNION SELECT instance_id, session_id FROM duroxide.session_locks "
        "  WHERE owner_id = $1 AND locked_by = $2::bigint AND locked_until > "
        "pg_catalog.clock_timestamp()",
        std::vector<SqlText>{sessions.owner_id, std::to_string(sessions.lease_owner),
                             std::to_string(sessions.lock_timeout_ms),
                             std::to_string(idle_timeout_ms)});
    std::vector<SessionKey> owned;
    for (const auto& row : rows.rows) {
        owned.push_back({*row[0], *row[1]});
    }
    return owned;
}

uint64_t Store::cleanup_orphaned_sessions() {
    return spi_
        .execute("DELETE FROM duroxide.session_locks s WHERE " SESSION_IS_FREE(
            "s") " "
                 "AND NOT EXISTS (SELECT 1 FROM duroxide.worker_queue w "
                 "  WHERE w.instance_id = s.instance_id AND w.session_id = s.session_id)")
        .processed;
}

bool Store::keep_activity_session(const FetchedActivity& activity, const SessionOwner& sessions,
                                  bool to_activity_lease_end) {
    // greatest() skips the NULL of the activity's lease when it is not asked for or is gone.
    // A lease that ran out but that nobody took over is still this worker's: it is extended.
    return !spi_.execute("UPDATE duroxide.session_locks s SET last_activity_at = "
                         "pg_catalog.clock_timestamp(), "
                         "  locked_until = greatest(s.locked_until, "
                         "    pg_catalog.clock_timestamp() + $4::int * interval '1 millisecond', "
                         "    (SELECT w.locked_until FROM duroxide.worker_queue w "
                         "      WHERE $7::boolean AND w.id = $5::bigint AND w.lock_token = $6)) "
                         "WHERE s.instance_id = $8 AND s.session_id = $1 AND s.owner_id = $2 "
                         "  AND s.locked_by = $3::bigint RETURNING 1",
                         std::vector<SqlText>{*activity.item.session_id, sessions.owner_id,
                                              std::to_string(sessions.lease_owner),
                                              std::to_string(sessions.lock_timeout_ms),
                                              std::to_string(activity.id), activity.lock_token,
                                              to_activity_lease_end ? "true" : "false",
                                              activity.item.instance})
                .rows.empty();
}

bool Store::renew_work_item_lock(const FetchedActivity& activity, int lock_timeout_ms) {
    auto renewed = spi_.execute(
        "UPDATE duroxide.worker_queue "
        "SET locked_until = pg_catalog.clock_timestamp() + $3::int * interval '1 millisecond' "
        "WHERE id = $1::bigint AND lock_token = $2 "
        "  AND locked_until > pg_catalog.clock_timestamp() RETURNING 1",
        std::vector<SqlText>{std::to_string(activity.id), activity.lock_token,
                             std::to_string(lock_timeout_ms)});
    return !renewed.rows.empty();
}

bool Store::abandon_work_item(const FetchedActivity& activity, int64_t delay_ms,
                              bool ignore_attempt) {
    return spi_.execute(
                   "UPDATE duroxide.worker_queue SET lock_token = NULL, locked_until = NULL, "
                   "  locked_by = NULL, "
                   "  visible_at = CASE WHEN $3::bigint > 0 "
                   "    THEN pg_catalog.clock_timestamp() + $3::bigint * interval '1 millisecond' "
                   "    ELSE visible_at END, "
                   "  attempt_count = CASE WHEN $4::boolean THEN greatest(attempt_count - 1, 0) "
                   "    ELSE attempt_count END "
                   "WHERE id = $1::bigint AND lock_token = $2",
                   std::vector<SqlText>{std::to_string(activity.id), activity.lock_token,
                                        std::to_string(delay_ms),
                                        ignore_attempt ? "true" : "false"})
               .processed > 0;
}

std::optional<int64_t> Store::ms_until_next_visible(Queue queue) {
    auto rows = spi_.execute(
        queue == Queue::Orchestrator
            ? "SELECT pg_catalog.ceil(extract(epoch FROM pg_catalog.min(visible_at) - "
              "pg_catalog.clock_timestamp()) * 1000)::bigint "
              "FROM duroxide.orchestrator_queue WHERE visible_at > (SELECT "
              "pg_catalog.clock_timestamp())"
            : "SELECT pg_catalog.ceil(extract(epoch FROM pg_catalog.min(visible_at) - "
              "pg_catalog.clock_timestamp()) * 1000)::bigint "
              "FROM duroxide.worker_queue WHERE visible_at > (SELECT pg_catalog.clock_timestamp())",
        {}, true);
    if (rows.rows.empty() || !rows.rows[0][0]) {
        return std::nullopt;
    }
    return std::stoll(*rows.rows[0][0]);
}

bool Store::holds_work_item_lease(const FetchedActivity& activity) {
    return !spi_.execute("SELECT 1 FROM duroxide.worker_queue WHERE id = $1::bigint "
                         "AND lock_token = $2 AND locked_until > pg_catalog.clock_timestamp()",
                         std::vector<SqlText>{std::to_string(activity.id), activity.lock_token},
                         true)
                .rows.empty();
}

std::optional<PluginRole> Store::activity_plugin_role(const std::string& name) {
    auto rows = spi_.execute("SELECT p.registered_by::oid::text, p.registered_by_superuser "
                             "FROM duroxide.plugin_handlers h "
                             "JOIN duroxide.plugins p ON p.name = h.plugin "
                             "WHERE h.kind = 'activity' AND h.name = $1",
                             std::vector<SqlText>{name}, true);
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    return PluginRole{.role = oid_of(rows.rows[0][0]).value_or(InvalidOid),
                      .registered_by_superuser = rows.rows[0][1] == "t"};
}

ActivityAccess Store::activity_access(const std::string& name, const std::string& instance,
                                      const std::optional<ActivityOwner>& owner) {
    // The owner is read every time (by the fetch that leased the activity, or here); whether
    // it may call the activity is cached per process (store/activity_access_cache.hpp) and read
    // with it on a miss.
    const bool cached = access_cache::begin_lookup();
    // The statements read under a snapshot taken after begin_lookup read the generation: an
    // answer read under an older one (the transaction's) could predate a change the generation
    // already counts, and be cached as current (Handlers::refresh says the same of the
    // catalogs).
    const pg::FreshSnapshot after_the_generation;
    if (cached && owner) {
        // The fetch read the owner (it never changes): only the cached answer is needed.
        if (const auto may_call = access_cache::find(name, owner->role.value_or(InvalidOid))) {
            return ActivityAccess{
                .owner = owner->role, .owner_name = owner->role_name, .may_call = *may_call};
        }
    } else if (cached) {
        auto owner_rows = spi_.execute("SELECT owner_role::text, owner_role::regrole::text "
                                       "FROM duroxide.instances WHERE instance_id = $1",
                                       std::vector<SqlText>{instance}, true);
        ActivityAccess access;
        if (!owner_rows.rows.empty()) {
            access.owner = oid_of(owner_rows.rows[0][0]);
            access.owner_name = owner_rows.rows[0][1];
        }
        if (const auto may_call = access_cache::find(name, access.owner.value_or(InvalidOid))) {
            access.may_call = *may_call;
            return access;
        }
    }
    auto rows = spi_.execute(
        "SELECT i.owner_role::text, coalesce(( "
        "    SELECT CASE WHEN i.owner_role IS NOT NULL "
        "                THEN duroxide._may_call_activity(i.owner_role, r.registrant, r.allowed) "
        "                WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_roles g "
        "                                  WHERE g.oid = r.registrant) THEN false "
        "                ELSE pg_catalog.pg_has_role(r.registrant, 'duroxide_admin', 'USAGE') END "
        "      FROM (SELECT p.registered_by::oid AS registrant, p.allowed_roles AS allowed "
        "              FROM duroxide.plugin_handlers h "
        "              JOIN duroxide.plugins p ON p.name = h.plugin "
        "             WHERE h.kind = 'activity' AND h.name = $1 "
        "            UNION ALL "
        "            SELECT a.run_as::oid, a.allowed_roles FROM duroxide.sql_activities a "
        "             WHERE a.name = $1) r LIMIT 1), false), i.owner_role::regrole::text "
        "  FROM (SELECT 1) one "
        "  LEFT JOIN duroxide.instances i ON i.instance_id = $2",
        std::vector<SqlText>{name, instance}, true);
    const auto& row = rows.rows.at(0);
    ActivityAccess access{.owner = oid_of(row[0]), .owner_name = row[2], .may_call = row[1] == "t"};
    access_cache::remember(name, access.owner.value_or(InvalidOid), access.may_call);
    return access;
}

} // namespace duroxide::store
