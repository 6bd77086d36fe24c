-- The client's waits: they sleep until the dispatcher commits a status change.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;

-- wait_for_status_change follows the custom status version by version.
SELECT duroxide.start_orchestration('steps', 'StatusSteps', '');
SELECT status, custom_status, custom_status_version
  FROM duroxide.wait_for_status_change('steps', 0, '30 s');
SELECT duroxide.raise_event('steps', 'Go', 'green');
-- (The status is not shown: the activity after version 2 may already have ended the instance.)
SELECT custom_status, custom_status_version
  FROM duroxide.wait_for_status_change('steps', 1, '30 s');
-- Past the last version it returns when the instance ends.
SELECT status, output, custom_status, custom_status_version
  FROM duroxide.wait_for_status_change('steps', 2, '30 s');
-- A version already passed returns at once.
SELECT custom_status_version FROM duroxide.wait_for_status_change('steps', 0, '1 s');

-- Timeouts are errors that say what was awaited.
SELECT duroxide.start_orchestration('stuck', 'WaitForGo', '');
SELECT * FROM duroxide.wait_for_orchestration('stuck', '100 ms');
SELECT * FROM duroxide.wait_for_status_change('stuck', 5, '100 ms');
-- A wait for an instance that does not exist times out too (it may be started later).
SELECT * FROM duroxide.wait_for_orchestration('nobody', '50 ms');

-- Bad arguments.
SELECT * FROM duroxide.wait_for_status_change('stuck', -1, '1 s');
SELECT * FROM duroxide.wait_for_status_change('stuck', NULL, '1 s');
SELECT * FROM duroxide.wait_for_status_change(NULL, 0, '1 s');
SELECT * FROM duroxide.wait_for_orchestration('stuck', '2 days');
-- A REPEATABLE READ snapshot would never see progress.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM duroxide.wait_for_orchestration('stuck', '1 s');
ROLLBACK;

-- A query cancel ends a wait cleanly, and the session goes on.
SET statement_timeout = '200ms';
SELECT * FROM duroxide.wait_for_orchestration('stuck', '30 s');
RESET statement_timeout;
SELECT duroxide.cancel_instance('stuck', 'test over');
SELECT status, error->'Application'->'kind' AS kind
  FROM duroxide.wait_for_orchestration('stuck', '30 s');

SELECT duroxide.unregister_plugin('duroxide_sample');
