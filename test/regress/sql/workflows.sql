-- SQL-authored workflows (docs/workflows.md): definitions, validation, the interpreter's node
-- kinds end to end, versioning and the role SQL steps run as.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
DROP ROLE IF EXISTS wf_alice, wf_bob;  -- left by an earlier run on this server
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE ROLE wf_alice LOGIN;
CREATE ROLE wf_bob LOGIN;
GRANT duroxide_user TO wf_alice, wf_bob;
CREATE SCHEMA wf;
GRANT USAGE ON SCHEMA wf TO wf_alice, wf_bob;
CREATE TABLE wf.stock (sku text PRIMARY KEY, qty integer NOT NULL CHECK (qty >= 0));
CREATE TABLE wf.orders (id serial PRIMARY KEY, sku text, qty integer, state text);
CREATE TABLE wf.secret (note text);
INSERT INTO wf.stock VALUES ('A1', 10);
INSERT INTO wf.secret VALUES ('alice only');
GRANT SELECT, INSERT, UPDATE ON wf.stock, wf.orders TO wf_alice, wf_bob;
GRANT USAGE ON SEQUENCE wf.orders_id_seq TO wf_alice, wf_bob;
GRANT SELECT ON wf.secret TO wf_alice;
-- 'ok' or 'SQLSTATE: message (DETAIL)'
CREATE FUNCTION wf.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN state || ': ' || message || coalesce(' (' || nullif(detail, '') || ')', '');
END
$$;
GRANT EXECUTE ON FUNCTION wf.try(text) TO wf_alice, wf_bob;
-- Waits (with a deadline) until an instance's custom status is `status`.
CREATE FUNCTION wf.await_status(instance text, status text) RETURNS text LANGUAGE plpgsql AS $$
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
GRANT EXECUTE ON FUNCTION wf.await_status(text, text) TO wf_alice, wf_bob;

SET ROLE wf_alice;
-- Defining: versions are immutable, an omitted version is the next patch.
SELECT duroxide.define_workflow('order', '{"kind":"seq","steps":[
  {"kind":"sql","as":"reserve","query":"UPDATE wf.stock SET qty = qty - $2 WHERE sku = $1 RETURNING qty","params":["$input.sku","$input.qty"]},
  {"kind":"sql","as":"order","query":"INSERT INTO wf.orders (sku, qty, state) VALUES ($1, $2, ''reserved'') RETURNING id","params":["$input.sku","$input.qty"]},
  {"kind":"sql","query":"UPDATE wf.orders SET state = ''shipped'' WHERE id = $1","params":["$steps.order.rows[0].id"]},
  {"kind":"return","value":{"order":"$steps.order.rows[0].id","left":"$steps.reserve.rows[0].qty"}}]}');
SELECT duroxide.define_workflow('order', '{"kind":"return","value":"v2"}');
SELECT duroxide.define_workflow('order', '{"kind":"return","value":"v3"}', '2.0.0');
SELECT wf.try($$SELECT duroxide.define_workflow('order', '{"kind":"return","value":1}', '1.5.0')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('order', '{"kind":"return","value":1}', 'one')$$);
SELECT name, version, owner, latest, in_use FROM duroxide.workflows ORDER BY name, version;

-- Bad definitions: SQLSTATE 22023, the JSON path in DETAIL, and nothing written.
SELECT wf.try($$SELECT duroxide.define_workflow('bad', '{"kind":"seq","steps":[{"kind":"launch"}]}')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('bad', '{"kind":"seq","steps":[{"kind":"sql"}]}')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('bad', '{"kind":"sql","query":["SELECT 1"]}')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('bad', '{"kind":"seq","steps":[{"kind":"return","value":"$steps.later"},{"kind":"sql","query":"SELECT 1","as":"later"}]}')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('bad', '{"kind":"sleep","duration":"soon"}')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('bad', '{"kind":"seq","steps":[{"kind":"sleep","duration":"1 s","as":"x"},{"kind":"sleep","duration":"1 s","as":"x"}]}')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('bad', '{"kind":"if","condition":"$input.n >> 2","then":{"kind":"return","value":1}}')$$);
SELECT wf.try(format('SELECT duroxide.define_workflow(%L, %L)', 'bad',
    repeat('{"kind":"seq","steps":[', 30) || '{"kind":"return","value":1}' || repeat(']}', 30)));
