#include "runtime/process/wakeup.hpp"

#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/shared_state.hpp"

#include <cstring>

extern "C" {
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/fmgrprotos.h"
}

namespace duroxide::runtime {

namespace {

// What the current top-level transaction asked for; cleared at its end.
struct PendingAtCommit {
    unsigned wake = 0;
    std::size_t activities = 0; // activities enqueued (0: unknown, wake every worker)
    bool activate = false;
    bool deactivate = false;
} pending;

ProcessUtility_hook_type previous_utility_hook = nullptr;

// Wakes up to `idle_wanted` idle workers of `role` and every worker of it that is not idle: a
// worker that is about to sleep after finding nothing must look again, and a busy one only
// looks once more. Waking more idle workers than there are new items would only make them
// fetch nothing.
void set_latch_of_role(DatabaseEntry& entry, WorkerRole role, std::size_t idle_wanted) {
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

void apply_at_commit() {
    SharedState& shared = shared_state();
    Latch* launcher_latch = nullptr;
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    DatabaseEntry* entry = find_database(MyDatabaseId);
    if (pending.activate) {
        entry = find_or_add_database(MyDatabaseId);
        if (entry != nullptr && entry->state != DatabaseState::Active) {
            entry->state = DatabaseState::Active;
        }
        launcher_latch = shared.launcher_latch;
    }
    if (pending.deactivate && entry != nullptr) {
        entry->state = DatabaseState::Stopping;
        launcher_latch = shared.launcher_latch;
    }
    if (entry != nullptr && entry->state == DatabaseState::Active) {
        if (pending.wake & kWakeDispatchers) {
            set_latch_of_role(*entry, WorkerRole::Dispatcher, kMaxSlots);
        }
        if (pending.wake & kWakeActivityWorkers) {
            set_latch_of_role(*entry, WorkerRole::Activity,
                              pending.activities > 0 ? pending.activities : kMaxSlots);
        }
    }
    if (entry != nullptr && (pending.wake & kSessionsReleased)) {
        ++entry->session_releases;
        set_latch_of_role(*entry, WorkerRole::Activity, kMaxSlots);
    }
    if (entry != nullptr && (pending.wake & kWakeStatusWaiters)) {
        ++entry->status_changes;
        for (const StatusWaiter& waiter : shared.status_waiters) {
            if (waiter.database == MyDatabaseId && waiter.latch != nullptr) {
                SetLatch(waiter.latch);
            }
        }
    }
    LWLockRelease(shared.lock);
    if (launcher_latch != nullptr) {
        SetLatch(launcher_latch);
    }
}

void on_transaction_event(XactEvent event, void*) {
    switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
        if (pending.wake != 0 || pending.activate || pending.deactivate) {
            // Runs after the commit record is durable; an error here must not become ERROR.
            pg::entry("duroxide wake-up at commit", apply_at_commit, WARNING);
        }
        pending = {};
        break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
        pending = {};
        break;
    default:
        break;
    }
}

bool drops_this_extension(const Node* statement) {
    if (statement == nullptr || !IsA(statement, DropStmt)) {
        return false;
    }
    const auto* drop = reinterpret_cast<const DropStmt*>(statement);
    if (drop->removeType != OBJECT_EXTENSION) {
        return false;
    }
    ListCell* cell;
    foreach (cell, drop->objects) {
        const Node* name = static_cast<const Node*>(lfirst(cell));
        if (IsA(name, String) && std::strcmp(strVal(name), "duroxide") == 0) {
            return true;
        }
    }
    return false;
}

bool updates_this_extension(const Node* statement) {
    return statement != nullptr && IsA(statement, AlterExtensionStmt) &&
           std::strcmp(reinterpret_cast<const AlterExtensionStmt*>(statement)->extname,
                       "duroxide") == 0;
}

void utility_hook(PlannedStmt* statement, const char* query, bool read_only_tree,
                  ProcessUtilityContext context, ParamListInfo params, QueryEnvironment* env,
                  DestReceiver* dest, QueryCompletion* completion) {
    // Plain C code between PostgreSQL frames: nothing here can throw, and no C++ object with
    // a destructor is alive if the lock wait below raises.
    if (drops_this_extension(statement->utilityStmt)) {
        DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(kExtensionGateLockKey));
        pending.deactivate = true;
    }
    if (updates_this_extension(statement->utilityStmt)) {
        // Workers waiting for the schema of their library's version look again at commit.
        pending.wake |= kWakeDispatchers | kWakeActivityWorkers;
    }
    if (previous_utility_hook) {
        previous_utility_hook(statement, query, read_only_tree, context, params, env, dest,
                              completion);
    } else {
        standard_ProcessUtility(statement, query, read_only_tree, context, params, env, dest,
                                completion);
    }
}

} // namespace

void wake_at_commit(unsigned targets) {
    pending.wake |= targets;
}
void wake_activity_workers_at_commit(std::size_t activities) {
    pending.wake |= kWakeActivityWorkers;
    pending.activities += activities;
}
void activate_database_at_commit() {
    pending.activate = true;
}
void deactivate_database_at_commit() {
    pending.deactivate = true;
}

void install_wakeup_hooks() {
    RegisterXactCallback(on_transaction_event, nullptr);
    previous_utility_hook = ProcessUtility_hook;
    ProcessUtility_hook = utility_hook;
}

} // namespace duroxide::runtime
