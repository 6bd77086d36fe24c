-- Recurring schedules' SQL API (issue 22): create, alter, pause, resume, drop, list; the
-- checks with their SQLSTATE and HINT, nothing written on error, ownership (a role sees and
-- changes only its own schedules, a taken name says nothing of its owner), the reserved
-- "schedule:" instance ids. Firing is test/tap/027_schedules.pl. Every schedule here fires
-- in the future (at the turn of a year at the earliest), so the workers start nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
CREATE SCHEMA sch;
GRANT USAGE ON SCHEMA sch TO PUBLIC;
-- SQLSTATE, message and hint of a statement, or 'ok' and the first column's value.
CREATE FUNCTION sch.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text; result text;
BEGIN
    EXECUTE statement INTO result;
    RETURN 'ok ' || coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ' ' || message || CASE WHEN hint <> '' THEN ' HINT: ' || hint ELSE '' END;
END
$$;
GRANT EXECUTE ON FUNCTION sch.try(text) TO PUBLIC;
-- Every schedule row as one value (read as the superuser).
CREATE FUNCTION sch.state() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
    SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY s.name), '')) FROM duroxide.schedules s
$$;
GRANT EXECUTE ON FUNCTION sch.state() TO PUBLIC;
DROP ROLE IF EXISTS sch_alice;
DROP ROLE IF EXISTS sch_bob;
CREATE ROLE sch_alice LOGIN;
CREATE ROLE sch_bob LOGIN;
GRANT duroxide_user TO sch_alice, sch_bob;

-- 1. Create: returns the first fire (after start_at, default now); list shows the row.
SET ROLE sch_alice;
SELECT duroxide.create_schedule('sch-new-year', '0 0 1 1 *', 'HelloWorld', 'happy')
       = duroxide.cron_next_fire('0 0 1 1 *', now()) AS first_fire_is_next_new_year;
SELECT duroxide.create_schedule('sch-paris', '30 8 1 1 *', 'HelloWorld', 'bonjour',
                                '{"time_zone": "Europe/Paris", "overlap": "buffer_one",
                                  "catch_up": "bounded", "catch_up_max": 3,
                                  "start_at": "2031-01-01 00:00+00"}')
       AS paris_first_fire;
SELECT name, owner, cron, time_zone, kind, orchestration, version, input, overlap, catch_up,
       catch_up_max, paused, pending_fire_at, last_fire_at, last_instance_id, fires, last_error
  FROM duroxide.list_schedules() ORDER BY name;

-- 2. Bad input: SQLSTATE, message, hint; nothing written.
BEGIN ISOLATION LEVEL REPEATABLE READ;
CREATE TEMP TABLE before AS SELECT sch.state() AS state;
SELECT sch.try($$SELECT duroxide.create_schedule(NULL, '* * * * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('', '* * * * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule(repeat('n', 201), '* * * * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule(E'bad\nname', '* * * * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', NULL, 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '61 * * * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '0 0 30 2 *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"time_zone": "Mars/Olympus"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"overlap": "queue"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"catch_up": "backfill"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"catch_up": "bounded", "catch_up_max": 0}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"catch_up_max": "2"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"zone": "UTC"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '[1]')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"kind": "job"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"start_at": "yesterday-ish"}')$$);
SELECT regexp_replace(sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'NoSuchOrchestration')$$), 'orchestrations: .* For an', 'orchestrations: ... For an') AS unregistered;
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"version": "9.9.9"}')$$) ~ '^42704 orchestration "HelloWorld" version "9.9.9" is not registered' AS unregistered_version;
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'HelloWorld', '', '{"version": "one"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-x', '* * * * *', 'no_such_workflow', '', '{"kind": "workflow"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-new-year', '* * * * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.alter_schedule('sch-new-year', '99 * * * *')$$);
SELECT sch.try($$SELECT duroxide.alter_schedule('sch-new-year', options => '{"overlap": "never"}')$$);
SELECT sch.try($$SELECT duroxide.alter_schedule('sch-missing', '* * * * *')$$);
SELECT before.state = sch.state() AS nothing_written FROM before;
DROP TABLE before;
COMMIT;

-- 3. The instance ids of schedules' runs are reserved: no client starts one by hand.
SELECT sch.try($$SELECT duroxide.start_orchestration('schedule:sch-new-year:2040-01-01T00:00:00Z', 'HelloWorld', 'x')$$);
SELECT sch.try($$SELECT duroxide.start_workflow_definition('schedule:x:1', '{"kind": "return", "value": 1}')$$) LIKE '22023 instance id "schedule:x:1" has the form reserved for recurring schedules%' AS workflow_start_refused;