SELECT wf.try(format('SELECT duroxide.define_workflow(%L, %L)', 'bad',
    '{"kind":"sql","query":"' || repeat('x', 140000) || '"}'));
SELECT wf.try($$SELECT duroxide.define_workflow('bad name!', '{"kind":"return","value":1}')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('bad', NULL)$$);
SELECT wf.try($$SELECT duroxide.start_workflow_definition('adhoc-bad', '{"kind":"nope"}')$$);
SELECT count(*) AS bad_written FROM duroxide.workflows WHERE name = 'bad';

-- A 3-step SQL workflow, version 1.0.0: each step's writes happen exactly once.
SELECT duroxide.start_workflow('wf-order-1', 'order', '{"sku":"A1","qty":3}', '1.0.0');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-order-1', '30 s');
SELECT qty FROM wf.stock;
SELECT id, sku, qty, state FROM wf.orders ORDER BY id;
-- Its exact history: each SQL step is one system activity; the input pins the version.
SELECT event_id, event_type, event->>'source_event_id' AS source,
       CASE WHEN event_type = 'ActivityScheduled' THEN event->>'name' END AS activity
  FROM duroxide.read_history('wf-order-1');
SELECT (event->>'input')::jsonb->>'version' AS pinned_version
  FROM duroxide.read_history('wf-order-1') WHERE event_type = 'OrchestrationStarted';
-- The newest version by default.
SELECT duroxide.start_workflow('wf-order-3', 'order', NULL);
SELECT status, output FROM duroxide.wait_for_orchestration('wf-order-3', '30 s');
-- A failing statement fails the step; its writes are rolled back.
SELECT duroxide.start_workflow_definition('wf-oversold', '{"kind":"sql","query":"UPDATE wf.stock SET qty = qty - 100 WHERE sku = ''A1''"}');
SELECT status, error->'Application'->>'message' AS error FROM duroxide.wait_for_orchestration('wf-oversold', '30 s');
SELECT qty FROM wf.stock;
SELECT wf.try($$SELECT duroxide.start_workflow('wf-none', 'no_such_workflow')$$);

-- parallel joins every branch (a branch of several steps runs as a child instance).
SELECT duroxide.start_workflow_definition('wf-par', '{"kind":"seq","steps":[
  {"kind":"parallel","branches":[
     {"kind":"sql","query":"SELECT 1 AS n","as":"a"},
     {"kind":"seq","steps":[{"kind":"sql","query":"SELECT 2 AS n","as":"b"},
                            {"kind":"sql","query":"SELECT $1::int * 10 AS n","params":["$steps.b.rows[0].n"],"as":"c"}]}]},
  {"kind":"return","value":{"$expr":"$steps.a.rows[0].n + $steps.c.rows[0].n"}}]}');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-par', '30 s');

-- race: the first branch to finish wins; the loser (an SQL step no worker serves) is withdrawn.
SELECT duroxide.start_workflow_definition('wf-race', '{"kind":"seq","steps":[
  {"kind":"set_status","value":"racing"},
  {"kind":"race","branches":[{"kind":"sql","query":"SELECT 1","tag":"nobody_serves_this"},
                             {"kind":"wait_event","event":"go"}],"as":"race"},
  {"kind":"return","value":"$steps.race"}]}');
SELECT wf.await_status('wf-race', 'racing');
SELECT duroxide.raise_event('wf-race', 'go', '{"by":"test"}');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-race', '30 s');
RESET ROLE;
SELECT count(*) AS loser_rows FROM duroxide.worker_queue WHERE instance_id = 'wf-race';
SET ROLE wf_alice;

