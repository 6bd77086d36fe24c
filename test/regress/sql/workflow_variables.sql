-- Per-owner workflow variables (docs/workflows.md, "Variables"): set/get/list/delete as the
-- calling role only, bad input refused with SQLSTATE and HINT and nothing written, and a
-- workflow reading $vars from the snapshot recorded in its start (a later change is not seen).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE ROLE wfv_alice LOGIN;
CREATE ROLE wfv_bob LOGIN;
GRANT duroxide_user TO wfv_alice, wfv_bob;
CREATE SCHEMA wfv;
GRANT USAGE ON SCHEMA wfv TO wfv_alice, wfv_bob;
-- 'ok' or 'SQLSTATE: message (HINT)'
CREATE FUNCTION wfv.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || coalesce(' (' || nullif(hint, '') || ')', '');
END
$$;
-- Waits (with a deadline) until an instance's custom status is `status`.
CREATE FUNCTION wfv.await_status(instance text, status text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    seen integer := 0;
    got record;
BEGIN
    LOOP
        SELECT * INTO got FROM duroxide.wait_for_status_change(instance, seen, '30 s');
        IF got.custom_status = status THEN
            RETURN got.custom_status;
        END IF;
        seen := got.custom_status_version;
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION wfv.try(text), wfv.await_status(text, text) TO wfv_alice, wfv_bob;

SET ROLE wfv_alice;
SELECT duroxide.set_variable('region', '"eu"');
SELECT duroxide.set_variable('limits', '{"max": 3}');
SELECT duroxide.set_variable('region', '"eu-west"');  -- replaces
SELECT name, value FROM duroxide.list_variables();
SELECT duroxide.get_variable('region') AS region, duroxide.get_variable('nope') AS missing;
-- Bad input: SQLSTATE and HINT, nothing written.
SELECT wfv.try($$SELECT duroxide.set_variable(NULL, '1')$$);
SELECT wfv.try($$SELECT duroxide.set_variable('9lives', '1')$$);
SELECT wfv.try($$SELECT duroxide.set_variable('has space', '1')$$);
SELECT wfv.try($$SELECT duroxide.set_variable('empty', NULL)$$);
SELECT wfv.try($$SELECT duroxide.set_variable('big', to_jsonb(repeat('x', 70000)))$$);
SELECT wfv.try($$SELECT duroxide.get_variable(repeat('y', 200))$$);
SELECT count(*) AS variables FROM duroxide.list_variables();
-- The table itself is closed to users.
SELECT wfv.try($$SELECT * FROM duroxide.variables$$);
SELECT wfv.try($$INSERT INTO duroxide.variables VALUES (1, 'x', '1')$$);

-- Another role sees and changes only its own.
SET ROLE wfv_bob;
SELECT count(*) AS alice_visible FROM duroxide.list_variables();
SELECT duroxide.get_variable('region') AS alice_region;
SELECT duroxide.delete_variable('region') AS deleted_alices;
SELECT duroxide.set_variable('region', '"us"');
SELECT name, value FROM duroxide.list_variables();
SET ROLE wfv_alice;
SELECT duroxide.get_variable('region') AS still_alices;

-- A workflow reads the starter's variables as $vars, from the snapshot taken at its start.
SELECT duroxide.define_workflow('wfv_region', '{"kind":"seq","steps":[
  {"kind":"set_status","value":"waiting"},
  {"kind":"wait_event","event":"go","as":"go"},
  {"kind":"return","value":{"region":"$vars.region","max":"$vars.limits.max","none":"$vars.nope"}}]}');
SELECT duroxide.start_workflow('wfv-a', 'wfv_region');
SELECT wfv.await_status('wfv-a', 'waiting');
SELECT duroxide.set_variable('region', '"changed"');  -- after the start: not seen by wfv-a
SELECT duroxide.raise_event('wfv-a', 'go', '{}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfv-a', '30 s');
-- Its exact history: the variables are in the recorded start input, nowhere else.
SELECT event_id, event_type FROM duroxide.read_history('wfv-a');
SELECT (event->>'input')::jsonb->'vars' AS recorded_vars
  FROM duroxide.read_history('wfv-a') WHERE event_type = 'OrchestrationStarted';
SELECT duroxide.grant_workflow('wfv_region', 'wfv_bob');
-- Bob starting Alice's workflow reads Bob's variables, never Alice's.
SET ROLE wfv_bob;
SELECT duroxide.start_workflow('wfv-b', 'wfv_region', version => '1.0.0') AS version;
SELECT wfv.await_status('wfv-b', 'waiting');
SELECT duroxide.raise_event('wfv-b', 'go', '{}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfv-b', '30 s');
-- A branch that runs as a child instance (the seq) gets the same snapshot.
SELECT duroxide.start_workflow_definition('wfv-p', '{"kind":"parallel","branches":[
  {"kind":"return","value":"$vars.region"},
  {"kind":"seq","steps":[{"kind":"sleep","duration":"1 ms"},{"kind":"return","value":"$vars.region"}]}]}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfv-p', '30 s');
-- Without variables no "vars" is recorded.
SELECT duroxide.delete_variable('region') AS deleted;
SELECT duroxide.start_workflow_definition('wfv-c', '{"kind":"return","value":"$vars.region"}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfv-c', '30 s');
SELECT (event->>'input')::jsonb ? 'vars' AS has_vars
  FROM duroxide.read_history('wfv-c') WHERE event_type = 'OrchestrationStarted';

RESET ROLE;
SELECT duroxide.drop_workflow('wfv_region');
DROP SCHEMA wfv CASCADE;
DELETE FROM duroxide.variables
 WHERE owner_role IN ('wfv_alice'::regrole, 'wfv_bob'::regrole);
DROP OWNED BY wfv_alice, wfv_bob;
DROP ROLE wfv_alice, wfv_bob;
