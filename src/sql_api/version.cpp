// duroxide.version(): the extension library's version.
#include "pg/guard.hpp"

namespace {
constexpr const char* kLibraryVersion = "0.1.0";
}

DUROXIDE_SQL_FUNCTION(duroxide_version) {
    return duroxide::pg::call([] { return CStringGetTextDatum(kLibraryVersion); });
}
