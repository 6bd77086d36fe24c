-- Operator views (instances_overview, pending_work, history_view, metrics_by_name), rewind
-- and graceful cancel, end to end through the background workers; per-role isolation of
-- each; runtime_status after give-backs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample', ARRAY['duroxide_user']::regrole[]) > 0
    AS registered;

-- Polls (never a fixed sleep) until `cond` holds, for up to 30 s.
CREATE FUNCTION pg_temp.poll(cond text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE ok boolean;
BEGIN
    FOR i IN 1..3000 LOOP
        EXECUTE 'SELECT (' || cond || ')' INTO ok;
        IF ok THEN RETURN true; END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN false;
END $$;

-- A workload: completed, failed, and waiting on a timer + event, a retry backoff, a child,
-- and a queue.
SELECT duroxide.start_orchestration('ops-done', 'HelloWorld', 'ops');
SELECT duroxide.start_orchestration('ops-failed', 'Unhandled', 'kaput');
SELECT duroxide.start_orchestration('ops-waiting', 'WaitForGo', '');
SELECT duroxide.start_orchestration('ops-retry', 'SlowRetry', 'oops');
SELECT duroxide.start_orchestration('ops-parent', 'ParentOfWaiter', '');
SELECT duroxide.start_orchestration('ops-queue', 'IgnoresCancellation', '');
SELECT id, w.status FROM unnest(ARRAY['ops-done', 'ops-failed']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT pg_temp.poll($$(SELECT count(*) FROM duroxide.history
                        WHERE instance_id IN ('ops-waiting', 'ops-retry', 'ops-parent::sub::2',
                                              'ops-queue')
                          AND event_type IN ('ExternalSubscribed', 'TimerCreated')) = 6$$) AS waiting;

SELECT instance_id, status, orchestration_name, orchestration_version, execution_id, error,
       custom_status, parent_instance_id, duration >= interval '0' AS has_duration,
       updated_at >= created_at AS ordered
  FROM duroxide.instances_overview WHERE instance_id LIKE 'ops-%' ORDER BY instance_id;

-- What each waits on.
SELECT i AS instance, p.kind, p.event_id, p.name, p.state, p.attempt,
       p.due_at > now() AS due_later, p.child_instance, p.child_status, p.detail
  FROM unnest(ARRAY['ops-waiting', 'ops-retry', 'ops-parent', 'ops-parent::sub::2', 'ops-queue',
                    'ops-done', 'ops-failed']) AS i,
       LATERAL duroxide.pending_work(i) p
 ORDER BY i, p.event_id;

-- History in readable form.
SELECT event_id, kind, name, source_event_id, input, output, error, detail,
       recorded_at BETWEEN now() - interval '1 minute' AND clock_timestamp() AS recent
  FROM duroxide.history_view('ops-failed');
SELECT event_id, kind, name, source_event_id, output, error
  FROM duroxide.history_view('ops-retry');

-- Bad arguments.
SELECT duroxide.history_view(NULL);
SELECT duroxide.history_view('ops-done', 0);
SELECT duroxide.history_view('no-such-instance');
SELECT duroxide.pending_work('no-such-instance');

-- Role matrix: alice sees her own instances and counters only; bob sees none of them; the
-- admin sees everything.
CREATE ROLE ops_alice IN ROLE duroxide_user;
CREATE ROLE ops_bob IN ROLE duroxide_user;
SET ROLE ops_alice;
SELECT duroxide.start_orchestration('ops-alice-1', 'HelloWorld', 'alice');
SELECT duroxide.start_orchestration('ops-alice-2', 'Unhandled', 'alice broke');
RESET ROLE;
SELECT id, w.status FROM unnest(ARRAY['ops-alice-1', 'ops-alice-2']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SET ROLE ops_alice;
SELECT instance_id, status, error FROM duroxide.instances_overview ORDER BY instance_id;
SELECT kind, name, started, completed, failed, cancelled, continued_as_new, open,
       avg_duration >= interval '0' AS has_avg, max_duration >= avg_duration AS max_ge_avg
  FROM duroxide.metrics_by_name ORDER BY kind, name;
SELECT count(*) AS events FROM duroxide.history_view('ops-alice-2');
SELECT count(*) AS pending FROM duroxide.pending_work('ops-alice-1');
SELECT count(*) AS foreign_rows FROM duroxide.instances_overview WHERE instance_id NOT LIKE 'ops-alice-%';
SET ROLE ops_bob;
SELECT count(*) AS bob_sees FROM duroxide.instances_overview;
SELECT count(*) AS bob_metrics FROM duroxide.metrics_by_name;
SELECT duroxide.history_view('ops-alice-2');
SELECT duroxide.pending_work('ops-alice-1');
SELECT duroxide.rewind_instance('ops-alice-2', 'not mine');
SELECT duroxide.cancel_instance('ops-alice-1', 'not mine', '1 s');
-- A caller's own function in the WHERE clause sees only rows the view lets through.
CREATE FUNCTION pg_temp.peek(id text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN RAISE NOTICE 'saw %', id; RETURN true; END $$;
SELECT count(*) FROM duroxide.instances_overview WHERE pg_temp.peek(instance_id);
DROP FUNCTION pg_temp.peek(text);
RESET ROLE;
SELECT count(*) >= 8 AS admin_sees_all FROM duroxide.instances_overview;
SELECT kind, name, started, completed, failed
  FROM duroxide.metrics_by_name WHERE name IN ('SlowRetry', 'IgnoresCancellation')
 ORDER BY kind, name;

-- Rewind: an SQL activity fails until an operator fixes its data; the instance fails, the
-- fix is made, the rewind retries the activity and the instance completes.
CREATE SCHEMA opsact;
CREATE TABLE opsact.fixed (ok boolean);
CREATE FUNCTION opsact.flaky(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM opsact.fixed) THEN
        RAISE EXCEPTION 'not fixed yet: %', input;
    END IF;
    RETURN 'fixed:' || input;
END $$;
SELECT duroxide.register_sql_activity('OpsFlaky', 'opsact.flaky(text)');
SELECT duroxide.start_orchestration('ops-rw', 'CallActivity', 'OpsFlaky:a1');
SELECT duroxide.start_orchestration('ops-rw-parent', 'ParentCall', 'OpsFlaky:c1');
SELECT id, w.status, w.output FROM unnest(ARRAY['ops-rw', 'ops-rw-parent']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT instance_id, status, error FROM duroxide.instances_overview
 WHERE instance_id LIKE 'ops-rw%' ORDER BY instance_id;
INSERT INTO opsact.fixed VALUES (true);
SELECT * FROM duroxide.rewind_instance('ops-rw', 'opsact.fixed filled in');
SELECT status, output FROM duroxide.wait_for_orchestration('ops-rw', '30 s');
SELECT event_id, kind, name, source_event_id, output, error FROM duroxide.history_view('ops-rw');
SELECT r.instance_id, r.execution_id, r.reason, r.rewound_by::regrole AS rewound_by,
       duroxide._error_text(r.error::jsonb) AS error, e.event_id, e.event_type
  FROM duroxide.rewinds r JOIN duroxide.rewound_events e USING (rewind_id)
 WHERE r.instance_id = 'ops-rw' ORDER BY e.event_id;
-- A child is rewound through its root.
SELECT duroxide.rewind_instance('ops-rw-parent::sub::2', 'the child alone');
SELECT * FROM duroxide.rewind_instance('ops-rw-parent', 'opsact.fixed filled in');
SELECT status, output FROM duroxide.wait_for_orchestration('ops-rw-parent', '30 s');
SELECT status, output FROM duroxide.get_orchestration_status('ops-rw-parent::sub::2');
-- Refusals: nothing changes.
SELECT duroxide.start_orchestration('ops-code', 'Counter', 'not a number');
SELECT status FROM duroxide.wait_for_orchestration('ops-code', '30 s');
SELECT duroxide.rewind_instance('ops-code', 'try');
SELECT duroxide.rewind_instance('ops-done', 'try');
SELECT duroxide.rewind_instance('ops-waiting', 'try');
SELECT duroxide.rewind_instance('no-such-instance', 'try');
SELECT duroxide.rewind_instance('ops-failed', NULL);
SELECT duroxide.rewind_instance('ops-failed', '');
SELECT count(*) AS rewinds FROM duroxide.rewinds;

-- Graceful cancel: an order that opted in compensates (refund) and ends cancelled.
SELECT duroxide.start_orchestration('ops-order', 'CancellableOrder', 'o1');
SELECT pg_temp.poll($$EXISTS (SELECT 1 FROM duroxide.pending_work('ops-order')
                              WHERE kind = 'event' AND name = 'Ship')$$) AS waits_for_ship;
SELECT kind, name, state FROM duroxide.pending_work('ops-order') ORDER BY event_id;
SELECT duroxide.cancel_instance('ops-order', 'customer asked', '1 minute');
SELECT status, output, error->'Application'->'kind' AS kind
  FROM duroxide.wait_for_orchestration('ops-order', '30 s');
SELECT event_id, kind, name, input, output FROM duroxide.history_view('ops-order');
-- One that opted in but ignores the request is forced when its grace period ends.
SELECT duroxide.cancel_instance('ops-queue', 'shutting down', '1 s');
SELECT status, output FROM duroxide.wait_for_orchestration('ops-queue', '30 s');
SELECT event_id, kind, name, output, detail FROM duroxide.history_view('ops-queue')
 WHERE event_id > 1;
-- One that never opted in is cancelled at once (a 30 s wait ends well before the hour).
SELECT duroxide.cancel_instance('ops-waiting', 'now', '1 hour');
SELECT status, output FROM duroxide.wait_for_orchestration('ops-waiting', '30 s');
SELECT duroxide.cancel_instance('ops-done', 'late', '1 s');
SELECT duroxide.cancel_instance('ops-done', 'x', '-1 s');
SELECT duroxide.cancel_instance('ops-done', 'x', '8 days');
SELECT duroxide.cancel_instance('ops-done', 'x', NULL);
SELECT duroxide.cancel_instance('no-such-instance', 'x', '1 s');
SELECT duroxide.rewind_instance('ops-order', 'undo the cancel');

-- runtime_status after give-backs: an SQL activity whose function was dropped is given back
-- (a WARNING, then retried); the worker keeps the reason as last_error, and once idle (the
-- instance cancelled) shows no current work.
CREATE FUNCTION public.ops_dropped(input text) RETURNS text LANGUAGE sql AS $$ SELECT input $$;
SELECT duroxide.register_sql_activity('OpsDropped', 'public.ops_dropped(text)');
DROP FUNCTION public.ops_dropped(text);
SELECT duroxide.start_orchestration('ops-given-back', 'CallActivity', 'OpsDropped:x');
SELECT pg_temp.poll($$EXISTS (SELECT 1 FROM duroxide.runtime_status
                              WHERE role = 'activity worker' AND database = current_database()
                                AND last_error LIKE '%OpsDropped%given back%')$$) AS kept_last_error;
SELECT duroxide.cancel_instance('ops-given-back', 'enough');
SELECT status FROM duroxide.wait_for_orchestration('ops-given-back', '30 s');
SELECT pg_temp.poll($$(SELECT bool_and(state = 'idle') FROM duroxide.runtime_status
                        WHERE role = 'activity worker' AND database = current_database())$$)
       AS workers_idle;
SELECT count(*) FILTER (WHERE state = 'idle' AND current_work <> '') AS stale_current_work
  FROM duroxide.runtime_status
 WHERE role = 'activity worker' AND database = current_database();

-- pending_work shows a child another role owns (a parent of alice's that named bob's
-- instance as its child's id) without its status. Rows written directly: no queue message, so
-- no worker touches them.
INSERT INTO duroxide.instances (instance_id, orchestration_name, owner_role)
VALUES ('pw-parent', 'Crafted', 'ops_alice'::regrole), ('pw-bobs', 'Crafted', 'ops_bob'::regrole),
       ('pw-own', 'Crafted', 'ops_alice'::regrole);
INSERT INTO duroxide.executions (instance_id, execution_id)
SELECT unnest(ARRAY['pw-parent', 'pw-bobs', 'pw-own']), 1;
INSERT INTO duroxide.history (instance_id, execution_id, event_id, event_type, event_data)
VALUES ('pw-parent', 1, 1, 'OrchestrationStarted', '{}'),
       ('pw-parent', 1, 2, 'SubOrchestrationScheduled', '{"name":"C","instance":"pw-bobs"}'),
       ('pw-parent', 1, 3, 'SubOrchestrationScheduled', '{"name":"C","instance":"pw-own"}'),
       ('pw-parent', 1, 4, 'SubOrchestrationScheduled', '{"name":"C","instance":"pw-none"}');
SET ROLE ops_alice;
SELECT kind, event_id, child_instance, child_status FROM duroxide.pending_work('pw-parent')
 ORDER BY event_id;
RESET ROLE;
DELETE FROM duroxide.history WHERE instance_id = 'pw-parent';
DELETE FROM duroxide.executions WHERE instance_id LIKE 'pw-%';
DELETE FROM duroxide.instances WHERE instance_id LIKE 'pw-%';

SELECT duroxide.unregister_sql_activity('OpsFlaky');
SELECT duroxide.unregister_sql_activity('OpsDropped');
SELECT sum(d.instances) AS deleted
  FROM (SELECT instance_id FROM duroxide.instances
         WHERE instance_id LIKE 'ops-%' AND parent_instance_id IS NULL) AS t(i),
       LATERAL duroxide.delete_instance(t.i, true) d;
SELECT count(*) AS rewinds_left FROM duroxide.rewinds;
DROP SCHEMA opsact CASCADE;
DROP ROLE ops_alice;
DROP ROLE ops_bob;
SELECT duroxide.unregister_plugin('duroxide_sample');
