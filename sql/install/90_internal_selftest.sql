-- Boundary self-tests (internal) ---------------------------------------------------------
CREATE FUNCTION duroxide_internal.selftest_throw(kind text) RETURNS text
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_selftest_throw';
COMMENT ON FUNCTION duroxide_internal.selftest_throw(text) IS
    'Internal: throws a C++ exception of the given kind to test the entry guard.';

CREATE FUNCTION duroxide_internal.selftest_unwound() RETURNS integer
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_selftest_unwound';
COMMENT ON FUNCTION duroxide_internal.selftest_unwound() IS
    'Internal: number of C++ frames unwound by selftest_throw in this backend.';

CREATE FUNCTION duroxide_internal.selftest_catch(query text) RETURNS text
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_selftest_catch';
COMMENT ON FUNCTION duroxide_internal.selftest_catch(text) IS
    'Internal: runs a query in a subtransaction and reports a PostgreSQL error caught in C++.';
