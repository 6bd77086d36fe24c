-- Issue 14, the catalog half: each attack of findings 1, 4, 6 and 7 (its SQL is below) now
-- fails, and the catalog audit (no table writes granted, definer functions pinned).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample', ARRAY['duroxide_user']::regrole[]) > 0
    AS registered;
CREATE ROLE sc_admin IN ROLE duroxide_admin;
CREATE ROLE sc_alice IN ROLE duroxide_user;
CREATE ROLE sc_bob IN ROLE duroxide_user;
CREATE SCHEMA sc;
GRANT USAGE, CREATE ON SCHEMA sc TO sc_admin, sc_alice;
GRANT USAGE ON SCHEMA sc TO sc_bob;
CREATE TABLE sc.effects (what text);
GRANT INSERT, SELECT ON sc.effects TO PUBLIC;
-- Runs a statement as the current role; returns its SQLSTATE and message, or 'ok'.
CREATE FUNCTION sc.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION sc.try(text) TO PUBLIC;
-- Broken registrations fail at the first retry (the worker gives their attempt back).
ALTER SYSTEM SET duroxide.max_attempts = 1;
SELECT pg_reload_conf();

-- Finding 1: a member of duroxide_admin wrote the registration tables directly (a row running
-- as the bootstrap superuser; a plugin re-inserted as registered by it). No role may now.
SET ROLE sc_admin;
SELECT sc.try($$INSERT INTO duroxide.sql_activities (name, function_oid, input_type, output_type, run_as, definition_hash)
               SELECT 'ScEvil', 'pg_catalog.lower(text)', 'text', 'text', r.oid::regrole, ''
                 FROM pg_roles r WHERE r.oid = 10$$) AS insert_sql_activity;
SELECT sc.try($$DELETE FROM duroxide.plugins WHERE name = 'duroxide_sample'$$) AS delete_plugin;
SELECT sc.try($$INSERT INTO duroxide.plugins (name, path, abi_version, registered_by)
               SELECT 'duroxide_sample', 'x', 1, r.oid::regrole FROM pg_roles r WHERE r.oid = 10$$)
    AS insert_plugin;
SELECT sc.try($$UPDATE duroxide.plugins SET registered_by = 'sc_admin'$$) AS update_plugin;
SELECT sc.try($$UPDATE duroxide.plugin_handlers SET plugin = plugin$$) AS update_handlers;
SELECT sc.try($$TRUNCATE duroxide.version_policies$$) AS truncate_policies;
RESET ROLE;

-- The registration functions record the caller: run_as is the calling role, never chosen.
CREATE FUNCTION sc.admin_upper(input text) RETURNS text LANGUAGE sql AS $$ SELECT upper(input) $$;
ALTER FUNCTION sc.admin_upper(text) OWNER TO sc_admin;
SET ROLE sc_admin;
SELECT duroxide.register_sql_activity('ScUpper', 'sc.admin_upper(text)',
                                      allowed_roles => ARRAY['sc_alice']::regrole[],
                                      statement_timeout => '5 s');
RESET ROLE;
SELECT name, run_as, registered_by_superuser, allowed_roles, statement_timeout,
       definition_hash = duroxide._function_fingerprint(function_oid) AS hash_matches
  FROM duroxide.sql_activities WHERE name = 'ScUpper';

