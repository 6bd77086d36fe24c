-- The durable key-value store end to end (scenario 19): values written by orchestrations are
-- visible to clients after the turn that wrote them is recorded, survive continue-as-new, and
-- cleared keys hide what earlier executions left; stats, the system calls, limits, isolation,
-- bad input, and deletes that remove the keys.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;

-- Request/response: the orchestration answers queue messages under keys a client reads while
-- it waits for the next request.
SELECT duroxide.start_orchestration('kv-rr', 'KvRequestResponse', '2');
SELECT duroxide.wait_for_kv_value('kv-rr', 'status', '30 s');
SELECT key, value, updated_at IS NOT NULL AS has_time FROM duroxide.get_kv_values('kv-rr');
SELECT duroxide.enqueue_event('kv-rr', 'requests', 'hello');
SELECT duroxide.wait_for_kv_value('kv-rr', 'response:1', '30 s');
-- The same turn cleared "scratch": a tombstone in kv_delta hides it.
SELECT duroxide.get_kv_value('kv-rr', 'scratch') IS NULL AS scratch_cleared,
       duroxide.get_kv_value('kv-rr', 'status') AS status;
SELECT key, value IS NULL AS tombstone FROM duroxide.kv_delta WHERE instance_id = 'kv-rr' ORDER BY key;
SELECT count(*) AS merged_so_far FROM duroxide.kv_store WHERE instance_id = 'kv-rr';
SELECT duroxide.enqueue_event('kv-rr', 'requests', 'world');
SELECT status, output FROM duroxide.wait_for_orchestration('kv-rr', '30 s');
-- At the end the delta is merged into kv_store (tombstones dropped) and cleared.
SELECT key, value FROM duroxide.kv_store WHERE instance_id = 'kv-rr' ORDER BY key;
SELECT count(*) AS delta_rows FROM duroxide.kv_delta WHERE instance_id = 'kv-rr';
SELECT key, value FROM duroxide.get_kv_values('kv-rr');
SELECT s.history_event_count = (SELECT count(*) FROM duroxide.read_history('kv-rr')) AS events_counted,
       s.history_size_bytes > 0 AS size_positive, s.queue_pending_count, s.kv_user_key_count,
       s.kv_total_value_bytes
  FROM duroxide.get_orchestration_stats('kv-rr') s;

-- Read-modify-write across activities and continue-as-new: 2 increments in each of 3
-- executions; execution 1 writes "first", execution 2 clears it (a tombstone over kv_store).
SELECT duroxide.start_orchestration('kv-counter', 'KvCounter', '2:3');
SELECT status, output FROM duroxide.wait_for_orchestration('kv-counter', '30 s');
SELECT execution_id, status FROM duroxide.list_executions('kv-counter');
SELECT key, value FROM duroxide.get_kv_values('kv-counter');
SELECT event->>'key' AS key, event->>'value' AS value
  FROM duroxide.read_history('kv-counter') WHERE event_type = 'KeyValueSet';

-- Clearing everything: kv_store keeps the earlier execution's keys until this one ends, but
-- the live view shows only what is left.
SELECT duroxide.start_orchestration('kv-reset', 'KvReset', '');
SELECT duroxide.wait_for_kv_value('kv-reset', 'c', '30 s');
SELECT key, value FROM duroxide.get_kv_values('kv-reset');
SELECT key, value FROM duroxide.kv_store WHERE instance_id = 'kv-reset' ORDER BY key;
SELECT key, value FROM duroxide.kv_delta WHERE instance_id = 'kv-reset' ORDER BY key;
SELECT kv_user_key_count, kv_total_value_bytes FROM duroxide.get_orchestration_stats('kv-reset');
SELECT duroxide.raise_event('kv-reset', 'Finish', '');
SELECT status, output FROM duroxide.wait_for_orchestration('kv-reset', '30 s');
SELECT key, value FROM duroxide.kv_store WHERE instance_id = 'kv-reset' ORDER BY key;
SELECT count(*) AS delta_rows FROM duroxide.kv_delta WHERE instance_id = 'kv-reset';

