// Self-test functions for the PostgreSQL/C++ boundary (schema duroxide_internal, duroxide_admin
// only), part of the test-only extension duroxide_test (test/probes), never of duroxide.so. They
// exist so that the regression suite can prove both directions of src/pg/guard.hpp on a live
// server; see test/regress/sql/boundary.sql.
#include "pg/guard.hpp"
#include "pg/spi.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::string text_arg(FunctionCallInfo fcinfo, int n) {
    char* s = duroxide::pg::call([=] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); });
    std::string value(s);
    pfree(s);
    return value;
}

Datum text_result(const std::string& s) {
    return duroxide::pg::call([&s] {
        return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
    });
}

// Holds a destructor that must run when an exception unwinds through C++ frames.
struct UnwindProbe {
    int& counter;
    ~UnwindProbe() { ++counter; }
};

int unwound_probes = 0;

} // namespace

// Throws a C++ exception of the requested kind from deep inside C++ frames.
DUROXIDE_SQL_FUNCTION(duroxide_selftest_throw) {
    const std::string kind = text_arg(fcinfo, 0);
    UnwindProbe probe{unwound_probes};
    if (kind == "runtime_error") {
        throw std::runtime_error("selftest runtime_error thrown in C++");
    }
    if (kind == "sql_error") {
        throw duroxide::pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "selftest SQL error from C++",
                                     "thrown as pg::SqlError", "this is the hint");
    }
    if (kind == "bad_alloc") {
        throw std::bad_alloc();
    }
    if (kind == "unknown") {
        throw 42;
    }
    return text_result("no exception for kind '" + kind + "'");
}

// How many UnwindProbe destructors ran: proves C++ frames were unwound, not longjmp'd over.
DUROXIDE_SQL_FUNCTION(duroxide_selftest_unwound) {
    return Int32GetDatum(unwound_probes);
}

// Runs `query` through SPI inside a subtransaction; a PostgreSQL error is caught in C++ and
// reported as a value, and the caller's transaction goes on.
DUROXIDE_SQL_FUNCTION(duroxide_selftest_catch) {
    const std::string query = text_arg(fcinfo, 0);
    std::string outcome;
    try {
        duroxide::pg::SpiConnection spi;
        auto rows = duroxide::pg::in_subtransaction([&] { return spi.execute(query); });
        outcome = "ok: " + std::to_string(rows.processed) + " row(s)";
    } catch (const duroxide::pg::SqlError& e) {
        outcome = "caught " + e.sqlstate_text() + ": " + e.what();
    }
    return text_result(outcome);
}
