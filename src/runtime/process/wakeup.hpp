// Wake-ups at commit. A transaction that enqueues work records which workers of its database
// should look for it; when (and only if) it commits, their latches are set, so a worker reacts
// to new work within microseconds instead of a polling interval, and never to work that was
// rolled back. The same mechanism tells the launcher that this database installed or dropped
// the extension.
#pragma once

#include <cstddef>
#include <string_view>

namespace duroxide::runtime {

enum WakeTarget : unsigned {
    kWakeDispatchers = 1u << 0,
    kWakeActivityWorkers = 1u << 1,
    kWakeStatusWaiters = 1u << 2, // statuses changed, instances unknown: wake every waiter
    kSessionsReleased = 1u << 3,  // sessions released from SQL: owners drop their state
    // A catalog the workers cache changed (plugins, version policies, handler registrations,
    // SQL activities): bumps the catalog generation (SharedState::catalog_generation).
    kCatalogChanged = 1u << 4,
};

// Wakes the given workers of the current database when the current transaction commits.
void wake_at_commit(unsigned targets);
// The client waits for `instance` (status, custom status, key-value) when the current
// transaction commits: wakes only the waits for that instance (up to kMaxStatusKeysPerCommit
// instances per transaction, then every wait), not every wait of the database.
void wake_status_waiters_at_commit(std::string_view instance);
// Wakes as many idle activity workers as `activities` new activities need, at commit.
void wake_activity_workers_at_commit(std::size_t activities);
// One of the activities this transaction enqueued is left to the current activity worker, which
// fetches again right after its commit: one idle worker fewer is woken for them.
void keep_activity_for_this_worker_at_commit();
// NOTIFY duroxide_activities in the current transaction (delivered at commit) when a remote
// activity worker (duroxide-worker) is attached: its LISTEN ends its idle wait. Both wake-ups
// above that name the activity workers call it.
void notify_remote_workers();

// The current transaction installed (activate) or dropped (deactivate) the extension in this
// database; the launcher starts or stops its workers after commit.
void activate_database_at_commit();
void deactivate_database_at_commit();

// Every worker transaction holds this advisory lock (per database) in shared mode from its
// first statement; DROP EXTENSION duroxide takes it exclusively before dropping anything. So
// the drop waits for in-flight units of work instead of deadlocking with them, and workers
// that start after it find the extension gone.
inline constexpr long long kExtensionGateLockKey = 0x6475726f78696465LL; // "duroxide"

// Installs the transaction callback and the utility hook; called once from _PG_init.
void install_wakeup_hooks();

} // namespace duroxide::runtime
