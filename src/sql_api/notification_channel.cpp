// duroxide._notification_channel(key): the channel name of a notification key, derived by the
// store (store/notification_channels.hpp) and cached per backend. The completion trigger asks
// for two names per ended execution; deriving them (a read of the secret and a sha256) is done
// once per key until the secret may have changed: the cache is emptied when the catalog
// generation moved (a committed change of duroxide.notification_secret bumps it, like the
// registration catalogs'), and is bypassed for the rest of a transaction that changed the
// secret itself (its new names are visible to it before its commit). The names never leave
// this backend's memory except as the function's result, which only the extension owner may
// call.
#include "pg/compat.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runtime/process/shared_state.hpp"
#include "runtime/process/wakeup.hpp"
#include "sql_api/arguments.hpp"
#include "store/notification_channels.hpp"

#include <optional>
#include <string>
#include <unordered_map>

extern "C" {
#include "access/xact.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
}

namespace {

struct ChannelCache {
    std::unordered_map<std::string, std::string> names;
    std::optional<uint64> generation;
    // The local transaction that changed the secret (0: none seen): no caching while it runs.
    LocalTransactionId changed_in = InvalidLocalTransactionId;
};
ChannelCache cache;

} // namespace

// The statement trigger of duroxide.notification_secret: this transaction derives the names
// afresh (the commit hook bumps the catalog generation for every other backend).
DUROXIDE_SQL_FUNCTION(duroxide_notification_secret_changed) {
    if (!CALLED_AS_TRIGGER(fcinfo)) {
        throw duroxide::pg::SqlError(
            ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
            "duroxide._notification_secret_changed() is a trigger function", {},
            "It runs as a statement trigger of the secret's table.");
    }
    cache.changed_in = duroxide::pg::compat::local_transaction_id();
    cache.names.clear();
    duroxide::runtime::wake_at_commit(duroxide::runtime::kCatalogChanged);
    return PointerGetDatum(nullptr);
}

DUROXIDE_SQL_FUNCTION(duroxide_notification_channel) {
    const std::string key = duroxide::sql_api::required_text(fcinfo, 0, "key");
    const uint64 generation = duroxide::runtime::shared_state().catalog_generation();
    const bool changing = cache.changed_in != InvalidLocalTransactionId;
    if (changing && cache.changed_in != duroxide::pg::compat::local_transaction_id()) {
        cache.changed_in = InvalidLocalTransactionId; // that transaction ended
    }
    if (cache.generation != generation || changing) {
        cache.names.clear(); // read before the secret: a later change moves it again
        cache.generation = generation;
    }
    bool may_cache = cache.changed_in == InvalidLocalTransactionId;
    std::optional<std::string> name;
    if (auto found = cache.names.find(key); may_cache && found != cache.names.end()) {
        name = found->second;
    } else {
        // Under a snapshot taken after the generation was read (the statement's own can be
        // older: a rotation committed in between would be cached under the new generation).
        // A transaction that keeps one snapshot (repeatable read) cannot take a newer one, so
        // its name is not cached.
        const duroxide::pg::FreshSnapshot after_the_generation;
        duroxide::pg::SpiConnection spi;
        name = duroxide::store::derive_notification_channel(spi, key);
        may_cache = may_cache && !IsolationUsesXactSnapshot();
        if (name && may_cache) {
            if (cache.names.size() >= 10000) {
                cache.names.clear(); // a bound on the memory (one name per owner role)
            }
            cache.names.emplace(key, *name);
        }
    }
    if (!name) {
        PG_RETURN_NULL();
    }
    const std::string& out = *name;
    PG_RETURN_TEXT_P(duroxide::pg::call(
        [&out] { return cstring_to_text_with_len(out.data(), static_cast<int>(out.size())); }));
}
