-- The client API says what happened (issues 17, 18, 14): unregistered orchestrations, id
-- conflicts, reserved child ids, boolean results, Pending, waits after a start in a
-- subtransaction, read-function conventions, quoted and truncated values, SQL activity errors,
-- and a sweep of bad input over every function a duroxide_user may call that checks the
-- SQLSTATE and that nothing was written.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
CREATE SCHEMA cl;
GRANT USAGE ON SCHEMA cl TO PUBLIC;
-- SQLSTATE, message and hint of a statement, or 'ok' (and the first column's value).
CREATE FUNCTION cl.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text; result text;
BEGIN
    EXECUTE statement INTO result;
    RETURN 'ok ' || coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ' ' || message || CASE WHEN hint <> '' THEN ' HINT: ' || hint ELSE '' END;
END
$$;
GRANT EXECUTE ON FUNCTION cl.try(text) TO PUBLIC;
CREATE FUNCTION cl.detail(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN detail;
END
$$;
-- Everything the client functions could write, as one value.
-- Each "nothing written" check below takes it before and after the calls in ONE repeatable-read
-- transaction: the snapshot hides what the workers commit meanwhile (instances of this or other
-- suites still finishing), while every write of the calls themselves, made in this
-- transaction, is seen. So the comparison is disturbed by no other work and fails exactly when
-- a call wrote something.
CREATE FUNCTION cl.store_state() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(instance_id || orchestration_name, ',' ORDER BY instance_id) FROM duroxide.instances),
        (SELECT string_agg(id::text || work_item, ',' ORDER BY id) FROM duroxide.orchestrator_queue),
        (SELECT count(*) FROM duroxide.worker_queue), (SELECT count(*) FROM duroxide.history),
        (SELECT count(*) FROM duroxide.executions), (SELECT count(*) FROM duroxide.kv_store),
        (SELECT count(*) FROM duroxide.kv_delta)))
