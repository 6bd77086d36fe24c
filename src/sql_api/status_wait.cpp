// The latch sleep behind wait_for_orchestration and wait_for_status_change (internal
// functions; the waits themselves are SQL in sql/install/50_client_api.sql).
#include "pg/guard.hpp"
#include "runtime/services/status_wait.hpp"
#include "sql_api/arguments.hpp"

#include <string>

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
}

namespace {
// The key of the instance in argument 0 (STRICT: never NULL).
uint64 key_of(FunctionCallInfo fcinfo) {
    const std::string instance = duroxide::sql_api::required_text(fcinfo, 0, "instance");
    return duroxide::runtime::status_wait_key(MyDatabaseId, instance);
}
} // namespace

// duroxide._status_change_count(instance text) → bigint: the count the waits for "instance"
// compare (it moves when a commit changes that instance, or one whose key shares its bucket).
DUROXIDE_SQL_FUNCTION(duroxide_status_change_count_for) {
    PG_RETURN_INT64(static_cast<int64>(duroxide::runtime::status_change_count(key_of(fcinfo))));
}

// duroxide._await_status_change(instance text, seen bigint, timeout_ms integer): sleeps until
// a commit changes "instance" (or the count already moved past "seen", or the timeout).
DUROXIDE_SQL_FUNCTION(duroxide_await_status_change_for) {
    const int64 seen = PG_GETARG_INT64(1);
    const int32 timeout_ms = PG_GETARG_INT32(2);
    if (timeout_ms > 0) {
        duroxide::runtime::await_status_change(key_of(fcinfo), static_cast<uint64>(seen),
                                               timeout_ms);
    }
    PG_RETURN_VOID();
}

// The 0.1.0 forms without an instance (a schema not yet updated calls them): they wait for
// any instance's change (key 0).
DUROXIDE_SQL_FUNCTION(duroxide_status_change_count) {
    PG_RETURN_INT64(static_cast<int64>(duroxide::runtime::status_change_count(0)));
}
DUROXIDE_SQL_FUNCTION(duroxide_await_status_change) {
    const int64 seen = PG_GETARG_INT64(0);
    const int32 timeout_ms = PG_GETARG_INT32(1);
    if (timeout_ms > 0) {
        duroxide::runtime::await_status_change(0, static_cast<uint64>(seen), timeout_ms);
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
