-- End to end through the background workers: the reference scenarios (§5.3) the other e2e
-- suites do not show, with outputs, statuses and history sequences; an activity that fails
-- for infrastructure reasons; every function's COMMENT and the client API's grants; and the
-- client API's bad input.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
-- A reload reaches the workers by a signal that sets their latch; they apply it when they wake.
-- This reloads and returns once every worker of this database has changed state three times
-- since (runtime_status.state_since), so that each has woken after the signal: the statements
-- that follow run under the new settings (a positive signal, not a guessed sleep).
CREATE FUNCTION pg_temp.reload_workers() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    mark timestamptz;
    moved boolean;
BEGIN
    PERFORM pg_reload_conf();
    FOR round IN 1..3 LOOP
        mark := clock_timestamp();
        FOR i IN 1..3000 LOOP
            SELECT count(*) > 0 AND bool_and(state_since > mark) INTO moved
              FROM duroxide.runtime_status
             WHERE role IN ('dispatcher', 'activity worker') AND database = current_database();
            EXIT WHEN moved;
            PERFORM pg_sleep(0.01);
        END LOOP;
        IF NOT moved THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;
-- (Registered unless an earlier suite left it registered.)
SELECT EXISTS (SELECT FROM duroxide.plugins WHERE name = 'duroxide_sample')
       OR duroxide.register_plugin('duroxide_sample') > 0 AS registered;

