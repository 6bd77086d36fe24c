#include "runtime/process/shared_state.hpp"

#include <algorithm>
#include <cstring>

#include "pg/sql_error.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

namespace duroxide::runtime {

// The lock, held for the scope of one operation of SharedState (and only there: no other
// file takes it, and no operation calls another while holding it, so it is never nested).
//
// How an operation can end, and who releases the lock:
//  * Normally: the destructor.
//  * By a C++ exception: the destructor, as the exception unwinds. PostgreSQL knows nothing
//    of the exception, so nothing else would release the lock.
//  * By a PostgreSQL ERROR (siglongjmp): cannot happen. Under the lock an operation copies
//    fixed-size fields, sets latches and sends signals; none of these allocates or raises.
//    Were an ERROR raised through pg::call, it would arrive as a C++ exception (above). A raw
//    longjmp would skip this destructor (which is why nothing raw may raise here: skipping a
//    C++ destructor is undefined), and PostgreSQL's abort processing (LWLockReleaseAll, in
//    AbortTransaction, AbortSubTransaction, the background worker's error exit or proc_exit)
//    would release the lock instead, exactly once, since the guard never ran.
//  * The destructor must not release a lock PostgreSQL has already released (for instance
//    by rolling back a subtransaction inside the guarded scope): LWLockRelease of a lock this
//    process does not hold raises an ERROR, and from a destructor that would longjmp over C++
//    frames. So it releases only while LWLockHeldByMe says the lock is still held.
// LWLockAcquire holds interrupts until the release, so neither a query cancel nor a SIGTERM
// is acted on while the lock is held; acquiring cannot raise (the lock is never nested, far
// below PostgreSQL's limit of locks held at once).
class SharedState::Guard {
public:
    Guard(LWLock* lock, LWLockMode mode) : lock_(lock) { LWLockAcquire(lock_, mode); }
    ~Guard() {
        if (LWLockHeldByMe(lock_)) {
            LWLockRelease(lock_);
        }
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

private:
    LWLock* lock_;
};

namespace {

SharedState* state = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;
constexpr const char* kTrancheName = "duroxide";

// Copies `from` into a fixed buffer, cut to fit, always terminated. Allocates nothing.
template <std::size_t N>
void copy_text(char (&to)[N], std::string_view from) {
    const std::size_t length = std::min(from.size(), N - 1);
    if (length > 0) {
        std::memcpy(to, from.data(), length);
    }
    to[length] = '\0';
}

template <std::size_t N>
void copy_buffer(char (&to)[N], const char (&from)[N]) {
    std::memcpy(to, from, N);
}

void request_shared_memory() {
    if (previous_request_hook) {
        previous_request_hook();
    }
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
    RequestNamedLWLockTranche(kTrancheName, 1);
}

// Runs in the postmaster (and in each backend on EXEC_BACKEND builds), before any duroxide
// process exists; AddinShmemInitLock serializes it with other libraries' hooks.
void startup_shared_memory() {
    if (previous_startup_hook) {
        previous_startup_hook();
    }
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    void* memory = ShmemInitStruct("duroxide runtime", sizeof(SharedState), &found);
    if (!found) {
        state = SharedState::initialize(memory, &(GetNamedLWLockTranche(kTrancheName))->lock);
    } else {
        state = static_cast<SharedState*>(memory);
    }
    LWLockRelease(AddinShmemInitLock);
}

} // namespace

SharedState* SharedState::initialize(void* memory, LWLock* lock) {
    std::memset(memory, 0, sizeof(SharedState));
    auto* shared = static_cast<SharedState*>(memory);
    shared->lock_ = lock;
    for (auto& counter : shared->metrics_.counters) {
        pg_atomic_init_u64(&counter, 0);
    }
    for (auto& histogram : shared->metrics_.buckets) {
        for (auto& bucket : histogram) {
            pg_atomic_init_u64(&bucket, 0);
        }
    }
    for (auto& sum : shared->metrics_.sums_us) {
        pg_atomic_init_u64(&sum, 0);
    }
    pg_atomic_init_u32(&shared->remote_attachments_, 0);
    pg_atomic_init_u64(&shared->catalog_generation_, 0);
    return shared;
}

SharedState& shared_state() {
    if (state == nullptr) {
        throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                           "duroxide shared memory is not initialized", {},
                           "duroxide must be loaded via shared_preload_libraries.");
    }
    return *state;
}

void install_shared_memory_hooks() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = request_shared_memory;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shared_memory;
}