-- Defence in depth: a row naming a superuser that no superuser registered (as an administrator
-- could write before 0.2.0) is refused at run time; the function never runs.
CREATE FUNCTION sc.escalate(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    ALTER ROLE sc_admin SUPERUSER;
    INSERT INTO sc.effects VALUES ('escalated');
    RETURN 'escalated';
END
$$;
INSERT INTO duroxide.sql_activities (name, function_oid, input_type, output_type, run_as,
                                     registered_by_superuser, definition_hash)
VALUES ('ScForged', 'sc.escalate(text)', 'text', 'text', current_user::regrole, false,
        duroxide._function_fingerprint('sc.escalate(text)'));
SELECT duroxide.start_orchestration('sc-forged', 'CallActivity', 'ScForged:x');
SELECT status, error ? 'Poison' AS poisoned
  FROM duroxide.wait_for_orchestration('sc-forged', '60 s');
SELECT rolsuper AS sc_admin_is_superuser FROM pg_roles WHERE rolname = 'sc_admin';
-- The same for a plugin whose row names a superuser no superuser registered: its ctx.sql()
-- statements are refused.
UPDATE duroxide.plugins SET registered_by_superuser = false WHERE name = 'duroxide_sample';
SELECT duroxide.start_orchestration('sc-forged-plugin', 'CallActivity', 'WhoAmI:x');
SELECT status, error->'Application'->>'message' AS message
  FROM duroxide.wait_for_orchestration('sc-forged-plugin', '60 s');
UPDATE duroxide.plugins SET registered_by_superuser = true WHERE name = 'duroxide_sample';
SELECT count(*) AS effects FROM sc.effects;

-- Finding 4: an administrator registered a function owned by a duroxide_user, who then
-- replaced its body. Registering a function owned by another role is refused...
SET ROLE sc_alice;
CREATE FUNCTION sc.alice_fn(input text) RETURNS text LANGUAGE sql AS $$ SELECT input $$;
SET ROLE sc_admin;
SELECT duroxide.register_sql_activity('ScStolen', 'sc.alice_fn(text)');
RESET ROLE;
-- ...for a superuser too (the digest covers only this function, not helpers it calls, which
-- their owner could redefine to run as the superuser)...
SELECT duroxide.register_sql_activity('ScStolen', 'sc.alice_fn(text)');
SELECT count(*) AS stolen_registered FROM duroxide.sql_activities WHERE name = 'ScStolen';
-- ...and a function whose owner or definition changed after registration no longer runs.
CREATE TABLE sc.admin_secret (v text);
INSERT INTO sc.admin_secret VALUES ('the admin secret');
ALTER TABLE sc.admin_secret OWNER TO sc_admin;
CREATE FUNCTION sc.admin_echo(input text) RETURNS text LANGUAGE sql AS $$ SELECT input $$;
ALTER FUNCTION sc.admin_echo(text) OWNER TO sc_admin;
SET ROLE sc_admin;
SELECT duroxide.register_sql_activity('ScEcho', 'sc.admin_echo(text)',
                                      allowed_roles => ARRAY['sc_alice']::regrole[]);
RESET ROLE;
SET ROLE sc_alice;
SELECT duroxide.start_orchestration('sc-echo-before', 'CallActivity', 'ScEcho:hello');
SELECT status, output FROM duroxide.wait_for_orchestration('sc-echo-before', '60 s');
RESET ROLE;
ALTER FUNCTION sc.admin_echo(text) OWNER TO sc_alice;  -- as if alice had owned it all along
SET ROLE sc_alice;
CREATE OR REPLACE FUNCTION sc.admin_echo(input text) RETURNS text LANGUAGE sql
    AS $$ INSERT INTO sc.effects SELECT v FROM sc.admin_secret RETURNING what $$;
SELECT duroxide.start_orchestration('sc-echo-after', 'CallActivity', 'ScEcho:hello');
SELECT status, error ? 'Poison' AS poisoned
  FROM duroxide.wait_for_orchestration('sc-echo-after', '60 s');
RESET ROLE;
SELECT definition_hash = duroxide._function_fingerprint(function_oid) AS hash_matches
  FROM duroxide.sql_activities WHERE name = 'ScEcho';
-- A changed body alone (same owner) is refused too.
ALTER FUNCTION sc.admin_echo(text) OWNER TO sc_admin;
CREATE OR REPLACE FUNCTION sc.admin_echo(input text) RETURNS text LANGUAGE sql
    AS $$ SELECT 'changed ' || input $$;
SET ROLE sc_alice;
SELECT duroxide.start_orchestration('sc-echo-changed', 'CallActivity', 'ScEcho:hello');
SELECT status, error ? 'Poison' AS poisoned
  FROM duroxide.wait_for_orchestration('sc-echo-changed', '60 s');
RESET ROLE;
SELECT count(*) AS effects FROM sc.effects;

-- Finding 7: any duroxide_user's orchestration could call any activity (running as its
-- registrant). Now only the roles of its allow-list can; the default is the registrant's and
-- duroxide_admin's.
CREATE FUNCTION sc.admin_only(input text) RETURNS text LANGUAGE sql AS $$ SELECT 'admin ' || input $$;
ALTER FUNCTION sc.admin_only(text) OWNER TO sc_admin;
SET ROLE sc_admin;
SELECT duroxide.register_sql_activity('ScAdminOnly', 'sc.admin_only(text)');
RESET ROLE;
SET ROLE sc_bob;
SELECT duroxide.start_orchestration('sc-bob-upper', 'CallActivity', 'ScUpper:bob');
SELECT duroxide.start_orchestration('sc-bob-admin-only', 'CallActivity', 'ScAdminOnly:bob');
SELECT id, w.status, w.output, w.error->'Application'->>'message' AS message
  FROM unnest(ARRAY['sc-bob-upper', 'sc-bob-admin-only']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '60 s') w ORDER BY id;
