// The runtime's shared memory: which databases run duroxide, their worker slots, the latches
// used to wake workers at commit, the backends waiting for a status change, the store
// validation suite's probe owners and the metrics.
//
// SharedState lives in shared memory and keeps its data private: every process reaches it
// through the named operations below, each of which takes the one LWLock with a scoped guard
// (shared_state.cpp) for exactly the fields it reads or writes. Under the lock an operation
// only copies fixed-size fields (text is truncated into fixed buffers), sets latches or sends
// a signal: it allocates nothing and calls nothing that can raise, so it can neither fail nor
// be interrupted half-way; formatting (std::string, palloc, Datums) happens outside, on copies.
// The metrics are atomics and need no lock. No other file takes the lock (`make` runs
// check-shared-lock).
#pragma once

#include "pg/postgres.hpp"

#include "runtime/services/metrics.hpp"

#include <cstddef>
#include <span>
#include <string_view>

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
constexpr int kMaxStatusWaiters = 128;
// Change counters of the status waits, one per bucket of instance keys (status_wait_key):
// a waiter compares its bucket's count, so changes of other instances rarely make it look
// again, and a commit wakes only the waiters of the instances it changed.
constexpr int kStatusKeyBuckets = 1024;
// Instances whose waiters one commit wakes by key; a commit that changes more wakes them all.
constexpr std::size_t kMaxStatusKeysPerCommit = 64;
// Probe owners of the validation suite and the connections of remote activity workers
// (sql_api/remote_workers.cpp), which register the same way.
constexpr int kMaxProbeOwners = 96;
// Rows of duroxide.runtime_status at most: the launcher and every slot of every entry.
constexpr int kMaxProcesses = 1 + kMaxDatabases * kMaxSlots;

enum class WorkerRole : uint8 { Dispatcher = 0, Activity = 1 };

enum class DatabaseState : uint8 {
    Free = 0, // entry unused
    Probing,  // launcher started a worker to check whether the extension is installed
    Active,   // extension installed: workers wanted
    Stopping, // extension dropped: workers are told to exit
};

// The slot index of worker `index` of `role` in an entry: dispatchers first, then activity
// workers.
inline int slot_of(WorkerRole role, int index) {
    return role == WorkerRole::Dispatcher ? index : kMaxDispatchers + index;
}

// A worker's place in shared memory: its database entry and its slot in that entry.
struct SlotId {
    int database_index = -1;
    int slot_index = -1;
};

struct SharedMetrics {
    pg_atomic_uint64 counters[static_cast<int>(metrics::Counter::Count_)];
    pg_atomic_uint64 buckets[static_cast<int>(metrics::Histogram::Count_)][metrics::kBuckets];
    pg_atomic_uint64 sums_us[static_cast<int>(metrics::Histogram::Count_)];
};

// The sizes of the text a worker publishes (longer text is cut to fit).
constexpr std::size_t kStateBytes = 32;
constexpr std::size_t kCurrentWorkBytes = 128;
constexpr std::size_t kLastErrorBytes = 256;
constexpr std::size_t kTagFilterBytes = 160;
constexpr std::size_t kSessionOwnerBytes = 96;

// One duroxide process as duroxide.runtime_status shows it, copied out of shared memory. No
// member initializers: a buffer of kMaxProcesses of them is allocated without being touched,
// and snapshot() writes every field of the rows it returns.
struct ProcessStatus {
    bool launcher; // the launcher; otherwise a worker slot in use
    WorkerRole role;
    int index;               // index within its role
    pid_t pid;               // 0: the launcher asked for the process, which has not started yet
    Oid database;            // InvalidOid for the launcher
    char state[kStateBytes]; // as the process last reported it
    TimestampTz state_since;
    char current[kCurrentWorkBytes];
    Oid current_owner; // owner role of the instance of `current`
    uint64 items_processed;
    char last_error[kLastErrorBytes];
    int sessions;
    char tag_filter[kTagFilterBytes];
};

// What an entry asks of the launcher: its state and, once active, how many processes of each
// role it runs.
struct DatabasePlan {
    DatabaseState state = DatabaseState::Free;
    Oid database = InvalidOid;
    int dispatchers = 0;
    int activity_workers = 0;
};

// What a committed transaction tells its database's processes (runtime/process/wakeup).
struct CommitSignals {
    bool activate = false;   // the extension was created: the entry becomes Active
    bool deactivate = false; // the extension was dropped: the entry becomes Stopping
    bool wake_dispatchers = false;
    bool wake_activity_workers = false;
    std::size_t idle_activity_workers = 0; // idle activity workers to wake at most
    bool sessions_released = false;        // bump the session release count, wake the workers
    // Status waits: `status_all` wakes every waiter of the database (a change whose instances
    // are not known, or too many of them); `status_keys` (status_wait_key) wakes the waiters
    // of those instances only, and those that wait for any instance (key 0).
    bool status_all = false;
    std::span<const uint64> status_keys;
    bool catalog_changed = false; // bump the catalog generation (every database)
};