bool SharedState::lock_held_by_me() const {
    return LWLockHeldByMe(lock_);
}

SharedState::DatabaseEntry* SharedState::find_database(Oid database) {
    for (auto& entry : databases_) {
        if (entry.state != DatabaseState::Free && entry.database == database) {
            return &entry;
        }
    }
    return nullptr;
}

const SharedState::DatabaseEntry* SharedState::find_database(Oid database) const {
    return const_cast<SharedState*>(this)->find_database(database);
}

SharedState::DatabaseEntry* SharedState::find_or_add_database(Oid database) {
    if (DatabaseEntry* existing = find_database(database)) {
        return existing;
    }
    for (auto& entry : databases_) {
        if (entry.state == DatabaseState::Free) {
            std::memset(&entry, 0, sizeof(entry));
            entry.database = database;
            entry.state = DatabaseState::Probing;
            return &entry;
        }
    }
    return nullptr;
}

// --- The launcher -------------------------------------------------------------------------

void SharedState::register_launcher(pid_t pid, Latch* latch) {
    Guard guard(lock_, LW_EXCLUSIVE);
    launcher_pid_ = pid;
    launcher_latch_ = latch;
}

bool SharedState::stop_previous_workers() {
    bool any = false;
    Guard guard(lock_, LW_EXCLUSIVE);
    for (auto& entry : databases_) {
        for (auto& slot : entry.slots) {
            if (slot.pid != 0) {
                any = true;
                kill(slot.pid, SIGTERM);
            }
            slot.in_use = false;
        }
        if (entry.state != DatabaseState::Free) {
            entry.state = DatabaseState::Probing;
        }
    }
    return any;
}

void SharedState::add_databases(std::span<const Oid> databases) {
    Guard guard(lock_, LW_EXCLUSIVE);
    for (Oid database : databases) {
        if (find_or_add_database(database) == nullptr) {
            break; // all entries taken; later databases wait for a free one
        }
    }
}

DatabasePlan SharedState::plan_database(int database_index, int dispatchers, int activity_workers) {
    Guard guard(lock_, LW_EXCLUSIVE);
    DatabaseEntry& entry = databases_[database_index];
    if (entry.state == DatabaseState::Active && entry.dispatchers == 0 &&
        entry.activity_workers == 0) {
        entry.dispatchers = dispatchers;
        entry.activity_workers = activity_workers;
    }
    return {.state = entry.state,
            .database = entry.database,
            .dispatchers = entry.dispatchers,
            .activity_workers = entry.activity_workers};
}

void SharedState::mark_slot_starting(SlotId slot, WorkerRole role, int index) {
    Guard guard(lock_, LW_EXCLUSIVE);
    WorkerSlot& s = slot_at(slot);
    s.in_use = true;
    s.role = role;
    s.index = index;
}

void SharedState::forget_probe(int database_index) {
    Guard guard(lock_, LW_EXCLUSIVE);
    DatabaseEntry& entry = databases_[database_index];
    if (entry.state == DatabaseState::Probing) {
        entry.state = DatabaseState::Free;
    }
}

void SharedState::free_stopped_database(int database_index) {
    Guard guard(lock_, LW_EXCLUSIVE);
    DatabaseEntry& entry = databases_[database_index];
    if (entry.state == DatabaseState::Stopping) {
        std::memset(&entry, 0, sizeof(entry)); // Free
    }
}

// --- A worker process ---------------------------------------------------------------------

SharedState::Assignment SharedState::assignment(int database_index) const {
    Guard guard(lock_, LW_SHARED);
    const DatabaseEntry& entry = databases_[database_index];
    return {.database = entry.database, .probing = entry.state == DatabaseState::Probing};
}

void SharedState::claim_slot(SlotId slot, pid_t pid, int64 lease_owner, Latch* latch,
                             WorkerRole role, int index) {
    Guard guard(lock_, LW_EXCLUSIVE);
    WorkerSlot& s = slot_at(slot);
    s.pid = pid;
    s.lease_owner = lease_owner;
    s.latch = latch;
    s.role = role;
    s.index = index;
}