-- if, sleep, set_status, wait_event with raise_event.
SELECT duroxide.start_workflow_definition('wf-if', '{"kind":"seq","steps":[
  {"kind":"sleep","duration":"100 ms"},
  {"kind":"if","condition":"$input.amount > 100","then":{"kind":"set_status","value":"needs approval"},
   "else":{"kind":"return","value":"auto-approved"}},
  {"kind":"wait_event","event":"approve","timeout":"1 h","as":"decision"},
  {"kind":"return","value":{"approved_by":"$steps.decision.by"}}]}', '{"amount":500}');
SELECT wf.await_status('wf-if', 'needs approval');
SELECT duroxide.raise_event('wf-if', 'approve', '{"by":"carol"}');
SELECT status, output, custom_status FROM duroxide.wait_for_orchestration('wf-if', '30 s');
SELECT duroxide.start_workflow_definition('wf-if-small', '{"kind":"if","condition":"$input.amount > 100",
  "then":{"kind":"return","value":"big"},"else":{"kind":"return","value":"auto-approved"}}', '{"amount":5}');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-if-small', '30 s');

-- try/catch compensation: a failed step after a write runs the compensation, finally runs.
SELECT duroxide.start_workflow_definition('wf-saga', '{"kind":"try",
  "body":{"kind":"seq","steps":[
     {"kind":"sql","query":"INSERT INTO wf.orders (sku, qty, state) VALUES (''A1'', 1, ''reserved'') RETURNING id","as":"o"},
     {"kind":"sql","query":"SELECT 1 / 0"}]},
  "catch":{"kind":"seq","steps":[
     {"kind":"sql","query":"UPDATE wf.orders SET state = ''compensated'' WHERE state = ''reserved''"},
     {"kind":"return","value":{"compensated":true,"because":"$error.message"}}]},
  "finally":{"kind":"set_status","value":"closed"}}');
SELECT status, output, custom_status FROM duroxide.wait_for_orchestration('wf-saga', '30 s');
SELECT state, count(*) FROM wf.orders GROUP BY state ORDER BY state;

-- Versioning: redefining while an instance waits; the old one finishes on its version, new
-- ones use the new one; a version in use cannot be dropped.
SELECT duroxide.define_workflow('approval', '{"kind":"seq","steps":[
  {"kind":"set_status","value":"waiting"},{"kind":"wait_event","event":"go"},{"kind":"return","value":"v1"}]}');
SELECT duroxide.start_workflow('wf-v1', 'approval');
SELECT wf.await_status('wf-v1', 'waiting');
SELECT duroxide.define_workflow('approval', '{"kind":"return","value":"v2"}');
SELECT duroxide.start_workflow('wf-v2', 'approval');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-v2', '30 s');
SELECT wf.try($$SELECT duroxide.drop_workflow('approval', '1.0.0')$$);
SELECT name, version, in_use FROM duroxide.workflows WHERE name = 'approval' ORDER BY version;
SELECT duroxide.raise_event('wf-v1', 'go', '');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-v1', '30 s');
SELECT duroxide.drop_workflow('approval', '1.0.0');
SELECT duroxide.show_workflow('approval');
-- A version policy pins the version new instances get.
SELECT duroxide.define_workflow('approval', '{"kind":"return","value":"v3"}');
SELECT duroxide.set_workflow_version_policy('approval', '1.0.1');
SELECT duroxide.start_workflow('wf-pinned', 'approval');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-pinned', '30 s');
SELECT wf.try($$SELECT duroxide.set_workflow_version_policy('approval', '9.9.9')$$);
-- A sub_workflow without a version follows the policy too.
SELECT duroxide.start_workflow_definition('wf-sub', '{"kind":"seq","steps":[
  {"kind":"sub_workflow","workflow":"approval","as":"pinned"},
  {"kind":"sub_workflow","workflow":"approval","version":"1.0.2","as":"exact"},
  {"kind":"return","value":["$steps.pinned","$steps.exact"]}]}');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-sub', '30 s');
