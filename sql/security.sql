-- Roles and per-role isolation of instances (duroxide.isolate_instances, on by default).
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
CREATE ROLE sec_alice LOGIN;
CREATE ROLE sec_bob LOGIN;
CREATE ROLE sec_carol LOGIN;
CREATE ROLE sec_nobody LOGIN;
GRANT duroxide_user TO sec_alice, sec_bob, sec_carol;
GRANT sec_alice TO sec_carol;          -- carol acts with alice's privileges

-- Without a duroxide role nothing is reachable.
SET ROLE sec_nobody;
SELECT duroxide.start_orchestration('sec-none', 'HelloWorld', 'x');
SELECT * FROM duroxide.get_orchestration_status('sec-none');
RESET ROLE;

-- Alice starts an instance (and a parent whose child inherits her ownership).
SET ROLE sec_alice;
SELECT duroxide.start_orchestration('sec-alice', 'WaitForGo', '');
SELECT duroxide.start_orchestration('sec-alice-parent', 'ParentOfWaiter', '');
RESET ROLE;
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN (SELECT count(*) FROM duroxide.instances
                    WHERE instance_id IN ('sec-alice', 'sec-alice-parent', 'sec-alice-parent::sub::2')) = 3;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT instance_id, owner_role::regrole FROM duroxide.instances
 WHERE instance_id LIKE 'sec-alice%' ORDER BY instance_id;

-- Bob cannot see, read, wait on, signal or cancel them; they read as NotFound.
SET ROLE sec_bob;
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
SELECT count(*) FROM duroxide.read_history('sec-alice');
SELECT status FROM duroxide.wait_for_orchestration('sec-alice', '50 ms');
SELECT duroxide.raise_event('sec-alice', 'Go', 'from bob');
SELECT duroxide.enqueue_event('sec-alice', 'q', 'from bob');
SELECT duroxide.cancel_instance('sec-alice', 'bob says stop');
SELECT duroxide.cancel_instance('sec-alice-parent::sub::2', 'bob says stop');
-- Starting an instance with her id is a no-op, as any duplicate start.
SELECT duroxide.start_orchestration('sec-alice', 'HelloWorld', 'bob');
-- Bob may not touch the store or register code.
SELECT count(*) FROM duroxide.instances;
SELECT duroxide.register_plugin('duroxide_sample');
SELECT duroxide.register_sql_activity('Evil', 'pg_catalog.lower(text)');
RESET ROLE;

-- Alice, and carol (a member of alice), reach them.
SET ROLE sec_carol;
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
SELECT count(*) > 0 AS has_history FROM duroxide.read_history('sec-alice');
SELECT duroxide.raise_event('sec-alice', 'Go', 'from carol');
SELECT status, output FROM duroxide.wait_for_orchestration('sec-alice', '30 s');
RESET ROLE;
SET ROLE sec_alice;
SELECT status FROM duroxide.get_orchestration_status('sec-alice-parent::sub::2');
SELECT duroxide.cancel_instance('sec-alice-parent', 'alice is done');
SELECT status FROM duroxide.wait_for_orchestration('sec-alice-parent', '30 s');
RESET ROLE;

-- Administrators reach everything; with isolation off, so does everybody.
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
SET duroxide.isolate_instances = off;
SET ROLE sec_bob;
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
RESET ROLE;
RESET duroxide.isolate_instances;
-- Only a superuser may turn isolation off.
SET ROLE sec_bob;
SET duroxide.isolate_instances = off;
RESET ROLE;

SELECT duroxide.unregister_plugin('duroxide_sample');
DROP ROLE sec_alice, sec_bob, sec_carol, sec_nobody;