// A lease owner the store validation suite's probes fetch as (test/probes/store_probe.cpp):
// registered by a backend, alive for the store's lease checks until that backend exits or
// drops it. Probe owner ids are negative, so they never collide with a worker's. The entries
// live inside SharedState (add_probe_owner / drop_probe_owners); the type is public for the
// size of its fields.
struct ProbeOwner {
    Oid database; // InvalidOid when the entry is free
    pid_t pid;    // the backend that registered it
    int64 lease_owner;
    char session_owner[kSessionOwnerBytes]; // "" for none
};

// A registration for wait_for_status_change: `changed` when the count had already moved (no
// slot was taken); `slot` is -1 when none was free (the waiter polls).
struct StatusWaiterTicket {
    bool changed = false;
    int slot = -1;
};

class SharedState {
public:
    // Only ever placed in shared memory, by the startup hook (initialize); never copied.
    SharedState(const SharedState&) = delete;
    SharedState& operator=(const SharedState&) = delete;

    // Zeroes `memory` (sizeof(SharedState) bytes) into a fresh state guarded by `lock`.
    static SharedState* initialize(void* memory, LWLock* lock);

    // --- The launcher ---------------------------------------------------------------------
    // Publishes the launcher's pid (runtime_status) and latch (wakes it at commit).
    void register_launcher(pid_t pid, Latch* latch);
    // A new launcher's first step: sends SIGTERM to every process a previous launcher left in
    // a slot, forgets every slot's start request and sends every entry back to Probing.
    // Returns whether any process was still alive.
    bool stop_previous_workers();
    // Adds a Probing entry for each database without one, in order, until the entries run out.
    void add_databases(std::span<const Oid> databases);
    // The plan of entry `database_index`; an Active entry without counts gets the given ones
    // (the settings of the launcher) for good.
    DatabasePlan plan_database(int database_index, int dispatchers, int activity_workers);
    // The launcher asked the postmaster for a process in `slot`.
    void mark_slot_starting(SlotId slot, WorkerRole role, int index);
    // The probe of an entry could not start: the entry is forgotten if it is still Probing.
    void forget_probe(int database_index);
    // A Stopping entry whose processes are all gone becomes Free.
    void free_stopped_database(int database_index);

    // --- A worker process -----------------------------------------------------------------
    struct Assignment {
        Oid database = InvalidOid;
        bool probing = false; // started as the launcher's probe
    };
    Assignment assignment(int database_index) const;
    // The process takes its slot: pid, lease owner id and latch published.
    void claim_slot(SlotId slot, pid_t pid, int64 lease_owner, Latch* latch, WorkerRole role,
                    int index);
    // Clears the slot's process fields if `pid` still holds it (its exit callback).
    void release_slot(SlotId slot, pid_t pid);
    // The process state runtime_status shows, since `now`; "idle" also marks it as waiting for
    // work (wake-ups prefer idle workers) and clears its current work.
    void report_state(SlotId slot, std::string_view state, TimestampTz now);
    void count_items(SlotId slot, uint64 count);
    void record_error(SlotId slot, std::string_view message);
    void report_current_work(SlotId slot, std::string_view work, Oid owner);
    void report_sessions(SlotId slot, int sessions);
    void report_session_owner(SlotId slot, std::string_view owner);
    void report_tag_filter(SlotId slot, std::string_view filter);
    // Whether DROP EXTENSION committed in the entry's database.
    bool database_stopping(int database_index) const;
    // Whether a dispatcher of the entry is running (not sleeping in its wait for work).
    bool dispatcher_busy(int database_index) const;
    // The count of SQL session releases committed in the entry's database.
    uint64 session_releases(int database_index) const;
    // The worker found the extension at start-up: a Probing entry becomes Active. Wakes the
    // launcher.
    void mark_database_found(int database_index);
    // The extension is gone from `database`: its entry is freed (the probe found nothing) or
    // told to stop. Wakes the launcher.
    void mark_database_left(int database_index, Oid database, bool was_probe);

    // --- Commit-time signals --------------------------------------------------------------
    void apply_commit(Oid database, const CommitSignals& signals);

    // --- Status waiters (runtime/services/status_wait) ------------------------------------
    // The count a waiter for `key` compares (key 0: any instance of the database).
    uint64 status_change_count(Oid database, uint64 key) const;
    StatusWaiterTicket add_status_waiter(Oid database, uint64 key, uint64 seen, Latch* latch);
    void remove_status_waiter(int slot);

    // --- duroxide.runtime_status ----------------------------------------------------------
    // Copies the launcher (if running) and every slot in use into `out`, in one consistent
    // view; returns how many were written (at most out.size()).
    std::size_t snapshot(std::span<ProcessStatus> out) const;

