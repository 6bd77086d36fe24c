#include "pg/latch_wait.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/guc.h"
}

namespace duroxide::pg {

bool wait_on_latch(long timeout_ms) {
    return call([timeout_ms] {
        const int events = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                                     timeout_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        return (events & WL_LATCH_SET) != 0;
    });
}

} // namespace duroxide::pg
