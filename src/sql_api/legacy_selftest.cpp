// The C symbols of 0.1.0's boundary self-tests (duroxide_internal.selftest_*). The released
// 0.1.0 install script still creates those functions, and PostgreSQL looks each symbol up when
// it creates a C function, so the library keeps the names; the self-tests themselves are test
// code and live in test/probes (duroxide_test.so). ALTER EXTENSION duroxide UPDATE drops the
// functions; until then calling one only raises.
#include "pg/guard.hpp"

namespace {

[[noreturn]] void moved() {
    throw duroxide::pg::SqlError(
        ERRCODE_FEATURE_NOT_SUPPORTED,
        "the boundary self-tests are not part of the duroxide library",
        "They are test code, built as duroxide_test.so (test/probes).",
        "Run ALTER EXTENSION duroxide UPDATE, which drops these functions.");
}

} // namespace

DUROXIDE_SQL_FUNCTION(duroxide_selftest_throw) {
    moved();
}

DUROXIDE_SQL_FUNCTION(duroxide_selftest_unwound) {
    moved();
}

DUROXIDE_SQL_FUNCTION(duroxide_selftest_catch) {
    moved();
}
