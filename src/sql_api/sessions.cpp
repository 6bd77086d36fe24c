// duroxide._sessions_released(): the release functions' signal to the session owners.
#include "pg/guard.hpp"
#include "runtime/process/wakeup.hpp"

DUROXIDE_SQL_FUNCTION(duroxide_sessions_released) {
    const int64 released = PG_GETARG_INT64(0);
    if (released > 0) {
        duroxide::runtime::wake_at_commit(duroxide::runtime::kSessionsReleased);
    }
    PG_RETURN_INT64(released);
}