-- 4. Ownership: bob sees none of alice's schedules, cannot change them, and a taken name
-- tells him nothing of who has it.
RESET ROLE;
SET ROLE sch_bob;
SELECT count(*) AS bob_sees FROM duroxide.list_schedules();
SELECT sch.try($$SELECT duroxide.create_schedule('sch-new-year', '* * * * *', 'HelloWorld')$$);
SELECT sch.try($$SELECT duroxide.pause_schedule('sch-new-year')$$);
SELECT sch.try($$SELECT duroxide.resume_schedule('sch-new-year')$$);
SELECT sch.try($$SELECT duroxide.alter_schedule('sch-new-year', input => 'mine')$$);
SELECT sch.try($$SELECT duroxide.drop_schedule('sch-new-year')$$);
SELECT duroxide.create_schedule('sch-bob', '0 0 1 1 *', 'Counter', '0') IS NOT NULL AS bob_created;
SELECT name, owner FROM duroxide.list_schedules();
RESET ROLE;
-- The tables themselves are not readable by users.
SET ROLE sch_alice;
SELECT sch.try($$SELECT count(*) FROM duroxide.schedules$$);
SELECT sch.try($$SELECT duroxide._schedule_start('sch-new-year', 'schedule:sch-new-year:x')$$);
-- 5. Alter, pause, resume, drop by the owner.
SELECT duroxide.alter_schedule('sch-new-year', input => 'happier',
                               options => '{"overlap": "allow_all", "catch_up": "run_once"}')
       = duroxide.cron_next_fire('0 0 1 1 *', now()) AS next_fire_kept;
SELECT duroxide.alter_schedule('sch-new-year', '0 12 1 1 *', options => '{"time_zone": "Asia/Tokyo"}')
       = duroxide.cron_next_fire('0 12 1 1 *', now(), 'Asia/Tokyo') AS next_fire_recomputed;
SELECT duroxide.pause_schedule('sch-new-year') AS paused, duroxide.pause_schedule('sch-new-year') AS again;
SELECT name, cron, time_zone, input, overlap, catch_up, paused FROM duroxide.list_schedules();
SELECT duroxide.resume_schedule('sch-new-year') = duroxide.cron_next_fire('0 12 1 1 *', now(), 'Asia/Tokyo') AS resumed;
SELECT paused FROM duroxide.list_schedules() WHERE name = 'sch-new-year';
SELECT duroxide.drop_schedule('sch-paris');
SELECT name FROM duroxide.list_schedules();
RESET ROLE;
-- An administrator sees and manages every schedule.
SELECT name, owner FROM duroxide.list_schedules() WHERE name LIKE 'sch-%';
SELECT duroxide.pause_schedule('sch-bob') AS admin_paused;

-- 6. SQL workflows: the owner's workflow, another role's only with its version named.
SET ROLE sch_alice;
SELECT duroxide.define_workflow('sch_wf', '{"kind": "return", "value": 1}') AS defined;
SELECT duroxide.create_schedule('sch-wf', '0 0 1 1 *', 'sch_wf', '{"n": 1}', '{"kind": "workflow"}') IS NOT NULL AS wf_schedule;
SELECT sch.try($$SELECT duroxide.create_schedule('sch-wf-bad', '0 0 1 1 *', 'sch_wf', 'not json', '{"kind": "workflow"}')$$);
SELECT kind, orchestration, input FROM duroxide.list_schedules() WHERE name = 'sch-wf';
RESET ROLE;
SET ROLE sch_bob;
SELECT sch.try($$SELECT duroxide.create_schedule('sch-wf-bob', '0 0 1 1 *', 'sch_wf', '', '{"kind": "workflow"}')$$);
RESET ROLE;
SET ROLE sch_alice;
SELECT duroxide.grant_workflow('sch_wf', 'sch_bob');
RESET ROLE;
SET ROLE sch_bob;
SELECT sch.try($$SELECT duroxide.create_schedule('sch-wf-bob', '0 0 1 1 *', 'sch_wf', '', '{"kind": "workflow"}')$$);
SELECT sch.try($$SELECT duroxide.create_schedule('sch-wf-bob', '0 0 1 1 *', 'sch_wf', '', '{"kind": "workflow", "version": "1.0.0"}')$$) LIKE 'ok %' AS bob_schedules_the_reviewed_version;
RESET ROLE;

-- Clean up.
SELECT duroxide.drop_schedule(name) FROM duroxide.list_schedules() WHERE name LIKE 'sch-%';
SET ROLE sch_alice;
SELECT duroxide.drop_workflow('sch_wf');
RESET ROLE;
DROP ROLE sch_alice, sch_bob;
DROP SCHEMA sch CASCADE;
