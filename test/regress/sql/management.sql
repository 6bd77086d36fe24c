-- Management: listing with keyset pagination, inspection, trees, deletes and prunes.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
SELECT clock_timestamp() AS t0 \gset
SELECT duroxide.start_orchestration('mgmt-' || i, 'HelloWorld', 'M' || i) FROM generate_series(1, 5) AS i;
SELECT duroxide.start_orchestration('mgmt-tree', 'ParentFan', 't');
SELECT duroxide.start_orchestration('mgmt-waiting', 'WaitForGo', '');
SELECT duroxide.start_orchestration('mgmt-can', 'Counter', '0');
SELECT count(*) FROM unnest(ARRAY['mgmt-1', 'mgmt-2', 'mgmt-3', 'mgmt-4', 'mgmt-5', 'mgmt-tree',
                                  'mgmt-can']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s');

-- Pages of two, in a stable order; the cursor of the last row continues after it, also when
-- new instances are started in between.
SELECT instance_id, instance_status FROM duroxide.list_instances(name => 'HelloWorld', created_after => :'t0', max_rows => 2);
SELECT next_cursor AS page1_end FROM duroxide.list_instances(name => 'HelloWorld', created_after => :'t0', max_rows => 2)
 OFFSET 1 \gset
SELECT duroxide.start_orchestration('mgmt-6', 'HelloWorld', 'M6');
SELECT status FROM duroxide.wait_for_orchestration('mgmt-6', '30 s');
SELECT instance_id FROM duroxide.list_instances(name => 'HelloWorld', created_after => :'t0',
                                                max_rows => 2, after_cursor => :'page1_end');
SELECT count(*) AS all_after_page1
  FROM duroxide.list_instances(name => 'HelloWorld', created_after => :'t0',
                                 after_cursor => :'page1_end');
SELECT instance_id, instance_status FROM duroxide.list_instances(status => 'Running')
 WHERE instance_id LIKE 'mgmt-%';
SELECT count(*) AS roots FROM duroxide.list_instances(root_only => true) WHERE instance_id LIKE 'mgmt-tree%';
SELECT count(*) AS with_children FROM duroxide.list_instances() WHERE instance_id LIKE 'mgmt-tree%';
SELECT * FROM duroxide.list_instances(status => 'Sleeping');
SELECT * FROM duroxide.list_instances(max_rows => 0);
SELECT * FROM duroxide.list_instances(after_cursor => 'garbage');

-- Inspection.
SELECT instance_id, orchestration_name, status, execution_id, executions, owner
  FROM duroxide.get_instance_info('mgmt-can');
SELECT execution_id, status, output, events FROM duroxide.list_executions('mgmt-can');
SELECT instance_id, parent_instance_id, depth, status FROM duroxide.get_instance_tree('mgmt-tree');
SELECT * FROM duroxide.list_children('mgmt-tree');
SELECT count(*) FROM duroxide.get_instance_info('no-such-instance');
-- One execution: the same as its row in list_executions; a running one has no end yet.
SELECT execution_id, status, output, completed_at IS NOT NULL AS ended, event_count
  FROM duroxide.get_execution_info('mgmt-can', 1);
SELECT execution_id, status, output, event_count FROM duroxide.get_execution_info('mgmt-can', 4);
SELECT count(*) AS same_as_list
  FROM duroxide.list_executions('mgmt-can') l,
       LATERAL duroxide.get_execution_info('mgmt-can', l.execution_id) g
 WHERE (g.execution_id, g.status, g.output, g.started_at, g.completed_at, g.event_count)
       IS NOT DISTINCT FROM (l.execution_id, l.status, l.output, l.started_at, l.completed_at, l.events);
SELECT execution_id, status, completed_at IS NULL AS still_open, event_count > 0 AS has_events
  FROM duroxide.get_execution_info('mgmt-waiting', 1);
SELECT * FROM duroxide.get_execution_info('mgmt-can', 5);
SELECT * FROM duroxide.get_execution_info('no-such-instance', 1);
SELECT * FROM duroxide.get_execution_info('mgmt-can', 0);
SELECT * FROM duroxide.get_execution_info(NULL, 1);
SELECT * FROM duroxide.get_execution_info('mgmt-can', NULL);

-- Deletes: roots only, running refused unless forced, whole trees, counts returned.
SELECT * FROM duroxide.delete_instance('mgmt-tree::sub::2');
SELECT * FROM duroxide.delete_instance('mgmt-waiting');
SELECT * FROM duroxide.delete_instance('no-such-instance');
SELECT * FROM duroxide.delete_instance('mgmt-tree');
SELECT count(*) AS tree_left FROM duroxide.instances WHERE instance_id LIKE 'mgmt-tree%';
SELECT instances, queue_messages > 0 AS had_queued_work
  FROM duroxide.delete_instance('mgmt-waiting', force => true);
SELECT count(*) AS waiting_left FROM duroxide.history WHERE instance_id = 'mgmt-waiting';
-- Bulk: finished roots only; running ones are skipped.
SELECT duroxide.start_orchestration('mgmt-bulk-running', 'WaitForGo', '');
SELECT pg_sleep(0.2);
SELECT instances, executions FROM duroxide.delete_instances(
    instance_ids => ARRAY['mgmt-1', 'mgmt-2', 'mgmt-bulk-running']);
SELECT instance_id FROM duroxide.instances WHERE instance_id IN ('mgmt-1', 'mgmt-2', 'mgmt-bulk-running');
SELECT * FROM duroxide.delete_instances();

-- Prune: old executions of a continued-as-new instance go; the current one stays.
SELECT * FROM duroxide.prune_executions('mgmt-can', keep_last => 2);
SELECT execution_id, status FROM duroxide.list_executions('mgmt-can');
SELECT * FROM duroxide.prune_executions('mgmt-can', keep_last => 0);
SELECT status, output FROM duroxide.get_orchestration_status('mgmt-can');
SELECT * FROM duroxide.get_execution_info('mgmt-can', 1);

-- Bulk prune: every matching instance, running ones included, up to max_instances of those
-- with something to prune (so a repeated call goes on); the current execution always stays.
SELECT duroxide.start_orchestration('mgmt-can-' || i, 'Counter', '0') FROM generate_series(1, 3) AS i;
SELECT duroxide.start_orchestration('mgmt-can-wait', 'CountdownThenWait', '2');
SELECT count(*) FROM unnest(ARRAY['mgmt-can-1', 'mgmt-can-2', 'mgmt-can-3']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s');
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN EXISTS (SELECT FROM duroxide.history
                           WHERE instance_id = 'mgmt-can-wait' AND execution_id = 3
                             AND event_type = 'ExternalSubscribed');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT instance_id, count(*) AS executions FROM duroxide.executions
 WHERE instance_id LIKE 'mgmt-can-%' GROUP BY 1 ORDER BY 1;
\set can_ids 'ARRAY[''mgmt-can-1'', ''mgmt-can-2'', ''mgmt-can-3'', ''mgmt-can-wait'']'
SELECT * FROM duroxide.prune_executions_bulk(instance_ids => :can_ids, max_instances => 2, keep_last => 2);
SELECT * FROM duroxide.prune_executions_bulk(instance_ids => :can_ids, max_instances => 2, keep_last => 2);
SELECT * FROM duroxide.prune_executions_bulk(instance_ids => :can_ids, max_instances => 2, keep_last => 2);
-- Finished instances only, keeping just the current execution.
SELECT * FROM duroxide.prune_executions_bulk(instance_ids => :can_ids,
                                             instances_completed_before => clock_timestamp());
SELECT instance_id, execution_id, status FROM duroxide.executions
 WHERE instance_id LIKE 'mgmt-can-%' ORDER BY 1, 2;
-- The running instance: its old execution goes, the current one stays and still runs.
SELECT * FROM duroxide.prune_executions_bulk(instance_ids => :can_ids);
SELECT execution_id, status FROM duroxide.list_executions('mgmt-can-wait');
SELECT duroxide.raise_event('mgmt-can-wait', 'Go', 'pruned');
SELECT status, output FROM duroxide.wait_for_orchestration('mgmt-can-wait', '30 s');
SELECT * FROM duroxide.prune_executions_bulk(max_instances => 0);
SELECT * FROM duroxide.prune_executions_bulk(keep_last => 0);

-- Queue and status overviews.
SELECT queue, ready >= 0 AS ok FROM duroxide.queue_depths ORDER BY queue;
SELECT status, instances > 0 AS some FROM duroxide.instance_counts ORDER BY status;
SELECT total_instances = (SELECT count(*) FROM duroxide.instances) AS instances_ok,
       total_executions = (SELECT count(*) FROM duroxide.executions) AS executions_ok,
       total_events = (SELECT count(*) FROM duroxide.history) AS events_ok,
       running_instances + completed_instances + failed_instances = total_instances AS by_status_ok,
       running_instances = (SELECT count(*) FROM duroxide.list_instances(status => 'Running', max_rows => 10000))
           AS running_ok
  FROM duroxide.system_metrics;

-- Users may read (their own instances) but not delete.
CREATE ROLE mgmt_user;
GRANT duroxide_user TO mgmt_user;
SET ROLE mgmt_user;
SELECT count(*) AS visible_to_user FROM duroxide.list_instances();
SELECT * FROM duroxide.delete_instance('mgmt-3');
SELECT * FROM duroxide.prune_executions_bulk(instance_ids => ARRAY['mgmt-can']);
SELECT execution_id, status FROM duroxide.get_execution_info('mgmt-can', 4);
SELECT * FROM duroxide.queue_depths;
SELECT * FROM duroxide.system_metrics;
RESET ROLE;
DROP ROLE mgmt_user;

SELECT duroxide.cancel_instance('mgmt-bulk-running', 'test over');
SELECT status FROM duroxide.wait_for_orchestration('mgmt-bulk-running', '30 s');
SELECT duroxide.unregister_plugin('duroxide_sample');
