-- End to end: sub-orchestrations, detached orchestrations, cancellation cascade, event queues
-- and retries, through the background workers with the sample plugin.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;

-- Scenario 12: a child orchestration; its id is "<parent>::sub::<event id>".
SELECT duroxide.start_orchestration('inst-sub-basic', 'Parent', 'hi');
SELECT status, output FROM duroxide.wait_for_orchestration('inst-sub-basic', '30 s');
SELECT event_id, event_type, event->>'instance' AS child, event->>'result' AS result
  FROM duroxide.read_history('inst-sub-basic');
SELECT instance_id, parent_instance_id, orchestration_name FROM duroxide.instances
 WHERE instance_id LIKE 'inst-sub-basic%' ORDER BY instance_id;
-- Two children in parallel.
SELECT duroxide.start_orchestration('sub-fan', 'ParentFan', 'x');
SELECT status, output FROM duroxide.wait_for_orchestration('sub-fan', '30 s');

-- Scenario 13: detached orchestrations are independent roots.
SELECT duroxide.start_orchestration('coord', 'Coordinator', 'coord');
SELECT status, output FROM duroxide.wait_for_orchestration('coord', '30 s');
-- Wait first: a statement that waits does not see instance rows committed while it waits.
SELECT d.id, w.status, w.output
  FROM unnest(ARRAY['coord-W1', 'coord-W2']) AS d(id)
 CROSS JOIN LATERAL duroxide.wait_for_orchestration(d.id, '30 s') w
 ORDER BY d.id;
SELECT instance_id, parent_instance_id FROM duroxide.instances
 WHERE instance_id IN ('coord-W1', 'coord-W2') ORDER BY instance_id;
SELECT event_id, event_type FROM duroxide.read_history('coord');

-- Scenario 16: cancelling a parent cancels its waiting child.
SELECT duroxide.start_orchestration('cascade', 'ParentOfWaiter', '');
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM duroxide.read_history('cascade::sub::2')
                           WHERE event_type = 'ExternalSubscribed');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT duroxide.cancel_instance('cascade', 'user_request');
SELECT status, error->'Application'->'kind' AS kind
  FROM duroxide.wait_for_orchestration('cascade', '30 s');
SELECT status, error->'Application'->'kind' AS kind
  FROM duroxide.wait_for_orchestration('cascade::sub::2', '30 s');
SELECT event_id, event_type FROM duroxide.read_history('cascade');
SELECT event_type FROM duroxide.read_history('cascade::sub::2')
 WHERE event_type IN ('OrchestrationCancelRequested', 'OrchestrationFailed');

-- Scenario 11: messages sent before the orchestration dequeues them are kept, in order.
SELECT duroxide.start_orchestration('mailbox', 'Mailbox', '');
SELECT pg_sleep(0.05);
SELECT duroxide.enqueue_event('mailbox', 'Signal', 'early_bird');
SELECT duroxide.enqueue_event('mailbox', 'Signal', 'second');
SELECT status, output FROM duroxide.wait_for_orchestration('mailbox', '30 s');
-- A message for an instance that does not exist is dropped, not kept for later.
SELECT duroxide.enqueue_event('nobody-yet', 'Signal', 'lost');
DO $$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN NOT EXISTS (SELECT 1 FROM duroxide.orchestrator_queue
                               WHERE instance_id = 'nobody-yet');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT count(*) AS queued_for_nobody FROM duroxide.orchestrator_queue
 WHERE instance_id = 'nobody-yet';
SELECT duroxide.enqueue_event('mailbox', '', 'x');

-- Scenario 8: a long activity races a 100 ms timer and loses: the orchestration fails with
-- "timeout", the activity gets a "dropped_future" cancellation and its worker_queue row is
-- deleted by the turn's ack (lock stealing), even while a worker runs it.
SELECT duroxide.start_orchestration('race-timeout', 'TimeoutRace', '');
SELECT status, error->'Application'->>'message' AS message
  FROM duroxide.wait_for_orchestration('race-timeout', '30 s');
SELECT event_id, event_type, event->'source_event_id' AS source, event->>'name' AS name,
       event->>'reason' AS reason
  FROM duroxide.read_history('race-timeout');
SELECT count(*) AS worker_rows FROM duroxide.worker_queue WHERE instance_id = 'race-timeout';

-- Continue-as-new carries the mailbox and the custom status: execution 1 takes one of three
-- messages and continues; execution 2 starts with the other two, in order, and the status.
SELECT duroxide.start_orchestration('carry', 'MailboxCarry', 'first');
SELECT pg_sleep(0.05);
SELECT duroxide.enqueue_event('carry', 'Signal', 'a');
SELECT duroxide.enqueue_event('carry', 'Signal', 'b');
SELECT duroxide.enqueue_event('carry', 'Signal', 'c');
SELECT status, output, custom_status FROM duroxide.wait_for_orchestration('carry', '30 s');
SELECT execution_id, status, output FROM duroxide.executions WHERE instance_id = 'carry'
 ORDER BY execution_id;
SELECT event_id, event_type, event->'carry_forward_events' AS carried,
       event->>'initial_custom_status' AS initial_status, event->>'data' AS data
  FROM duroxide.read_history('carry', 2);

-- Scenario 17: an activity failing twice succeeds on its third attempt, after two backoffs.
SELECT duroxide.start_orchestration('retry', 'Retrying', 'payload');
SELECT status, output FROM duroxide.wait_for_orchestration('retry', '30 s');
SELECT event_type, count(*) FROM duroxide.read_history('retry')
 WHERE event_type IN ('ActivityScheduled', 'ActivityFailed', 'TimerCreated', 'ActivityCompleted')
 GROUP BY event_type ORDER BY event_type;

SELECT duroxide.unregister_plugin('duroxide_sample');