SELECT duroxide.set_workflow_version_policy('approval', NULL);
SELECT duroxide.start_workflow('wf-unpinned', 'approval');

-- Security: SQL steps run as the role that started the instance, never as the definer.
SELECT duroxide.define_workflow('whoami', '{"kind":"seq","steps":[
  {"kind":"sql","query":"SELECT current_user AS who","as":"me"},
  {"kind":"sql","query":"SELECT note FROM wf.secret","as":"secret"},
  {"kind":"return","value":{"who":"$steps.me.rows[0].who","note":"$steps.secret.rows[0].note"}}]}');
SELECT duroxide.start_workflow('wf-alice-who', 'whoami');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-alice-who', '30 s');
RESET ROLE;
SET ROLE wf_bob;
-- Bob may not see nor start alice's workflow until she grants it.
SELECT count(*) FROM duroxide.workflows WHERE name = 'whoami';
SELECT wf.try($$SELECT duroxide.start_workflow('wf-bob-who', 'whoami')$$);
SELECT wf.try($$SELECT duroxide.define_workflow('whoami', '{"kind":"return","value":"mine"}')$$);
RESET ROLE;
SET ROLE wf_alice;
SELECT duroxide.grant_workflow('whoami', 'wf_bob');
RESET ROLE;
SET ROLE wf_bob;
SELECT duroxide.start_workflow('wf-bob-who', 'whoami', version => '1.0.0');
-- Bob cannot read wf.secret, and neither can his instance of alice's workflow.
SELECT status, error->'Application'->>'message' AS error FROM duroxide.wait_for_orchestration('wf-bob-who', '30 s');
SELECT duroxide.start_workflow_definition('wf-bob-write', '{"kind":"sql","query":"INSERT INTO wf.secret VALUES (''bob was here'')"}');
SELECT status, error->'Application'->>'message' AS error FROM duroxide.wait_for_orchestration('wf-bob-write', '30 s');
SELECT duroxide.start_workflow_definition('wf-bob-me', '{"kind":"sql","query":"SELECT current_user AS who"}');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-bob-me', '30 s');
RESET ROLE;
-- An instance of alice's workflow started by bob shows bob as the SQL steps' role.
SET ROLE wf_alice;
SELECT duroxide.define_workflow('who', '{"kind":"sql","query":"SELECT current_user AS who"}');
SELECT duroxide.grant_workflow('who', 'wf_bob');
SET ROLE wf_bob;
SELECT duroxide.start_workflow('wf-bob-who2', 'who', version => '1.0.0');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-bob-who2', '30 s');
-- Nor can a step act as anyone else through the SECURITY DEFINER functions: inside a step the
-- calling role is the starter (bob cannot grant himself alice's workflow, nor cancel her
-- instances).
SET ROLE wf_alice;
SELECT duroxide.define_workflow('private', '{"kind":"return","value":1}');
SELECT duroxide.start_workflow_definition('wf-alice-waits', '{"kind":"wait_event","event":"never"}');
SET ROLE wf_bob;
SELECT duroxide.start_workflow_definition('wf-bob-escalate', '{"kind":"seq","steps":[
  {"kind":"sql","query":"SELECT duroxide._may_access(0) AS reaches_others"}]}');