void SharedState::release_slot(SlotId slot, pid_t pid) {
    Guard guard(lock_, LW_EXCLUSIVE);
    WorkerSlot& s = slot_at(slot);
    if (s.pid == pid) {
        s.pid = 0;
        s.lease_owner = 0;
        s.latch = nullptr;
        s.idle = false;
        s.sessions = 0;
        s.current[0] = '\0';
        s.current_owner = InvalidOid;
        s.tag_filter[0] = '\0';
    }
}

void SharedState::report_state(SlotId slot, std::string_view state, TimestampTz now) {
    Guard guard(lock_, LW_EXCLUSIVE);
    WorkerSlot& s = slot_at(slot);
    copy_text(s.state, state);
    s.state_since = now;
    s.idle = state == "idle";
    if (s.idle) {
        // A worker waiting for work works on nothing, whatever a unit of work that ended by
        // an exception (lease lost, rolled back) left in `current` (runtime_status).
        s.current[0] = '\0';
    }
}

void SharedState::count_items(SlotId slot, uint64 count) {
    Guard guard(lock_, LW_EXCLUSIVE);
    slot_at(slot).items_processed += count;
}

void SharedState::record_error(SlotId slot, std::string_view message) {
    Guard guard(lock_, LW_EXCLUSIVE);
    copy_text(slot_at(slot).last_error, message);
}

void SharedState::report_current_work(SlotId slot, std::string_view work, Oid owner) {
    Guard guard(lock_, LW_EXCLUSIVE);
    WorkerSlot& s = slot_at(slot);
    copy_text(s.current, work);
    s.current_owner = owner;
}

void SharedState::report_sessions(SlotId slot, int sessions) {
    Guard guard(lock_, LW_EXCLUSIVE);
    slot_at(slot).sessions = sessions;
}

void SharedState::report_session_owner(SlotId slot, std::string_view owner) {
    Guard guard(lock_, LW_EXCLUSIVE);
    copy_text(slot_at(slot).session_owner, owner);
}

void SharedState::report_tag_filter(SlotId slot, std::string_view filter) {
    Guard guard(lock_, LW_EXCLUSIVE);
    copy_text(slot_at(slot).tag_filter, filter);
}

bool SharedState::database_stopping(int database_index) const {
    Guard guard(lock_, LW_SHARED);
    return databases_[database_index].state == DatabaseState::Stopping;
}

bool SharedState::dispatcher_busy(int database_index) const {
    Guard guard(lock_, LW_SHARED);
    for (const auto& slot : databases_[database_index].slots) {
        if (slot.in_use && slot.role == WorkerRole::Dispatcher && slot.pid != 0 && !slot.idle) {
            return true;
        }
    }
    return false;
}

uint64 SharedState::session_releases(int database_index) const {
    Guard guard(lock_, LW_SHARED);
    return databases_[database_index].session_releases;
}

void SharedState::mark_database_found(int database_index) {
    Latch* launcher = nullptr;
    {
        Guard guard(lock_, LW_EXCLUSIVE);
        DatabaseEntry& entry = databases_[database_index];
        if (entry.state == DatabaseState::Probing) {
            entry.state = DatabaseState::Active; // found by the startup probe
        }
        launcher = launcher_latch_;
    }
    if (launcher != nullptr) {
        SetLatch(launcher);
    }
}

void SharedState::mark_database_left(int database_index, Oid database, bool was_probe) {
    Latch* launcher = nullptr;
    {
        Guard guard(lock_, LW_EXCLUSIVE);
        DatabaseEntry& entry = databases_[database_index];
        if (entry.database == database) {
            entry.state = was_probe && entry.state == DatabaseState::Probing
                              ? DatabaseState::Free
                              : DatabaseState::Stopping;
        }
        launcher = launcher_latch_;
    }
    if (launcher != nullptr) {
        SetLatch(launcher);
    }
}

// --- Commit-time signals ------------------------------------------------------------------

// Wakes up to `idle_wanted` idle workers of `role` and every worker of it that is not idle: a
// worker that is about to sleep after finding nothing must look again, and a busy one only
// looks once more. Waking more idle workers than there are new items would only make them
// fetch nothing.
void SharedState::wake_role(DatabaseEntry& entry, WorkerRole role, std::size_t idle_wanted) {
    for (auto& slot : entry.slots) {
        if (!slot.in_use || slot.role != role || slot.latch == nullptr || slot.pid == 0) {
            continue;
        }
        if (!slot.idle) {
            SetLatch(slot.latch);
        } else if (idle_wanted > 0) {
            --idle_wanted;
            SetLatch(slot.latch);
        }
    }
}

