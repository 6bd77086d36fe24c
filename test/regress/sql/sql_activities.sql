-- Registering SQL functions as activities.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE SCHEMA act;
CREATE FUNCTION act.upper_text(input text) RETURNS text LANGUAGE sql AS $$ SELECT upper(input) $$;
CREATE FUNCTION act.echo_json(input jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT input $$;
CREATE FUNCTION act.two_args(a text, b text) RETURNS text LANGUAGE sql AS $$ SELECT a || b $$;
CREATE FUNCTION act.returns_int(input text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION act.returns_set(input text) RETURNS SETOF text LANGUAGE sql AS $$ SELECT input $$;
CREATE PROCEDURE act.proc(input text) LANGUAGE sql AS $$ SELECT 1 $$;

SELECT duroxide.register_sql_activity('Upper', 'act.upper_text(text)');
SELECT duroxide.register_sql_activity('EchoJson', 'act.echo_json(jsonb)');
SELECT name, function_oid, input_type, output_type, run_as = current_user::regrole AS runs_as_registrant
  FROM duroxide.sql_activities ORDER BY name;

-- Bad input: nothing is written.
SELECT duroxide.register_sql_activity('Upper', 'act.upper_text(text)');
SELECT duroxide.register_sql_activity('', 'act.upper_text(text)');
SELECT duroxide.register_sql_activity(repeat('x', 257), 'act.upper_text(text)');
SELECT duroxide.register_sql_activity(E'bad\nname', 'act.upper_text(text)');
SELECT duroxide.register_sql_activity('__duroxide_syscall:new_guid', 'act.upper_text(text)');
SELECT duroxide.register_sql_activity(NULL, 'act.upper_text(text)');
SELECT duroxide.register_sql_activity('TwoArgs', 'act.two_args(text, text)');
SELECT duroxide.register_sql_activity('Int', 'act.returns_int(text)');
SELECT duroxide.register_sql_activity('Set', 'act.returns_set(text)');
SELECT duroxide.register_sql_activity('Proc', 'act.proc(text)');
SELECT duroxide.register_sql_activity('Missing', 'act.no_such(text)');
SELECT count(*) AS registered FROM duroxide.sql_activities;

-- Registration is for duroxide_admin; the activity runs as whoever registered it, who must own
-- the function and be able to call it.
CREATE ROLE sqlact_admin IN ROLE duroxide_admin;
CREATE ROLE sqlact_user IN ROLE duroxide_user;
GRANT USAGE ON SCHEMA act TO sqlact_admin, sqlact_user;
CREATE FUNCTION act.admin_echo(input jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT input $$;
CREATE FUNCTION act.admin_no_execute(input text) RETURNS text LANGUAGE sql AS $$ SELECT input $$;
ALTER FUNCTION act.admin_echo(jsonb) OWNER TO sqlact_admin;
ALTER FUNCTION act.admin_no_execute(text) OWNER TO sqlact_admin;
REVOKE EXECUTE ON FUNCTION act.admin_no_execute(text) FROM PUBLIC, sqlact_admin;
SET ROLE sqlact_user;
SELECT duroxide.register_sql_activity('UserTry', 'act.echo_json(jsonb)');
SELECT count(*) AS user_can_read FROM duroxide.sql_activities;
SET ROLE sqlact_admin;
SELECT duroxide.register_sql_activity('NotOwned', 'act.echo_json(jsonb)');
SELECT duroxide.register_sql_activity('NoExecute', 'act.admin_no_execute(text)');
SELECT duroxide.register_sql_activity('AdminEcho', 'act.admin_echo(jsonb)');
SELECT name, run_as, registered_by_superuser, allowed_roles, statement_timeout
  FROM duroxide.sql_activities WHERE name = 'AdminEcho';
RESET ROLE;

SELECT duroxide.unregister_sql_activity('AdminEcho') AS removed,
       duroxide.unregister_sql_activity('AdminEcho') AS removed_again;
SELECT duroxide.unregister_sql_activity('Upper'), duroxide.unregister_sql_activity('EchoJson');
SELECT count(*) AS left_over FROM duroxide.sql_activities;
DROP SCHEMA act CASCADE;
DROP ROLE sqlact_admin;
DROP ROLE sqlact_user;
