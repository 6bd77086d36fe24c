// Library entry: module magic and _PG_init. duroxide runs background workers and needs shared
// memory, so it must be loaded by the postmaster through shared_preload_libraries.
#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/launcher.hpp"
#include "runtime/process/shared_state.hpp"
#include "runtime/process/standby_guard.hpp"
#include "runtime/process/wakeup.hpp"
#include "store/activity_access_cache.hpp"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

void _PG_init(void) {
    if (!process_shared_preload_libraries_in_progress) {
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("duroxide must be loaded via shared_preload_libraries"),
                 errhint("Add duroxide to shared_preload_libraries in postgresql.conf and restart "
                         "the server.")));
    }
    duroxide::pg::entry("_PG_init", [] {
        duroxide::runtime::define_gucs();
        duroxide::runtime::install_shared_memory_hooks();
        duroxide::runtime::install_wakeup_hooks();
        // The activity access cache (store/activity_access_cache.hpp) follows the catalogs.
        duroxide::store::set_catalog_generation_source(
            [] { return duroxide::runtime::shared_state().catalog_generation(); });
        duroxide::runtime::install_standby_guard();
        duroxide::runtime::register_launcher();
    });
}
