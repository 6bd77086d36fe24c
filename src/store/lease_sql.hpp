// SQL fragments and values the store's files share (store.cpp and inline_claims.cpp lock
// instances with the same idea of a free lease and the same version filter).
#pragma once

#include <string>

// A lease row is free when it expired or its owner is not a live duroxide worker.
#define LEASE_IS_FREE(table)                                                                       \
    "(" table                                                                                      \
    ".locked_until <= pg_catalog.clock_timestamp() OR NOT duroxide._lock_holder_alive(" table      \
    ".locked_by))"

// The claim a fetch records in the instance's lock row: the ids of the instance's visible
// messages (an empty array when none is left).
#define CLAIM_IDS(instance)                                                                        \
    "coalesce((SELECT pg_catalog.array_agg(q.id) FROM duroxide.orchestrator_queue q "              \
    "  WHERE q.instance_id = " instance " AND q.visible_at <= pg_catalog.clock_timestamp()), "     \
    "'{}')"

namespace duroxide::store {

// This library's version as executions record it: major * 1000000 + minor * 1000 + patch.
const std::string& library_version_num();

} // namespace duroxide::store