void SharedState::apply_commit(Oid database, const CommitSignals& signals) {
    Latch* launcher = nullptr;
    if (signals.catalog_changed || signals.activate || signals.deactivate) {
        pg_atomic_fetch_add_u64(&catalog_generation_, 1); // a full barrier: after the commit
    }
    {
        Guard guard(lock_, LW_EXCLUSIVE);
        DatabaseEntry* entry = find_database(database);
        if (signals.activate) {
            entry = find_or_add_database(database);
            if (entry != nullptr && entry->state != DatabaseState::Active) {
                entry->state = DatabaseState::Active;
            }
            launcher = launcher_latch_;
        }
        if (signals.deactivate && entry != nullptr) {
            entry->state = DatabaseState::Stopping;
            launcher = launcher_latch_;
        }
        if (entry != nullptr && entry->state == DatabaseState::Active) {
            if (signals.wake_dispatchers) {
                wake_role(*entry, WorkerRole::Dispatcher, kMaxSlots);
            }
            if (signals.wake_activity_workers) {
                wake_role(*entry, WorkerRole::Activity, signals.idle_activity_workers);
            }
        }
        if (entry != nullptr && signals.sessions_released) {
            ++entry->session_releases;
            wake_role(*entry, WorkerRole::Activity, kMaxSlots);
        }
        if (entry != nullptr && (signals.status_all || !signals.status_keys.empty())) {
            ++entry->status_changes;
            if (signals.status_all) {
                ++entry->status_broadcasts;
            }
            for (const uint64 key : signals.status_keys) {
                ++status_key_changes_[key % kStatusKeyBuckets];
            }
            uint64 woken = 0;
            for (const StatusWaiter& waiter : status_waiters_) {
                if (waiter.database != database || waiter.latch == nullptr) {
                    continue;
                }
                const bool wanted =
                    signals.status_all || waiter.key == 0 ||
                    std::find(signals.status_keys.begin(), signals.status_keys.end(), waiter.key) !=
                        signals.status_keys.end();
                if (wanted) {
                    SetLatch(waiter.latch);
                    ++woken;
                }
            }
            if (woken > 0) {
                metrics::add(metrics::Counter::StatusWaiterWakeUps, woken);
            }
        }
    }
    if (launcher != nullptr) {
        SetLatch(launcher);
    }
}

// --- Status waiters -----------------------------------------------------------------------

// A waiter for one instance (key != 0) sees a change when its key's bucket moves or every
// waiter was woken; a waiter for any instance (key 0) at every status change.
uint64 SharedState::status_count_locked(Oid database, uint64 key) const {
    const DatabaseEntry* entry = find_database(database);
    if (entry == nullptr) {
        return 0;
    }
    return key == 0 ? entry->status_changes
                    : entry->status_broadcasts + status_key_changes_[key % kStatusKeyBuckets];
}

uint64 SharedState::status_change_count(Oid database, uint64 key) const {
    Guard guard(lock_, LW_SHARED);
    return status_count_locked(database, key);
}

StatusWaiterTicket SharedState::add_status_waiter(Oid database, uint64 key, uint64 seen,
                                                  Latch* latch) {
    Guard guard(lock_, LW_EXCLUSIVE);
    const uint64 count = status_count_locked(database, key);
    StatusWaiterTicket ticket{.changed = count != seen};
    if (ticket.changed) {
        return ticket;
    }
    for (int i = 0; i < kMaxStatusWaiters; ++i) {
        StatusWaiter& waiter = status_waiters_[i];
        if (waiter.database == InvalidOid) {
            waiter.database = database;
            waiter.latch = latch;
            waiter.key = key;
            ticket.slot = i;
            break;
        }
    }
    return ticket;
}

void SharedState::remove_status_waiter(int slot) {
    Guard guard(lock_, LW_EXCLUSIVE);
    status_waiters_[slot].database = InvalidOid;
    status_waiters_[slot].latch = nullptr;
    status_waiters_[slot].key = 0;
}

// --- duroxide.runtime_status --------------------------------------------------------------

