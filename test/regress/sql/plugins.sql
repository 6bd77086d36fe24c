-- Registering plugins: loading, ABI check, catalog of handlers, conflicts, security.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
-- Errors that name the library directory show it as $libdir, and the test plugins' directory
-- (duroxide.plugin_directories of the test cluster: the test plugins are never installed into
-- $libdir) as $plugin_dir, so the expected output does not depend on where PostgreSQL or the
-- checkout is.
CREATE FUNCTION pg_temp.libdir_masked(call text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    libdir text := (SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR');
    plugin_dir text := coalesce(nullif(current_setting('duroxide.plugin_directories', true), ''),
                                '$plugin_dir');
    msg text; det text; hint text;
BEGIN
    EXECUTE call;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RAISE EXCEPTION USING ERRCODE = SQLSTATE,
        MESSAGE = replace(replace(msg, libdir, '$libdir'), plugin_dir, '$plugin_dir'),
        DETAIL = replace(replace(det, libdir, '$libdir'), plugin_dir, '$plugin_dir'), HINT = hint;
END $$;
SELECT duroxide.register_plugin('duroxide_test_hello') AS handlers;
SELECT name, path LIKE '%/duroxide_test_hello.so' AS from_libdir, abi_version,
       registered_by = current_user::regrole AS by_me
  FROM duroxide.plugins;
SELECT kind, name, version, provider_type, provider
  FROM duroxide.registered_handlers ORDER BY kind, name, version;

-- Registering the same plugin again is refused.
SELECT duroxide.register_plugin('duroxide_test_hello');

-- Bad plugins are refused with clear errors, and nothing is recorded for them.
SELECT duroxide.register_plugin('duroxide_test_bad_abi');
SELECT pg_temp.libdir_masked($$SELECT duroxide.register_plugin('duroxide_test_not_plugin')$$);
SELECT duroxide.register_plugin('duroxide_test_invalid');
SELECT duroxide.register_plugin('duroxide_test_conflict');
SELECT pg_temp.libdir_masked($$SELECT duroxide.register_plugin('no_such_plugin')$$);
SELECT duroxide.register_plugin(NULL);
-- Names, never paths.
SELECT duroxide.register_plugin('../../../tmp/evil');
SELECT duroxide.register_plugin('/usr/lib/postgresql/15/lib/duroxide_test_hello');
SELECT duroxide.register_plugin('duroxide_test_hello.so');
SELECT duroxide.register_plugin('');
SELECT count(*) AS plugins FROM duroxide.plugins;

-- An SQL activity may not take a name a plugin provides, and vice versa.
CREATE FUNCTION public.plugin_test_echo(input text) RETURNS text LANGUAGE sql AS $$ SELECT input $$;
SELECT duroxide.register_sql_activity('TestEcho', 'public.plugin_test_echo(text)');
SELECT duroxide.register_sql_activity('TestConflictOwn', 'public.plugin_test_echo(text)');
SELECT duroxide.register_plugin('duroxide_test_conflict');
SELECT duroxide.unregister_sql_activity('TestConflictOwn');

-- Only duroxide_admin registers plugins.
CREATE ROLE plugin_user IN ROLE duroxide_user;
SET ROLE plugin_user;
SELECT duroxide.register_plugin('duroxide_test_conflict');
SELECT count(*) > 0 AS user_sees_handlers FROM duroxide.registered_handlers;
RESET ROLE;
DROP ROLE plugin_user;

-- Unregistering removes the plugin and its handlers.
SELECT duroxide.unregister_plugin('duroxide_test_hello') AS removed,
       duroxide.unregister_plugin('duroxide_test_hello') AS removed_again;
SELECT count(*) AS handlers_left FROM duroxide.plugin_handlers;
DROP FUNCTION public.plugin_test_echo(text);
