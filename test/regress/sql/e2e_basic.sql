-- End to end through the background workers with the sample plugin: reference scenarios with
-- their outputs, statuses and history sequences.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;

-- Scenario 1: hello world, with the exact history.
SELECT duroxide.start_orchestration('inst-sample-hello-1', 'HelloWorld', 'World');
SELECT status, output FROM duroxide.wait_for_orchestration('inst-sample-hello-1', '30 s');
SELECT event_id, event_type, event->>'source_event_id' AS source,
       coalesce(event->>'name', '') AS name, coalesce(event->>'input', event->>'result', event->>'output', '') AS payload
  FROM duroxide.read_history('inst-sample-hello-1');
-- The history rows hold each event without what their columns hold (event id, instance,
-- execution, type), a null source or the library version (the stored form); read_history
-- returns the events whole, as duroxide writes them.
SELECT h.event_id, h.event_data::jsonb - 'timestamp_ms' AS stored,
       r.event - 'timestamp_ms' AS read
  FROM duroxide.history h JOIN duroxide.read_history('inst-sample-hello-1') r USING (event_id)
 WHERE h.instance_id = 'inst-sample-hello-1' ORDER BY 1;
SELECT count(*) AS queue_rows_left FROM duroxide.worker_queue WHERE instance_id = 'inst-sample-hello-1';

-- Scenarios 2-7, 14, 18 and error handling, started together and waited for.
SELECT duroxide.start_orchestration('fan', 'FanOut', 'Gabbar,Samba');
SELECT duroxide.start_orchestration('loop', 'Loop', 'start');
SELECT duroxide.start_orchestration('timer', 'Timer', '20');
SELECT duroxide.start_orchestration('comp', 'Compensate', '');
SELECT duroxide.start_orchestration('unhandled', 'Unhandled', 'Input cannot be empty');
SELECT duroxide.start_orchestration('status', 'WithStatus', '');
SELECT duroxide.start_orchestration('counter', 'Counter', '0');
SELECT duroxide.start_orchestration('latest', 'Versioned', '');
SELECT duroxide.start_orchestration('pinned', 'Versioned', '', '1.0.0');
SELECT id, w.status, w.output, w.error->'Application'->>'message' AS error_message,
       w.custom_status, w.custom_status_version, w.execution_id, w.orchestration_version
  FROM unnest(ARRAY['fan', 'loop', 'timer', 'comp', 'unhandled', 'status', 'counter', 'latest',
                    'pinned']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;

-- The fan-out scheduled both activities in its first turn (events 2 and 3).
SELECT event_id, event_type FROM duroxide.read_history('fan') WHERE event_id <= 3;
-- The timer's history: created, fired, completed.
SELECT event_id, event_type FROM duroxide.read_history('timer');
-- Continue-as-new: four executions, each history restarting at event 1.
SELECT execution_id, status, output FROM duroxide.executions WHERE instance_id = 'counter'
 ORDER BY execution_id;
SELECT execution_id, min(event_id), max(event_id) FROM duroxide.history
 WHERE instance_id = 'counter' GROUP BY execution_id ORDER BY execution_id;

-- Scenario 9: an external event raised after the wait is recorded wins the race.
SELECT duroxide.start_orchestration('go', 'WaitForGo', '');
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM duroxide.read_history('go') WHERE event_type = 'ExternalSubscribed');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT duroxide.raise_event('go', 'Go', 'ok');
SELECT status, output FROM duroxide.wait_for_orchestration('go', '30 s');

-- Cancellation: a waiting instance fails with the reason; its open timer stays harmless.
SELECT duroxide.start_orchestration('to-cancel', 'WaitForGo', '');
DO $$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM duroxide.read_history('to-cancel') WHERE event_type = 'ExternalSubscribed');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT duroxide.cancel_instance('to-cancel', 'user_request');
SELECT status, error->'Application'->'kind' AS kind
  FROM duroxide.wait_for_orchestration('to-cancel', '30 s');