RESET ROLE;
SET ROLE sc_alice;
SELECT duroxide.start_orchestration('sc-alice-upper', 'CallActivity', 'ScUpper:alice');
SELECT status, output FROM duroxide.wait_for_orchestration('sc-alice-upper', '60 s');
RESET ROLE;
-- A dropped role in an allow-list is skipped (regrole keeps no dependency on it).
CREATE ROLE sc_gone;
SET ROLE sc_admin;
SELECT duroxide.register_sql_activity('ScGone', 'sc.admin_upper(text)',
                                      allowed_roles => ARRAY['sc_gone', 'sc_alice']::regrole[]);
RESET ROLE;
DROP ROLE sc_gone;
SET ROLE sc_alice;
SELECT name FROM duroxide.registered_handlers WHERE name = 'ScGone';
SELECT duroxide.start_orchestration('sc-alice-gone', 'CallActivity', 'ScGone:alice');
SELECT status, output FROM duroxide.wait_for_orchestration('sc-alice-gone', '60 s');
RESET ROLE;
SET ROLE sc_admin;
SELECT duroxide.start_orchestration('sc-admin-admin-only', 'CallActivity', 'ScAdminOnly:x');
SELECT status, output FROM duroxide.wait_for_orchestration('sc-admin-admin-only', '60 s');
RESET ROLE;
-- The same for plugins: registered with the default allow-list, a duroxide_user's instance may
-- start its orchestrations but not call its activities.
SELECT duroxide.unregister_plugin('duroxide_sample');
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered_with_default;
SET ROLE sc_bob;
SELECT duroxide.start_orchestration('sc-bob-plugin', 'CallActivity', 'Hello:bob');
SELECT status, error->'Application'->>'message' AS message
  FROM duroxide.wait_for_orchestration('sc-bob-plugin', '60 s');
RESET ROLE;
SELECT duroxide.unregister_plugin('duroxide_sample');
SELECT duroxide.register_plugin('duroxide_sample', ARRAY['duroxide_user']::regrole[]) > 0
    AS registered_for_users;
SET ROLE sc_admin;
-- Registration arguments are checked; nothing is written on error.
SELECT duroxide.register_sql_activity('ScBad', 'sc.admin_only(text)', statement_timeout => '-1 s');
SELECT duroxide.register_sql_activity('ScBad', 'sc.admin_only(text)',
                                      allowed_roles => ARRAY[NULL]::regrole[]);
RESET ROLE;
SELECT count(*) AS bad_registered FROM duroxide.sql_activities WHERE name = 'ScBad';

