// duroxide.version(): the extension library's version.
#include "duroxide/version.hpp"
#include "pg/guard.hpp"

DUROXIDE_SQL_FUNCTION(duroxide_version) {
    return duroxide::pg::call([] { return CStringGetTextDatum(duroxide::kLibraryVersion); });
}
