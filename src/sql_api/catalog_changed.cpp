// duroxide._catalog_changed(): the statement trigger of the catalogs the workers cache
// (plugins, plugin_handlers, sql_activities, version_policies). It bumps the catalog generation
// after the transaction commits (runtime/process/wakeup), so the workers re-read the catalogs
// at their next fetch instead of before every one (runtime/plugins/handlers.cpp).
#include "pg/guard.hpp"
#include "runtime/process/wakeup.hpp"

extern "C" {
#include "commands/trigger.h"
}

DUROXIDE_SQL_FUNCTION(duroxide_catalog_changed) {
    if (!CALLED_AS_TRIGGER(fcinfo)) {
        throw duroxide::pg::SqlError(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                                     "duroxide._catalog_changed() is a trigger function", {},
                                     "It runs as a statement trigger of the catalog tables.");
    }
    duroxide::runtime::wake_at_commit(duroxide::runtime::kCatalogChanged);
    return PointerGetDatum(nullptr);
}