-- Scenario 2: branching on an activity's output ("yes" picks SayYes, anything else SayNo).
SELECT duroxide.start_orchestration('branch-yes', 'Branch', 'yes');
SELECT duroxide.start_orchestration('branch-no', 'Branch', 'maybe');
SELECT id, w.status, w.output
  FROM unnest(ARRAY['branch-yes', 'branch-no']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT event_id, event_type, coalesce(event->>'name', '') AS name
  FROM duroxide.read_history('branch-yes');

-- Scenarios 3, 4 and 5 with their histories: a loop of three sequential activities; a caught
-- activity failure (recorded as ActivityFailed) compensated; an uncaught one failing the
-- orchestration with the activity's message, category application.
SELECT duroxide.start_orchestration('sc-loop', 'Loop', 'start');
SELECT duroxide.start_orchestration('sc-comp', 'Compensate', '');
SELECT duroxide.start_orchestration('sc-unhandled', 'Unhandled', 'Input cannot be empty');
SELECT id, w.status, w.output, w.error->'Application'->>'message' AS message,
       (SELECT k FROM jsonb_object_keys(w.error) k) AS category
  FROM unnest(ARRAY['sc-loop', 'sc-comp', 'sc-unhandled']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT id, string_agg(h.event_type || coalesce('(' || coalesce(h.event->>'input',
                          h.event->>'result') || ')', ''), ' ' ORDER BY h.event_id) AS history
  FROM unnest(ARRAY['sc-loop', 'sc-comp', 'sc-unhandled']) AS id,
       LATERAL duroxide.read_history(id) h
 GROUP BY id ORDER BY id;

-- Scenario 12's chain: a child that has a child of its own.
SELECT duroxide.start_orchestration('chain', 'ChainRoot', 'a');
SELECT status, output FROM duroxide.wait_for_orchestration('chain', '30 s');
SELECT instance_id, parent_instance_id FROM duroxide.instances
 WHERE instance_id LIKE 'chain%' ORDER BY instance_id;

-- Scenario 10: an event raised while the orchestration is still in its first timer, before it
-- waits for the event, is recorded but not delivered: the wait's timer wins.
SELECT duroxide.start_orchestration('early-event', 'EarlyEvent', '');
SELECT duroxide.raise_event('early-event', 'Evt', 'too early');
SELECT status, output FROM duroxide.wait_for_orchestration('early-event', '30 s');
SELECT event_type, event->>'name' AS name, event->>'data' AS data
  FROM duroxide.read_history('early-event') WHERE event_type LIKE 'External%'
 ORDER BY event_id;

-- Scenario 15: an execution pinned to 1.0.0 continues as new; the next execution runs the
-- newest version (2.0.0), not the pinned one.
SELECT duroxide.start_orchestration('upgrade', 'Upgrade', 'state', '1.0.0');
SELECT status, output, execution_id, orchestration_version
  FROM duroxide.wait_for_orchestration('upgrade', '30 s');
SELECT execution_id, status, output FROM duroxide.executions WHERE instance_id = 'upgrade'
 ORDER BY execution_id;
SELECT execution, h.event->>'version' AS version
  FROM generate_series(1, 2) AS execution, LATERAL duroxide.read_history('upgrade', execution) h
 WHERE h.event_type = 'OrchestrationStarted';

-- Scenario 17: retries exhausted fail with the last error (three attempts, two backoff
-- timers); an attempt that outlives its timeout ends the retries at once.
SELECT duroxide.start_orchestration('retry-exhausted', 'RetryExhausted', 'always broken');
SELECT duroxide.start_orchestration('retry-timeout', 'RetryTimeout', '5000');
SELECT id, w.status, w.output, w.error->'Application'->>'message' AS message
  FROM unnest(ARRAY['retry-exhausted', 'retry-timeout']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT id, count(*) FILTER (WHERE event_type = 'ActivityScheduled') AS scheduled,
       count(*) FILTER (WHERE event_type = 'ActivityFailed') AS failed,
       count(*) FILTER (WHERE event_type = 'TimerCreated') AS timers
  FROM unnest(ARRAY['retry-exhausted', 'retry-timeout']) AS id,
       LATERAL duroxide.read_history(id)
 GROUP BY id ORDER BY id;

-- Scenario 18: a custom status over 256 KiB fails the orchestration (application error) after
-- the turn, as duroxide's limit check: the turn's events stay (the status update, as the
-- instance's custom status, and the activity it then scheduled), then the failure and the
-- activity's cancellation; nothing it scheduled is left to run.
SELECT duroxide.start_orchestration('status-too-big', 'StatusTooBig', '');
SELECT status, error ? 'Application' AS application, custom_status IS NULL AS no_status
  FROM duroxide.wait_for_orchestration('status-too-big', '30 s');
SELECT event_id, event_type FROM duroxide.read_history('status-too-big');
SELECT count(*) AS worker_rows FROM duroxide.worker_queue WHERE instance_id = 'status-too-big';

-- Scenario 22: with no resident cache the second turn replays; the replayed code schedules
-- another activity than history records, and the orchestration fails as nondeterministic.
ALTER SYSTEM SET duroxide.resident_cache_size = 0;
SELECT pg_temp.reload_workers() AS reloaded;
SELECT duroxide.start_orchestration('code-swap', 'CodeSwap', '');
SELECT status, error->'Configuration'->>'kind' AS kind,
       error->'Configuration'->>'message' AS message
  FROM duroxide.wait_for_orchestration('code-swap', '30 s');
SELECT event_id, event_type, coalesce(event->>'name', '') AS name,
       coalesce(event->>'input', '') AS input
  FROM duroxide.read_history('code-swap');
ALTER SYSTEM RESET duroxide.resident_cache_size;

-- An SQL activity whose function was dropped fails for an infrastructure reason, not its own:
-- each attempt is given back (counted as activities_failed_infrastructure) until it poisons.
ALTER SYSTEM SET duroxide.max_attempts = 2;
SELECT pg_temp.reload_workers() AS reloaded;
CREATE FUNCTION public.soon_dropped(input text) RETURNS text LANGUAGE sql AS $$ SELECT input $$;
SELECT duroxide.register_sql_activity('SoonDropped', 'public.soon_dropped(text)');
DROP FUNCTION public.soon_dropped(text);
CREATE TEMP TABLE infra_before AS
    SELECT value FROM duroxide.metrics WHERE metric = 'activities_failed_infrastructure';
SELECT duroxide.start_orchestration('dropped-fn', 'CallActivity', 'SoonDropped:x');
SELECT status, error->'Poison'->'message_type'->'Activity'->>'activity_name' AS activity,
       error->'Poison'->>'attempt_count' AS attempts
  FROM duroxide.wait_for_orchestration('dropped-fn', '30 s');
SELECT m.value - b.value AS infrastructure_failures
  FROM duroxide.metrics m, infra_before b WHERE m.metric = 'activities_failed_infrastructure';

ALTER SYSTEM RESET duroxide.max_attempts;
SELECT pg_reload_conf();
SELECT duroxide.unregister_sql_activity('SoonDropped');
SELECT duroxide.unregister_plugin('duroxide_sample');

-- Every function of the extension says what it does (COMMENT ON), and the client API of the
-- user guide is granted to duroxide_user.
SELECT p.oid::regprocedure AS undocumented
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('duroxide', 'duroxide_internal')
   AND obj_description(p.oid, 'pg_proc') IS NULL
 ORDER BY 1::text;
SELECT p.proname, bool_and(has_function_privilege('duroxide_user', p.oid, 'EXECUTE')) AS granted
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'duroxide'
   AND p.proname IN ('start_orchestration', 'raise_event', 'enqueue_event', 'cancel_instance',
                     'get_orchestration_status', 'wait_for_orchestration',
                     'wait_for_status_change', 'read_history', 'get_kv_value', 'get_kv_values',
                     'get_orchestration_stats')
 GROUP BY p.proname ORDER BY p.proname;

-- Bad input to the client API: each call fails with its SQLSTATE and writes nothing.
CREATE FUNCTION pg_temp.refused(call text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- The instances the calls name (the others' background work must not count).
CREATE FUNCTION pg_temp.named(instance text) RETURNS boolean LANGUAGE sql AS $$
    SELECT instance LIKE 'bad%' OR instance IN ('', 'branch-yes', 'inst-sample-hello-1')
           OR length(instance) = 257
$$;
CREATE TEMP TABLE written_before AS
    SELECT (SELECT count(*) FROM duroxide.instances WHERE pg_temp.named(instance_id)) AS instances,
           (SELECT count(*) FROM duroxide.orchestrator_queue WHERE pg_temp.named(instance_id)) AS queued,
           (SELECT count(*) FROM duroxide.history WHERE pg_temp.named(instance_id)) AS events;
SELECT call, pg_temp.refused(call) AS outcome FROM unnest(ARRAY[
    $$SELECT duroxide.start_orchestration('bad-1', NULL, 'x')$$,
    $$SELECT duroxide.start_orchestration('bad-1', '', 'x')$$,
    $$SELECT duroxide.start_orchestration('bad-1', 'HelloWorld', '{"unclosed":'::jsonb)$$,
    $$SELECT duroxide.start_orchestration(E'bad\n1', 'HelloWorld', 'x')$$,
    $$SELECT duroxide.start_orchestration(repeat('i', 257), 'HelloWorld', 'x')$$,
    $$SELECT duroxide.raise_event(NULL, 'Go', 'x')$$,
    $$SELECT duroxide.raise_event('inst-sample-hello-1', '', 'x')$$,
    $$SELECT duroxide.enqueue_event('', 'Signal', 'x')$$,
    $$SELECT duroxide.enqueue_event('inst-sample-hello-1', NULL, 'x')$$,
    $$SELECT duroxide.cancel_instance(NULL, 'why')$$,
    $$SELECT duroxide.cancel_instance('', 'why')$$,
    $$SELECT duroxide.wait_for_orchestration('branch-yes', NULL)$$,
    $$SELECT duroxide.wait_for_orchestration('branch-yes', '0 s')$$,
    $$SELECT duroxide.wait_for_orchestration('branch-yes', '100 years')$$,
    $$SELECT duroxide.wait_for_status_change('branch-yes', 0, '-5 min')$$,
    $$SELECT duroxide.wait_for_status_change('branch-yes', NULL, '1 s')$$
  ]) AS call;
SET duroxide.max_payload_size = '1kB';
SELECT pg_temp.refused($$SELECT duroxide.raise_event('branch-yes', 'Go', repeat('x', 2000))$$) AS big_event,
       pg_temp.refused($$SELECT duroxide.enqueue_event('branch-yes', 'Q', repeat('x', 2000))$$) AS big_message,
       pg_temp.refused($$SELECT duroxide.start_orchestration('bad-2', 'HelloWorld',
                                 jsonb_build_object('k', repeat('x', 2000)))$$) AS big_jsonb;
RESET duroxide.max_payload_size;
SELECT (SELECT count(*) FROM duroxide.instances WHERE pg_temp.named(instance_id)) - instances
           AS new_instances,
       (SELECT count(*) FROM duroxide.orchestrator_queue WHERE pg_temp.named(instance_id)) - queued
           AS new_queue_rows,
       (SELECT count(*) FROM duroxide.history WHERE pg_temp.named(instance_id)) - events
           AS new_events
  FROM written_before;

-- The resident cache's memory bound (duroxide.resident_cache_memory): with 1 kB, two waiting
-- executions cannot both stay resident, so one is evicted and replays on its next turn; both
-- complete as they would have.
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
ALTER SYSTEM SET duroxide.resident_cache_memory = '1kB';
SELECT pg_temp.reload_workers() AS reloaded;
CREATE TEMP TABLE evictions_before AS
    SELECT value FROM duroxide.metrics WHERE metric = 'resident_cache_evictions';
SELECT duroxide.start_orchestration(id, 'WaitForGo', '') FROM unnest(ARRAY['mem-a', 'mem-b']) AS id;
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        EXIT WHEN (SELECT count(*) FROM duroxide.history WHERE event_type = 'ExternalSubscribed'
                     AND instance_id IN ('mem-a', 'mem-b')) = 2;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT duroxide.raise_event(id, 'Go', 'x') FROM unnest(ARRAY['mem-a', 'mem-b']) AS id;
SELECT d.id, w.status, w.output
  FROM unnest(ARRAY['mem-a', 'mem-b']) AS d(id)
 CROSS JOIN LATERAL duroxide.wait_for_orchestration(d.id, '30 s') w ORDER BY d.id;
SELECT m.value - b.value >= 1 AS evicted_by_memory
  FROM duroxide.metrics m, evictions_before b WHERE m.metric = 'resident_cache_evictions';
ALTER SYSTEM RESET duroxide.resident_cache_memory;
SELECT pg_reload_conf();
SELECT duroxide.unregister_plugin('duroxide_sample');
