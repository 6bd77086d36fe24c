-- Provider validation suite, setup: the database duroxide_store and the pv helpers
-- (test/regress/include/store_env.sql, which every store_* suite includes), made afresh here.
SET client_min_messages = warning;
DROP DATABASE IF EXISTS duroxide_store WITH (FORCE);
RESET client_min_messages;
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT count(*) AS workers_serving_this_database FROM duroxide.runtime_status r
 WHERE r.database = current_database();

-- Probe owners: negative ids only; one backend may register several (pretend workers).
SELECT duroxide_internal.probe_attach(5);
SELECT duroxide_internal.probe_attach(-1, repeat('x', 200));
SELECT duroxide_internal.probe_attach(-1);
SELECT duroxide_internal.probe_attach(-2);
SELECT duroxide._lock_holder_alive(-1) AS alive_1, duroxide._lock_holder_alive(-2) AS alive_2,
       duroxide._lock_holder_alive(-3) AS alive_3;
SELECT duroxide_internal.probe_detach(-2) AS dropped;
SELECT duroxide._lock_holder_alive(-2) AS alive_2_after_detach;
SELECT duroxide_internal.probe_attach(-1, 'owner-a');
SELECT duroxide._session_owner_pid('owner-a') = pg_backend_pid() AS owner_a_is_this_backend,
       duroxide._session_owner_pid('owner-b') IS NULL AS owner_b_unknown;
SELECT duroxide_internal.probe_detach() AS dropped_all;
-- A new backend starts with none (they go with the backend that registered them).
SELECT duroxide_internal.probe_attach(-7);
\c duroxide_store
\set SHOW_CONTEXT never
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN NOT duroxide._lock_holder_alive(-7);
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT duroxide._lock_holder_alive(-7) AS alive_after_its_backend_exited;

-- The probes are for duroxide_admin only; PUBLIC and duroxide_user get none of them.
SELECT p.proname, has_function_privilege('duroxide_user', p.oid, 'EXECUTE') AS user_may,
       has_function_privilege('duroxide_admin', p.oid, 'EXECUTE') AS admin_may
  FROM pg_proc p WHERE p.pronamespace = 'duroxide_internal'::regnamespace
   AND (p.proname LIKE 'store\_%' OR p.proname LIKE 'probe\_%') ORDER BY 1;

-- The helpers work: an instance with one activity.
SELECT duroxide_internal.probe_attach(-1, 'owner-a');
SELECT pv.create_instance('setup-1', activities => 1);
SELECT * FROM pv.worker_queue;
SELECT pv.reset();
