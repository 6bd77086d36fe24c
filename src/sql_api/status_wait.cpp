// The latch sleep behind wait_for_orchestration and wait_for_status_change (internal
// functions; the waits themselves are SQL in sql/install/50_client_api.sql).
#include "pg/guard.hpp"
#include "runtime/status_wait.hpp"

// duroxide._status_change_count() → bigint
DUROXIDE_SQL_FUNCTION(duroxide_status_change_count) {
    PG_RETURN_INT64(static_cast<int64>(duroxide::runtime::status_change_count()));
}

// duroxide._await_status_change(seen bigint, timeout_ms integer)
DUROXIDE_SQL_FUNCTION(duroxide_await_status_change) {
    const int64 seen = PG_GETARG_INT64(0);
    const int32 timeout_ms = PG_GETARG_INT32(1);
    if (timeout_ms > 0) {
        duroxide::runtime::await_status_change(static_cast<uint64>(seen), timeout_ms);
    }
    PG_RETURN_VOID();
}
