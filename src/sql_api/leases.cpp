// SQL functions the store's lease predicates (and the sessions view) call.
#include "pg/guard.hpp"
#include "runtime/process/shared_state.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
}

// Leases of a dead worker are free at once: a fetch treats them as expired.
DUROXIDE_SQL_FUNCTION(duroxide_lock_holder_alive) {
    PG_RETURN_BOOL(duroxide::runtime::lease_owner_alive(MyDatabaseId, PG_GETARG_INT64(0)));
}

// The live worker owning a session (by its stable owner id): sessions of a dead owner are
// claimable at once, those of a restarted one are its again.
DUROXIDE_SQL_FUNCTION(duroxide_session_owner_pid) {
    const char* owner =
        duroxide::pg::call([fcinfo] { return text_to_cstring(PG_GETARG_TEXT_PP(0)); });
    const pid_t pid = duroxide::runtime::session_owner_pid(MyDatabaseId, owner);
    if (pid == 0) {
        PG_RETURN_NULL();
    }
    PG_RETURN_INT32(pid);
}
