#include "core/replay/kv_state.hpp"

#include "core/model/limits.hpp"
#include "duroxide/orchestration_context.hpp"

namespace duroxide::core {

static_assert(kMaxKvKeys == OrchestrationContext::kMaxKvKeys &&
              kMaxKvValueBytes == OrchestrationContext::kMaxKvValueBytes &&
              kMaxKvKeyBytes == OrchestrationContext::kMaxKvKeyBytes);

std::optional<std::string> KvState::limit_problem(std::string_view key,
                                                  std::string_view value) const {
    if (key.size() > kMaxKvKeyBytes) {
        return "key-value store: a key of " + std::to_string(key.size()) +
               " bytes is longer than the limit of " + std::to_string(kMaxKvKeyBytes);
    }
    if (value.size() > kMaxKvValueBytes) {
        return "key-value store: the value of key \"" + std::string(key) + "\" is " +
               std::to_string(value.size()) + " bytes, more than the limit of " +
               std::to_string(kMaxKvValueBytes);
    }
    if (entries_.find(key) == entries_.end() && entries_.size() >= kMaxKvKeys) {
        return "key-value store: setting key \"" + std::string(key) +
               "\" would exceed the limit of " + std::to_string(kMaxKvKeys) + " keys";
    }
    return std::nullopt;
}

void KvState::set(std::string_view key, std::string_view value, uint64_t at_ms) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        it = entries_.emplace(std::string(key), KvEntry{}).first;
    }
    it->second = KvEntry{std::string(value), at_ms};
    written_.emplace(key);
}

void KvState::clear(std::string_view key) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        entries_.erase(it);
    }
}

void KvState::clear_all() {
    entries_.clear();
}

std::optional<std::string> KvState::get(std::string_view key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? std::nullopt : std::optional<std::string>(it->second.value);
}

std::map<std::string, std::string> KvState::all() const {
    std::map<std::string, std::string> values;
    for (const auto& [key, entry] : entries_) {
        values.emplace(key, entry.value);
    }
    return values;
}

std::vector<std::string> KvState::keys() const {
    std::vector<std::string> names;
    names.reserve(entries_.size());
    for (const auto& [key, entry] : entries_) {
        names.push_back(key);
    }
    return names;
}

std::vector<std::string> KvState::prunable(uint64_t cutoff_ms) const {
    std::vector<std::string> names;
    for (const auto& [key, entry] : entries_) {
        if (entry.last_updated_at_ms < cutoff_ms && written_.find(key) == written_.end()) {
            names.push_back(key);
        }
    }
    return names;
}

bool is_kv_event(const EventKind& kind) {
    return std::holds_alternative<events::KeyValueSet>(kind) ||
           std::holds_alternative<events::KeyValueCleared>(kind) ||
           std::holds_alternative<events::KeyValuesCleared>(kind);
}

bool kv_events_match(const EventKind& recorded, const EventKind& scheduled) {
    const auto* a = std::get_if<events::KeyValueSet>(&recorded);
    const auto* b = std::get_if<events::KeyValueSet>(&scheduled);
    if (a != nullptr && b != nullptr) {
        return a->key == b->key && a->value == b->value;
    }
    return is_kv_event(recorded) && recorded == scheduled;
}

std::string describe_kv_event(const EventKind& kind) {
    if (const auto* set = std::get_if<events::KeyValueSet>(&kind)) {
        return "set of key " + set->key;
    }
    if (const auto* cleared = std::get_if<events::KeyValueCleared>(&kind)) {
        return "clear of key " + cleared->key;
    }
    return "clear of all keys";
}

} // namespace duroxide::core
