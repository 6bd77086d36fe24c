// Counters that a backend adds only if its transaction commits: the completions that remote
// activity workers (duroxide-worker) record through SQL functions in their own transactions
// (src/sql_api/remote_workers.cpp). The in-server workers count after their own commit; a
// client's transaction commits after the function returned, so the count waits for it, and a
// rollback (of the transaction, or of the savepoint the function ran in) drops it.
#pragma once

#include "core/model/work_item.hpp"
#include "runtime/services/metrics.hpp"

namespace duroxide::runtime::metrics {

// The counter an activity's completion counts in: succeeded, or failed by category (poison,
// else application), as the in-server workers count their completions.
Counter activity_outcome(const core::WorkItem& completion);

// Adds `amount` to `counter` when the current transaction commits; forgets it if the current
// subtransaction or the transaction aborts.
void add_at_commit(Counter counter, uint64_t amount = 1);

} // namespace duroxide::runtime::metrics
