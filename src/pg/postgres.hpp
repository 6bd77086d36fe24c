// The one way C++ code in src/pg, src/store, src/runtime and src/sql_api includes PostgreSQL.
// PostgreSQL's headers are C; wrapping them here keeps linkage and include order in one place
// (postgres.h must always come first).
#pragma once

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

// The majors duroxide is built and tested against (docs/compatibility.md); src/pg/compat.hpp
// holds what differs between them.
#if PG_VERSION_NUM < 150000
#error "duroxide needs PostgreSQL 15 or later (pg_config names an older server)"
#endif

// PostgreSQL defines these as macros; they collide with the C++ standard library.
#ifdef Max
#undef Max
#endif
#ifdef Min
#undef Min
#endif
