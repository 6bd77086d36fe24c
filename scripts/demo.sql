-- What the demo runs once its throwaway server is up (scripts/demo.sh): the demo plugin's
-- three orchestrations (examples/demo/duroxide_demo.cpp), run by the background workers, with
-- their results and their histories.
\pset footer off
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION duroxide;
SELECT duroxide.version() AS duroxide_version;

\echo '== register the demo plugin (built with PGXS against the installed headers)'
SELECT duroxide.register_plugin('duroxide_demo') AS handlers_registered;
SELECT kind, name FROM duroxide.registered_handlers WHERE provider = 'duroxide_demo'
 ORDER BY kind DESC, name;

\echo '== start three orchestrations; the workers are woken when this transaction commits'
SELECT v.instance, v.orchestration, v.input
  FROM (VALUES ('demo-hello', 'HelloWorld', 'World'),
               ('demo-fan-out', 'FanOut', 'Ada,Grace,Linus'),
               ('demo-reminder', 'Reminder', 'later')) AS v(instance, orchestration, input)
       CROSS JOIN LATERAL (SELECT duroxide.start_orchestration(v.instance, v.orchestration, v.input)) AS s;

-- == SQL-authored workflow ==================================================================
-- Reserved for the demo's SQL-authored workflow (a workflow defined in SQL, no plugin): define
-- it and start it as 'demo-sql-workflow' here, then add that id to the two ARRAY[...] lists
-- below (results and histories).
-- ============================================================================================

\echo '== wait for them (inside the server: no client polling, no external process)'
SELECT id AS instance, w.status, w.output
  FROM unnest(ARRAY['demo-hello', 'demo-fan-out', 'demo-reminder']) WITH ORDINALITY AS ids(id, n),
       LATERAL duroxide.wait_for_orchestration(id, '30 s') AS w
 ORDER BY n;

\echo '== their histories: each event, what it is for, when (seconds after the instance started)'
WITH h AS (
    SELECT n, instance, event_id, event_type, event, (event->>'timestamp_ms')::bigint AS ms,
           min((event->>'timestamp_ms')::bigint) OVER (PARTITION BY instance) AS start_ms
      FROM unnest(ARRAY['demo-hello', 'demo-fan-out', 'demo-reminder']) WITH ORDINALITY AS ids(instance, n),
           LATERAL duroxide.read_history(instance))
SELECT h.instance, h.event_id AS "#", h.event_type AS event,
       -- a completion names what it completes: the event it answers (source_event_id)
       coalesce(h.event->>'name', src.event->>'name',
                CASE WHEN src.event_type = 'TimerCreated' THEN 'timer' END, '') ||
           coalesce(' (#' || (h.event->>'source_event_id') || ')', '') AS "for",
       to_char((h.ms - h.start_ms) / 1000.0, 'FM+990.000') AS "at (s)",
       left(CASE h.event_type
                WHEN 'TimerCreated' THEN 'fires at ' || to_char(((h.event->>'fire_at_ms')::bigint
                                                               - h.start_ms) / 1000.0, 'FM+990.000')
                WHEN 'CustomStatusUpdated' THEN 'status: ' || coalesce(h.event->>'status', '(none)')
                ELSE coalesce(h.event->>'input', h.event->>'result', h.event->>'output',
                              h.event->'details'->'Application'->>'message', '')
            END, 60) AS detail
  FROM h LEFT JOIN h AS src ON src.instance = h.instance
                           AND src.event_id = (h.event->>'source_event_id')::bigint
 ORDER BY h.n, h.event_id;
