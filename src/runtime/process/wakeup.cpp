#include "runtime/process/wakeup.hpp"

#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/shared_state.hpp"

#include "runtime/services/status_wait.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>

extern "C" {
#include "commands/async.h"
#include "miscadmin.h"
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
    std::size_t kept = 0;       // of them, left to the current worker (no idle one woken)
    bool activate = false;
    bool deactivate = false;
    bool notified = false; // remote workers notified (LISTEN duroxide_activities)
    // Status waits to wake: by instance key, or all of them (kWakeStatusWaiters, overflow).
    std::array<uint64, kMaxStatusKeysPerCommit> status_keys{};
    std::size_t status_key_count = 0;
} pending;

ProcessUtility_hook_type previous_utility_hook = nullptr;

// Sets the latches the committed transaction asked for (shared memory does the waking, under
// its lock), then the launcher's if the database was activated or deactivated.
void apply_at_commit() {
    shared_state().apply_commit(
        MyDatabaseId,
        {.activate = pending.activate,
         .deactivate = pending.deactivate,
         .wake_dispatchers = (pending.wake & kWakeDispatchers) != 0,
         .wake_activity_workers = (pending.wake & kWakeActivityWorkers) != 0,
         // As many idle workers as new activities; every one when their number is unknown.
         .idle_activity_workers =
             pending.activities > 0
                 ? pending.activities - std::min(pending.kept, pending.activities)
                 : static_cast<std::size_t>(kMaxSlots),
         .sessions_released = (pending.wake & kSessionsReleased) != 0,
         .status_all = (pending.wake & kWakeStatusWaiters) != 0,
         .status_keys =
             std::span<const uint64>(pending.status_keys.data(), pending.status_key_count),
         .catalog_changed = (pending.wake & kCatalogChanged) != 0});
}

void on_transaction_event(XactEvent event, void*) {
    switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
        if (pending.wake != 0 || pending.status_key_count > 0 || pending.activate ||
            pending.deactivate) {
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
        pending.wake |= kWakeDispatchers | kWakeActivityWorkers | kCatalogChanged;
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

void notify_remote_workers() {
    // Only while a remote worker is attached: otherwise the queue paths pay one atomic read.
    if (!pending.notified && shared_state().remote_workers_attached()) {
        pg::call([] { Async_Notify("duroxide_activities", nullptr); });
        pending.notified = true;
    }
}

void wake_at_commit(unsigned targets) {
    pending.wake |= targets;
    if ((targets & kWakeActivityWorkers) != 0) {
        notify_remote_workers();
    }
}
void wake_status_waiters_at_commit(std::string_view instance) {
    const uint64 key = status_wait_key(MyDatabaseId, instance);
    const auto known =
        std::span<const uint64>(pending.status_keys.data(), pending.status_key_count);
    if (std::find(known.begin(), known.end(), key) != known.end()) {
        return;
    }
    if (pending.status_key_count < pending.status_keys.size()) {
        pending.status_keys[pending.status_key_count++] = key;
    } else {
        pending.wake |= kWakeStatusWaiters; // too many instances: wake every waiter
    }
}
void wake_activity_workers_at_commit(std::size_t activities) {
    pending.wake |= kWakeActivityWorkers;
    pending.activities += activities;
    notify_remote_workers();
}
void keep_activity_for_this_worker_at_commit() {
    ++pending.kept;
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
