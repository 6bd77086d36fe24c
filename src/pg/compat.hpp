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
#include "storage/proc.h"
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

// This backend's local transaction id (changes with every transaction, read or write).
// PostgreSQL 17 moved it from PGPROC.lxid into PGPROC.vxid.
inline LocalTransactionId local_transaction_id() {
#if PG_VERSION_NUM >= 170000
    return MyProc->vxid.lxid;
#else
    return MyProc->lxid;
#endif
}

} // namespace duroxide::pg::compat