-- Finding 6: the registration tables showed every duroxide_user the functions, oids and run_as
-- of all activities. Only administrators read them now; registered_handlers shows a
-- duroxide_user the orchestrations and only the activities it may call, without function.
SET ROLE sc_bob;
SELECT sc.try('SELECT * FROM duroxide.sql_activities') AS read_sql_activities;
SELECT sc.try('SELECT * FROM duroxide.plugins') AS read_plugins;
SELECT sc.try('SELECT * FROM duroxide.plugin_handlers') AS read_plugin_handlers;
SELECT name, provider_type, provider FROM duroxide.registered_handlers
 WHERE name LIKE 'Sc%' ORDER BY name;
SELECT count(*) > 0 AS sees_plugin_activities FROM duroxide.registered_handlers
 WHERE kind = 'activity' AND provider_type = 'plugin';
-- A cheap function of bob's in the WHERE clause sees only the rows the view lets through
-- (the view reads a function that filters first): no SQL activity of alice's or the admin's.
CREATE FUNCTION pg_temp.leak(n text) RETURNS boolean LANGUAGE plpgsql COST 0.00001 AS $$
BEGIN IF n LIKE 'Sc%' THEN RAISE NOTICE 'saw %', n; END IF; RETURN true; END $$;
SELECT count(*) AS bob_sql_activities FROM duroxide.registered_handlers
 WHERE provider_type = 'sql' AND pg_temp.leak(name);
DROP FUNCTION pg_temp.leak(text);
SET ROLE sc_alice;
SELECT name, provider_type, provider FROM duroxide.registered_handlers
 WHERE name LIKE 'Sc%' ORDER BY name;
SET ROLE sc_admin;
SELECT name, provider_type, provider FROM duroxide.registered_handlers
 WHERE name LIKE 'Sc%' ORDER BY name;
RESET ROLE;