    // --- Lease owners and the validation suite's probe owners -----------------------------
    bool lease_owner_alive(Oid database, int64 owner) const;
    pid_t session_owner_pid(Oid database, std::string_view owner) const;
    bool add_probe_owner(Oid database, pid_t pid, int64 lease_owner,
                         std::string_view session_owner);
    int drop_probe_owners(pid_t pid, int64 lease_owner);
    // Whether any remote worker connection is attached (a lock-free read: the queue paths
    // notify remote workers only then).
    bool remote_workers_attached() { return pg_atomic_read_u32(&remote_attachments_) > 0; }
    // The catalog generation: bumped (apply_commit) after the commit of every transaction
    // that changed what a worker caches from the catalogs (plugins, version policies, handler
    // registrations, SQL activities; the extension created, updated or dropped), in any
    // database. A worker that reads it before its catalog statements and finds it unchanged
    // since its last read needs none of them. Never reset while the server runs (a crash
    // restart zeroes it and restarts the workers too).
    uint64 catalog_generation() {
        pg_memory_barrier(); // not older than anything this process saw committed before
        return pg_atomic_read_u64(&catalog_generation_);
    }

    // --- Without the lock -----------------------------------------------------------------
    SharedMetrics& metrics() { return metrics_; }
    // Whether this process holds the lock (a log hook must not take it again).
    bool lock_held_by_me() const;

private:
    SharedState() = default; // trivial: the memory is zeroed by initialize
    class Guard;

    struct WorkerSlot {
        pid_t pid;         // 0 while no process runs in the slot
        int64 lease_owner; // the running process's lease owner id; 0 while none
        Latch* latch;      // the worker's process latch, set to wake it
        bool idle;         // sleeping and waiting for work
        bool in_use;       // the launcher has a process (or a start request) for this slot
        WorkerRole role;
        int index; // index within its role
        uint64 items_processed;
        int sessions; // activity sessions the process owns (as of its last look)
        char session_owner[kSessionOwnerBytes]; // activity workers: stable session owner id
        TimestampTz state_since;
        char state[kStateBytes];
        char current[kCurrentWorkBytes];
        Oid current_owner; // owner role of the instance of `current` (InvalidOid: none/unknown)
        char last_error[kLastErrorBytes];
        char tag_filter[kTagFilterBytes]; // activity workers: the tag filter of their last fetch
    };

    struct DatabaseEntry {
        Oid database;
        DatabaseState state;
        uint64 status_changes;    // bumped at each commit that changes an instance's status
        uint64 status_broadcasts; // bumped at each commit that wakes every waiter (status_all)
        uint64 session_releases;  // bumped at each commit that releases sessions from SQL
        int dispatchers;          // slot counts fixed when the entry becomes active
        int activity_workers;
        WorkerSlot slots[kMaxSlots]; // dispatchers first, then activity workers
    };

    // A backend sleeping in wait_for_orchestration / wait_for_status_change.
    struct StatusWaiter {
        Oid database; // InvalidOid when the slot is free
        Latch* latch;
        uint64 key; // status_wait_key of the awaited instance; 0: woken by any change
    };

    // Callers hold the lock.
    DatabaseEntry* find_database(Oid database);
    const DatabaseEntry* find_database(Oid database) const;
    DatabaseEntry* find_or_add_database(Oid database);
    WorkerSlot& slot_at(SlotId slot) {
        return databases_[slot.database_index].slots[slot.slot_index];
    }
    static void wake_role(DatabaseEntry& entry, WorkerRole role, std::size_t idle_wanted);
    uint64 status_count_locked(Oid database, uint64 key) const;

    LWLock* lock_;
    pid_t launcher_pid_;
    Latch* launcher_latch_;
    DatabaseEntry databases_[kMaxDatabases];
    StatusWaiter status_waiters_[kMaxStatusWaiters];
    uint64 status_key_changes_[kStatusKeyBuckets]; // by key % kStatusKeyBuckets, all databases
    SharedMetrics metrics_;                        // atomics: no lock needed
    ProbeOwner probe_owners_[kMaxProbeOwners];
    // Probe owners with a positive lease owner id: remote worker connections (any database).
    pg_atomic_uint32 remote_attachments_;
    pg_atomic_uint64 catalog_generation_;
};

// Set up in the postmaster by the shared-memory hooks installed from _PG_init; throws when
// the library was not preloaded.
SharedState& shared_state();
void install_shared_memory_hooks();

// For the SQL API (sql_api/leases.cpp, test/probes/store_probe.cpp): the current backend's view.
// Whether `owner` is the lease owner id of a live worker of `database`.
bool lease_owner_alive(Oid database, int64 owner);
// The pid of the live activity worker whose session owner id is `owner`; 0 when none.
// Registered probe owners count as live owners in both (for the validation suite).
pid_t session_owner_pid(Oid database, const char* owner);
// Registers a probe owner for this backend (false when the table is full); a second call with
// the same lease owner replaces it.
bool add_probe_owner(Oid database, int64 lease_owner, const char* session_owner);
// Forgets one of this backend's probe owners (all of them with 0); returns how many.
int drop_probe_owners(int64 lease_owner);

} // namespace duroxide::runtime
