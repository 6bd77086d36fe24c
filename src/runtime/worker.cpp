#include "runtime/worker.hpp"

#include "pg/guard.hpp"
#include "pg/latch_wait.hpp"
#include "pg/transaction.hpp"
#include "runtime/gucs.hpp"
#include "runtime/metrics.hpp"

#include <cstdio>
#include <cstring>

extern "C" {
#include "commands/extension.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void duroxide_worker_main(Datum main_arg);
}

namespace duroxide::runtime {

std::string slot_owner_id(Oid database, WorkerRole role, int index) {
    return std::to_string(database) + (role == WorkerRole::Dispatcher ? ":d" : ":a") +
           std::to_string(index);
}

namespace {

struct Identity {
    int database_index = -1;
    int slot_index = -1;
    Oid database = InvalidOid;
    WorkerRole role = WorkerRole::Dispatcher;
    int index = 0;
};

Identity me;

WorkerSlot& my_slot() {
    return shared_state().databases[me.database_index].slots[me.slot_index];
}

void set_state(const char* state) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    WorkerSlot& slot = my_slot();
    std::snprintf(slot.state, sizeof(slot.state), "%s", state);
    slot.state_since = GetCurrentTimestamp();
    slot.idle = std::strcmp(state, "idle") == 0;
    LWLockRelease(shared.lock);
}

// Clears the slot's process fields when the process exits, however it exits.
void forget_process(int, Datum) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    WorkerSlot& slot = my_slot();
    if (slot.pid == MyProcPid) {
        slot.pid = 0;
        slot.latch = nullptr;
        slot.idle = false;
    }
    LWLockRelease(shared.lock);
}

bool extension_installed() {
    pg::WorkerTransaction transaction("duroxide: checking the extension");
    const bool installed = pg::call([] { return OidIsValid(get_extension_oid("duroxide", true)); });
    transaction.commit();
    return installed;
}

// The extension is gone from this database: tell the launcher and exit for good.
[[noreturn]] void leave_database(bool was_probe) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    DatabaseEntry& entry = shared.databases[me.database_index];
    if (entry.database == me.database) {
        entry.state = was_probe && entry.state == DatabaseState::Probing ? DatabaseState::Free
                                                                         : DatabaseState::Stopping;
    }
    Latch* launcher = shared.launcher_latch;
    LWLockRelease(shared.lock);
    if (launcher != nullptr) {
        SetLatch(launcher);
    }
    pg::call([] { proc_exit(0); });
    pg_unreachable();
}

void wait_for_work() {
    set_state("idle");
    const bool woken = pg::wait_on_latch(settings.poll_interval_ms);
    metrics::add(woken ? metrics::Counter::WakeUps : metrics::Counter::SafetyNetPolls);
    set_state("running");
}

void run_worker(Datum argument) {
    const int packed = DatumGetInt32(argument);
    me.database_index = packed / 1024;
    me.slot_index = packed % 1024;
    me.role = me.slot_index < kMaxDispatchers ? WorkerRole::Dispatcher : WorkerRole::Activity;
    me.index = me.role == WorkerRole::Dispatcher ? me.slot_index : me.slot_index - kMaxDispatchers;

    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_SHARED);
    me.database = shared.databases[me.database_index].database;
    const bool probing = shared.databases[me.database_index].state == DatabaseState::Probing;
    LWLockRelease(shared.lock);

    pg::call([] {
        pqsignal(SIGHUP, SignalHandlerForConfigReload);
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
        BackgroundWorkerInitializeConnectionByOid(me.database, InvalidOid, 0);
        before_shmem_exit(forget_process, 0);
    });
    char name[64];
    std::snprintf(name, sizeof(name), "duroxide %s %d",
                  me.role == WorkerRole::Dispatcher ? "dispatcher" : "activity worker", me.index);
    pg::call([&name] { pgstat_report_appname(name); });

    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    WorkerSlot& slot = my_slot();
    slot.pid = MyProcPid;
    slot.latch = MyLatch;
    slot.role = me.role;
    slot.index = me.index;
    LWLockRelease(shared.lock);
    set_state("starting");

    if (!extension_installed()) {
        leave_database(probing);
    }
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    DatabaseEntry& entry = shared.databases[me.database_index];
    if (entry.state == DatabaseState::Probing) {
        entry.state = DatabaseState::Active; // found by the startup probe
    }
    Latch* launcher = shared.launcher_latch;
    LWLockRelease(shared.lock);
    if (launcher != nullptr) {
        SetLatch(launcher);
    }

    for (;;) {
        wait_for_work();
        if (!extension_installed()) {
            leave_database(false);
        }
        // Fetching and running orchestration turns / activities is the runtime's next step.
    }
}

} // namespace
} // namespace duroxide::runtime

void duroxide_worker_main(Datum main_arg) {
    duroxide::pg::entry("duroxide_worker_main",
                        [main_arg] { duroxide::runtime::run_worker(main_arg); });
}
