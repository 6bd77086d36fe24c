// duroxide._function_fingerprint(fn regprocedure) → text: the digest of a function's definition
// that register_sql_activity records and the worker re-checks before each run.
#include "pg/guard.hpp"
#include "runtime/activity/sql_activity_registration.hpp"

#include <string>

DUROXIDE_SQL_FUNCTION(duroxide_function_fingerprint) {
    const std::string fingerprint = duroxide::runtime::function_fingerprint(PG_GETARG_OID(0));
    return duroxide::pg::call([&fingerprint] { return CStringGetTextDatum(fingerprint.c_str()); });
}
