// The latch sleep behind wait_for_orchestration and wait_for_status_change (internal
// functions; the waits themselves are SQL in sql/install/50_client_api.sql).
#include "pg/guard.hpp"
#include "runtime/services/status_wait.hpp"

extern "C" {
#include "access/xact.h"
}

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

// duroxide._written_by_this_transaction(row_xmin xid) → boolean: whether a row version was
// written by this transaction or one of its subtransactions (a savepoint, a PL/pgSQL
// EXCEPTION block, psql's ON_ERROR_ROLLBACK), i.e. is not committed yet.
DUROXIDE_SQL_FUNCTION(duroxide_written_by_this_transaction) {
    const TransactionId xmin = DatumGetTransactionId(PG_GETARG_DATUM(0));
    PG_RETURN_BOOL(
        duroxide::pg::call([xmin] { return TransactionIdIsCurrentTransactionId(xmin); }));
}
