// What differs between the PostgreSQL majors duroxide builds against (15 to 18,
// docs/compatibility.md). Every PG_VERSION_NUM test of the code lives here, in src/pg: the rest
// of the code calls these and never asks which major it is built for.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "utils/acl.h"
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_proc.h"
#endif
}

namespace duroxide::pg::compat {

// Whether `role` has `mode` (ACL_EXECUTE) on function `function`. PostgreSQL 16 replaced the
// per-catalog pg_proc_aclcheck with object_aclcheck, which takes the catalog.
inline AclResult function_aclcheck(Oid function, Oid role, AclMode mode) {
#if PG_VERSION_NUM >= 160000
    return object_aclcheck(ProcedureRelationId, function, role, mode);
#else
    return pg_proc_aclcheck(function, role, mode);
#endif
}

} // namespace duroxide::pg::compat