-- Duplicate start is a no-op (scenario 25).
SELECT duroxide.start_orchestration('inst-sample-hello-1', 'HelloWorld', 'Again');
-- Once the dispatcher has taken the duplicate start from the queue, it has decided on it.
DO $$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN NOT EXISTS (SELECT 1 FROM duroxide.orchestrator_queue
                               WHERE instance_id = 'inst-sample-hello-1');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT count(*) AS duplicate_start_left FROM duroxide.orchestrator_queue
 WHERE instance_id = 'inst-sample-hello-1';
SELECT count(*) FILTER (WHERE event_type = 'OrchestrationStarted') AS starts,
       count(*) FILTER (WHERE event_type = 'OrchestrationCompleted') AS completions
  FROM duroxide.read_history('inst-sample-hello-1');

-- SQL activities: the function's write commits with the activity's completion.
CREATE TABLE public.e2e_orders (id serial PRIMARY KEY, sku text);
CREATE FUNCTION public.e2e_record_order(sku text) RETURNS text LANGUAGE sql AS $$
    INSERT INTO public.e2e_orders (sku) VALUES (sku) RETURNING 'order ' || id || ' for ' || sku
$$;
SELECT duroxide.register_sql_activity('RecordOrder', 'public.e2e_record_order(text)');
SELECT duroxide.start_orchestration('sql-act', 'CallActivity', 'RecordOrder:A1');
SELECT status, output FROM duroxide.wait_for_orchestration('sql-act', '30 s');
SELECT sku FROM public.e2e_orders;
-- A failing SQL activity rolls its writes back and fails the orchestration with the error.
CREATE FUNCTION public.e2e_bad_order(sku text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.e2e_orders (sku) VALUES ('never-' || sku);
    RAISE EXCEPTION 'out of stock: %', sku;
END
$$;
SELECT duroxide.register_sql_activity('BadOrder', 'public.e2e_bad_order(text)');
SELECT duroxide.start_orchestration('sql-bad', 'CallActivity', 'BadOrder:B2');
SELECT status, error->'Application'->>'message' AS message
  FROM duroxide.wait_for_orchestration('sql-bad', '30 s');
SELECT count(*) AS rolled_back_rows FROM public.e2e_orders WHERE sku LIKE 'never-%';

-- Client API input checks: nothing is written.
SELECT duroxide.start_orchestration('', 'HelloWorld', 'x');
SELECT duroxide.start_orchestration(NULL, 'HelloWorld', 'x');
SELECT duroxide.start_orchestration(repeat('i', 300), 'HelloWorld', 'x');
SELECT duroxide.start_orchestration('v', 'HelloWorld', 'x', 'not-a-version');
SET duroxide.max_payload_size = '1kB';
SELECT duroxide.start_orchestration('big', 'HelloWorld', repeat('x', 2000));
RESET duroxide.max_payload_size;
SELECT * FROM duroxide.wait_for_orchestration('x', '-1 s');
SELECT status FROM duroxide.get_orchestration_status('never-started');
BEGIN;
SELECT duroxide.start_orchestration('uncommitted', 'HelloWorld', 'x');
SELECT * FROM duroxide.wait_for_orchestration('uncommitted', '1 s');
ROLLBACK;

-- Workers did the work, woken at commit.
SELECT value > 0 AS turns FROM duroxide.metrics WHERE metric = 'orchestration_turns';
SELECT value > 0 AS woken_at_commit FROM duroxide.metrics WHERE metric = 'wake_ups';
-- Waiting executions stayed resident: later turns resumed their code instead of replaying.
SELECT value > 0 AS resumed_turns FROM duroxide.metrics WHERE metric = 'resident_cache_hits';

SELECT duroxide.unregister_sql_activity('RecordOrder'), duroxide.unregister_sql_activity('BadOrder');
SELECT duroxide.unregister_plugin('duroxide_sample');
DROP TABLE public.e2e_orders;
DROP FUNCTION public.e2e_record_order(text), public.e2e_bad_order(text);