std::size_t SharedState::snapshot(std::span<ProcessStatus> out) const {
    std::size_t written = 0;
    Guard guard(lock_, LW_SHARED);
    if (launcher_pid_ != 0 && written < out.size()) {
        ProcessStatus& row = out[written++];
        row = ProcessStatus{};
        row.launcher = true;
        row.pid = launcher_pid_;
    }
    for (const auto& entry : databases_) {
        if (entry.state == DatabaseState::Free) {
            continue;
        }
        for (const auto& slot : entry.slots) {
            if (!slot.in_use || written == out.size()) {
                continue;
            }
            ProcessStatus& row = out[written++];
            row.launcher = false;
            row.role = slot.role;
            row.index = slot.index;
            row.pid = slot.pid;
            row.database = entry.database;
            copy_buffer(row.state, slot.state);
            row.state_since = slot.state_since;
            copy_buffer(row.current, slot.current);
            row.current_owner = slot.current_owner;
            row.items_processed = slot.items_processed;
            copy_buffer(row.last_error, slot.last_error);
            row.sessions = slot.sessions;
            copy_buffer(row.tag_filter, slot.tag_filter);
        }
    }
    return written;
}

// --- Lease owners and probe owners --------------------------------------------------------

bool SharedState::lease_owner_alive(Oid database, int64 owner) const {
    if (owner == 0) {
        return false;
    }
    bool alive = false;
    Guard guard(lock_, LW_SHARED);
    if (const DatabaseEntry* entry = find_database(database)) {
        for (const WorkerSlot& slot : entry->slots) {
            alive = alive || (slot.pid != 0 && slot.lease_owner == owner);
        }
    }
    for (const ProbeOwner& probe : probe_owners_) {
        alive = alive || (probe.database == database && probe.lease_owner == owner);
    }
    return alive;
}

pid_t SharedState::session_owner_pid(Oid database, std::string_view owner) const {
    pid_t pid = 0;
    Guard guard(lock_, LW_SHARED);
    if (const DatabaseEntry* entry = find_database(database)) {
        for (const WorkerSlot& slot : entry->slots) {
            if (slot.pid != 0 && slot.role == WorkerRole::Activity &&
                std::string_view(slot.session_owner) == owner) {
                pid = slot.pid;
            }
        }
    }
    for (const ProbeOwner& probe : probe_owners_) {
        if (probe.database == database && probe.session_owner[0] != '\0' &&
            std::string_view(probe.session_owner) == owner) {
            pid = probe.pid;
        }
    }
    return pid;
}

bool SharedState::add_probe_owner(Oid database, pid_t pid, int64 lease_owner,
                                  std::string_view session_owner) {
    Guard guard(lock_, LW_EXCLUSIVE);
    ProbeOwner* free_entry = nullptr;
    for (ProbeOwner& probe : probe_owners_) {
        if (probe.database == database && probe.lease_owner == lease_owner) {
            free_entry = &probe; // replaced
            break;
        }
        if (probe.database == InvalidOid && free_entry == nullptr) {
            free_entry = &probe;
        }
    }
    if (free_entry != nullptr) {
        if (lease_owner > 0 && free_entry->database == InvalidOid) {
            pg_atomic_fetch_add_u32(&remote_attachments_, 1);
        }
        free_entry->database = database;
        free_entry->pid = pid;
        free_entry->lease_owner = lease_owner;
        copy_text(free_entry->session_owner, session_owner);
    }
    return free_entry != nullptr;
}

int SharedState::drop_probe_owners(pid_t pid, int64 lease_owner) {
    int dropped = 0;
    Guard guard(lock_, LW_EXCLUSIVE);
    for (ProbeOwner& probe : probe_owners_) {
        if (probe.database != InvalidOid && probe.pid == pid &&
            (lease_owner == 0 || probe.lease_owner == lease_owner)) {
            if (probe.lease_owner > 0) {
                pg_atomic_fetch_sub_u32(&remote_attachments_, 1);
            }
            std::memset(&probe, 0, sizeof(probe));
            ++dropped;
        }
    }
    return dropped;
}

// --- For the SQL API ----------------------------------------------------------------------

bool lease_owner_alive(Oid database, int64 owner) {
    return shared_state().lease_owner_alive(database, owner);
}

pid_t session_owner_pid(Oid database, const char* owner) {
    return shared_state().session_owner_pid(database, owner);
}

bool add_probe_owner(Oid database, int64 lease_owner, const char* session_owner) {
    return shared_state().add_probe_owner(database, MyProcPid, lease_owner, session_owner);
}

int drop_probe_owners(int64 lease_owner) {
    return shared_state().drop_probe_owners(MyProcPid, lease_owner);
}

} // namespace duroxide::runtime
