-- What the demo runs once its throwaway server is up (scripts/demo.sh): the demo plugin's
-- three orchestrations (examples/demo/duroxide_demo.cpp) and a workflow written in SQL
-- (docs/workflows.md), run by the background workers, with their results and their histories.
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
\echo '== a workflow written in SQL (no plugin, no restart): an order saga'
-- The application's tables, and a role to run it as: SQL steps run as the role that starts the
-- instance, never as a superuser.
CREATE SCHEMA shop;
CREATE TABLE shop.stock (sku text PRIMARY KEY, qty integer NOT NULL CHECK (qty >= 0));
CREATE TABLE shop.orders (id serial PRIMARY KEY, sku text, qty integer, state text);
INSERT INTO shop.stock VALUES ('A1', 10);
CREATE ROLE demo_shop IN ROLE duroxide_user;
GRANT USAGE ON SCHEMA shop TO demo_shop;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA shop TO demo_shop;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA shop TO demo_shop;
SET ROLE demo_shop;
-- reserve and record the order, wait a (durable) second, wait up to a minute for an approval,
-- then ship; on a rejection or no approval in time, release the stock (compensation)
SELECT duroxide.define_workflow('order_saga', $wf$
{"kind": "seq", "steps": [
  {"kind": "sql", "as": "reserve",
   "query": "UPDATE shop.stock SET qty = qty - $2 WHERE sku = $1 RETURNING qty",
   "params": ["$input.sku", "$input.qty"]},
  {"kind": "sql", "as": "order",
   "query": "INSERT INTO shop.orders (sku, qty, state) VALUES ($1, $2, 'reserved') RETURNING id",
   "params": ["$input.sku", "$input.qty"]},
  {"kind": "sleep", "duration": "1 s"},
  {"kind": "try",
   "body": {"kind": "seq", "steps": [
     {"kind": "set_status", "value": "awaiting approval"},
     {"kind": "wait_event", "event": "approval", "timeout": "1 min", "as": "approval"},
     {"kind": "if", "condition": "not $steps.approval.approved",
      "then": {"kind": "fail", "message": "rejected"}},
     {"kind": "sql", "query": "UPDATE shop.orders SET state = 'shipped' WHERE id = $1",
      "params": ["$steps.order.rows[0].id"]},
     {"kind": "set_status", "value": "shipped"}]},
   "catch": {"kind": "seq", "steps": [
     {"kind": "sql", "query": "UPDATE shop.stock SET qty = qty + $2 WHERE sku = $1",
      "params": ["$input.sku", "$input.qty"]},
     {"kind": "set_status", "value": {"$expr": "'cancelled: ' + $error.message"}}]}},
  {"kind": "return", "value": {"order": "$steps.order.rows[0].id",
                               "stock_left": "$steps.reserve.rows[0].qty"}}]}
$wf$) AS workflow_version;
SELECT duroxide.start_workflow('demo-sql-workflow', 'order_saga', '{"sku": "A1", "qty": 3}');
RESET ROLE;
\echo '== when it waits for its approval, approve it (an external event)'
DO $$
DECLARE
    seen integer := 0;
    got record;
BEGIN
    LOOP  -- each call waits (up to 30 s) for the next change of its custom status
        SELECT * INTO got FROM duroxide.wait_for_status_change('demo-sql-workflow', seen, '30 s');
        EXIT WHEN got.custom_status = 'awaiting approval' OR got.status <> 'Running';
        seen := got.custom_status_version;
    END LOOP;
END
$$;
SELECT duroxide.raise_event('demo-sql-workflow', 'approval', '{"approved": true}');
-- ============================================================================================

\echo '== wait for them (inside the server: no client polling, no external process)'
SELECT id AS instance, w.status, w.output
  FROM unnest(ARRAY['demo-hello', 'demo-fan-out', 'demo-reminder', 'demo-sql-workflow']) WITH ORDINALITY AS ids(id, n),
       LATERAL duroxide.wait_for_orchestration(id, '30 s') AS w
 ORDER BY n;

\echo '== their histories: each event, what it is for, when (seconds after the instance started)'
WITH h AS (
    SELECT n, instance, event_id, event_type, event, (event->>'timestamp_ms')::bigint AS ms,
           min((event->>'timestamp_ms')::bigint) OVER (PARTITION BY instance) AS start_ms
      FROM unnest(ARRAY['demo-hello', 'demo-fan-out', 'demo-reminder', 'demo-sql-workflow']) WITH ORDINALITY AS ids(instance, n),
           LATERAL duroxide.read_history(instance))
SELECT h.instance, h.event_id AS "#", h.event_type AS event,
       -- a completion names what it completes: the event it answers (source_event_id)
       coalesce(CASE WHEN h.event->>'name' = 'duroxide.workflow'   -- the SQL workflow's interpreter
                     THEN 'workflow ' || ((h.event->>'input')::jsonb->>'workflow') END,
                CASE WHEN coalesce(h.event->>'name', src.event->>'name') = '__duroxide_syscall:workflow_sql'
                     THEN 'SQL step' END,
                h.event->>'name', src.event->>'name',
                CASE WHEN src.event_type = 'TimerCreated' THEN 'timer' END, '') ||
           coalesce(' (#' || (h.event->>'source_event_id') || ')', '') AS "for",
       to_char((h.ms - h.start_ms) / 1000.0, 'FM+990.000') AS "at (s)",
       left(CASE h.event_type
                WHEN 'TimerCreated' THEN 'fires at ' || to_char(((h.event->>'fire_at_ms')::bigint
                                                               - h.start_ms) / 1000.0, 'FM+990.000')
                WHEN 'CustomStatusUpdated' THEN 'status: ' || coalesce(h.event->>'status', '(none)')
                WHEN 'ExternalEvent' THEN h.event->>'data'
                ELSE CASE
                    WHEN h.event->>'name' = 'duroxide.workflow'         -- its input, not the definition
                        THEN 'version ' || ((h.event->>'input')::jsonb->>'version') || ', input '
                             || ((h.event->>'input')::jsonb->>'input')
                    WHEN h.event->>'name' = '__duroxide_syscall:workflow_sql'  -- the statement
                        THEN ((h.event->>'input')::jsonb->>'sql')
                             || ' ' || ((h.event->>'input')::jsonb->>'params')
                    ELSE coalesce(h.event->>'input', h.event->>'result', h.event->>'output',
                                  h.event->'details'->'Application'->>'message', '')
                END
            END, 72) AS detail
  FROM h LEFT JOIN h AS src ON src.instance = h.instance
                           AND src.event_id = (h.event->>'source_event_id')::bigint
 ORDER BY h.n, h.event_id;

\echo '== what the SQL workflow did to the application''s tables (each step exactly once)'
SELECT * FROM shop.stock;
SELECT * FROM shop.orders;
