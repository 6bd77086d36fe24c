// The durable key-value store's two tables (reference §4.11): kv_store holds the state as the
// last finished execution left it (the snapshot a replay starts from), kv_delta this
// execution's changes (written by every ack; NULL value = cleared). When an execution ends
// (completed, failed or continued as new) its delta is merged into kv_store in the same
// transaction. Clients read the merged live view.
#include "pg/guard.hpp"
#include "store/store.hpp"

#include <map>

namespace duroxide::store {

namespace {

using pg::SqlText;

} // namespace

void Store::load_kv_snapshots(std::vector<OrchestrationBatch>& batches) {
    std::vector<std::string> instances;
    for (const OrchestrationBatch& batch : batches) {
        if (batch.instance_exists && !batch.history_omitted) {
            instances.push_back(batch.instance);
        }
    }
    if (instances.empty()) {
        return;
    }
    auto rows = spi_.execute_typed("SELECT instance_id, key, value, last_updated_at_ms "
                                   "FROM duroxide.kv_store WHERE instance_id = ANY ($1::text[])",
                                   std::vector<SqlText>{text_array(instances)}, kOneTextArray);
    for (const auto& row : rows.rows) {
        for (OrchestrationBatch& batch : batches) {
            if (batch.instance == *row[0]) {
                batch.kv_snapshot[*row[1]] = core::KvEntry{*row[2], std::stoull(*row[3])};
                break;
            }
        }
    }
}

void Store::record_kv_changes(const std::string& instance, const core::TurnResult& turn) {
    // The turn's net change per key (a later event of the same key wins); a KeyValuesCleared
    // drops what came before it and clears every key the instance has.
    struct Change {
        std::optional<std::string> value; // nullopt: cleared
        uint64_t at_ms = 0;
    };
    std::map<std::string, Change> changes;
    std::optional<uint64_t> cleared_all_at;
    for (const core::Event& event : turn.history_delta) {
        if (const auto* set = std::get_if<core::events::KeyValueSet>(&event.kind)) {
            changes[set->key] = Change{set->value, set->last_updated_at_ms};
        } else if (const auto* cleared = std::get_if<core::events::KeyValueCleared>(&event.kind)) {
            changes[cleared->key] = Change{std::nullopt, event.timestamp_ms};
        } else if (std::holds_alternative<core::events::KeyValuesCleared>(event.kind)) {
            changes.clear();
            cleared_all_at = event.timestamp_ms;
        }
    }
    if (cleared_all_at) {
        spi_.execute("INSERT INTO duroxide.kv_delta AS d (instance_id, key, value, "
                     "  last_updated_at_ms) "
                     "SELECT $1, k.key, NULL, $2::bigint FROM ("
                     "  SELECT key FROM duroxide.kv_store WHERE instance_id = $1 "
                     "  UNION SELECT key FROM duroxide.kv_delta WHERE instance_id = $1) k "
                     "ON CONFLICT (instance_id, key) DO UPDATE SET value = NULL, "
                     "  last_updated_at_ms = excluded.last_updated_at_ms",
                     std::vector<SqlText>{instance, std::to_string(*cleared_all_at)});
    }
    if (!changes.empty()) {
        std::vector<std::string> keys, values, has_value, at_ms;
        for (const auto& [key, change] : changes) {
            keys.push_back(key);
            values.push_back(change.value.value_or(""));
            has_value.push_back(change.value ? "t" : "f");
            at_ms.push_back(std::to_string(change.at_ms));
        }
        spi_.execute("INSERT INTO duroxide.kv_delta AS d (instance_id, key, value, "
                     "  last_updated_at_ms) "
                     "SELECT $1, c.key, CASE WHEN c.has_value THEN c.value END, c.at_ms "
                     "FROM unnest($2::text[], $3::text[], $4::boolean[], $5::bigint[]) "
                     "  AS c(key, value, has_value, at_ms) "
                     "ON CONFLICT (instance_id, key) DO UPDATE SET value = excluded.value, "
                     "  last_updated_at_ms = excluded.last_updated_at_ms",
                     std::vector<SqlText>{instance, text_array(keys), text_array(values),
                                          text_array(has_value), text_array(at_ms)});
    }
    if (turn.status != core::ExecutionStatus::Running) {
        // One statement: take the delta, drop the cleared keys, upsert the set ones.
        spi_.execute("WITH delta AS (DELETE FROM duroxide.kv_delta WHERE instance_id = $1 "
                     "    RETURNING key, value, last_updated_at_ms), "
                     "  cleared AS (DELETE FROM duroxide.kv_store s USING delta "
                     "    WHERE s.instance_id = $1 AND s.key = delta.key AND delta.value IS NULL) "
                     "INSERT INTO duroxide.kv_store AS s (instance_id, key, value, "
                     "  last_updated_at_ms) "
                     "SELECT $1, key, value, last_updated_at_ms FROM delta "
                     "WHERE value IS NOT NULL "
                     "ON CONFLICT (instance_id, key) DO UPDATE SET value = excluded.value, "
                     "  last_updated_at_ms = excluded.last_updated_at_ms",
                     std::vector<SqlText>{instance});
    }
}

std::optional<std::string> Store::kv_value(const std::string& instance, const std::string& key) {
    auto rows = spi_.execute("SELECT CASE WHEN d.key IS NOT NULL THEN d.value ELSE s.value END "
                             "FROM (SELECT $1::text AS instance_id, $2::text AS key) q "
                             "LEFT JOIN duroxide.kv_delta d "
                             "  ON d.instance_id = q.instance_id AND d.key = q.key "
                             "LEFT JOIN duroxide.kv_store s "
                             "  ON s.instance_id = q.instance_id AND s.key = q.key",
                             std::vector<SqlText>{instance, key});
    return rows.rows.empty() ? std::nullopt : rows.rows[0][0];
}

} // namespace duroxide::store