-- The next execution starts from what the previous one left.
SELECT duroxide.start_orchestration('kv-carry', 'KvCarry', '');
SELECT duroxide.wait_for_kv_value('kv-carry', 'waiting', '30 s');
SELECT duroxide.raise_event('kv-carry', 'Go', '');
SELECT status, output FROM duroxide.wait_for_orchestration('kv-carry', '30 s');

-- System calls: built-in activities recorded in history like any other.
SELECT duroxide.start_orchestration('kv-sys', 'KvSystemCalls', 'kv-counter');
SELECT status, output FROM duroxide.wait_for_orchestration('kv-sys', '30 s');
SELECT event->>'name' AS system_call, event->>'input' AS input
  FROM duroxide.read_history('kv-sys') WHERE event_type = 'ActivityScheduled';
SELECT duroxide.get_kv_value('kv-sys', 'guid') ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS guid_is_v4;

-- A value over 64 KiB fails the orchestration (an application failure, not retried).
SELECT duroxide.start_orchestration('kv-big', 'KvTooBig', '');
SELECT status, error->'Application'->'kind' AS kind, error->'Application'->>'message' AS message
  FROM duroxide.wait_for_orchestration('kv-big', '30 s');

-- Isolation: another role reads nothing of these instances, and its orchestrations read
-- nothing of them either.
CREATE ROLE kv_stranger IN ROLE duroxide_user;
SET ROLE kv_stranger;
SELECT duroxide.get_kv_value('kv-counter', 'counter') IS NULL AS hidden;
SELECT count(*) AS visible_keys FROM duroxide.get_kv_values('kv-counter');
SELECT * FROM duroxide.get_orchestration_stats('kv-counter');
SELECT duroxide.start_orchestration('kv-sys-stranger', 'KvSystemCalls', 'kv-counter');
RESET ROLE;
SELECT status, output FROM duroxide.wait_for_orchestration('kv-sys-stranger', '30 s');

-- Bad input and unknown instances.
SELECT duroxide.get_kv_value(NULL, 'k');
SELECT duroxide.get_kv_value('kv-rr', NULL);
SELECT duroxide.get_kv_value('', 'k');
SELECT duroxide.get_kv_value('no-such-instance', 'k') IS NULL AS unknown_is_null;
SELECT count(*) FROM duroxide.get_kv_values('no-such-instance');
SELECT * FROM duroxide.get_orchestration_stats('no-such-instance');
SELECT * FROM duroxide.get_orchestration_stats(NULL);
SELECT duroxide.wait_for_kv_value('kv-rr', 'never', '100 ms');
SELECT duroxide.wait_for_kv_value('kv-rr', 'status', '-1 s');
SELECT duroxide.wait_for_kv_value('kv-rr', NULL, '1 s');

-- Deleting an instance deletes its keys; pruning executions keeps them.
SELECT executions FROM duroxide.prune_executions('kv-counter', 1);
SELECT key, value FROM duroxide.get_kv_values('kv-counter');
SELECT instances FROM duroxide.delete_instance('kv-counter');
SELECT count(*) AS kv_rows_left FROM duroxide.kv_store WHERE instance_id = 'kv-counter';
SELECT instances FROM duroxide.delete_instance('kv-reset');
SELECT (SELECT count(*) FROM duroxide.kv_store WHERE instance_id = 'kv-reset')
     + (SELECT count(*) FROM duroxide.kv_delta WHERE instance_id = 'kv-reset') AS kv_rows_left;
SELECT duroxide.delete_instance(id) IS NOT NULL FROM unnest(ARRAY['kv-rr', 'kv-carry', 'kv-sys', 'kv-big', 'kv-sys-stranger']) AS id;
DROP ROLE kv_stranger;
SELECT duroxide.unregister_plugin('duroxide_sample');
