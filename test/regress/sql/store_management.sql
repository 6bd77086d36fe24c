-- Provider validation: management deletes and prunes on store-made state (reference §3.6 and
-- §5.1 "deletion", "prune", "bulk_deletion"): cascades, safety rules, and what a delete does
-- to work in flight; and the management reads (queue depths, info, trees). The SQL functions
-- are duroxide's own (sql/objects/60_management.sql).
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT duroxide_internal.probe_attach(-1);
CREATE FUNCTION pg_temp.rows() RETURNS TABLE (instances bigint, executions bigint, events bigint,
    orchestrator_queue bigint, worker_queue bigint, locks bigint) LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM duroxide.instances), (SELECT count(*) FROM duroxide.executions),
           (SELECT count(*) FROM duroxide.history), (SELECT count(*) FROM duroxide.orchestrator_queue),
           (SELECT count(*) FROM duroxide.worker_queue), (SELECT count(*) FROM duroxide.instance_locks) $$;
-- Ends a running instance: one turn that completes it.
CREATE FUNCTION pg_temp.complete(instance text, last_event bigint) RETURNS void LANGUAGE sql AS $$
    SELECT pv.enqueue(pv.raised(instance, 'end'));
    SELECT count(*) FROM pv.fetch();
    SELECT pv.ack(instance, delta => jsonb_build_array(pv.completed(instance, last_event + 1)),
                  status => 'Completed', output => 'done') $$;

-- [deletion 1] A terminal instance is deleted with its executions, history and messages.
SELECT pv.reset();
SELECT pv.create_instance('d1');
SELECT pg_temp.complete('d1', 1);
SELECT pv.enqueue(pv.raised('d1', 'late'));
SELECT * FROM pg_temp.rows();
SELECT * FROM duroxide.delete_instance('d1');
SELECT * FROM pg_temp.rows();
-- [deletion 2] A running instance is refused without force; force deletes it, its queued
-- activities and its lock (a turn in flight).
SELECT pv.create_instance('d2', activities => 2);
SELECT pv.enqueue(pv.raised('d2', 'x'));
SELECT instance FROM pv.fetch();
SELECT pv.try($$SELECT duroxide.delete_instance('d2')$$);
SELECT * FROM pg_temp.rows();
SELECT * FROM duroxide.delete_instance('d2', force => true);
SELECT * FROM pg_temp.rows();
-- [deletion 3] The turn in flight cannot record after the forced delete: the instance is not
-- recreated by its own dispatcher.
SELECT pv.try($$SELECT pv.ack('d2', delta => jsonb_build_array(pv.ev('d2', 4, 'ExternalEvent', '{"name": "x", "data": ""}')))$$);
SELECT count(*) AS instances FROM duroxide.instances;
-- [deletion 4] An activity running while its instance is force-deleted cannot ack.
SELECT pv.create_instance('d4', activities => 1);
SELECT item FROM pv.fetch_work();
SELECT * FROM duroxide.delete_instance('d4', force => true);
SELECT pv.try($$SELECT pv.ack_work('d4#2')$$);
SELECT * FROM pg_temp.rows();
-- [deletion 5] Deleting an instance that does not exist is an error.
SELECT pv.try($$SELECT duroxide.delete_instance('nope')$$);
-- [deletion 6] A sub-orchestration is deleted through its root only; the root takes the whole
-- tree with it.
SELECT pv.create_instance('d6');
SELECT pv.create_instance('d6-child', parent => 'd6');
SELECT pv.create_instance('d6-grandchild', parent => 'd6-child');
SELECT pg_temp.complete('d6', 1), pg_temp.complete('d6-child', 1), pg_temp.complete('d6-grandchild', 1);
SELECT pv.try($$SELECT duroxide.delete_instance('d6-child')$$);
SELECT * FROM duroxide.delete_instance('d6');
SELECT * FROM pg_temp.rows();
-- [deletion 7] A tree with a running descendant is refused without force.
SELECT pv.create_instance('d7');
SELECT pv.create_instance('d7-child', parent => 'd7');
SELECT pg_temp.complete('d7', 1);
SELECT pv.try($$SELECT duroxide.delete_instance('d7')$$);
SELECT * FROM duroxide.delete_instance('d7', force => true);
-- [deletion 8] After a delete, the same id starts afresh: a stale activity completion of the
-- old instance does not belong to the new one's history.
SELECT pv.reset();
SELECT pv.create_instance('d8', activities => 1);
SELECT item FROM pv.fetch_work();
SELECT * FROM duroxide.delete_instance('d8', force => true);
SELECT pv.create_instance('d8');
SELECT pv.try($$SELECT pv.ack_work('d8#2')$$);
SELECT event_id, event_type FROM duroxide.history;

