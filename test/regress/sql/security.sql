-- Roles and per-role isolation of instances (duroxide.isolate_instances, on by default).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
CREATE ROLE sec_alice LOGIN;
CREATE ROLE sec_bob LOGIN;
CREATE ROLE sec_carol LOGIN;
CREATE ROLE sec_nobody LOGIN;
GRANT duroxide_user TO sec_alice, sec_bob, sec_carol;
GRANT sec_alice TO sec_carol;          -- carol acts with alice's privileges

-- Without a duroxide role nothing is reachable.
SET ROLE sec_nobody;
SELECT duroxide.start_orchestration('sec-none', 'HelloWorld', 'x');
SELECT * FROM duroxide.get_orchestration_status('sec-none');
SELECT * FROM duroxide.get_execution_info('sec-none', 1);
SELECT * FROM duroxide.list_instances();
SELECT * FROM duroxide.metrics;
RESET ROLE;

-- Alice starts an instance (and a parent whose child inherits her ownership).
SET ROLE sec_alice;
SELECT duroxide.start_orchestration('sec-alice', 'WaitForGo', '');
SELECT duroxide.start_orchestration('sec-alice-parent', 'ParentOfWaiter', '');
RESET ROLE;
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN (SELECT count(*) FROM duroxide.instances
                    WHERE instance_id IN ('sec-alice', 'sec-alice-parent', 'sec-alice-parent::sub::2')) = 3;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT instance_id, owner_role::regrole FROM duroxide.instances
 WHERE instance_id LIKE 'sec-alice%' ORDER BY instance_id;

-- Bob cannot see, read, wait on, signal or cancel them; they read as NotFound.
SET ROLE sec_bob;
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
SELECT count(*) FROM duroxide.read_history('sec-alice');
SELECT status FROM duroxide.wait_for_orchestration('sec-alice', '50 ms');
SELECT duroxide.raise_event('sec-alice', 'Go', 'from bob');
SELECT duroxide.enqueue_event('sec-alice', 'q', 'from bob');
SELECT duroxide.cancel_instance('sec-alice', 'bob says stop');
SELECT duroxide.cancel_instance('sec-alice-parent::sub::2', 'bob says stop');
-- Starting an instance with her id fails: "not available", nothing more about it.
SELECT duroxide.start_orchestration('sec-alice', 'HelloWorld', 'bob');
-- Nor inspect them with the management functions, nor delete or prune (administrators only).
SELECT count(*) FROM duroxide.get_instance_info('sec-alice');
SELECT count(*) FROM duroxide.list_executions('sec-alice');
SELECT * FROM duroxide.get_execution_info('sec-alice', 1);
SELECT count(*) FROM duroxide.get_instance_tree('sec-alice-parent');
SELECT count(*) FROM duroxide.list_children('sec-alice-parent');
SELECT count(*) FROM duroxide.list_instances() WHERE instance_id LIKE 'sec-alice%';
SELECT * FROM duroxide.delete_instance('sec-alice', force => true);
SELECT * FROM duroxide.delete_instances(instance_ids => ARRAY['sec-alice']);
SELECT * FROM duroxide.prune_executions('sec-alice');
SELECT * FROM duroxide.prune_executions_bulk(instance_ids => ARRAY['sec-alice']);
-- Bob may not touch the store or register code.
SELECT count(*) FROM duroxide.instances;
SELECT duroxide.register_plugin('duroxide_sample');
SELECT duroxide.register_sql_activity('Evil', 'pg_catalog.lower(text)');
RESET ROLE;

-- Alice, and carol (a member of alice), reach them.
SET ROLE sec_carol;
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
SELECT execution_id, status FROM duroxide.get_execution_info('sec-alice', 1);
SELECT count(*) > 0 AS has_history FROM duroxide.read_history('sec-alice');
SELECT duroxide.raise_event('sec-alice', 'Go', 'from carol');
SELECT status, output FROM duroxide.wait_for_orchestration('sec-alice', '30 s');
RESET ROLE;
SET ROLE sec_alice;
SELECT status FROM duroxide.get_orchestration_status('sec-alice-parent::sub::2');
SELECT duroxide.cancel_instance('sec-alice-parent', 'alice is done');
SELECT status FROM duroxide.wait_for_orchestration('sec-alice-parent', '30 s');
RESET ROLE;

-- Administrators reach everything; with isolation off, so does everybody.
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
SET duroxide.isolate_instances = off;
SET ROLE sec_bob;
SELECT status FROM duroxide.get_orchestration_status('sec-alice');
RESET ROLE;
RESET duroxide.isolate_instances;
-- Only a superuser may turn isolation off.
SET ROLE sec_bob;
SET duroxide.isolate_instances = off;
RESET ROLE;


