-- Provider validation: the durable key-value store's two tables (reference §3.5 ack, §4.11,
-- §5.1 "kv_store"): kv_delta takes each turn's KeyValue* events, kv_store what finished
-- executions left, the fetch's snapshot is kv_store only, client reads see the merge.
-- Runs in duroxide_store, where no worker serves the queues.
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SET client_min_messages = warning;
SELECT duroxide_internal.probe_attach(-1, 'owner-a');

CREATE FUNCTION pv.kv_set(instance text, id bigint, key text, value text) RETURNS jsonb
    LANGUAGE sql RETURN pv.ev(instance, id, 'KeyValueSet', jsonb_build_object(
        'key', key, 'value', value, 'last_updated_at_ms', id * 1000));
CREATE FUNCTION pv.kv_clear(instance text, id bigint, key text) RETURNS jsonb
    LANGUAGE sql RETURN pv.ev(instance, id, 'KeyValueCleared', jsonb_build_object('key', key));
CREATE FUNCTION pv.kv_clear_all(instance text, id bigint) RETURNS jsonb
    LANGUAGE sql RETURN pv.ev(instance, id, 'KeyValuesCleared');
-- Both tables of an instance, as "key=value" (tombstones as "key=∅").
CREATE FUNCTION pv.kv_tables(instance text, OUT kv_store text[], OUT kv_delta text[])
    LANGUAGE sql AS $$
    SELECT (SELECT array_agg(key || '=' || value ORDER BY key) FROM duroxide.kv_store
             WHERE instance_id = instance),
           (SELECT array_agg(key || '=' || coalesce(value, '∅') ORDER BY key) FROM duroxide.kv_delta
             WHERE instance_id = instance) $$;
-- Fetches one batch (keeping its lock in pv.held) and returns its KV snapshot.
CREATE FUNCTION pv.fetch_snapshot(OUT instance text, OUT execution_id bigint, OUT kv_snapshot jsonb)
    LANGUAGE plpgsql AS $$
DECLARE b record;
BEGIN
    SELECT * INTO b FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 1);
    INSERT INTO pv.held (kind, key, token) VALUES ('orch', b.instance, b.lock_token)
        ON CONFLICT (kind, key) DO UPDATE SET token = excluded.token;
    instance := b.instance; execution_id := b.execution_id; kv_snapshot := b.kv_snapshot;
END $$;