$$;
GRANT EXECUTE ON FUNCTION cl.store_state() TO PUBLIC;
-- Instances other suites left behind (a race's losing activity may still finish later) would
-- change the store during the checks below: this suite starts from an empty store.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT instance_id FROM duroxide.instances WHERE parent_instance_id IS NULL LOOP
        PERFORM duroxide.delete_instance(r.instance_id, force => true);
    END LOOP;
END
$$;
CREATE ROLE cl_alice LOGIN;
CREATE ROLE cl_bob LOGIN;
GRANT duroxide_user TO cl_alice, cl_bob;

-- 1. Starting what nothing registered provides is an error naming it, with what is
-- registered and how to opt in; nothing is queued.
BEGIN ISOLATION LEVEL REPEATABLE READ;
CREATE TEMP TABLE before AS SELECT cl.store_state() AS state;
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-unknown', 'NoSuchOrchestration', 'x')$$)
    ~ '^42704 orchestration "NoSuchOrchestration" is not registered HINT: .*allow_unregistered' AS refused;
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-unknown', 'HelloWorld', 'x', '9.9.9')$$);
SELECT cl.detail($$SELECT duroxide.start_orchestration('cl-unknown', 'NoSuchOrchestration', 'x')$$)
    ~ '^Registered orchestrations: "Branch" \(1\.0\.0\), "CallActivity" \(1\.0\.0\), .* and [0-9]+ more\.$'
    AS lists_registered;
SELECT (SELECT state FROM before) = cl.store_state() AS nothing_written;
COMMIT;
-- Opting in (a rolling deployment): the instance is Pending, listed as Pending, until it runs.
SELECT duroxide.start_orchestration('cl-later', 'NotDeployedYet', 'x', '1.0.0',
                                    allow_unregistered => true) AS created;
SELECT status, orchestration_name, orchestration_version, custom_status_version
  FROM duroxide.get_orchestration_status('cl-later');
SELECT instance_id, instance_status, orchestration_name
  FROM duroxide.list_instances(status => 'Pending');
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-later', 'NotDeployedYet', 'x', NULL, NULL)$$);

-- 2. start_orchestration returns whether it created the instance.
SELECT duroxide.start_orchestration('cl-done', 'HelloWorld', 'x') AS created;
SELECT status, output FROM duroxide.wait_for_orchestration('cl-done', '30 s');
SELECT duroxide.start_orchestration('cl-done', 'HelloWorld', 'again') AS created;
-- A different orchestration under a taken id: 23505 naming both, nothing written.
BEGIN ISOLATION LEVEL REPEATABLE READ;
DELETE FROM before; INSERT INTO before SELECT cl.store_state();
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-done', 'WaitForGo', '')$$);
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-later', 'HelloWorld', '')$$);
-- Names in messages are quoted, escaped and cut.
SELECT cl.try(format($$SELECT duroxide.start_orchestration('cl-done', %L, '', allow_unregistered => true)$$,
                     E'Other\"\\' || repeat('n', 100)));
-- Ids of the form generated for sub-orchestrations are reserved.
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-done::sub::2', 'HelloWorld', '')$$);
-- A version that is not MAJOR.MINOR.PATCH.
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-v', 'HelloWorld', '', 'v1')$$);
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-v', 'HelloWorld', '', E'1.0\n')$$);
SELECT (SELECT state FROM before) = cl.store_state() AS nothing_written;
COMMIT;

-- Another role's id: "not available", nothing about its instance; a role never learns ids.
SET ROLE cl_alice;
SELECT duroxide.start_orchestration('cl-alice', 'WaitForGo', '') AS created;
RESET ROLE;
BEGIN ISOLATION LEVEL REPEATABLE READ;
DELETE FROM before; INSERT INTO before SELECT cl.store_state();
SET ROLE cl_bob;
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-alice', 'WaitForGo', '')$$);
SELECT cl.try($$SELECT duroxide.start_orchestration('cl-alice', 'HelloWorld', '')$$);
-- Messages for it read as for an id that does not exist: false, nothing sent.
SELECT duroxide.raise_event('cl-alice', 'Go', '') AS raised,
       duroxide.enqueue_event('cl-alice', 'q', '') AS enqueued,
       duroxide.cancel_instance('cl-alice') AS cancelled;
SELECT duroxide.raise_event('cl-nobody', 'Go', '') AS raised,
       duroxide.enqueue_event('cl-nobody', 'q', '') AS enqueued,
       duroxide.cancel_instance('cl-nobody') AS cancelled;
SELECT status FROM duroxide.get_orchestration_status('cl-alice');
SELECT count(*) FROM duroxide.list_instances() WHERE instance_id = 'cl-alice';
RESET ROLE;
SELECT (SELECT state FROM before) = cl.store_state() AS nothing_written;
COMMIT;
-- Its owner reaches it: true, and the message is queued.
SET ROLE cl_alice;
SELECT duroxide.raise_event('cl-alice', 'Go', 'now') AS raised;
SELECT status, output FROM duroxide.wait_for_orchestration('cl-alice', '30 s');
SELECT duroxide.cancel_instance('cl-alice') AS cancelled; -- exists (finished: a no-op)
RESET ROLE;

-- 3. Messages sent right after a start, in the same transaction, find the instance (its start
-- is queued) and, queued, are kept until the orchestration takes them (the user guide's
-- approval pattern).
BEGIN;
SELECT duroxide.start_orchestration('cl-mailbox', 'Mailbox', '') AS created;
SELECT duroxide.enqueue_event('cl-mailbox', 'Signal', 'approved') AS enqueued,
       duroxide.enqueue_event('cl-mailbox', 'Signal', 'shipped') AS enqueued;
COMMIT;
SELECT status, output FROM duroxide.wait_for_orchestration('cl-mailbox', '30 s');

-- 4. Waiting after a start in a subtransaction fails at once (55000), not at the timeout.
BEGIN;
SAVEPOINT s;
SELECT duroxide.start_orchestration('cl-sub', 'HelloWorld', 'x') AS created;
SELECT cl.try($$SELECT status FROM duroxide.wait_for_orchestration('cl-sub', '20 s')$$);
ROLLBACK;
DO $$
BEGIN
    BEGIN
        PERFORM duroxide.start_orchestration('cl-sub-plpgsql', 'HelloWorld', 'x');
        PERFORM duroxide.wait_for_orchestration('cl-sub-plpgsql', '20 s');
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        RAISE NOTICE 'inside an EXCEPTION block: % %', SQLSTATE, SQLERRM;
    END;
END
$$;
SELECT count(*) AS rolled_back FROM duroxide.orchestrator_queue WHERE instance_id LIKE 'cl-sub%';
-- psql's ON_ERROR_ROLLBACK wraps each statement in a savepoint.
\set ON_ERROR_ROLLBACK on
BEGIN;
SELECT duroxide.start_orchestration('cl-sub-psql', 'HelloWorld', 'x') AS created;
SELECT status FROM duroxide.wait_for_orchestration('cl-sub-psql', '20 s');
ROLLBACK;
\set ON_ERROR_ROLLBACK off
-- A completed instance started again in a transaction: the wait returns its Completed row.
BEGIN;
SELECT duroxide.start_orchestration('cl-done', 'HelloWorld', 'x') AS created;
SELECT status, output FROM duroxide.wait_for_orchestration('cl-done', '20 s');
COMMIT;

-- 5. SQL activities: a NULL result names the function; errors keep SQLSTATE, DETAIL, HINT,
-- CONTEXT; DX001 marks the failure non-retryable.
CREATE FUNCTION cl.nothing(input text) RETURNS text LANGUAGE sql
    AS $$ SELECT NULL::text $$;
CREATE FUNCTION cl.refuse(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'card % declined', input
        USING ERRCODE = 'DX001', DETAIL = 'limit reached', HINT = 'use another card';
END
$$;
CREATE FUNCTION cl.duplicate(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RAISE unique_violation USING MESSAGE = 'order ' || input || ' exists', DETAIL = 'Key (id)=(1).';
END
$$;
SELECT duroxide.register_sql_activity('ClNothing', 'cl.nothing(text)');
SELECT duroxide.register_sql_activity('ClRefuse', 'cl.refuse(text)');
SELECT duroxide.register_sql_activity('ClDuplicate', 'cl.duplicate(text)');
SELECT duroxide.start_orchestration(i, 'CallActivity', a || ':7')
  FROM (VALUES ('cl-null', 'ClNothing'), ('cl-refuse', 'ClRefuse'), ('cl-dup', 'ClDuplicate')) v(i, a);
SELECT i, w.status FROM unnest(ARRAY['cl-null', 'cl-refuse', 'cl-dup']) i,
       LATERAL duroxide.wait_for_orchestration(i, '30 s') w;
SELECT instance_id, d->>'message' AS message, d->>'sqlstate' AS sqlstate, d->>'detail' AS detail,
       d->>'hint' AS hint, d->>'context' AS context
  FROM duroxide.history h, LATERAL (SELECT h.event_data::jsonb->'details'->'Application' AS d) x
 WHERE h.event_type = 'ActivityFailed' AND h.instance_id IN ('cl-null', 'cl-refuse', 'cl-dup')
 ORDER BY instance_id;

-- 6. Read functions: NULL → 22004; '', over-long, control characters → 22023; values in
-- messages quoted and cut (a 3 MB id is not echoed).
SELECT cl.try(format('SELECT count(*) FROM %s', f)) AS result, f
  FROM unnest(ARRAY[
    'duroxide.get_orchestration_status(NULL)', $$duroxide.get_orchestration_status('')$$,
    $$duroxide.get_orchestration_status(repeat('x', 257))$$,
    $$duroxide.get_orchestration_status(E'a\nb')$$,
    'duroxide.read_history(NULL)', $$duroxide.read_history('')$$,
    $$duroxide.read_history('cl-done', 0)$$,
    'duroxide.get_instance_info(NULL)', $$duroxide.get_instance_info('')$$,
    'duroxide.list_executions(NULL)', $$duroxide.list_executions(repeat('y', 300))$$,
    'duroxide.get_instance_tree(NULL)', $$duroxide.get_instance_tree('')$$,
    'duroxide.list_children(NULL)', $$duroxide.list_children('')$$,
    $$duroxide.get_kv_value(NULL, 'k')$$, $$duroxide.get_kv_value(repeat('x', 257), 'k')$$,
    'duroxide.get_kv_values(NULL)', $$duroxide.get_orchestration_stats('')$$,
    'duroxide.get_execution_info(NULL, 1)', $$duroxide.get_execution_info('cl-done', NULL)$$,
    $$duroxide.get_execution_info('cl-done', -9223372036854775808)$$,
    $$duroxide.get_execution_info(repeat('x', 3 * 1024 * 1024), 1)$$,
    $$duroxide.get_execution_info(E'no\tsuch\r', 1)$$,
    $$duroxide.wait_for_status_change('cl-done', -2147483648, '1 s')$$,
    $$duroxide.wait_for_status_change('cl-done', NULL, '1 s')$$]) AS f;
-- A rejected plugin name is quoted too: no forged log line, no megabytes.
SELECT cl.try($$SELECT duroxide.register_plugin(E'evil\nLOG:  forged' || repeat('x', 3 * 1024 * 1024))$$);
-- A found instance reads normally.
SELECT status FROM duroxide.get_orchestration_status('cl-done');
SELECT count(*) > 0 AS has_history FROM duroxide.read_history('cl-done');

-- 7. The sweep: every function a duroxide_user may call, with NULL, '', over-long, negative,
-- extreme and malformed values, as a duroxide_user: each fails with its SQLSTATE and nothing
-- in the store changed.
BEGIN ISOLATION LEVEL REPEATABLE READ;
DELETE FROM before; INSERT INTO before SELECT cl.store_state();
SET ROLE cl_bob;
SELECT left(cl.try(c), 5) AS sqlstate, c AS call
  FROM unnest(ARRAY[
    $$SELECT duroxide.start_orchestration(NULL, 'HelloWorld')$$,
    $$SELECT duroxide.start_orchestration('', 'HelloWorld')$$,
    $$SELECT duroxide.start_orchestration(repeat('i', 257), 'HelloWorld')$$,
    $$SELECT duroxide.start_orchestration(E'i\n', 'HelloWorld')$$,
    $$SELECT duroxide.start_orchestration('sw', NULL)$$,
    $$SELECT duroxide.start_orchestration('sw', '')$$,
    $$SELECT duroxide.start_orchestration('sw', repeat('n', 257))$$,
    $$SELECT duroxide.start_orchestration('sw', 'HelloWorld', repeat('p', 4 * 1024 * 1024))$$,
    $$SELECT duroxide.start_orchestration('sw', 'HelloWorld', '{bad json'::jsonb)$$,
    $$SELECT duroxide.start_orchestration('sw', 'HelloWorld', '', '-1.0.0')$$,
    $$SELECT duroxide.start_orchestration('sw', 'HelloWorld', '', '99999999999.0.0')$$,
    $$SELECT duroxide.start_orchestration('sw::sub::1', 'HelloWorld')$$,
    $$SELECT duroxide.raise_event(NULL, 'e')$$, $$SELECT duroxide.raise_event('', 'e')$$,
    $$SELECT duroxide.raise_event('cl-done', NULL)$$, $$SELECT duroxide.raise_event('cl-done', '')$$,
    $$SELECT duroxide.raise_event(repeat('i', 257), 'e')$$,
    $$SELECT duroxide.raise_event('cl-done', 'e', repeat('p', 4 * 1024 * 1024))$$,
    $$SELECT duroxide.enqueue_event(NULL, 'q')$$, $$SELECT duroxide.enqueue_event('cl-done', '')$$,
    $$SELECT duroxide.enqueue_event('cl-done', E'q\x01')$$,
    $$SELECT duroxide.cancel_instance(NULL)$$, $$SELECT duroxide.cancel_instance('')$$,
    $$SELECT duroxide.cancel_instance('cl-done', repeat('r', 4 * 1024 * 1024))$$,
    $$SELECT status FROM duroxide.get_orchestration_status(NULL)$$,
    $$SELECT status FROM duroxide.wait_for_orchestration(NULL)$$,
    $$SELECT status FROM duroxide.wait_for_orchestration('')$$,
    $$SELECT status FROM duroxide.wait_for_orchestration('cl-done', NULL)$$,
    $$SELECT status FROM duroxide.wait_for_orchestration('cl-done', '-1 s')$$,
    $$SELECT status FROM duroxide.wait_for_orchestration('cl-done', '2 days')$$,
    $$SELECT status FROM duroxide.wait_for_orchestration('cl-done', '1 mon')$$,
    $$SELECT status FROM duroxide.wait_for_status_change(NULL, 0)$$,
    $$SELECT count(*) FROM duroxide.read_history(NULL)$$,
    $$SELECT count(*) FROM duroxide.read_history('cl-done', -9223372036854775808)$$,
    $$SELECT duroxide.get_kv_value('cl-done', NULL)$$,
    $$SELECT count(*) FROM duroxide.get_kv_values('')$$,
    $$SELECT duroxide.wait_for_kv_value(NULL, 'k')$$,
    $$SELECT duroxide.wait_for_kv_value('cl-done', 'k', '0 s')$$,
    $$SELECT history_event_count FROM duroxide.get_orchestration_stats(NULL)$$,
    $$SELECT count(*) FROM duroxide.list_instances(max_rows => -2147483648)$$,
    $$SELECT count(*) FROM duroxide.list_instances(max_rows => 0)$$,
    $$SELECT count(*) FROM duroxide.list_instances(max_rows => NULL)$$,
    $$SELECT count(*) FROM duroxide.list_instances(status => 'Bogus')$$,
    $$SELECT count(*) FROM duroxide.list_instances(after_cursor => 'garbage')$$,
    $$SELECT count(*) FROM duroxide.list_instances(after_cursor => '99999999999999999999999:x')$$,
    $$SELECT count(*) FROM duroxide.get_instance_info(repeat('i', 257))$$,
    $$SELECT count(*) FROM duroxide.list_executions('')$$,
    $$SELECT count(*) FROM duroxide.get_execution_info('cl-done', 0)$$,
    $$SELECT count(*) FROM duroxide.get_execution_info('cl-done', 9223372036854775807)$$,
    $$SELECT count(*) FROM duroxide.get_instance_tree(repeat('i', 257))$$,
    $$SELECT count(*) FROM duroxide.list_children(E'\x7f')$$]) AS c;
RESET ROLE;
SELECT (SELECT state FROM before) = cl.store_state() AS nothing_written;
COMMIT;
-- A wait refuses a REPEATABLE READ transaction (55000) before it reads last_seen_version: this
-- call runs in a READ COMMITTED one, which gets no transaction id unless something is written.
BEGIN;
SET ROLE cl_bob;
SELECT left(cl.try($$SELECT status FROM duroxide.wait_for_status_change('cl-done', -1)$$), 5)
    AS sqlstate;
RESET ROLE;
SELECT txid_current_if_assigned() IS NULL AS nothing_written;
COMMIT;

RESET ROLE;
SELECT duroxide.unregister_sql_activity(n) FROM unnest(ARRAY['ClNothing', 'ClRefuse', 'ClDuplicate']) n;
SELECT duroxide.unregister_plugin('duroxide_sample');
-- A repeated start of an existing instance stays a no-op when its plugin is gone meanwhile.
SELECT duroxide.start_orchestration('cl-done', 'HelloWorld', 'x') AS created;
DROP SCHEMA cl CASCADE;
DROP ROLE cl_alice, cl_bob;
