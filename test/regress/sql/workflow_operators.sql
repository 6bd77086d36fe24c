-- The workflow operators (docs/workflows.md, "Operators"): the same definitions as the
-- builders, flattened, and a definition written with them runs.
\set SHOW_CONTEXT never
CREATE ROLE wfo_jo LOGIN;
GRANT duroxide_user TO wfo_jo;
SET ROLE wfo_jo;
SET search_path = duroxide, public;
SELECT wf_sql('SELECT 1') ~> wf_sql('SELECT 2') ~> wf_sleep('1 ms') AS seq;
SELECT (wf_sql('SELECT 1') ~> wf_sql('SELECT 2') ~> wf_sleep('1 ms'))
       = wf_seq(wf_sql('SELECT 1'), wf_sql('SELECT 2'), wf_sleep('1 ms')) AS same_as_builders;
SELECT (wf_sql('SELECT 1') & wf_sql('SELECT 2') & wf_sql('SELECT 3'))
       = wf_parallel(wf_sql('SELECT 1'), wf_sql('SELECT 2'), wf_sql('SELECT 3')) AS join_same;
SELECT (wf_wait_event('go') | wf_sleep('1 s'))
       = wf_race(wf_wait_event('go'), wf_sleep('1 s')) AS race_same;
SELECT wf_sql('SELECT 1 AS n') |=> 'one' AS named;
SELECT '$input.ok' ?> wf_return('"yes"') !> wf_fail('"no"') AS branch;
-- A named seq is not flattened into the next one.
SELECT (wf_sql('SELECT 1') ~> wf_sql('SELECT 2')) |=> 'first' ~> wf_sql('SELECT 3') AS nested;
-- jsonb's own operators are unchanged.
SELECT '{"a":1}'::jsonb @> '{"a":1}'::jsonb AS contains, '{"a":1}'::jsonb ? 'a' AS has_key;
-- A workflow written with the operators.
SELECT define_workflow('wfo_ops',
    (wf_sql('SELECT $1::int * 2 AS n', '["$input.n"]') |=> 'doubled')
    ~> ((wf_sql('SELECT 1 AS a') |=> 'a') & (wf_sql('SELECT 2 AS b') |=> 'b'))
    ~> ('$steps.doubled.rows[0].n > 5'
        ?> wf_return('{"big": "$steps.doubled.rows[0].n"}')
        !> wf_return('{"small": "$steps.doubled.rows[0].n"}')));
SELECT start_workflow('wfo-1', 'wfo_ops', '{"n": 4}');
SELECT start_workflow('wfo-2', 'wfo_ops', '{"n": 1}');
SELECT status, output FROM wait_for_orchestration('wfo-1', '30 s');
SELECT status, output FROM wait_for_orchestration('wfo-2', '30 s');
RESET search_path;
RESET ROLE;

-- The roles are cluster-wide: dropped, so that the suite runs again on the same server.
DROP OWNED BY wfo_jo;
DROP ROLE wfo_jo;
