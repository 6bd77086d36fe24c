// SQL functions that steer the runtime's processes.
#include "pg/guard.hpp"
#include "runtime/process/wakeup.hpp"

// Called by the install script: when CREATE EXTENSION commits, the launcher starts this
// database's dispatchers and activity workers (no server restart needed).
DUROXIDE_SQL_FUNCTION(duroxide_activate_database) {
    duroxide::runtime::activate_database_at_commit();
    PG_RETURN_VOID();
}
