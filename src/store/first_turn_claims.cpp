// Store::lock_new_instances: a dispatcher that has just enqueued the start of a new instance (a
// child's StartOrchestration, in the parent's ack) locks those instances in the same transaction to
// run its first turn there (docs/architecture.md, "First turns in the creating transaction").
// The lock row and the claim are a fetch's (instance_locks, the same lease; the ids of the
// instance's messages recorded in the lock row, CLAIM_IDS), so the turn is acked by the unchanged
// ack. Nobody else can hold the instance: its start message is not committed yet. When the id is in
// use after all (an instance row, a lock row another worker holds or is writing) nothing is locked
// and the start message stays queued for a dispatcher, whose turn gives the usual answer.
#include "pg/guard.hpp"
#include "store/lease_sql.hpp"
#include "store/sql_values.hpp"
#include "store/store.hpp"

namespace duroxide::store {

namespace {

// The advisory lock space of the inline lockers ("durx", store/inline_claims.cpp): taken without
// waiting, so that two of them never wait for each other.
constexpr const char* kInlineLockClass = "1685418616";

} // namespace

std::vector<OrchestrationBatch> Store::lock_new_instances(const std::vector<std::string>& instances,
                                                          int64_t owner, int lock_timeout_ms) {
    // One statement for all of them: a lock row inserted (or a free one taken) for each id
    // without an instance row, while the inline lockers' advisory lock on it is free.
    auto locks = spi_.execute(
        "INSERT INTO duroxide.instance_locks AS l (instance_id, lock_token, locked_until, "
        "  locked_by, claimed) "
        "SELECT n.id, pg_catalog.gen_random_uuid()::text, "
        "  pg_catalog.clock_timestamp() + $2::int * interval '1 millisecond', $3::bigint, "
        "  " CLAIM_IDS(
            "n.id") " "
                    "FROM pg_catalog.unnest($1::text[]) AS n(id) "
                    "WHERE NOT EXISTS (SELECT 1 FROM duroxide.instances i WHERE i.instance_id = "
                    "n.id) "
                    "  AND pg_catalog.pg_try_advisory_xact_lock($4::int, "
                    "pg_catalog.hashtext(n.id)) "
                    "ON CONFLICT (instance_id) DO UPDATE SET lock_token = excluded.lock_token, "
                    "  locked_until = excluded.locked_until, locked_by = excluded.locked_by, "
                    "  locked_at = pg_catalog.clock_timestamp(), claimed = excluded.claimed "
                    "WHERE " LEASE_IS_FREE("l") " RETURNING instance_id, lock_token",
        std::vector<pg::SqlText>{text_array(instances), std::to_string(lock_timeout_ms),
                                 std::to_string(owner), kInlineLockClass});
    std::vector<OrchestrationBatch> batches(locks.rows.size());
    for (std::size_t i = 0; i < locks.rows.size(); ++i) {
        batches[i].instance = *locks.rows[i][0];
        batches[i].lock_token = *locks.rows[i][1];
    }
    // New instances have no history: nothing is resident.
    load_batches(batches, [](const std::string&, uint64_t) { return std::nullopt; });
    return batches;
}

} // namespace duroxide::store