-- [kv 1] A turn's writes go to kv_delta only: the next fetch's snapshot leaves them out (the
-- execution replays them from its history), while a client read sees them.
SELECT pv.reset();
SELECT pv.create_instance('k1');
SELECT pv.enqueue(pv.raised('k1', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k1', delta => jsonb_build_array(pv.kv_set('k1', 2, 'a', '1'), pv.kv_set('k1', 3, 'b', '2')));
SELECT * FROM pv.kv_tables('k1');
SELECT pv.enqueue(pv.raised('k1', 'go'));
SELECT * FROM pv.fetch_snapshot();
SELECT duroxide.get_kv_value('k1', 'a') AS client_reads_a;
-- [kv 2] A later write of the same key in the same execution overwrites its delta row.
SELECT pv.ack('k1', delta => jsonb_build_array(pv.kv_set('k1', 4, 'a', '10')));
SELECT * FROM pv.kv_tables('k1');
-- [kv 3] Completion merges the delta into kv_store and empties it; the next execution's
-- snapshot (a fetch after completion) has the keys, with the time of their write.
SELECT pv.enqueue(pv.raised('k1', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k1', delta => jsonb_build_array(pv.completed('k1', 5)), status => 'Completed');
SELECT * FROM pv.kv_tables('k1');
SELECT key, value, last_updated_at_ms FROM duroxide.kv_store WHERE instance_id = 'k1' ORDER BY 1;
SELECT pv.enqueue(pv.raised('k1', 'late'));
SELECT * FROM pv.fetch_snapshot();
SELECT pv.ack('k1');

-- [kv 4] Continue-as-new merges too: the new execution's snapshot has what the first one set.
SELECT pv.reset();
SELECT pv.create_instance('k4');
SELECT pv.enqueue(pv.raised('k4', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k4', delta => jsonb_build_array(pv.kv_set('k4', 2, 'x', 'one'), pv.kv_set('k4', 3, 'y', 'two'),
                                               pv.ev('k4', 4, 'OrchestrationContinuedAsNew', '{"input": ""}')),
              status => 'ContinuedAsNew',
              orchestrator_items => '[{"ContinueAsNew": {"instance": "k4", "orchestration": "O", "input": "", "version": "1.0.0"}}]');
SELECT * FROM pv.kv_tables('k4');
SELECT * FROM pv.fetch_snapshot();
SELECT pv.ack('k4', execution_id => 2, delta => jsonb_build_array(pv.started('k4', execution_id => 2)), name => 'O');
-- [kv 5] A cleared key is a tombstone in kv_delta: client reads no longer see it, kv_store
-- and the snapshot keep it until the execution ends; then the key is gone.
SELECT pv.enqueue(pv.raised('k4', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k4', execution_id => 2,
              delta => jsonb_build_array(pv.ev('k4', 2, 'ExternalEvent', '{"name": "go", "data": ""}', 2),
                                         pv.kv_clear('k4', 3, 'x')));
SELECT * FROM pv.kv_tables('k4');
SELECT duroxide.get_kv_value('k4', 'x') AS client_reads_x, duroxide.get_kv_value('k4', 'y') AS client_reads_y;
SELECT pv.enqueue(pv.raised('k4', 'go'));
SELECT * FROM pv.fetch_snapshot();
SELECT pv.ack('k4', execution_id => 2, delta => jsonb_build_array(pv.completed('k4', 4, execution_id => 2)),
              status => 'Completed');
SELECT * FROM pv.kv_tables('k4');
-- [kv 6] A key cleared and set again in one turn ends set.
SELECT pv.reset();
SELECT pv.create_instance('k6');
SELECT pv.enqueue(pv.raised('k6', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k6', delta => jsonb_build_array(pv.kv_set('k6', 2, 'a', '1'), pv.kv_clear('k6', 3, 'a'),
                                               pv.kv_set('k6', 4, 'a', '2')));
SELECT * FROM pv.kv_tables('k6');

-- [kv 7] Clearing all tombstones every key: those of kv_store and those of this execution's
-- delta; a key set after the clear in the same turn survives. On completion only it remains.
SELECT pv.reset();
SELECT pv.create_instance('k7');
SELECT pv.enqueue(pv.raised('k7', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k7', delta => jsonb_build_array(pv.kv_set('k7', 2, 'old1', 'a'), pv.kv_set('k7', 3, 'old2', 'b'),
                                               pv.ev('k7', 4, 'OrchestrationContinuedAsNew', '{"input": ""}')),
              status => 'ContinuedAsNew',
              orchestrator_items => '[{"ContinueAsNew": {"instance": "k7", "orchestration": "O", "input": "", "version": "1.0.0"}}]');
SELECT instance FROM pv.fetch();
SELECT pv.ack('k7', execution_id => 2, delta => jsonb_build_array(pv.started('k7', execution_id => 2),
                                                                  pv.kv_set('k7', 2, 'mine', 'c')), name => 'O');
SELECT pv.enqueue(pv.raised('k7', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k7', execution_id => 2,
              delta => jsonb_build_array(pv.kv_clear_all('k7', 3), pv.kv_set('k7', 4, 'after', 'd')));
SELECT * FROM pv.kv_tables('k7');
SELECT key, value FROM duroxide.get_kv_values('k7') ORDER BY 1;
SELECT pv.enqueue(pv.raised('k7', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k7', execution_id => 2, delta => jsonb_build_array(pv.completed('k7', 5, execution_id => 2)),
              status => 'Completed');
SELECT * FROM pv.kv_tables('k7');

-- [kv 8] A failed execution merges its delta as well.
SELECT pv.reset();
SELECT pv.create_instance('k8');
SELECT pv.enqueue(pv.raised('k8', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k8', delta => jsonb_build_array(pv.kv_set('k8', 2, 'progress', 'half'),
                                               pv.ev('k8', 3, 'OrchestrationFailed',
                                                 '{"details": {"Application": {"kind": "OrchestrationFailed", "message": "boom", "retryable": false}}}')),
              status => 'Failed', output => 'boom');
SELECT * FROM pv.kv_tables('k8');

-- [kv 9] Keys belong to their instance: another instance's writes and clear-all leave them.
SELECT pv.create_instance('k9');
SELECT pv.enqueue(pv.raised('k9', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k9', delta => jsonb_build_array(pv.kv_set('k9', 2, 'progress', 'other'), pv.kv_clear_all('k9', 3)));
SELECT * FROM pv.kv_tables('k8');
SELECT * FROM pv.kv_tables('k9');

-- [kv 10] Pruning old executions leaves the keys; deleting the instance removes both tables' rows.
SELECT pv.reset();
SELECT pv.create_instance('k10');
SELECT pv.enqueue(pv.raised('k10', 'go'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k10', delta => jsonb_build_array(pv.kv_set('k10', 2, 'kept', 'yes'),
                                                pv.ev('k10', 3, 'OrchestrationContinuedAsNew', '{"input": ""}')),
              status => 'ContinuedAsNew',
              orchestrator_items => '[{"ContinueAsNew": {"instance": "k10", "orchestration": "O", "input": "", "version": "1.0.0"}}]');
SELECT instance FROM pv.fetch();
SELECT pv.ack('k10', execution_id => 2, delta => jsonb_build_array(pv.started('k10', execution_id => 2),
                                                                   pv.kv_set('k10', 2, 'pending', 'p')), name => 'O');
SELECT * FROM duroxide.prune_executions('k10', keep_last => 1);
SELECT * FROM pv.kv_tables('k10');
SELECT instances FROM duroxide.delete_instance('k10', force => true);
SELECT (SELECT count(*) FROM duroxide.kv_store) AS kv_store_rows,
       (SELECT count(*) FROM duroxide.kv_delta) AS kv_delta_rows;

SELECT duroxide_internal.probe_detach();
