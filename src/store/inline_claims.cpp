// Store::lock_for_inline_turn: an activity worker locks the instance its completion went to, in
// the transaction that records the completion, to run the instance's next turn there
// (docs/architecture.md, "Inline turns"). The lock row is the dispatcher's (instance_locks,
// the same lease), so a dispatcher skips the instance while the worker's transaction holds it,
// and the worker skips an instance a dispatcher holds. Between activity workers the advisory
// lock below decides without waiting; a dispatcher that is inserting the same lock row at that
// moment is waited for only as long as the caller's lock_timeout allows.
#include "pg/guard.hpp"
#include "store/lease_sql.hpp"
#include "store/sql_values.hpp"
#include "store/store.hpp"

namespace duroxide::store {

namespace {

// The advisory lock space of inline turns ("durx"): pg_try_advisory_xact_lock(int, int) with
// the hash of the instance id. A hash collision only sends a turn to the dispatcher.
constexpr const char* kInlineLockClass = "1685418616";

} // namespace

std::optional<OrchestrationBatch> Store::lock_for_inline_turn(const std::string& instance,
                                                              int64_t owner, int lock_timeout_ms,
                                                              uint64_t max_history,
                                                              const ResidentLookup& resident) {
    // The instance and its current execution exist (an activity's completion follows the turn
    // that scheduled it); the version filter and the lease are the dispatcher's fetch's.
    // The claim is recorded in the lock row as the dispatcher's fetch records it (CLAIM_IDS),
    // and a claim left by a holder that never released the lock is returned (prev) so that
    // its attempt is counted.
    auto locks = spi_.execute(
        "WITH prev AS (SELECT p.claimed FROM duroxide.instance_locks p "
        "  WHERE p.instance_id = $1 AND p.lock_token IS NOT NULL) "
        "INSERT INTO duroxide.instance_locks AS l (instance_id, lock_token, locked_until, "
        "  locked_by, claimed) "
        "SELECT i.instance_id, pg_catalog.gen_random_uuid()::text, "
        "  pg_catalog.clock_timestamp() + $2::int * interval '1 millisecond', $3::bigint, "
        "  " CLAIM_IDS("i.instance_id") " "
                                        "FROM duroxide.instances i JOIN duroxide.executions e "
                                        "  ON e.instance_id = i.instance_id AND e.execution_id = "
                                        "i.current_execution_id "
                                        "WHERE i.instance_id = $1 AND NOT "
                                        "coalesce(e.duroxide_version_num > $4::int, false) "
                                        "  AND coalesce((SELECT pg_catalog.max(h.event_id) FROM "
                                        "duroxide.history h "
                                        "    WHERE h.instance_id = i.instance_id AND "
                                        "h.execution_id = i.current_execution_id), "
                                        "    0) <= $5::bigint "
                                        "  AND pg_catalog.pg_try_advisory_xact_lock($6::int, "
                                        "pg_catalog.hashtext(i.instance_id)) "
                                        "ON CONFLICT (instance_id) DO UPDATE SET lock_token = "
                                        "excluded.lock_token, "
                                        "  locked_until = excluded.locked_until, locked_by = "
                                        "excluded.locked_by, "
                                        "  locked_at = pg_catalog.clock_timestamp(), claimed = "
                                        "excluded.claimed "
                                        "WHERE " LEASE_IS_FREE(
                                            "l") " RETURNING instance_id, lock_token, "
                                                 "  (SELECT p.claimed FROM prev p)",
        std::vector<pg::SqlText>{instance, std::to_string(lock_timeout_ms), std::to_string(owner),
                                 library_version_num(), std::to_string(max_history),
                                 kInlineLockClass});
    if (locks.rows.empty()) {
        return std::nullopt;
    }
    std::vector<OrchestrationBatch> batches(1);
    batches[0].instance = *locks.rows[0][0];
    batches[0].lock_token = *locks.rows[0][1];
    batches[0].unfinished_claim = locks.rows[0][2];
    load_batches(batches, resident);
    return std::move(batches[0]);
}

} // namespace duroxide::store
