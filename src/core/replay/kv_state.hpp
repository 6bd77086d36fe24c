// The durable key-value store as orchestration code sees it during one execution: seeded from
// the snapshot that earlier executions left (kv_store), then changed by the code's own
// set/clear calls, which the replay engine records as KeyValueSet / KeyValueCleared /
// KeyValuesCleared events (reference §1.9, §4.11). The state is driven only by the code's calls
// (replayed ones included), never by reading history, so a resident execution and a full
// replay give the same answers at every point of the code.
#pragma once

#include "core/model/event.hpp"
#include "core/replay/turn.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core {

class KvState {
public:
    explicit KvState(const KvSnapshot& snapshot) : entries_(snapshot.begin(), snapshot.end()) {}

    // Why a set would break a limit (key count, value size), or nullopt.
    std::optional<std::string> limit_problem(std::string_view key, std::string_view value) const;

    void set(std::string_view key, std::string_view value, uint64_t at_ms);
    void clear(std::string_view key);
    void clear_all();

    std::optional<std::string> get(std::string_view key) const;
    std::map<std::string, std::string> all() const;
    std::vector<std::string> keys() const;
    std::size_t size() const { return entries_.size(); }

    // The keys prune_kv_values_updated_before(cutoff_ms) clears: those still holding a value
    // from an earlier execution (never written by this one) last updated before the cutoff.
    // Deterministic: it depends only on the snapshot and the code's calls.
    std::vector<std::string> prunable(uint64_t cutoff_ms) const;

private:
    std::map<std::string, KvEntry, std::less<>> entries_;
    std::set<std::string, std::less<>> written_; // keys this execution set
};

// KV schedule events match on replay by key and value; the timestamp is not compared.
bool kv_events_match(const EventKind& recorded, const EventKind& scheduled);
bool is_kv_event(const EventKind& kind);
std::string describe_kv_event(const EventKind& kind);

} // namespace duroxide::core
