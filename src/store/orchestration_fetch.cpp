// The dispatcher's fetch (Store::fetch_orchestration_items) and the reads it shares with an
// inline turn's lock (Store::load_batches): pick and lock instances, recording in each lock
// row the ids of the messages it claims (the messages are not written), then read those
// messages with the current executions, and the histories the dispatcher does not hold
// resident (docs/architecture.md, "A unit of work").
#include "core/codec/json_codec.hpp"
#include "store/lease_sql.hpp"
#include "store/sql_values.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <tuple>

namespace duroxide::store {

namespace {

using pg::SqlText;
namespace codec = core::codec;

// Parameter types of statements with two text[] parameters (see text_array).
const Oid kTwoTextArrays[] = {TEXTARRAYOID, TEXTARRAYOID};

} // namespace

namespace {

// The instance's batch (`batches` holds each locked instance once).
OrchestrationBatch& batch_of(std::vector<OrchestrationBatch>& batches,
                             const std::string& instance) {
    return *std::find_if(batches.begin(), batches.end(),
                         [&instance](const auto& b) { return b.instance == instance; });
}

// Picks and locks up to `max_items` instances with visible messages: batches with their instance
// and lock token only (empty when there is nothing to do).
std::vector<OrchestrationBatch> lock_instances(Statements& spi, int64_t owner, int lock_timeout_ms,
                                               int max_items) {
    // Candidates: the instances of the oldest visible messages, not locked by a live holder,
    // whose current execution was not started by a newer duroxide than this library (after a
    // downgrade such an instance waits for it rather than run under older code; reference
    // §3.5's version filter, applied before locking). The time is an InitPlan, so that it
    // bounds the index scan: compared row by row, a queue of delayed messages (timers) was
    // read whole by every fetch (docs/performance.md).
    auto candidates = spi.execute(
        "SELECT q.instance_id FROM duroxide.orchestrator_queue q "
        "WHERE q.visible_at <= (SELECT pg_catalog.clock_timestamp()) "
        "  AND NOT EXISTS (SELECT 1 FROM duroxide.instance_locks l "
        "    WHERE l.instance_id = q.instance_id AND NOT " LEASE_IS_FREE(
            "l") ") "
                 "  AND NOT EXISTS (SELECT 1 FROM duroxide.instances i JOIN duroxide.executions e "
                 "      ON e.instance_id = i.instance_id AND e.execution_id = "
                 "i.current_execution_id "
                 "    WHERE i.instance_id = q.instance_id AND e.duroxide_version_num > $2::int) "
                 "ORDER BY q.visible_at, q.id LIMIT $1::int",
        std::vector<SqlText>{std::to_string(max_items * 4), library_version_num()});
    std::vector<std::string> wanted;
    for (const auto& row : candidates.rows) {
        if (std::find(wanted.begin(), wanted.end(), *row[0]) == wanted.end() &&
            static_cast<int>(wanted.size()) < max_items) {
            wanted.push_back(*row[0]);
        }
    }
    if (wanted.empty()) {
        return {};
    }
    // Lock them; an instance another dispatcher locked in the meantime is skipped. A lock row
    // left free by an earlier turn is taken by a plain update (an ON CONFLICT update would
    // also log a row lock); an instance without one gets it inserted. The lock row records the
    // claim: the ids of the instance's messages visible now (CLAIM_IDS). The messages are not
    // written: under the lock no other dispatcher reads them, the ack deletes exactly those
    // ids, and one committed after this statement's snapshot waits for the next turn. A lock
    // taken over from a holder that never released it (prev: it crashed, or its lease ran
    // out) returns that holder's claim, whose attempt the caller counts (read_claims).
    auto locks = spi.execute(
        "WITH prev AS ("
        "  SELECT p.instance_id, p.claimed FROM duroxide.instance_locks p "
        "  WHERE p.instance_id = ANY ($1::text[]) AND p.lock_token IS NOT NULL), "
        "taken AS ("
        "  UPDATE duroxide.instance_locks l SET lock_token = pg_catalog.gen_random_uuid()::text, "
        "    locked_until = pg_catalog.clock_timestamp() + $2::int * interval '1 millisecond', "
        "    locked_by = $3::bigint, locked_at = pg_catalog.clock_timestamp(), "
        "    claimed = " CLAIM_IDS(
            "l.instance_id") " "
                             "  WHERE l.instance_id = ANY ($1::text[]) AND " LEASE_IS_FREE(
                                 "l") " RETURNING l.instance_id, l.lock_token), "
                                      "created AS ("
                                      "  INSERT INTO duroxide.instance_locks AS l (instance_id, "
                                      "lock_token, "
                                      "    locked_until, locked_by, claimed) "
                                      "  SELECT w.instance, pg_catalog.gen_random_uuid()::text, "
                                      "    pg_catalog.clock_timestamp() + $2::int * interval '1 "
                                      "millisecond', "
                                      "    $3::bigint, " CLAIM_IDS(
                                          "w.instance") " "
                                                        "  FROM pg_catalog.unnest($1::text[]) AS "
                                                        "w(instance) "
                                                        "  WHERE NOT EXISTS (SELECT 1 FROM "
                                                        "duroxide.instance_locks x "
                                                        "    WHERE x.instance_id = w.instance) "
                                                        "  ON CONFLICT (instance_id) DO NOTHING "
                                                        "RETURNING l.instance_id, l.lock_token) "
                                                        "SELECT t.instance_id, t.lock_token, "
                                                        "  (SELECT p.claimed FROM prev p WHERE "
                                                        "p.instance_id = t.instance_id) "
                                                        "FROM taken t UNION ALL "
                                                        "SELECT instance_id, lock_token, NULL FROM "
                                                        "created",
        std::vector<SqlText>{text_array(wanted), std::to_string(lock_timeout_ms),
                             std::to_string(owner)});
    std::vector<OrchestrationBatch> batches;
    for (const auto& row : locks.rows) {
        OrchestrationBatch batch;
        batch.instance = *row[0];
        batch.lock_token = *row[1];
        batch.unfinished_claim = row[2];
        batches.push_back(std::move(batch));
    }
    return batches;
}

// Reads, in one statement, the messages the locked instances' lock rows claim into their
// batches (in queue order, with the highest attempt count, this fetch counted: + 1, and the
// starter of a first start) and the instances' current executions (an existing instance keeps
// its owner) with the last event id of their histories (for read_histories: none is read for
// an execution the dispatcher holds resident at that id). First, the attempt of a claim left
// unfinished by a crashed or expired holder is counted on its messages (the only write to
// messages at a fetch; none on the ordinary path). Returns each batch's last event id.
std::vector<uint64_t> read_claims(Statements& spi, std::vector<OrchestrationBatch>& batches,
                                  const SqlText& instance_array) {
    std::vector<std::string> tokens;
    for (const auto& batch : batches) {
        tokens.push_back(batch.lock_token);
        if (batch.unfinished_claim) {
            spi.execute("UPDATE duroxide.orchestrator_queue "
                        "SET attempt_count = attempt_count + 1 "
                        "WHERE instance_id = $1 AND id = ANY ($2::bigint[])",
                        std::vector<SqlText>{batch.instance, *batch.unfinished_claim});
        }
    }
    // x: one row per locked instance (OFFSET 0 keeps it from being flattened into the join,
    // so that the last event id is read once per instance, not once per message).
    auto rows = spi.execute_typed(
        "SELECT x.instance_id, q.id, q.work_item, q.attempt_count + 1, q.started_by, "
        "  x.current_execution_id, x.status, x.owner_role, x.last_event_id "
        "FROM (SELECT l.instance_id, l.claimed, i.current_execution_id, e.status, i.owner_role, "
        "    (SELECT pg_catalog.max(h.event_id) FROM duroxide.history h "
        "      WHERE h.instance_id = i.instance_id "
        "        AND h.execution_id = i.current_execution_id) AS last_event_id "
        "  FROM duroxide.instance_locks l "
        "  LEFT JOIN duroxide.instances i ON i.instance_id = l.instance_id "
        "  LEFT JOIN duroxide.executions e ON e.instance_id = i.instance_id "
        "    AND e.execution_id = i.current_execution_id "
        "  WHERE l.instance_id = ANY ($1::text[]) AND l.lock_token = ANY ($2::text[]) "
        "  OFFSET 0) x "
        "LEFT JOIN duroxide.orchestrator_queue q "
        "  ON q.instance_id = x.instance_id AND q.id = ANY (x.claimed)",
        std::vector<SqlText>{instance_array, text_array(tokens)}, kTwoTextArrays);
    std::vector<uint64_t> last_event_ids(batches.size(), 0);
    std::vector<bool> seen(batches.size(), false);
    // (batch, message id, work item, its starter), put in queue order below.
    std::vector<std::tuple<size_t, int64_t, const std::string*, std::optional<Oid>>> ordered;
    for (const auto& row : rows.rows) {
        const size_t at = static_cast<size_t>(&batch_of(batches, *row[0]) - batches.data());
        OrchestrationBatch& batch = batches[at];
        if (!seen[at]) {
            seen[at] = true;
            if (row[5]) {
                batch.instance_exists = true;
                batch.execution_id = std::stoull(*row[5]);
                batch.execution_status = status_of(row[6]);
                batch.owner_role = oid_of(row[7]); // an existing instance keeps its owner
                last_event_ids[at] = row[8] ? std::stoull(*row[8]) : 0;
            }
        }
        if (!row[1]) {
            continue; // no claimed message left (deleted since the claim)
        }
        ordered.emplace_back(at, std::stoll(*row[1]), &*row[2], oid_of(row[4]));
        batch.attempt_count =
            std::max(batch.attempt_count, static_cast<uint32_t>(std::stoul(*row[3])));
    }
    std::sort(ordered.begin(), ordered.end(), [](const auto& x, const auto& y) {
        return std::tie(std::get<0>(x), std::get<1>(x)) < std::tie(std::get<0>(y), std::get<1>(y));
    });
    for (const auto& [at, id, work_item, started_by] : ordered) {
        OrchestrationBatch& batch = batches[at];
        if (started_by && !batch.instance_exists && !batch.owner_role) {
            batch.owner_role = started_by; // a first start's starter becomes the owner
        }
        batch.messages.push_back(codec::decode_work_item(*work_item));
    }
    return last_event_ids;
}

// The histories of the current executions, except those the dispatcher holds resident at the
// store's last event id (`last_event_ids`, read_claims: history_omitted); a history that does
// not decode sets history_error.
void read_histories(Statements& spi, std::vector<OrchestrationBatch>& batches,
                    const std::vector<uint64_t>& last_event_ids, const ResidentLookup& resident) {
    // Resident executions whose history has not moved on need none of it.
    std::vector<std::string> unknown;
    for (size_t at = 0; at < batches.size(); ++at) {
        OrchestrationBatch& batch = batches[at];
        if (!batch.instance_exists) {
            continue;
        }
        const auto last = resident(batch.instance, batch.execution_id);
        if (last && *last == last_event_ids[at]) {
            batch.history_omitted = true;
            batch.history_last_event_id = last_event_ids[at];
        } else {
            unknown.push_back(batch.instance);
        }
    }
    if (!unknown.empty()) {
        auto history = spi.execute_typed(
            "SELECT i.instance_id, i.current_execution_id, h.event_id, h.event_type, h.event_data "
            "FROM duroxide.instances i, LATERAL "
            "  (SELECT h.event_id, h.event_type, h.event_data FROM duroxide.history h "
            "    WHERE h.instance_id = i.instance_id "
            "      AND h.execution_id = i.current_execution_id) h "
            "WHERE i.instance_id = ANY ($1::text[]) ORDER BY i.instance_id, h.event_id",
            std::vector<SqlText>{text_array(unknown)}, kOneTextArray);
        for (const auto& row : history.rows) {
            OrchestrationBatch& batch = batch_of(batches, *row[0]);
            if (batch.history_error) {
                continue;
            }
            try {
                // event_data in its stored form (or 0.1.0's full form): the row gives the keys.
                batch.history.push_back(
                    codec::decode_stored_event(*row[4], {.instance_id = *row[0],
                                                         .execution_id = std::stoull(*row[1]),
                                                         .event_id = std::stoull(*row[2]),
                                                         .type = *row[3]}));
            } catch (const codec::CodecError& e) {
                batch.history.clear();
                batch.history_error = std::string("history of execution ") +
                                      std::to_string(batch.execution_id) +
                                      " does not decode: " + e.what();
            }
        }
    }
}

} // namespace

std::vector<OrchestrationBatch> Store::fetch_orchestration_items(int64_t owner, int lock_timeout_ms,
                                                                 int max_items,
                                                                 const ResidentLookup& resident) {
    std::vector<OrchestrationBatch> batches =
        lock_instances(spi_, owner, lock_timeout_ms, max_items);
    load_batches(batches, resident);
    return batches;
}

void Store::load_batches(std::vector<OrchestrationBatch>& batches, const ResidentLookup& resident) {
    if (batches.empty()) {
        return;
    }
    std::vector<std::string> instances;
    for (const auto& batch : batches) {
        instances.push_back(batch.instance);
    }
    const SqlText instance_array = text_array(instances);
    const std::vector<uint64_t> last_event_ids = read_claims(spi_, batches, instance_array);
    read_histories(spi_, batches, last_event_ids, resident);
    load_kv_snapshots(batches);
}

} // namespace duroxide::store