-- A SQL activity runs as the (non-superuser) administrator who registered it, in a context
-- where it cannot change role: it cannot read what that role cannot, nor become or make a
-- superuser, although the worker itself runs as one.
CREATE ROLE sec_admin IN ROLE duroxide_admin;
CREATE TABLE public.sec_secret (v text);
INSERT INTO public.sec_secret VALUES ('the secret');
REVOKE ALL ON public.sec_secret FROM PUBLIC;
CREATE FUNCTION public.sec_whoami(input text) RETURNS text LANGUAGE sql
    AS $$ SELECT current_user::text || ' super=' || (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) $$;
CREATE FUNCTION public.sec_read_secret(input text) RETURNS text LANGUAGE sql
    AS $$ SELECT v FROM public.sec_secret $$;
CREATE FUNCTION public.sec_set_role(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SET ROLE %I', (SELECT rolname FROM pg_roles WHERE oid = 10));
    RETURN current_user::text;
END
$$;
CREATE FUNCTION public.sec_make_superuser(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER ROLE %I SUPERUSER', current_user);
    RETURN 'escalated';
END
$$;
-- An SQL activity's function is owned by the role that registers it.
ALTER FUNCTION public.sec_whoami(text) OWNER TO sec_admin;
ALTER FUNCTION public.sec_read_secret(text) OWNER TO sec_admin;
ALTER FUNCTION public.sec_set_role(text) OWNER TO sec_admin;
ALTER FUNCTION public.sec_make_superuser(text) OWNER TO sec_admin;
SET ROLE sec_admin;
SELECT duroxide.register_sql_activity('SecWhoAmI', 'public.sec_whoami(text)');
SELECT duroxide.register_sql_activity('SecReadSecret', 'public.sec_read_secret(text)');
SELECT duroxide.register_sql_activity('SecSetRole', 'public.sec_set_role(text)');
SELECT duroxide.register_sql_activity('SecMakeSuperuser', 'public.sec_make_superuser(text)');
RESET ROLE;
SELECT duroxide.start_orchestration('sec-act-' || a, 'CallActivity', a || ':x')
  FROM unnest(ARRAY['SecWhoAmI', 'SecReadSecret', 'SecSetRole', 'SecMakeSuperuser']) AS a;
-- PostgreSQL 15 words the refused ALTER ROLE ... SUPERUSER "must be superuser to alter
-- superuser roles or change superuser attribute"; 16 and later "permission denied to alter role".
SELECT id, w.status, w.output,
       regexp_replace(w.error->'Application'->>'message',
                      '^must be superuser to alter superuser roles or change superuser attribute$',
                      'permission denied to alter role') AS error_message
  FROM unnest(ARRAY['sec-act-SecWhoAmI', 'sec-act-SecReadSecret', 'sec-act-SecSetRole',
                    'sec-act-SecMakeSuperuser']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w
 ORDER BY id;
SELECT rolsuper AS sec_admin_is_superuser FROM pg_roles WHERE rolname = 'sec_admin';
SELECT duroxide.unregister_sql_activity(a)
  FROM unnest(ARRAY['SecWhoAmI', 'SecReadSecret', 'SecSetRole', 'SecMakeSuperuser']) AS a;
DROP FUNCTION public.sec_whoami(text), public.sec_read_secret(text), public.sec_set_role(text),
              public.sec_make_superuser(text);
DROP TABLE public.sec_secret;

-- Review of every function and view of the extension (docs/operations.md, Security model):
-- PUBLIC may execute or read nothing.
SELECT p.oid::regprocedure AS executable_by_public
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('duroxide', 'duroxide_internal')
   AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE a.grantee = 0)
 ORDER BY 1::text;
-- Every SECURITY DEFINER function, and every function whose SQL is resolved when it runs
-- (PL/pgSQL, SQL with a string body, register_plugin's queries), pins search_path.
SELECT p.oid::regprocedure AS without_fixed_search_path
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname IN ('duroxide', 'duroxide_internal')
   AND (p.prosecdef OR l.lanname = 'plpgsql' OR (l.lanname = 'sql' AND p.prosqlbody IS NULL)
        OR p.oid = 'duroxide.register_plugin(text, regrole[])'::regprocedure)
   AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=pg\_catalog, pg\_temp%')
 ORDER BY 1::text;
SELECT c.oid::regclass AS readable_by_public
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND c.relkind IN ('r', 'v', 'S', 'p')
   AND EXISTS (SELECT FROM aclexplode(coalesce(c.relacl, acldefault(
                   CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
                WHERE a.grantee = 0)
 ORDER BY 1::text;
SELECT n.nspname AS schema_usable_by_public
  FROM pg_namespace n
 WHERE n.nspname IN ('duroxide', 'duroxide_internal')
   AND EXISTS (SELECT FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                WHERE a.grantee = 0);

SELECT duroxide.unregister_plugin('duroxide_sample');
DROP ROLE sec_alice, sec_bob, sec_carol, sec_nobody, sec_admin;
