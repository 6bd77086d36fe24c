-- Workflow tools (docs/workflows.md): builder functions, explain_workflow, and the built-in
-- interpreter counting as a provided orchestration.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
-- The interpreter is provided whatever plugins are registered (start_workflow depends on it).
SELECT duroxide._is_orchestration_provided('duroxide.workflow', NULL) AS provided,
       duroxide._is_orchestration_provided('duroxide.workflow', '1.0.0') AS provided_1_0_0,
       duroxide._is_orchestration_provided('duroxide.workflow', '2.0.0') AS provided_2_0_0;

CREATE ROLE wft_carol LOGIN;
CREATE ROLE wft_dave LOGIN;
GRANT duroxide_user TO wft_carol, wft_dave;
CREATE SCHEMA wft;
GRANT USAGE ON SCHEMA wft TO wft_carol;
CREATE TABLE wft.stock (sku text PRIMARY KEY, qty integer NOT NULL CHECK (qty >= 0));
CREATE TABLE wft.orders (id serial PRIMARY KEY, sku text, qty integer, state text);
INSERT INTO wft.stock VALUES ('A1', 10);
GRANT SELECT, INSERT, UPDATE ON wft.stock, wft.orders TO wft_carol;
GRANT USAGE ON SEQUENCE wft.orders_id_seq TO wft_carol;

SET ROLE wft_carol;
-- The same definition written as plain JSON and with the builders.
SELECT duroxide.define_workflow('saga_json', $wf$
{"kind": "seq", "steps": [
  {"kind": "sql", "as": "reserve", "query": "UPDATE wft.stock SET qty = qty - $2 WHERE sku = $1 RETURNING qty",
   "params": ["$input.sku", "$input.qty"]},
  {"kind": "sql", "as": "order", "query": "INSERT INTO wft.orders (sku, qty, state) VALUES ($1, $2, 'new') RETURNING id",
   "params": ["$input.sku", "$input.qty"]},
  {"kind": "parallel", "branches": [
     {"kind": "sleep", "duration": 20},
     {"kind": "sql", "query": "SELECT 1 AS one"}]},
  {"kind": "try",
   "body": {"kind": "seq", "steps": [
     {"kind": "set_status", "value": "awaiting approval"},
     {"kind": "wait_event", "event": "approval", "timeout": 60000, "as": "approval"},
     {"kind": "if", "condition": "not $steps.approval.approved",
      "then": {"kind": "fail", "message": "rejected"}},
     {"kind": "sql", "query": "UPDATE wft.orders SET state = 'shipped' WHERE id = $1",
      "params": ["$steps.order.rows[0].id"]}]},
   "catch": {"kind": "seq", "steps": [
     {"kind": "sql", "query": "UPDATE wft.stock SET qty = qty + $2 WHERE sku = $1",
      "params": ["$input.sku", "$input.qty"]},
     {"kind": "set_status", "value": {"$expr": "'cancelled: ' + $error.message"}}]}},
  {"kind": "return", "value": {"order": "$steps.order.rows[0].id", "left": "$steps.reserve.rows[0].qty"}}]}
$wf$);
SELECT duroxide.define_workflow('saga_built', duroxide.wf_seq(
    duroxide.wf_sql('UPDATE wft.stock SET qty = qty - $2 WHERE sku = $1 RETURNING qty',
                    '["$input.sku", "$input.qty"]', name => 'reserve'),
    duroxide.wf_sql($$INSERT INTO wft.orders (sku, qty, state) VALUES ($1, $2, 'new') RETURNING id$$,
                    '["$input.sku", "$input.qty"]', name => 'order'),
    duroxide.wf_parallel(duroxide.wf_sleep('20 ms'), duroxide.wf_sql('SELECT 1 AS one')),
    duroxide.wf_try(
        duroxide.wf_seq(
            duroxide.wf_set_status('"awaiting approval"'),
            duroxide.wf_wait_event('approval', '1 min', name => 'approval'),
            duroxide.wf_if('not $steps.approval.approved', duroxide.wf_fail('"rejected"')),
            duroxide.wf_sql($$UPDATE wft.orders SET state = 'shipped' WHERE id = $1$$,
                            '["$steps.order.rows[0].id"]')),
        catch_node => duroxide.wf_seq(
            duroxide.wf_sql('UPDATE wft.stock SET qty = qty + $2 WHERE sku = $1',
                            '["$input.sku", "$input.qty"]'),
            duroxide.wf_set_status(duroxide.wf_expr($$'cancelled: ' + $error.message$$)))),
    duroxide.wf_return('{"order": "$steps.order.rows[0].id", "left": "$steps.reserve.rows[0].qty"}')));
SELECT duroxide.show_workflow('saga_json') = duroxide.show_workflow('saga_built') AS builders_equal_json;

