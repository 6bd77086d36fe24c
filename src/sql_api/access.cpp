#include "sql_api/access.hpp"

#include "pg/guard.hpp"
#include "runtime/services/instance_isolation.hpp"

extern "C" {
#include "miscadmin.h"
}

namespace duroxide::sql_api {

Oid calling_role() {
    return GetOuterUserId();
}

bool may_access(std::optional<Oid> owner) {
    return runtime::role_may_access_instance(calling_role(), owner);
}

} // namespace duroxide::sql_api

// duroxide._may_access(owner oid) → boolean, for the client functions written in SQL.
DUROXIDE_SQL_FUNCTION(duroxide_may_access) {
    const std::optional<Oid> owner =
        PG_ARGISNULL(0) ? std::nullopt : std::optional<Oid>(PG_GETARG_OID(0));
    PG_RETURN_BOOL(duroxide::sql_api::may_access(owner));
}

// duroxide._calling_role() → regrole, for the SECURITY DEFINER functions written in SQL that
// record who called them (current_user there is their owner).
DUROXIDE_SQL_FUNCTION(duroxide_calling_role) {
    PG_RETURN_OID(duroxide::sql_api::calling_role());
}
