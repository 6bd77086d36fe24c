-- duroxide 0.1.0: install script. Objects live in schema duroxide (created by CREATE EXTENSION
-- from the control file); internal helpers live in duroxide_internal. PUBLIC gets nothing.
\echo Use "CREATE EXTENSION duroxide" to load this file. \quit

-- Roles are cluster-wide and may already exist from another database's install.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_admin') THEN
        CREATE ROLE duroxide_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_user') THEN
        CREATE ROLE duroxide_user NOLOGIN;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA duroxide FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide TO duroxide_admin, duroxide_user;

CREATE SCHEMA duroxide_internal;
REVOKE ALL ON SCHEMA duroxide_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide_internal TO duroxide_admin;
COMMENT ON SCHEMA duroxide_internal IS
    'duroxide internals (self-tests, store operations for the validation suite); not a stable API';

-- Version --------------------------------------------------------------------------------
CREATE FUNCTION duroxide.version() RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'duroxide_version';
COMMENT ON FUNCTION duroxide.version() IS 'Version of the loaded duroxide library.';
REVOKE ALL ON FUNCTION duroxide.version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.version() TO duroxide_admin, duroxide_user;

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

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA duroxide_internal FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA duroxide_internal TO duroxide_admin;
