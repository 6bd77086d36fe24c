#include "runtime/launcher.hpp"

#include "pg/guard.hpp"
#include "runtime/gucs.hpp"

#include <cstdio>

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"

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

void run_launcher() {
    pg::call([] {
        pqsignal(SIGHUP, SignalHandlerForConfigReload);
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
        BackgroundWorkerInitializeConnection(settings.database, nullptr, 0);
        pgstat_report_appname("duroxide launcher");
    });
    for (;;) {
        // The per-database workers are started here by the runtime (docs/architecture.md).
        pg::call([] {
            int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10000L,
                               PG_WAIT_EXTENSION);
            (void)rc;
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
            if (ConfigReloadPending) {
                ConfigReloadPending = false;
                ProcessConfigFile(PGC_SIGHUP);
            }
        });
    }
}

} // namespace
} // namespace duroxide::runtime

void duroxide_launcher_main(Datum) {
    duroxide::pg::entry("duroxide_launcher_main", duroxide::runtime::run_launcher);
}
