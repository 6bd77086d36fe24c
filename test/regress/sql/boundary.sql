-- The PostgreSQL/C++ boundary, both directions (src/pg/guard.hpp), through the self-tests of
-- the test-only extension duroxide_test (test/probes/boundary_selftest.cpp).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide_test CASCADE;  -- each suite runs alone or in any order
RESET client_min_messages;

-- C++ -> SQL: an exception thrown deep in C++ becomes a clean SQL error ...
SELECT duroxide_internal.selftest_throw('runtime_error');
-- ... keeping SQLSTATE, detail and hint when it carries them ...
SELECT duroxide_internal.selftest_throw('sql_error');
DO $$
BEGIN
    PERFORM duroxide_internal.selftest_throw('sql_error');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'caught in PL/pgSQL with SQLSTATE %', SQLSTATE;
END
$$;
SELECT duroxide_internal.selftest_throw('bad_alloc');
SELECT duroxide_internal.selftest_throw('unknown');
-- ... the C++ frames were unwound (their destructors ran), and the session goes on.
SELECT duroxide_internal.selftest_unwound() AS destructors_run;
SELECT duroxide_internal.selftest_throw('none');

-- Inside a transaction the error aborts it like any SQL error; ROLLBACK recovers.
BEGIN;
SELECT duroxide_internal.selftest_throw('sql_error');
SELECT 1;
ROLLBACK;
SELECT 'session usable' AS status;

-- SQL -> C++: a PostgreSQL error raised inside a guarded call is caught in C++, which
-- reports it as a value; the surrounding transaction stays usable.
BEGIN;
CREATE TEMP TABLE boundary_t (id int PRIMARY KEY);
SELECT duroxide_internal.selftest_catch('SELECT 1/0');
SELECT duroxide_internal.selftest_catch('INSERT INTO boundary_t VALUES (1), (1)');
SELECT duroxide_internal.selftest_catch('SELECT * FROM no_such_table');
SELECT duroxide_internal.selftest_catch('INSERT INTO boundary_t VALUES (2)');
SELECT id FROM boundary_t;  -- the failed insert left nothing, the good one stayed
COMMIT;

-- Internal functions are not for PUBLIC or duroxide_user.
CREATE ROLE boundary_plain;
SET ROLE boundary_plain;
SELECT duroxide_internal.selftest_throw('none');
RESET ROLE;
DROP ROLE boundary_plain;