SELECT status, output, error->'Application'->>'message' AS error FROM duroxide.wait_for_orchestration('wf-bob-escalate', '30 s');
SELECT duroxide.start_workflow_definition('wf-bob-grant', '{"kind":"sql","query":"SELECT duroxide.grant_workflow(''private'', ''wf_bob'')"}');
SELECT status, error->'Application'->>'message' AS error FROM duroxide.wait_for_orchestration('wf-bob-grant', '30 s');
SELECT count(*) AS bob_sees_private FROM duroxide.workflows WHERE name = 'private';
SELECT duroxide.start_workflow_definition('wf-bob-cancel', '{"kind":"sql","query":"SELECT duroxide.cancel_instance(''wf-alice-waits'', ''by bob'')"}');
SELECT status, output, error->'Application'->>'message' AS error FROM duroxide.wait_for_orchestration('wf-bob-cancel', '30 s');
SELECT duroxide.start_workflow_definition('wf-bob-role', '{"kind":"sql","query":"SELECT current_user AS who, current_setting(''role'') AS role"}');
SELECT status, output FROM duroxide.wait_for_orchestration('wf-bob-role', '30 s');
RESET ROLE;
SELECT status FROM duroxide.get_orchestration_status('wf-alice-waits');
SELECT duroxide.cancel_instance('wf-alice-waits', 'test over');
SELECT note FROM wf.secret;   -- bob's step wrote nothing
-- A superuser's instance runs no SQL step.
SELECT duroxide.start_workflow_definition('wf-super', '{"kind":"sql","query":"SELECT 1"}');
SELECT status, error->'Application'->>'message' AS error FROM duroxide.wait_for_orchestration('wf-super', '30 s');
-- Labels given at start, filterable; a role lists only the instances it may reach.
SET ROLE wf_alice;
SELECT duroxide.start_workflow('wf-label-1', 'who', NULL, NULL, '{"customer":"c-1","channel":"web"}');
SELECT duroxide.start_workflow_definition('wf-label-2', '{"kind":"return","value":2}', NULL, '{"customer":"c-2"}');
SELECT status FROM duroxide.wait_for_orchestration('wf-label-1', '30 s');
SELECT status FROM duroxide.wait_for_orchestration('wf-label-2', '30 s');
SELECT instance_id, workflow, version, labels, status
  FROM duroxide.list_workflow_instances(labels => '{"customer":"c-1"}');
SELECT instance_id, workflow, labels FROM duroxide.list_workflow_instances(labels => '{"customer":"c-2"}');
SELECT instance_id FROM duroxide.list_workflow_instances('who');
SELECT wf.try($$SELECT duroxide.start_workflow('wf-label-bad', 'who', NULL, NULL, '{"n":1}')$$);
SELECT wf.try($$SELECT duroxide.start_workflow_definition('wf-label-bad', '{"kind":"return","value":1}', NULL, '[1]')$$);
SET ROLE wf_bob;
SELECT count(*) AS bob_sees_alices FROM duroxide.list_workflow_instances(labels => '{"customer":"c-1"}');
RESET ROLE;
-- A starter dropped while its instance waits: the next SQL step fails, clearly.
CREATE ROLE wf_gone LOGIN IN ROLE duroxide_user;
SET ROLE wf_gone;
SELECT duroxide.start_workflow_definition('wf-gone', '{"kind":"seq","steps":[
  {"kind":"set_status","value":"waiting"},{"kind":"wait_event","event":"go"},{"kind":"sql","query":"SELECT 1"}]}');
RESET ROLE;
SELECT wf.await_status('wf-gone', 'waiting');
DROP ROLE wf_gone;
SELECT duroxide.raise_event('wf-gone', 'go', '');
SELECT status, regexp_replace(error->'Application'->>'message', 'oid [0-9]+', 'oid N') AS error
  FROM duroxide.wait_for_orchestration('wf-gone', '30 s');
-- The catalog is written only through the functions.
SET ROLE wf_alice;
SELECT wf.try($$INSERT INTO duroxide.workflow_definitions VALUES ('x', '1.0.0', '{}', 10)$$);
SELECT wf.try($$UPDATE duroxide.workflow_definitions SET definition = '{}'$$);
RESET ROLE;
SELECT wf.try($$UPDATE duroxide.workflow_definitions SET definition = '{}' WHERE name = 'order'$$);
