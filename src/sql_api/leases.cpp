// SQL functions the store's lease predicates call.
#include "pg/guard.hpp"
#include "runtime/shared_state.hpp"

extern "C" {
#include "miscadmin.h"
}

// Leases of a dead worker are free at once: a fetch treats them as expired.
DUROXIDE_SQL_FUNCTION(duroxide_lock_holder_alive) {
    PG_RETURN_BOOL(duroxide::runtime::lease_owner_alive(MyDatabaseId, PG_GETARG_INT64(0)));
}
