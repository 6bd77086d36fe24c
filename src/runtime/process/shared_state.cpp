#include "runtime/process/shared_state.hpp"

#include <cstring>

#include "pg/sql_error.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

namespace duroxide::runtime {

namespace {

SharedState* state = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;
constexpr const char* kTrancheName = "duroxide";

void request_shared_memory() {
    if (previous_request_hook) {
        previous_request_hook();
    }
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
    RequestNamedLWLockTranche(kTrancheName, 1);
}

void startup_shared_memory() {
    if (previous_startup_hook) {
        previous_startup_hook();
    }
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    state =
        static_cast<SharedState*>(ShmemInitStruct("duroxide runtime", sizeof(SharedState), &found));
    if (!found) {
        memset(state, 0, sizeof(SharedState));
        state->lock = &(GetNamedLWLockTranche(kTrancheName))->lock;
        for (auto& counter : state->metrics.counters) {
            pg_atomic_init_u64(&counter, 0);
        }
        for (auto& histogram : state->metrics.buckets) {
            for (auto& bucket : histogram) {
                pg_atomic_init_u64(&bucket, 0);
            }
        }
        for (auto& sum : state->metrics.sums_us) {
            pg_atomic_init_u64(&sum, 0);
        }
    }
    LWLockRelease(AddinShmemInitLock);
}

} // namespace

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

DatabaseEntry* find_database(Oid database) {
    for (auto& entry : state->databases) {
        if (entry.state != DatabaseState::Free && entry.database == database) {
            return &entry;
        }
    }
    return nullptr;
}

DatabaseEntry* find_or_add_database(Oid database) {
    if (DatabaseEntry* existing = find_database(database)) {
        return existing;
    }
    for (auto& entry : state->databases) {
        if (entry.state == DatabaseState::Free) {
            memset(&entry, 0, sizeof(entry));
            entry.database = database;
            entry.state = DatabaseState::Probing;
            return &entry;
        }
    }
    return nullptr;
}

bool lease_owner_alive(Oid database, int64 owner) {
    if (owner == 0) {
        return false;
    }
    bool alive = false;
    LWLockAcquire(state->lock, LW_SHARED);
    if (const DatabaseEntry* entry = find_database(database)) {
        for (const WorkerSlot& slot : entry->slots) {
            alive = alive || (slot.pid != 0 && slot.lease_owner == owner);
        }
    }
    for (const ProbeOwner& probe : state->probe_owners) {
        alive = alive || (probe.database == database && probe.lease_owner == owner);
    }
    LWLockRelease(state->lock);
    return alive;
}

pid_t session_owner_pid(Oid database, const char* owner) {
    pid_t pid = 0;
    LWLockAcquire(state->lock, LW_SHARED);
    if (const DatabaseEntry* entry = find_database(database)) {
        for (const WorkerSlot& slot : entry->slots) {
            if (slot.pid != 0 && slot.role == WorkerRole::Activity &&
                std::strncmp(slot.session_owner, owner, sizeof(slot.session_owner)) == 0) {
                pid = slot.pid;
            }
        }
    }
    for (const ProbeOwner& probe : state->probe_owners) {
        if (probe.database == database && probe.session_owner[0] != '\0' &&
            std::strncmp(probe.session_owner, owner, sizeof(probe.session_owner)) == 0) {
            pid = probe.pid;
        }
    }
    LWLockRelease(state->lock);
    return pid;
}

bool add_probe_owner(Oid database, int64 lease_owner, const char* session_owner) {
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    ProbeOwner* free_entry = nullptr;
    for (ProbeOwner& probe : state->probe_owners) {
        if (probe.database == database && probe.lease_owner == lease_owner) {
            free_entry = &probe; // replaced
            break;
        }
        if (probe.database == InvalidOid && free_entry == nullptr) {
            free_entry = &probe;
        }
    }
    if (free_entry != nullptr) {
        free_entry->database = database;
        free_entry->pid = MyProcPid;
        free_entry->lease_owner = lease_owner;
        strlcpy(free_entry->session_owner, session_owner, sizeof(free_entry->session_owner));
    }
    LWLockRelease(state->lock);
    return free_entry != nullptr;
}

int drop_probe_owners(int64 lease_owner) {
    int dropped = 0;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    for (ProbeOwner& probe : state->probe_owners) {
        if (probe.database != InvalidOid && probe.pid == MyProcPid &&
            (lease_owner == 0 || probe.lease_owner == lease_owner)) {
            memset(&probe, 0, sizeof(probe));
            ++dropped;
        }
    }
    LWLockRelease(state->lock);
    return dropped;
}

} // namespace duroxide::runtime