-- The built definition runs: one order approved, one rejected (compensated).
SELECT duroxide.start_workflow('wft-1', 'saga_built', '{"sku": "A1", "qty": 2}');
CREATE FUNCTION pg_temp.await_status(instance text, status text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    seen integer := 0;
    got record;
BEGIN
    LOOP
        SELECT * INTO got FROM duroxide.wait_for_status_change(instance, seen, '30 s');
        IF got.custom_status = status OR got.status <> 'Running' THEN
            RETURN got.custom_status;
        END IF;
        seen := got.custom_status_version;
    END LOOP;
END
$$;
-- One after the other, so that the order ids do not depend on which the workers run first.
SELECT pg_temp.await_status('wft-1', 'awaiting approval');
SELECT duroxide.start_workflow('wft-2', 'saga_built', '{"sku": "A1", "qty": 3}');
SELECT pg_temp.await_status('wft-2', 'awaiting approval');
SELECT count(*) AS raised FROM (SELECT duroxide.raise_event('wft-1', 'approval', '{"approved": true}'),
                                      duroxide.raise_event('wft-2', 'approval', '{"approved": false}')) r;
SELECT status, output, custom_status FROM duroxide.wait_for_orchestration('wft-1', '30 s');
SELECT status, output, custom_status FROM duroxide.wait_for_orchestration('wft-2', '30 s');
SELECT qty FROM wft.stock;
SELECT id, qty, state FROM wft.orders ORDER BY id;

-- The other builders: the nodes they make, and that define_workflow accepts them.
SELECT duroxide.wf_activity('Charge', '{"amount": "$input.amount"}', name => 'charge',
           retry => duroxide.wf_retry(3, 'exponential', delay => '100 ms', max_delay => '5 s',
                                      multiplier => 2, timeout => '2 s'),
           timeout => '10 s', tag => 'payments', session => '"$input.customer"');
SELECT duroxide.wf_race(duroxide.wf_dequeue('orders', '5 s', 'next'), duroxide.wf_sleep('1 min'));
SELECT duroxide.wf_as(duroxide.wf_switch('$input.kind', duroxide.wf_return('"other"'),
           duroxide.wf_case('"a"', duroxide.wf_return('1')),
           duroxide.wf_case('"b"', duroxide.wf_kv_set('last', '"$input.kind"'))), 'picked');
SELECT duroxide.wf_foreach('$input.items', duroxide.wf_sub_workflow('child', '"$item"'), 5);
SELECT duroxide.wf_loop(duroxide.wf_sleep('1 s'), '$iteration < 3', max_iterations => 10,
                        continue_as_new_every => 100);
SELECT duroxide.define_workflow('built_misc', duroxide.wf_seq(
    duroxide.wf_race(duroxide.wf_dequeue('orders', '5 s'), duroxide.wf_sleep('10 ms')),
    duroxide.wf_as(duroxide.wf_switch('$input.kind', duroxide.wf_return('"other"'),
        duroxide.wf_case('"a"', duroxide.wf_return('1'))), 'picked'),
    duroxide.wf_foreach('$input.items', duroxide.wf_kv_set('last', '"$item"'), 5),
    duroxide.wf_loop(duroxide.wf_sleep('1 ms'), '$iteration < 2', max_iterations => 10),
    duroxide.wf_return('"$steps.picked"')));
SELECT duroxide.start_workflow('wft-misc', 'built_misc', '{"kind": "b", "items": [1, 2]}');
SELECT status, output FROM duroxide.wait_for_orchestration('wft-misc', '30 s');

-- explain_workflow: indented text and Mermaid.
SELECT * FROM duroxide.explain_workflow('saga_built');
SELECT * FROM duroxide.explain_workflow('saga_built', format => 'mermaid');
SELECT * FROM duroxide.explain_workflow('built_misc', '1.0.0');
SELECT * FROM duroxide.explain_workflow_definition('{"kind": "sql", "query": "SELECT \"x\" <> 1 | 2"}', 'mermaid');
-- Errors: an unknown format; a workflow the caller may not see is one that does not exist.
SELECT * FROM duroxide.explain_workflow('saga_built', format => 'dot');
SELECT * FROM duroxide.explain_workflow('saga_built', '9.9.9');
SET ROLE wft_dave;
SELECT * FROM duroxide.explain_workflow('saga_built');
RESET ROLE;
SET ROLE wft_carol;
SELECT duroxide.grant_workflow('saga_built', 'wft_dave');
SET ROLE wft_dave;
SELECT count(*) AS lines_for_grantee FROM duroxide.explain_workflow('saga_built');
RESET ROLE;

-- Every tool has a comment and is not executable by PUBLIC.
SELECT p.oid::regprocedure AS function
  FROM pg_proc p
 WHERE p.pronamespace = 'duroxide'::regnamespace
   AND (p.proname LIKE 'wf\_%' OR p.proname LIKE '\_wf\_%' OR p.proname LIKE 'explain\_workflow%')
   AND (obj_description(p.oid, 'pg_proc') IS NULL
        OR has_function_privilege('public', p.oid, 'EXECUTE')
        OR NOT has_function_privilege('duroxide_user', p.oid, 'EXECUTE'));

SELECT duroxide.drop_workflow(name) FROM (VALUES ('saga_json'), ('saga_built'), ('built_misc')) v(name);
DROP SCHEMA wft CASCADE;
DROP OWNED BY wft_carol, wft_dave;
DROP ROLE wft_carol, wft_dave;
