-- workflow_progress (docs/workflows.md, "Progress"): each node's state, derived by replaying
-- the instance's history offline; another role's instance reads as not found.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE ROLE wfp_erin LOGIN;
CREATE ROLE wfp_frank LOGIN;
GRANT duroxide_user TO wfp_erin, wfp_frank;
CREATE SCHEMA wfp;
GRANT USAGE ON SCHEMA wfp TO wfp_erin, wfp_frank;
-- 'ok' or 'SQLSTATE: message'
CREATE FUNCTION wfp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
END
$$;
GRANT EXECUTE ON FUNCTION wfp.try(text) TO wfp_erin, wfp_frank;
-- Waits (with a deadline) until node `node` of `instance` is in `state` (the instance
-- reads as not found until the dispatcher has started it).
CREATE FUNCTION wfp.await_node(instance text, node text, wanted text) RETURNS text
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
GRANT EXECUTE ON FUNCTION wfp.await_node(text, text, text) TO wfp_erin, wfp_frank;

SET ROLE wfp_erin;
SELECT duroxide.start_workflow_definition('wfp-1', '{"kind":"seq","steps":[
  {"kind":"sql","query":"SELECT 1 AS n","as":"one"},
  {"kind":"parallel","branches":[
    {"kind":"sql","query":"SELECT 2 AS n"},
    {"kind":"seq","steps":[{"kind":"sql","query":"SELECT 3 AS n"}]}]},
  {"kind":"wait_event","event":"approve"},
  {"kind":"try","body":{"kind":"sql","query":"SELECT 1/0"},
   "catch":{"kind":"sleep","duration":"10 ms"}}]}');
SELECT wfp.await_node('wfp-1', '$.steps[2]', 'running');
SELECT path, kind, state, attempts, started_at IS NOT NULL AS started,
       finished_at IS NOT NULL AS finished
  FROM duroxide.workflow_progress('wfp-1');
SELECT duroxide.raise_event('wfp-1', 'approve', 'true');
SELECT status FROM duroxide.wait_for_orchestration('wfp-1', '30 s');
SELECT path, kind, state, attempts, started_at IS NOT NULL AS started,
       finished_at IS NOT NULL AS finished,
       finished_at >= started_at AS ordered
  FROM duroxide.workflow_progress('wfp-1');
-- sleep until a timestamp from a sql step's row (a timestamptz, as ISO-8601 text): the
-- clock read is part of the sleep, not a row of its own.
SELECT duroxide.start_workflow_definition('wfp-2', '{"kind":"seq","steps":[
  {"kind":"sql","query":"SELECT clock_timestamp() + interval ''200 ms'' AS due","as":"t"},
  {"kind":"sleep","until":"$steps.t.rows[0].due"},
  {"kind":"sql","query":"SELECT clock_timestamp() >= $1::timestamptz AS late_enough",
   "params":["$steps.t.rows[0].due"]}]}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfp-2', '30 s');
SELECT path, kind, state, attempts FROM duroxide.workflow_progress('wfp-2');
-- if_rows and break: count up in a loop until a sql step finds rows.
SELECT duroxide.start_workflow_definition('wfp-3', '{"kind":"loop","max_iterations":10,"body":
  {"kind":"seq","steps":[
    {"kind":"sql","query":"SELECT 1 AS hit WHERE $1::int >= 2","params":["$iteration"],"as":"probe"},
    {"kind":"if_rows","step":"probe","then":{"kind":"break"}}]}}');
SELECT status FROM duroxide.wait_for_orchestration('wfp-3', '30 s');
SELECT path, kind, state, attempts FROM duroxide.workflow_progress('wfp-3');
-- explain renders the new forms: if_rows with its branch, break, sleep until.
SELECT line FROM duroxide.explain_workflow_definition('{"kind":"loop","max_iterations":3,"body":
  {"kind":"seq","steps":[{"kind":"sql","query":"SELECT 1","as":"p"},
    {"kind":"if_rows","step":"p","then":{"kind":"break"}},
    {"kind":"sleep","until":"$input.due"}]}}') AS line;
-- The builders of these forms.
SELECT duroxide.wf_loop(duroxide.wf_seq(duroxide.wf_sql('SELECT 1', name => 'p'),
                                        duroxide.wf_if_rows('p', duroxide.wf_break()),
                                        duroxide.wf_sleep_until('$input.due')),
                        max_iterations => 3) AS built;
-- A missing instance is not found; a NULL instance is refused.
SELECT wfp.try($$SELECT * FROM duroxide.workflow_progress('wfp-none')$$);
SELECT wfp.try($$SELECT * FROM duroxide.workflow_progress(NULL)$$);
RESET ROLE;

-- Another role's instance reads as not found, exactly like a missing one.
SET ROLE wfp_frank;
SELECT wfp.try($$SELECT * FROM duroxide.workflow_progress('wfp-1')$$);
-- The internal replay is not callable directly.
SELECT wfp.try($$SELECT duroxide._workflow_progress('[]', NULL)$$);
RESET ROLE;

-- Nodes inside branches that ran as child instances are shown from the children's
-- histories (a foreach body's, merged over its items); the internal function stays private.
SET ROLE wfp_erin;
SELECT duroxide.start_workflow_definition('wfp-4', '{"kind":"seq","steps":[
  {"kind":"parallel","branches":[
    {"kind":"sql","query":"SELECT 1 AS n"},
    {"kind":"seq","steps":[{"kind":"sql","query":"SELECT 2 AS n"},
                           {"kind":"sql","query":"SELECT 3 AS n"}]}]},
  {"kind":"foreach","items":"$input","body":{"kind":"seq","steps":[
    {"kind":"sql","query":"SELECT $1::int AS n","params":["$item"]},
    {"kind":"try","body":{"kind":"sql","query":"SELECT 1/0"},
     "catch":{"kind":"return","value":0}}]}}]}', '[1, 2]');
SELECT status FROM duroxide.wait_for_orchestration('wfp-4', '30 s');
SELECT path, kind, state, attempts FROM duroxide.workflow_progress('wfp-4');
SELECT wfp.try($$SELECT duroxide._workflow_progress('[]', '{}')$$);
RESET ROLE;

SELECT instances FROM duroxide.delete_instance('wfp-1');
SELECT instances FROM duroxide.delete_instance('wfp-2');
SELECT instances FROM duroxide.delete_instance('wfp-3');
SELECT instances FROM duroxide.delete_instance('wfp-4');
DROP SCHEMA wfp CASCADE;
DROP OWNED BY wfp_erin, wfp_frank;
DROP ROLE wfp_erin, wfp_frank;