-- [bulk deletion 1] delete_instances takes finished roots (by id and/or completion time),
-- skips running ones and children, and cascades to the trees.
SELECT pv.reset();
SELECT pv.create_instance('b-' || i) FROM generate_series(1, 4) i;
SELECT pv.create_instance('b-1-child', parent => 'b-1');
SELECT pg_temp.complete('b-1', 1), pg_temp.complete('b-1-child', 1), pg_temp.complete('b-2', 1),
       pg_temp.complete('b-3', 1);
SELECT * FROM duroxide.delete_instances(instance_ids => ARRAY['b-1', 'b-1-child', 'b-4']);
SELECT instance_id FROM duroxide.instances ORDER BY 1;
-- [bulk deletion 2] A completion-time filter: nothing completed before the epoch, all before now.
SELECT * FROM duroxide.delete_instances(completed_before => 'epoch');
SELECT * FROM duroxide.delete_instances(completed_before => clock_timestamp(), max_instances => 1);
SELECT instance_id FROM duroxide.instances ORDER BY 1;
-- [bulk deletion 3] Safety: a filter is required, and the limit must be positive.
SELECT pv.try($$SELECT duroxide.delete_instances()$$);
SELECT pv.try($$SELECT duroxide.delete_instances(instance_ids => '{b-3}', max_instances => 0)$$);

-- [prune 1] Pruning deletes old executions' history, keeps the last ones and always the
-- current one; the instance row is untouched.
SELECT pv.reset();
SELECT pv.create_instance('pr');
DO $$
BEGIN
    FOR n IN 1..3 LOOP
        PERFORM pv.enqueue(pv.raised('pr', 'again'));
        PERFORM pv.fetch();
        PERFORM pv.ack('pr', execution_id => n,
            delta => jsonb_build_array(pv.ev('pr', 2, 'OrchestrationContinuedAsNew', '{"input": ""}', n)),
            status => 'ContinuedAsNew', output => '',
            orchestrator_items => '[{"ContinueAsNew": {"instance": "pr", "orchestration": "O", "input": "", "version": "1.0.0"}}]');
        PERFORM pv.fetch();
        PERFORM pv.ack('pr', execution_id => n + 1, delta => jsonb_build_array(pv.started('pr', execution_id => n + 1)), name => 'O');
    END LOOP;
END $$;
SELECT execution_id, status FROM duroxide.executions ORDER BY 1;
SELECT * FROM duroxide.prune_executions('pr', keep_last => 2);
SELECT execution_id FROM duroxide.executions ORDER BY 1;
SELECT DISTINCT execution_id FROM duroxide.history ORDER BY 1;
-- [prune 2] keep_last 1 leaves the current execution only; it stays fetchable with its history.
SELECT * FROM duroxide.prune_executions('pr');
SELECT execution_id FROM duroxide.executions ORDER BY 1;
SELECT pv.enqueue(pv.raised('pr', 'x'));
SELECT instance, execution_id, history FROM pv.fetch();
SELECT pv.abandon('pr');
-- [prune 3] Safety: keep_last must be at least 1; an unknown instance is an error.
SELECT pv.try($$SELECT duroxide.prune_executions('pr', keep_last => 0)$$);
SELECT pv.try($$SELECT duroxide.prune_executions('nope')$$);
SELECT pv.reset();

-- [reads 1] Queue depths count ready, delayed and in-progress messages of both queues.
SELECT pv.create_instance('q', activities => 3);
SELECT item FROM pv.fetch_work();
SELECT pv.enqueue(pv.raised('q', 'now')), pv.enqueue(pv.timer_fired('q', 9, pv.now_ms() + 60000));
SELECT * FROM duroxide.queue_depths ORDER BY queue;
-- [reads 2] Instance info, executions and status counts of store-made state.
SELECT instance_id, orchestration_name, status, execution_id, executions, parent_instance_id
  FROM duroxide.get_instance_info('q');
SELECT execution_id, status, events FROM duroxide.list_executions('q');
SELECT * FROM duroxide.instance_counts ORDER BY status;
-- [reads 3] Trees and children follow parent_instance_id.
SELECT pv.reset();
SELECT pv.create_instance('q');
SELECT pv.create_instance('q-child', parent => 'q'), pv.create_instance('q-child-2', parent => 'q');
SELECT pv.create_instance('q-grandchild', parent => 'q-child');
SELECT * FROM duroxide.get_instance_tree('q');
SELECT duroxide.list_children('q');
SELECT pv.reset();

-- Done: the validation database goes.
\c duroxide_regress
DROP DATABASE duroxide_store WITH (FORCE);
