#include "runtime/process/launcher.hpp"

#include "pg/guard.hpp"
#include "pg/latch_wait.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/shared_state.hpp"
#include "runtime/process/worker.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <vector>

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"

PGDLLEXPORT void duroxide_launcher_main(Datum main_arg);
}

namespace duroxide::runtime {

void register_launcher() {
    BackgroundWorker worker{};
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 5;
    std::snprintf(worker.bgw_library_name, BGW_MAXLEN, "duroxide");
    std::snprintf(worker.bgw_function_name, BGW_MAXLEN, "duroxide_launcher_main");
    std::snprintf(worker.bgw_name, BGW_MAXLEN, "duroxide launcher");
    std::snprintf(worker.bgw_type, BGW_MAXLEN, "duroxide launcher");
    RegisterBackgroundWorker(&worker);
}

namespace {

// Handles of the workers this launcher started, per (database entry, slot). Process-local:
// only the launcher that registered a worker can ask the postmaster about it.
std::array<std::array<BackgroundWorkerHandle*, kMaxSlots>, kMaxDatabases> handles{};

bool worker_running(BackgroundWorkerHandle* handle) {
    pid_t pid;
    return pg::call([&pid, handle] { return GetBackgroundWorkerPid(handle, &pid); }) !=
           BGWH_STOPPED;
}

void start_worker(int database_index, int slot_index, WorkerRole role, int index, Oid database) {
    BackgroundWorker worker{};
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART; // the launcher restarts it, releasing its leases
    worker.bgw_notify_pid = MyProcPid;
    worker.bgw_main_arg = worker_argument(database_index, slot_index);
    const char* kind = role == WorkerRole::Dispatcher ? "dispatcher" : "activity worker";
    std::snprintf(worker.bgw_library_name, BGW_MAXLEN, "duroxide");
    std::snprintf(worker.bgw_function_name, BGW_MAXLEN, "duroxide_worker_main");
    std::snprintf(worker.bgw_name, BGW_MAXLEN, "duroxide %s %d (database %u)", kind, index,
                  database);
    std::snprintf(worker.bgw_type, BGW_MAXLEN, "duroxide %s", kind);
    BackgroundWorkerHandle* handle = nullptr;
    const bool registered =
        pg::call([&worker, &handle] { return RegisterDynamicBackgroundWorker(&worker, &handle); });
    if (!registered) {
        // No free background-worker slot: try again on the next pass.
        pg::call([database] {
            ereport(WARNING,
                    (errmsg("duroxide: could not start a worker for database %u", database),
                     errhint("Raise max_worker_processes (each database with duroxide needs "
                             "its dispatchers plus duroxide.activity_workers).")));
        });
        return;
    }
    handles[database_index][slot_index] = handle;
}

void stop_worker(int database_index, int slot_index) {
    BackgroundWorkerHandle*& handle = handles[database_index][slot_index];
    if (handle != nullptr) {
        pg::call([handle] { TerminateBackgroundWorker(handle); });
        if (!worker_running(handle)) {
            pfree(handle);
            handle = nullptr;
        }
    }
}

// Whether the entry's plan wants a process in slot `s`.
bool slot_wanted(const DatabasePlan& plan, int s) {
    const bool is_dispatcher = s < kMaxDispatchers;
    const int index = is_dispatcher ? s : s - kMaxDispatchers;
    return (plan.state == DatabaseState::Active &&
            index < (is_dispatcher ? plan.dispatchers : plan.activity_workers)) ||
           (plan.state == DatabaseState::Probing && s == 0);
}

// Whether some slot the plan wants has no running process (never started, or died).
bool process_missing(int database_index, const DatabasePlan& plan) {
    for (int s = 0; s < kMaxSlots; ++s) {
        BackgroundWorkerHandle* handle = handles[database_index][s];
        if (slot_wanted(plan, s) && (handle == nullptr || !worker_running(handle))) {
            return true;
        }
    }
    return false;
}

// Whether `database` is still in the catalog. DROP DATABASE ... WITH (FORCE) terminates the
// workers of the database without DROP EXTENSION: their entry stays Active, and every worker
// started again for it exits at once (FATAL: the database does not exist).
bool database_exists(Oid database) {
    bool exists = false;
    pg::WorkerTransaction transaction("duroxide launcher: checking a database");
    {
        pg::SpiConnection spi;
        const std::string oid = std::to_string(database);
        exists = !spi.execute("SELECT 1 FROM pg_catalog.pg_database WHERE oid = " + oid, {}, true)
                      .rows.empty();
    }
    transaction.commit();
    return exists;
}

// Brings the processes of every database entry in line with its state.
void reconcile() {
    SharedState& shared = shared_state();
    for (int d = 0; d < kMaxDatabases; ++d) {
        DatabasePlan plan =
            shared.plan_database(d, settings.orchestration_dispatchers, settings.activity_workers);
        // Before (re)starting a process of an active entry, make sure its database is still
        // there; a dropped database's entry stops like one whose extension was dropped, and is
        // freed (slots and all) once its processes are gone.
        if (plan.state == DatabaseState::Active && process_missing(d, plan) &&
            !database_exists(plan.database)) {
            shared.mark_database_left(d, plan.database, false);
            plan = shared.plan_database(d, settings.orchestration_dispatchers,
                                        settings.activity_workers);
        }
        for (int s = 0; s < kMaxSlots; ++s) {
            const bool is_dispatcher = s < kMaxDispatchers;
            const int index = is_dispatcher ? s : s - kMaxDispatchers;
            const bool wanted = slot_wanted(plan, s);
            BackgroundWorkerHandle*& handle = handles[d][s];
            if (!wanted) {
                if (handle != nullptr) {
                    stop_worker(d, s);
                }
                continue;
            }
            if (handle != nullptr && worker_running(handle)) {
                continue;
            }
            if (handle != nullptr) {
                // The slot's process is gone while still wanted: it died. Its replacement takes
                // the same owner id and releases whatever leases the dead one held at start-up.
                pfree(handle);
                handle = nullptr;
                if (plan.state == DatabaseState::Probing) {
                    // The probe could not even connect (database dropped?): forget it.
                    shared.forget_probe(d);
                    break;
                }
            }
            const WorkerRole role = is_dispatcher ? WorkerRole::Dispatcher : WorkerRole::Activity;
            shared.mark_slot_starting({.database_index = d, .slot_index = s}, role, index);
            start_worker(d, s, role, index, plan.database);
        }

        if (plan.state == DatabaseState::Stopping) {
            bool any_running = false;
            for (auto* handle : handles[d]) {
                any_running = any_running || handle != nullptr;
            }
            if (!any_running) {
                shared.free_stopped_database(d);
            }
        }
    }
}

// At start-up the launcher does not know which databases have the extension: it starts one
// probe worker per connectable database, which exits at once where the extension is absent.
void probe_databases() {
    std::vector<Oid> databases;
    {
        pg::WorkerTransaction transaction("duroxide launcher: listing databases");
        {
            pg::SpiConnection spi;
            auto rows = spi.execute("SELECT oid FROM pg_catalog.pg_database "
                                    "WHERE datallowconn AND NOT datistemplate ORDER BY oid",
                                    {}, true);
            for (const auto& row : rows.rows) {
                databases.push_back(static_cast<Oid>(std::stoul(*row[0])));
            }
        }
        transaction.commit();
    }
    shared_state().add_databases(databases);
}

// Workers started by a previous launcher process outlive it, but this launcher has no handles
// for them: stop them and start afresh, so that each slot has exactly one process.
void stop_orphaned_workers() {
    for (int waited_ms = 0; waited_ms < 10000; waited_ms += 50) {
        if (!shared_state().stop_previous_workers()) {
            return;
        }
        pg::wait_on_latch(50);
    }
}

void run_launcher() {
    pg::call([] {
        pqsignal(SIGHUP, SignalHandlerForConfigReload);
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
        BackgroundWorkerInitializeConnection(settings.database, nullptr, 0);
        pgstat_report_appname("duroxide launcher");
    });
    shared_state().register_launcher(MyProcPid, MyLatch);
    stop_orphaned_workers();
    probe_databases();
    for (;;) {
        reconcile();
        pg::wait_on_latch(1000);
    }
}

} // namespace
} // namespace duroxide::runtime

void duroxide_launcher_main(Datum) {
    duroxide::pg::entry("duroxide_launcher_main", duroxide::runtime::run_launcher);
}
