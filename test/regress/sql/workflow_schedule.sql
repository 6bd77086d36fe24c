-- wait_for_schedule (docs/workflows.md): the cron arithmetic through duroxide.cron_next_fire
-- (fixed times, so exact results, daylight-saving changes included), definition-time
-- refusals, and a running node's exact history (the fire time recorded before the timer).
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE ROLE wfs_gina LOGIN;
GRANT duroxide_user TO wfs_gina;
CREATE SCHEMA wfs;
GRANT USAGE ON SCHEMA wfs TO wfs_gina;
-- 'ok' or 'SQLSTATE: message (DETAIL)'
CREATE FUNCTION wfs.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
    RETURN state || ': ' || message || coalesce(' (' || nullif(detail, '') || ')', '');
END
$$;
GRANT EXECUTE ON FUNCTION wfs.try(text) TO wfs_gina;
-- Waits (with a deadline) until node `node` of `instance` is in `state`.
CREATE FUNCTION wfs.await_node(instance text, node text, wanted text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '30 s';
BEGIN
    LOOP
        BEGIN
            IF EXISTS (SELECT FROM duroxide.workflow_progress(instance) p
                        WHERE p.path = node AND p.state = wanted) THEN
                RETURN wanted;
            END IF;
        EXCEPTION WHEN no_data_found THEN
            NULL;
        END;
        IF clock_timestamp() > deadline THEN
            RETURN 'timed out';
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION wfs.await_node(text, text, text) TO wfs_gina;

SET ROLE wfs_gina;
-- UTC: weekdays at 09:30, from a Friday evening; every 15 minutes; strictly after.
SELECT duroxide.cron_next_fire('30 9 * * MON-FRI', '2026-12-11 18:00+00');
SELECT duroxide.cron_next_fire('*/15 * * * *', '2026-12-07 10:44:59.9+00');
SELECT duroxide.cron_next_fire('0 9 * * *', '2026-12-07 09:00+00');
-- The 13th or a Friday (both fields restricted: either matches).
SELECT duroxide.cron_next_fire('0 0 13 * FRI', '2026-12-07 00:00+00');
SELECT duroxide.cron_next_fire('@monthly', '2026-12-07 00:00+00');
-- In a zone: 09:00 in Paris is 08:00 UTC in winter and 07:00 in summer.
SELECT duroxide.cron_next_fire('0 9 * * *', '2026-12-07 00:00+00', 'Europe/Paris');
SELECT duroxide.cron_next_fire('0 9 * * *', '2027-07-01 00:00+00', 'Europe/Paris');
-- New York, spring forward (2027-03-14): 02:30 does not exist; it fires at 03:30 EDT.
SELECT duroxide.cron_next_fire('30 2 * * *', '2027-03-14 05:00+00', 'America/New_York');
-- Fall back (2027-11-07): 01:30 happens twice; it fires once, at the second (EST).
SELECT duroxide.cron_next_fire('30 1 * * *', '2027-11-07 04:00+00', 'America/New_York');
SELECT duroxide.cron_next_fire('30 1 * * *', '2027-11-07 06:30+00', 'America/New_York');
-- Bad input: a clear error.
SELECT wfs.try($$SELECT duroxide.cron_next_fire('61 * * * *')$$);
SELECT wfs.try($$SELECT duroxide.cron_next_fire('* * * *')$$);
SELECT wfs.try($$SELECT duroxide.cron_next_fire('0 0 30 2 *')$$);
SELECT wfs.try($$SELECT duroxide.cron_next_fire('* * * * *', now(), 'Mars/Olympus')$$);
SELECT wfs.try($$SELECT duroxide.cron_next_fire(NULL)$$);
SELECT wfs.try($$SELECT duroxide.cron_next_fire('* * * * *', NULL)$$);

-- Definitions: the builder; a bad expression or an unknown zone is refused at define time
-- with the node's path, and nothing is written.
SELECT duroxide.wf_wait_for_schedule('0 9 * * MON-FRI', 'Europe/Paris', 'tick');
SELECT wfs.try($$SELECT duroxide.define_workflow('wfs_bad', duroxide.wf_seq(VARIADIC ARRAY[
    duroxide.wf_wait_for_schedule('0 25 * * *')]))$$);
SELECT wfs.try($$SELECT duroxide.define_workflow('wfs_bad', duroxide.wf_seq(VARIADIC ARRAY[
    duroxide.wf_wait_for_schedule('0 9 * * *', 'Mars/Olympus')]))$$);
SELECT wfs.try($$SELECT duroxide.define_workflow('wfs_bad', '{"kind":"wait_for_schedule","cron":"@often"}')$$);
SELECT wfs.try($$SELECT duroxide.start_workflow_definition('wfs-bad', '{"kind":"wait_for_schedule","cron":"* * * * *","timezone":"x;y"}')$$);
SELECT count(*) AS bad_written FROM duroxide.workflows WHERE name = 'wfs_bad';
SELECT duroxide.define_workflow('wfs_new_year', duroxide.wf_seq(VARIADIC ARRAY[
    duroxide.wf_wait_for_schedule('0 0 1 1 *', 'Pacific/Auckland', 'fired'),
    '{"kind":"return","value":"$steps.fired"}'::jsonb]));
SELECT line FROM duroxide.explain_workflow('wfs_new_year') AS line LIMIT 3;

-- Running: the fire time comes from a system activity and is recorded; then the clock; then
-- one timer that fires at the recorded time. The node stays running until then.
SELECT duroxide.start_workflow('wfs-1', 'wfs_new_year');
SELECT wfs.await_node('wfs-1', '$.steps[0]', 'running');
SELECT event_id, event_type, event->>'source_event_id' AS source,
       CASE WHEN event_type = 'ActivityScheduled' THEN event->>'name' END AS activity
  FROM duroxide.read_history('wfs-1');
SELECT (s.event->>'input')::jsonb AS schedule_input
  FROM duroxide.read_history('wfs-1') s WHERE s.event_id = 2;
-- The recorded fire time is next New Year's midnight in Auckland, and the timer is set to it
-- from the recorded clock (the engine adds the delay to its turn's time, so the timer is late
-- by exactly the time between the clock read and that turn).
SELECT (c.event->>'result')::jsonb->>'fire_at' = to_char(
           duroxide.cron_next_fire('0 0 1 1 *', now(), 'Pacific/Auckland'),
           'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS new_year_in_auckland,
       (t.event->>'fire_at_ms')::bigint
           = ((c.event->>'result')::jsonb->>'fire_at_ms')::bigint
             + ((t.event->>'timestamp_ms')::bigint - (n.event->>'result')::bigint)
           AS timer_at_fire_time
  FROM duroxide.read_history('wfs-1') c, duroxide.read_history('wfs-1') n,
       duroxide.read_history('wfs-1') t
 WHERE c.event_id = 3 AND n.event_id = 5 AND t.event_type = 'TimerCreated';
SELECT path, kind, state, attempts FROM duroxide.workflow_progress('wfs-1');
SELECT duroxide.cancel_instance('wfs-1', 'test over');
SELECT status FROM duroxide.wait_for_orchestration('wfs-1', '30 s');
RESET ROLE;
DROP SCHEMA wfs CASCADE;

-- The roles are cluster-wide: dropped, so that the suite runs again on the same server.
DROP OWNED BY wfs_gina;
DROP ROLE wfs_gina;
