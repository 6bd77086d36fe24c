-- Completion notifications' SQL API (sql/objects/81_notifications.sql): who may learn which
-- channel name, LISTEN/UNLISTEN through the functions, the secret nobody else reads, rotation,
-- the settings' defaults. Channel names are random per install: only comparisons are shown.
-- The notifications themselves are heard by test/tap/026_notifications.pl.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
DROP ROLE IF EXISTS ntf_alice, ntf_bob, ntf_ops, ntf_group, ntf_member, ntf_nobody;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE ROLE ntf_alice LOGIN IN ROLE duroxide_user;
CREATE ROLE ntf_bob LOGIN IN ROLE duroxide_user;
CREATE ROLE ntf_ops LOGIN IN ROLE duroxide_admin;
CREATE ROLE ntf_group IN ROLE duroxide_user;
CREATE ROLE ntf_member LOGIN IN ROLE ntf_group;
CREATE ROLE ntf_nobody LOGIN;
CREATE SCHEMA ntf;
GRANT USAGE ON SCHEMA ntf TO PUBLIC;
-- 'ok' or 'SQLSTATE: message (HINT)'
CREATE FUNCTION ntf.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
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
GRANT EXECUTE ON FUNCTION ntf.try(text) TO PUBLIC;
CREATE TABLE ntf.seen (who text, what text, channel text);
GRANT INSERT, SELECT ON ntf.seen TO PUBLIC;

-- The settings and their defaults.
SHOW duroxide.notify_completions;
SHOW duroxide.notify_custom_status;

-- Each role learns its own channel, and that of roles it has the privileges of.
SET ROLE ntf_alice;
INSERT INTO ntf.seen VALUES ('alice', 'own', duroxide.notification_channel()),
                            ('alice', 'named', duroxide.notification_channel('ntf_alice'));
SELECT ntf.try($$SELECT duroxide.notification_channel('ntf_bob')$$);
SELECT ntf.try($$SELECT duroxide.notification_channel(all_instances => true)$$);
SELECT ntf.try($$SELECT duroxide.listen('ntf_bob')$$);
SELECT ntf.try($$SELECT duroxide.listen(all_instances => true)$$);
SELECT ntf.try($$SELECT duroxide.notification_channel('ntf_bob', true)$$);
SELECT ntf.try($$SELECT duroxide.notification_channel(NULL, NULL)$$);
SELECT ntf.try($$SELECT duroxide.notification_channel('no_such_role')$$);
SELECT ntf.try($$SELECT * FROM duroxide.notification_secret$$);
SELECT ntf.try($$SELECT duroxide._notification_channel('all')$$);
SELECT ntf.try($$SELECT duroxide.rotate_notification_secret()$$);
SET ROLE ntf_bob;
INSERT INTO ntf.seen VALUES ('bob', 'own', duroxide.notification_channel());
SET ROLE ntf_member;
INSERT INTO ntf.seen VALUES ('member', 'group', duroxide.notification_channel('ntf_group'));
SET ROLE ntf_ops;
INSERT INTO ntf.seen VALUES ('ops', 'alice', duroxide.notification_channel('ntf_alice')),
                            ('ops', 'all', duroxide.notification_channel(all_instances => true));
SET ROLE ntf_nobody;
SELECT ntf.try($$SELECT duroxide.notification_channel()$$);
SELECT ntf.try($$SELECT duroxide.listen()$$);
RESET ROLE;
INSERT INTO ntf.seen VALUES ('superuser', 'group', duroxide.notification_channel('ntf_group'));

SELECT who, what, channel ~ '^duroxide_[0-9a-f]{40}$' AS well_formed,
       channel = (SELECT channel FROM ntf.seen WHERE who = 'alice' AND what = 'own') AS is_alices,
       channel = (SELECT channel FROM ntf.seen WHERE who = 'superuser') AS is_groups
  FROM ntf.seen ORDER BY who, what;

-- listen() LISTENs this session (from the commit of the statement), unlisten() stops it.
SET ROLE ntf_alice;
SELECT duroxide.listen() = duroxide.notification_channel() AS listen_returns_the_channel;
SELECT array_agg(c) = ARRAY[duroxide.notification_channel()] AS listening
  FROM pg_listening_channels() c;
SELECT duroxide.unlisten() = duroxide.notification_channel() AS unlisten_returns_the_channel;
SELECT count(*) AS channels_left FROM pg_listening_channels();
RESET ROLE;

-- A new secret gives every role a new channel name.
SET ROLE ntf_ops;
SELECT duroxide.rotate_notification_secret();
RESET ROLE;
SELECT duroxide.notification_channel('ntf_alice') <> channel AS alice_has_a_new_channel
  FROM ntf.seen WHERE who = 'alice' AND what = 'own';
-- Each backend keeps the names it derived (duroxide._notification_channel): the transaction
-- that rotates the secret sees the new names at once, and a rolled-back rotation leaves the
-- old ones.
BEGIN;
SELECT duroxide.notification_channel('ntf_alice') AS before_rotation \gset
SELECT duroxide.rotate_notification_secret();
SELECT duroxide.notification_channel('ntf_alice') <> :'before_rotation' AS renamed_in_the_rotation;
ROLLBACK;
SELECT duroxide.notification_channel('ntf_alice') = :'before_rotation' AS kept_after_rollback;

-- What each API function is granted to.
SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
       has_function_privilege('duroxide_user', p.oid, 'EXECUTE') AS user_may,
       has_function_privilege('duroxide_admin', p.oid, 'EXECUTE') AS admin_may,
       has_function_privilege('ntf_nobody', p.oid, 'EXECUTE') AS public_may,
       p.prosecdef AS security_definer
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'duroxide'::regnamespace
   AND p.proname IN ('notification_channel', 'listen', 'unlisten', 'rotate_notification_secret',
                     '_notification_channel', '_notification_payload', '_send_notification',
                     '_notify_execution_ended', '_notify_custom_status')
 ORDER BY p.proname;
SELECT has_table_privilege('duroxide_user', 'duroxide.notification_secret', 'SELECT') AS user_reads_secret,
       has_table_privilege('duroxide_admin', 'duroxide.notification_secret', 'SELECT') AS admin_reads_secret;

-- The payload: under 8000 bytes, the value left out beyond.
SELECT duroxide._notification_payload('ended', 'i-1', 1, 'Completed', 'output', '{"a":1}', NULL);
SELECT octet_length(p) < 8000 AS fits, p::json->>'large' AS large, length(p::json->>'output') AS output_length
  FROM duroxide._notification_payload('ended', 'i-1', 1, 'Completed', 'output', repeat('y', 7800), NULL) p;
SELECT octet_length(p) < 8000 AS fits, p::json->>'large' AS large, p::json->'output' AS output
  FROM duroxide._notification_payload('ended', 'i-1', 1, 'Completed', 'output', repeat('y', 7990), NULL) p;
SELECT octet_length(p) < 8000 AS fits, p::json->>'large' AS large, p::json->'output' AS output
  FROM duroxide._notification_payload('ended', 'i-1', 1, 'Completed', 'output', repeat(E'\n', 4000), NULL) p;

DROP SCHEMA ntf CASCADE;
DROP ROLE ntf_alice, ntf_bob, ntf_ops, ntf_member, ntf_group, ntf_nobody;
