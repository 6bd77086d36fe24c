#include "runtime/shared_state.hpp"

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
    LWLockRelease(state->lock);
    return pid;
}

} // namespace duroxide::runtime
