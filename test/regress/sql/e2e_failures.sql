-- End to end through the background workers: poison handling, unknown handlers, and the lease
-- rules that make SQL activities' writes commit exactly once.
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
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
ALTER SYSTEM SET duroxide.max_attempts = 3;
ALTER SYSTEM SET duroxide.unregistered_backoff = '10ms';
SELECT pg_temp.reload_workers() AS reloaded;

-- Scenario 21: a batch fetched more than max_attempts times fails as poison; no user code runs
-- (the attempt count is forced before the start commits, as if three fetches had crashed).
BEGIN;
SELECT duroxide.start_orchestration('poison-batch', 'HelloWorld', 'never');
UPDATE duroxide.orchestrator_queue SET attempt_count = 3 WHERE instance_id = 'poison-batch';
COMMIT;
SELECT status, error->'Poison'->>'attempt_count' AS attempts,
       error->'Poison'->>'max_attempts' AS max_attempts,
       error->'Poison'->'message_type'->'Orchestration'->>'instance' AS poisoned_instance,
       (error->'Poison'->>'message')::jsonb->0->'StartOrchestration'->>'input' AS batch_input
  FROM duroxide.wait_for_orchestration('poison-batch', '30 s');
SELECT event_id, event_type FROM duroxide.read_history('poison-batch');

-- Scenario 20: an unknown orchestration and an unknown version are retried with backoff, then
-- fail as poison (attempt 4 of max 3) with an OrchestrationFailed event in execution 1. They are
-- started with allow_unregistered (a rolling deployment); the poison message names them.
SELECT duroxide.start_orchestration('unknown-orch', 'NoSuchOrchestration', 'x', allow_unregistered => true);
SELECT duroxide.start_orchestration('unknown-version', 'HelloWorld', 'x', '9.9.9', allow_unregistered => true);
SELECT id, w.status, w.error->'Poison'->>'attempt_count' AS attempts,
       w.error->'Poison'->>'message' AS message
  FROM unnest(ARRAY['unknown-orch', 'unknown-version']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT instance, event_id, event_type, event->>'version' AS version
  FROM unnest(ARRAY['unknown-orch', 'unknown-version']) AS instance,
       LATERAL duroxide.read_history(instance)
 ORDER BY instance, event_id;
-- An unknown activity: the activity poisons, and the orchestration fails with that poison.
SELECT duroxide.start_orchestration('unknown-activity', 'CallActivity', 'NoSuchActivity:x');
SELECT status, error->'Poison'->'message_type'->'Activity'->>'activity_name' AS activity,
       error->'Poison'->>'attempt_count' AS attempts, error->'Poison'->>'message' AS message
  FROM duroxide.wait_for_orchestration('unknown-activity', '30 s');
SELECT count(*) AS worker_rows_left FROM duroxide.worker_queue;

-- A history row that does not decode: the instance backs off, then fails as poison
-- (FailedDeserialization) without running its code, while the instance woken with it
-- completes. (No resident executions, so that the dispatcher reads the history.)
ALTER SYSTEM SET duroxide.resident_cache_size = 0;
SELECT pg_temp.reload_workers() AS reloaded;
SELECT duroxide.start_orchestration(id, 'WaitForGo', '')
  FROM unnest(ARRAY['corrupt', 'intact']) AS id;
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        EXIT WHEN (SELECT count(*) FROM duroxide.history WHERE event_type = 'ExternalSubscribed'
                     AND instance_id IN ('corrupt', 'intact')) = 2;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
BEGIN;
UPDATE duroxide.history SET event_data = 'not json'
 WHERE instance_id = 'corrupt' AND event_type = 'ExternalSubscribed';
SELECT duroxide.raise_event(id, 'Go', 'ok') FROM unnest(ARRAY['corrupt', 'intact']) AS id;
COMMIT;
SELECT status, output FROM duroxide.wait_for_orchestration('intact', '30 s');
SELECT status, error->'Poison'->>'attempt_count' AS attempts,
       error->'Poison'->>'max_attempts' AS max_attempts,
       error->'Poison'->'message_type'->'FailedDeserialization'->>'instance' AS poisoned_instance,
       error->'Poison'->'message_type'->'FailedDeserialization'->>'execution_id' AS execution,
       error->'Poison'->'message_type'->'FailedDeserialization'->>'error' LIKE '%does not decode%'
         AS says_why
  FROM duroxide.wait_for_orchestration('corrupt', '30 s');
SELECT event_id, event_type FROM duroxide.history WHERE instance_id = 'corrupt' ORDER BY event_id;
-- Its messages went with the poison turn; only its 60 s timer, not yet due, is still queued.
SELECT k AS corrupt_messages_left FROM duroxide.orchestrator_queue q,
       LATERAL jsonb_object_keys(q.work_item::jsonb) k WHERE q.instance_id = 'corrupt';
ALTER SYSTEM RESET duroxide.resident_cache_size;
SELECT pg_reload_conf();

-- Lease expiry mid-activity: the first run of this SQL activity outlives its lease, so its
-- completion and its write roll back; the second run commits. Exactly one row, two runs.
ALTER SYSTEM SET duroxide.worker_lock_timeout = '300ms';
SELECT pg_temp.reload_workers() AS reloaded;
CREATE TABLE public.lease_effects (run bigint, sku text);
CREATE SEQUENCE public.lease_runs;
CREATE FUNCTION public.slow_first_run(sku text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    run bigint := nextval('public.lease_runs'); -- not rolled back: counts every run
BEGIN
    INSERT INTO public.lease_effects VALUES (run, sku);
    IF run = 1 THEN
        PERFORM pg_sleep(1.5);
    END IF;
    RETURN 'run ' || run || ' stored ' || sku;
END
$$;
SELECT duroxide.register_sql_activity('SlowFirstRun', 'public.slow_first_run(text)');
CREATE TEMP TABLE steals_before AS
    SELECT value FROM duroxide.metrics WHERE metric = 'lock_steals';
CREATE TEMP TABLE timed_before AS
    SELECT value FROM duroxide.metrics WHERE metric = 'activity_duration_us_count';
SELECT duroxide.start_orchestration('lease', 'CallActivity', 'SlowFirstRun:S1');
SELECT status, output FROM duroxide.wait_for_orchestration('lease', '30 s');
SELECT run, sku FROM public.lease_effects;
SELECT last_value AS runs FROM public.lease_runs;
-- The first run's worker discards its completion when it wakes, after the second run won.
DO $$
BEGIN
    FOR i IN 1..500 LOOP
        EXIT WHEN (SELECT value FROM duroxide.metrics WHERE metric = 'lock_steals')
                  > (SELECT value FROM steals_before);
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT m.value - b.value AS discarded_completions
  FROM duroxide.metrics m, steals_before b WHERE m.metric = 'lock_steals';
-- activity_duration_us times the recorded run only, not the discarded one.
SELECT m.value - b.value AS timed_runs
  FROM duroxide.metrics m, timed_before b WHERE m.metric = 'activity_duration_us_count';
SELECT run, sku FROM public.lease_effects;

ALTER SYSTEM RESET duroxide.max_attempts;
ALTER SYSTEM RESET duroxide.unregistered_backoff;
ALTER SYSTEM RESET duroxide.worker_lock_timeout;
SELECT pg_reload_conf();
SELECT duroxide.unregister_sql_activity('SlowFirstRun');
SELECT duroxide.unregister_plugin('duroxide_sample');
DROP TABLE public.lease_effects;
DROP SEQUENCE public.lease_runs;
DROP FUNCTION public.slow_first_run(text);
