// The runtime's shared memory: which databases run duroxide, their worker slots, and the
// latches used to wake workers at commit. Plain data only (it lives in shared memory); every
// field is read and written under SharedState::lock. That lock is never nested with another,
// so acquiring and releasing it cannot raise and needs no pg::call guard.
#pragma once

#include "pg/postgres.hpp"

#include "runtime/services/metrics.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
}

namespace duroxide::runtime {

constexpr int kMaxDatabases = 32;
constexpr int kMaxDispatchers = 16;     // bound of duroxide.orchestration_dispatchers
constexpr int kMaxActivityWorkers = 64; // bound of duroxide.activity_workers
constexpr int kMaxSlots = kMaxDispatchers + kMaxActivityWorkers;

enum class WorkerRole : uint8 { Dispatcher = 0, Activity = 1 };

struct WorkerSlot {
    pid_t pid;         // 0 while no process runs in the slot
    int64 lease_owner; // the running process's lease owner id; 0 while none
    Latch* latch;      // the worker's process latch, set to wake it
    bool idle;         // sleeping and waiting for work
    bool in_use;       // the launcher has a process (or a start request) for this slot
    WorkerRole role;
    int index; // index within its role
    uint64 items_processed;
    int sessions;           // activity sessions the process owns (as of its last look)
    char session_owner[96]; // activity workers: the stable session owner id of the slot
    TimestampTz state_since;
    char state[32];
    char current[128];
    Oid current_owner; // owner role of the instance of `current` (InvalidOid: none or unknown)
    char last_error[256];
    char tag_filter[160]; // activity workers: the tag filter of their last fetch
};

enum class DatabaseState : uint8 {
    Free = 0, // entry unused
    Probing,  // launcher started a worker to check whether the extension is installed
    Active,   // extension installed: workers wanted
    Stopping, // extension dropped: workers are told to exit
};

struct DatabaseEntry {
    Oid database;
    DatabaseState state;
    uint64 status_changes;   // bumped at each commit that changes an instance's status
    uint64 session_releases; // bumped at each commit that releases sessions from SQL
    int dispatchers;         // slot counts fixed when the entry becomes active
    int activity_workers;
    WorkerSlot slots[kMaxSlots]; // dispatchers first, then activity workers
};

struct SharedMetrics {
    pg_atomic_uint64 counters[static_cast<int>(metrics::Counter::Count_)];
    pg_atomic_uint64 buckets[static_cast<int>(metrics::Histogram::Count_)][metrics::kBuckets];
    pg_atomic_uint64 sums_us[static_cast<int>(metrics::Histogram::Count_)];
};

// A backend sleeping in wait_for_orchestration / wait_for_status_change.
struct StatusWaiter {
    Oid database; // InvalidOid when the slot is free
    Latch* latch;
};
constexpr int kMaxStatusWaiters = 128;

// A lease owner the store validation suite's probes fetch as (src/sql_api/store_probe.cpp):
// registered by a backend, alive for the store's lease checks until that backend exits or
// drops it. Probe owner ids are negative, so they never collide with a worker's.
struct ProbeOwner {
    Oid database; // InvalidOid when the entry is free
    pid_t pid;    // the backend that registered it
    int64 lease_owner;
    char session_owner[96]; // "" for none
};
constexpr int kMaxProbeOwners = 32;

struct SharedState {
    LWLock* lock;
    pid_t launcher_pid;
    Latch* launcher_latch;
    DatabaseEntry databases[kMaxDatabases];
    StatusWaiter status_waiters[kMaxStatusWaiters];
    SharedMetrics metrics; // atomics: no lock needed
    ProbeOwner probe_owners[kMaxProbeOwners];
};

// Set up in the postmaster by the shared-memory hooks installed from _PG_init.
SharedState& shared_state();
void install_shared_memory_hooks();

// Finds the entry of `database`; nullptr if none. Caller holds the lock.
DatabaseEntry* find_database(Oid database);
// Finds or allocates the entry of `database`; nullptr when all entries are taken.
DatabaseEntry* find_or_add_database(Oid database);

// Whether `owner` is the lease owner id of a live worker of `database`. Takes the lock.
bool lease_owner_alive(Oid database, int64 owner);
// The pid of the live activity worker whose session owner id is `owner`; 0 when none.
// Registered probe owners count as live owners in both (for the validation suite).
pid_t session_owner_pid(Oid database, const char* owner);

// Registers a probe owner for this backend (false when the table is full); a second call with
// the same lease owner replaces it. Takes the lock.
bool add_probe_owner(Oid database, int64 lease_owner, const char* session_owner);
// Forgets one of this backend's probe owners (all of them with 0); returns how many.
int drop_probe_owners(int64 lease_owner);

// The slot index of worker `index` of `role` in an entry.
inline int slot_of(WorkerRole role, int index) {
    return role == WorkerRole::Dispatcher ? index : kMaxDispatchers + index;
}

} // namespace duroxide::runtime