-- runtime_status showed every role the instance ids other roles' activities work on.
-- An activity of alice's blocks on a lock held here while the others look.
CREATE FUNCTION sc.block(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(4714014);
    RETURN input;
END
$$;
ALTER FUNCTION sc.block(text) OWNER TO sc_admin;
SET ROLE sc_admin;
SELECT duroxide.register_sql_activity('ScBlock', 'sc.block(text)',
                                      allowed_roles => ARRAY['sc_alice']::regrole[]);
RESET ROLE;
SELECT pg_advisory_lock(4714014);
SET ROLE sc_alice;
SELECT duroxide.start_orchestration('sc-block', 'CallActivity', 'ScBlock:x');
RESET ROLE;
DO $$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN EXISTS (SELECT FROM duroxide.runtime_status WHERE current_work LIKE '%sc-block%');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT count(*) AS admin_sees FROM duroxide.runtime_status WHERE current_work LIKE '%sc-block%';
SET ROLE sc_alice;
SELECT count(*) AS owner_sees FROM duroxide.runtime_status WHERE current_work LIKE '%sc-block%';
SET ROLE sc_bob;
SELECT count(*) AS other_sees FROM duroxide.runtime_status WHERE current_work LIKE '%sc-block%';
SELECT count(*) AS other_sees_errors FROM duroxide.runtime_status WHERE last_error IS NOT NULL;
RESET ROLE;
SELECT pg_advisory_unlock(4714014);
SELECT status, output FROM duroxide.wait_for_orchestration('sc-block', '60 s');

-- The allow-list fails closed: an instance that records no owner may call an activity only
-- while its registrant has duroxide_admin's privileges (a role that lost them is denied).
CREATE ROLE sc_former IN ROLE duroxide_admin;
GRANT USAGE ON SCHEMA sc TO sc_former;
CREATE FUNCTION sc.former(input text) RETURNS text LANGUAGE sql AS $$ SELECT 'former ' || input $$;
ALTER FUNCTION sc.former(text) OWNER TO sc_former;
SET ROLE sc_former;
SELECT duroxide.register_sql_activity('ScFormer', 'sc.former(text)');
RESET ROLE;
REVOKE duroxide_admin FROM sc_former;
BEGIN;
SELECT duroxide.start_orchestration('sc-noowner-former', 'CallActivity', 'ScFormer:x');
SELECT duroxide.start_orchestration('sc-noowner-admin', 'CallActivity', 'ScBlock:y');
UPDATE duroxide.orchestrator_queue SET started_by = NULL
 WHERE instance_id IN ('sc-noowner-former', 'sc-noowner-admin');
COMMIT;
SELECT id, w.status, w.output, w.error->'Application'->>'message' AS message
  FROM unnest(ARRAY['sc-noowner-admin', 'sc-noowner-former']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '60 s') w ORDER BY id;
SELECT instance_id, owner_role FROM duroxide.instances
 WHERE instance_id LIKE 'sc-noowner-%' ORDER BY 1;

-- Catalog audit. No table or view of the extension grants a write to PUBLIC, duroxide_admin or
-- duroxide_user (every write goes through a function).
SELECT c.oid::regclass AS relation, a.grantee::regrole AS grantee, a.privilege_type
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
       aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
 WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND c.relkind IN ('r', 'v', 'p', 'm')
   AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
   AND (a.grantee = 0 OR a.grantee IN ('duroxide_admin'::regrole, 'duroxide_user'::regrole))
 ORDER BY 1::text, 2::text, 3;
-- Nor what they have through a role they are members of.
SELECT c.oid::regclass AS relation, r AS role
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
       unnest(ARRAY['duroxide_admin', 'duroxide_user']) r
 WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND c.relkind IN ('r', 'p')
   AND has_table_privilege(r, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
 ORDER BY 1::text, 2;
-- Every SECURITY DEFINER function pins search_path.
SELECT p.oid::regprocedure AS definer_without_pinned_search_path
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND p.prosecdef
   AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c
                    WHERE c = 'search_path=pg_catalog, pg_temp')
 ORDER BY 1::text;
-- The registration functions are SECURITY DEFINER, for duroxide_admin only.
SELECT p.oid::regprocedure AS registration, p.prosecdef,
       has_function_privilege('duroxide_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('duroxide_user', p.oid, 'EXECUTE') AS "user"
  FROM pg_proc p
 WHERE p.pronamespace = 'duroxide'::regnamespace
   AND p.proname IN ('register_sql_activity', 'unregister_sql_activity', 'register_plugin',
                     'unregister_plugin', 'set_version_policy')
 ORDER BY 1::text;
-- set_version_policy checks its caller like its siblings: EXECUTE passed on through an
-- administrator's SECURITY DEFINER function does not let a duroxide_user set a policy.
CREATE FUNCTION sc.set_policy(o text) RETURNS void LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$ SELECT duroxide.set_version_policy(o, NULL) $$;
ALTER FUNCTION sc.set_policy(text) OWNER TO sc_admin;
GRANT EXECUTE ON FUNCTION sc.set_policy(text) TO sc_bob;
SET ROLE sc_bob;
SELECT sc.try($$SELECT sc.set_policy('HelloWorld')$$) AS passed_on_set_version_policy;
RESET ROLE;
SELECT count(*) AS policies_set FROM duroxide.version_policies WHERE orchestration = 'HelloWorld';
-- Nothing of the extension is granted to PUBLIC (functions, relations, schemas).
SELECT count(*) AS granted_to_public FROM (
    SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
                aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
     WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND a.grantee = 0
    UNION ALL
    SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                aclexplode(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
     WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND a.grantee = 0
    UNION ALL
    SELECT FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
     WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND a.grantee = 0) g;

-- Finding 8 (install): a pre-existing duroxide_user / duroxide_admin that the install did not
-- create (a LOGIN role, one with attributes, or a member of another role) is refused.
CREATE DATABASE sc_roles;
\c sc_roles
ALTER ROLE duroxide_user LOGIN;
CREATE EXTENSION duroxide;
ALTER ROLE duroxide_user NOLOGIN;
GRANT sc_bob TO duroxide_admin;
CREATE EXTENSION duroxide;
REVOKE sc_bob FROM duroxide_admin;
ALTER ROLE duroxide_admin CREATEROLE;
CREATE EXTENSION duroxide;
ALTER ROLE duroxide_admin NOCREATEROLE;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'duroxide';
\c duroxide_regress
DROP DATABASE sc_roles;

-- The workers cache who may call an activity (store/activity_access_cache.hpp): a revoked
-- role membership and a changed allow-list take effect for the next activity. Six calls
-- before each change, so that every activity worker has the allowed answer cached.
CREATE ROLE sc_club;
CREATE ROLE sc_carl IN ROLE duroxide_user, sc_club;
GRANT USAGE ON SCHEMA sc TO sc_carl;
SET ROLE sc_admin;
SELECT duroxide.register_sql_activity('ScClub', 'sc.admin_upper(text)',
                                      allowed_roles => ARRAY['sc_club']::regrole[]);
RESET ROLE;
SET ROLE sc_carl;
SELECT duroxide.start_orchestration('sc-club-' || i, 'CallActivity', 'ScClub:carl')
  FROM generate_series(1, 6) i \g /dev/null
SELECT w.status, w.output, count(*)
  FROM generate_series(1, 6) i, LATERAL duroxide.wait_for_orchestration('sc-club-' || i, '60 s') w
 GROUP BY 1, 2;
RESET ROLE;
REVOKE sc_club FROM sc_carl;
SET ROLE sc_carl;
SELECT duroxide.start_orchestration('sc-club-revoked-' || i, 'CallActivity', 'ScClub:carl')
  FROM generate_series(1, 6) i \g /dev/null
SELECT w.status, w.error->'Application'->>'message' AS message, count(*)
  FROM generate_series(1, 6) i,
       LATERAL duroxide.wait_for_orchestration('sc-club-revoked-' || i, '60 s') w
 GROUP BY 1, 2;
RESET ROLE;
-- Granted again, allowed again; then the allow-list itself changes (here by the owner's
-- direct UPDATE, which only the catalog tables' statement trigger sees): denied at once.
GRANT sc_club TO sc_carl;
SET ROLE sc_carl;
SELECT duroxide.start_orchestration('sc-club-again-' || i, 'CallActivity', 'ScClub:carl')
  FROM generate_series(1, 6) i \g /dev/null
SELECT w.status, w.output, count(*)
  FROM generate_series(1, 6) i,
       LATERAL duroxide.wait_for_orchestration('sc-club-again-' || i, '60 s') w
 GROUP BY 1, 2;
RESET ROLE;
UPDATE duroxide.sql_activities SET allowed_roles = ARRAY['sc_alice']::regrole[]
 WHERE name = 'ScClub';
SET ROLE sc_carl;
SELECT duroxide.start_orchestration('sc-club-relisted-' || i, 'CallActivity', 'ScClub:carl')
  FROM generate_series(1, 6) i \g /dev/null
SELECT w.status, w.error->'Application'->>'message' AS message, count(*)
  FROM generate_series(1, 6) i,
       LATERAL duroxide.wait_for_orchestration('sc-club-relisted-' || i, '60 s') w
 GROUP BY 1, 2;
RESET ROLE;
SELECT duroxide.unregister_sql_activity('ScClub');
REVOKE USAGE ON SCHEMA sc FROM sc_carl;
DROP ROLE sc_carl, sc_club;

-- Clean up.
ALTER SYSTEM RESET duroxide.max_attempts;
SELECT pg_reload_conf();
SELECT duroxide.unregister_sql_activity(a)
  FROM unnest(ARRAY['ScUpper', 'ScForged', 'ScEcho', 'ScAdminOnly', 'ScBlock', 'ScGone',
                    'ScFormer']) AS a;
SELECT duroxide.unregister_plugin('duroxide_sample');
DROP SCHEMA sc CASCADE;
DROP ROLE sc_admin, sc_alice, sc_bob, sc_former;
