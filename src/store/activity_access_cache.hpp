// The activity workers' per-process cache of the registration part of Store::activity_access:
// whether instances owned by a role may call an activity (duroxide._may_call_activity over the
// plugin or SQL activity registration), keyed by (activity name, owner role). The instance's
// owner itself is always read, never cached.
//
// Invalidation (docs/architecture.md, "The catalog generation"): the whole cache is dropped
// when the catalog generation moved (a committed change to plugins, plugin_handlers,
// sql_activities or version_policies) and when PostgreSQL invalidates a role or a role
// membership (syscache callbacks on AUTHOID and AUTHMEMROLEMEM: CREATE/DROP/ALTER ROLE, GRANT
// and REVOKE of a role, committed by any backend, delivered at this process's next transaction
// start or lock). Without a generation source (set_catalog_generation_source) nothing is
// cached.
#pragma once

#include "pg/postgres.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace duroxide::store {

// Where the catalog generation comes from (the runtime's shared memory); installed once from
// _PG_init.
using CatalogGenerationSource = uint64_t (*)();
void set_catalog_generation_source(CatalogGenerationSource source);

namespace access_cache {

// Starts a lookup: reads the generation (before any statement of the lookup, so a change that
// commits after it moves it again and empties the cache at the next lookup), and empties the
// cache when it or the roles changed since the last lookup. False: no caching in this process.
bool begin_lookup();
// The cached answer for (name, owner); owner InvalidOid: the instance records no owner.
std::optional<bool> find(const std::string& name, Oid owner);
void remember(const std::string& name, Oid owner, bool may_call);

} // namespace access_cache

} // namespace duroxide::store
