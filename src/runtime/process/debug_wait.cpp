#include "runtime/process/debug_wait.hpp"

#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"

extern "C" {
#include "utils/fmgrprotos.h"
}

#include <cstring>
#include <string>

namespace duroxide::runtime {

void debug_wait_point(const char* point) {
    if (settings.debug_wait_point == nullptr ||
        std::strcmp(settings.debug_wait_point, point) != 0) {
        return;
    }
    const std::string message = std::string("duroxide: waiting at debug point ") + point;
    // A shared lock for the transaction: no snapshot, no statement; it ends with the unit of
    // work (or at once when no session holds the lock exclusively).
    pg::call([&message] {
        ereport(LOG, (errmsg_internal("%s", message.c_str())));
        DirectFunctionCall1(pg_advisory_xact_lock_shared_int8, Int64GetDatum(kDebugWaitLockKey));
    });
}

} // namespace duroxide::runtime
