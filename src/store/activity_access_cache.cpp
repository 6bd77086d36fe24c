#include "store/activity_access_cache.hpp"

#include "pg/guard.hpp"

#include <unordered_map>
#include <utility>

extern "C" {
#include "utils/inval.h"
#include "utils/syscache.h"
}

namespace duroxide::store {

namespace {

CatalogGenerationSource generation_source = nullptr;

struct KeyHash {
    std::size_t operator()(const std::pair<std::string, Oid>& key) const {
        return std::hash<std::string>{}(key.first) * 31 + key.second;
    }
};

struct Cache {
    std::unordered_map<std::pair<std::string, Oid>, bool, KeyHash> answers;
    std::optional<uint64_t> generation; // of the answers
    bool callbacks_registered = false;
};
Cache cache;

// Called by PostgreSQL while it processes invalidations (plain C context: sets a flag only).
volatile bool roles_changed = true;
void on_role_invalidation(Datum, int, uint32) {
    roles_changed = true;
}

} // namespace

void set_catalog_generation_source(CatalogGenerationSource source) {
    generation_source = source;
}

namespace access_cache {

bool begin_lookup() {
    if (generation_source == nullptr) {
        return false;
    }
    if (!cache.callbacks_registered) {
        pg::call([] {
            CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_role_invalidation, 0);
            CacheRegisterSyscacheCallback(AUTHOID, on_role_invalidation, 0);
        });
        cache.callbacks_registered = true;
        roles_changed = true;
    }
    const uint64_t generation = generation_source();
    if (roles_changed || cache.generation != generation) {
        roles_changed = false; // an invalidation from here on empties the cache next time
        cache.answers.clear();
        cache.generation = generation;
    }
    return true;
}

std::optional<bool> find(const std::string& name, Oid owner) {
    auto found = cache.answers.find({name, owner});
    if (found == cache.answers.end()) {
        return std::nullopt;
    }
    return found->second;
}

void remember(const std::string& name, Oid owner, bool may_call) {
    if (cache.answers.size() >= 10000) {
        cache.answers.clear(); // a bound on the memory: the answers are re-read
    }
    cache.answers.emplace(std::pair{name, owner}, may_call);
}

} // namespace access_cache

} // namespace duroxide::store
