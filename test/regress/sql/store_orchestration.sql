-- Provider validation: orchestration items (reference §3.5 and §5.1: atomicity, error
-- handling, instance creation, instance locking, lock expiration, poison counts, abandon,
-- multi-execution, history, custom status, timers, orphans). Runs in duroxide_store, where no
-- worker serves (store_setup). Owners -1 and -2 are two pretend-live dispatchers.
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT duroxide_internal.probe_attach(-1), duroxide_internal.probe_attach(-2);

-- == Atomicity ==
-- [atomicity 1] A failing ack (a duplicate event id in its delta) leaves nothing behind: no
-- instance, no history, no worker item; the messages stay claimed and the lock held.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('a1'));
SELECT instance, attempt_count, instance_exists, messages FROM pv.fetch();
SELECT pv.try($$SELECT pv.ack('a1', delta => jsonb_build_array(pv.started('a1'), pv.scheduled('a1', 2), pv.scheduled('a1', 2)),
                             worker_items => jsonb_build_array(pv.activity('a1', 2)), name => 'O')$$);
SELECT (SELECT count(*) FROM duroxide.instances) AS instances, (SELECT count(*) FROM duroxide.history) AS events,
       (SELECT count(*) FROM duroxide.worker_queue) AS activities, (SELECT count(*) FROM duroxide.instance_locks) AS locks;
SELECT * FROM pv.orchestrator_queue;
-- [atomicity 2] The lock is released only by a successful ack: still locked after the failure,
-- and the same lock then records the turn.
SELECT count(*) AS fetched_while_locked FROM pv.fetch(-2);
SELECT pv.ack('a1', delta => jsonb_build_array(pv.started('a1'), pv.scheduled('a1', 2)),
              worker_items => jsonb_build_array(pv.activity('a1', 2)),
              orchestrator_items => jsonb_build_array(pv.start('a1-child', parent => 'a1')), name => 'O');
-- [atomicity 3] A successful ack did every step: messages deleted, instance and execution
-- created, history appended, worker and orchestrator items enqueued, lock released.
SELECT instance_id, orchestration_name, orchestration_version, current_execution_id FROM duroxide.instances;
SELECT instance_id, execution_id, status FROM duroxide.executions;
SELECT instance_id, event_id, event_type FROM duroxide.history ORDER BY 1, 2;
SELECT * FROM pv.worker_queue;
SELECT * FROM pv.orchestrator_queue;
SELECT count(*) AS locks FROM duroxide.instance_locks WHERE lock_token IS NOT NULL;
-- [atomicity 4] A second ack with the same token fails: its lock is gone.
SELECT pv.try($$SELECT pv.ack('a1')$$);

-- == Error handling ==
-- [errors 1] An unknown lock token does not ack.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('e1'));
SELECT instance FROM pv.fetch();
SELECT pv.try($$SELECT duroxide_internal.store_ack_orchestration_item('e1', 'not-a-token')$$);
-- [errors 2] History is append-only: an event id that exists is refused, never overwritten.
SELECT pv.ack('e1', delta => jsonb_build_array(pv.started('e1')), name => 'O');
SELECT pv.enqueue(pv.raised('e1', 'go'));
SELECT instance, history FROM pv.fetch();
SELECT pv.try($$SELECT pv.ack('e1', delta => jsonb_build_array(pv.ev('e1', 1, 'ExternalEvent', '{"name": "go", "data": "overwrite"}')))$$);
SELECT event_id, event_type FROM duroxide.history WHERE instance_id = 'e1';
-- [errors 3] A lock that expired before the ack: the turn is discarded.
SELECT pv.abandon('e1');
SELECT instance FROM pv.fetch(lock_ms => 100);
SELECT pg_sleep(0.3);
SELECT pv.try($$SELECT pv.ack('e1', delta => jsonb_build_array(pv.ev('e1', 2, 'ExternalEvent', '{"name": "go", "data": ""}')))$$);
SELECT count(*) AS events FROM duroxide.history WHERE instance_id = 'e1';
-- [errors 4] Malformed input is refused before anything is written.
SELECT instance FROM pv.fetch();
SELECT pv.try($$SELECT pv.ack('e1', delta => '[{"event_id": 2}]')$$);
SELECT pv.try($$SELECT pv.ack('e1', status => 'Sleeping')$$);
SELECT pv.try($$SELECT pv.ack('e1', worker_items => jsonb_build_array(pv.raised('e1', 'x')))$$);
SELECT pv.try($$SELECT pv.ack('e1', cancelled => '[{"instance": "e1"}]')$$);
SELECT pv.try($$SELECT pv.enqueue('{"NoSuchItem": {}}')$$);
-- [errors 5] An activity is not an orchestrator message.
SELECT pv.try($$SELECT pv.enqueue(pv.activity('e1', 5))$$);
-- [errors 6] A history row that does not decode: the batch still comes back, with a history
-- error, an empty history, its lock held and its attempt counted; the other instance of the
-- same fetch gets its history.
SELECT pv.reset();
SELECT pv.create_instance('e6'), pv.create_instance('e7');
UPDATE duroxide.history SET event_data = 'not json' WHERE instance_id = 'e6' AND event_id = 1;
SELECT pv.enqueue(pv.raised('e6', 'go')), pv.enqueue(pv.raised('e7', 'go'));
CREATE TEMP TABLE e6_batch AS
  SELECT * FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 2);
SELECT instance, attempt_count, execution_id, jsonb_array_length(history) AS events, history_error
  FROM e6_batch ORDER BY 1;
SELECT instance_id, lock_token = (SELECT lock_token FROM e6_batch b WHERE b.instance = l.instance_id)
       AS held FROM duroxide.instance_locks l ORDER BY 1;
-- [errors 7] Refetching it counts the attempt again (an abandon keeps it), so it reaches the
-- poison threshold; the fetch never fails.
SELECT duroxide_internal.store_abandon_orchestration_item('e6', lock_token) FROM e6_batch
 WHERE instance = 'e6';
SELECT instance, attempt_count, history_error IS NOT NULL AS history_error
  FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 2);
-- [errors 8] The ack only appends: the poison failure is recorded on the corrupt history.
SELECT duroxide_internal.store_ack_orchestration_item('e6', l.lock_token, 1,
         jsonb_build_array(pv.ev('e6', 99999, 'OrchestrationFailed',
           '{"details": {"Poison": {"attempt_count": 2, "max_attempts": 1, "message_type": {"FailedDeserialization": {"instance": "e6", "execution_id": 1, "error": "x"}}, "message": "x"}}}')),
         status => 'Failed', output => 'poison')
  FROM duroxide.instance_locks l WHERE l.instance_id = 'e6';
SELECT e.status, (SELECT array_agg(event_id ORDER BY event_id) FROM duroxide.history h
                   WHERE h.instance_id = 'e6') AS events
  FROM duroxide.executions e WHERE e.instance_id = 'e6';
SELECT count(*) AS e6_messages FROM duroxide.orchestrator_queue WHERE instance_id = 'e6';
DROP TABLE e6_batch;

-- == Instance creation ==
-- [creation 1] Enqueueing never creates an instance; the fetch says it does not exist yet.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('c1'));
SELECT count(*) AS instances FROM duroxide.instances;
SELECT instance, instance_exists, execution_id, history FROM pv.fetch();
-- [creation 2] The ack of the first turn creates instance and execution from its metadata.
SELECT pv.ack('c1', delta => jsonb_build_array(pv.started('c1')), name => 'O');
SELECT i.instance_id, i.orchestration_name, i.orchestration_version, i.parent_instance_id, e.status
  FROM duroxide.instances i JOIN duroxide.executions e USING (instance_id);
-- [creation 3] An ack without metadata creates nothing (a batch that starts nothing).
SELECT pv.enqueue(pv.raised('c-none', 'x'));
SELECT instance, instance_exists FROM pv.fetch();
SELECT pv.ack('c-none');
SELECT count(*) AS instances_named_c_none FROM duroxide.instances WHERE instance_id = 'c-none';
SELECT count(*) AS its_messages FROM duroxide.orchestrator_queue WHERE instance_id = 'c-none';
-- [creation 4] A sub-orchestration's instance records its parent.
SELECT pv.create_instance('c1-child', parent => 'c1');
SELECT instance_id, parent_instance_id FROM duroxide.instances WHERE instance_id = 'c1-child';
-- [creation 5] A later ack does not create a second execution or change the parent.
SELECT pv.enqueue(pv.raised('c1-child', 'x'));
SELECT instance, instance_exists FROM pv.fetch();
SELECT pv.ack('c1-child', delta => jsonb_build_array(pv.ev('c1-child', 2, 'ExternalEvent', '{"name": "x", "data": ""}')));
SELECT count(*) AS executions FROM duroxide.executions WHERE instance_id = 'c1-child';

-- == Instance locking ==
-- [locking 1] A locked instance is not fetched by another dispatcher.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('l1'));
SELECT instance FROM pv.fetch(-1);
SELECT count(*) AS fetched_by_other FROM pv.fetch(-2);
-- [locking 2] All visible messages of an instance go in one batch, in order.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('l2')), pv.enqueue(pv.raised('l2', 'one')), pv.enqueue(pv.raised('l2', 'two'));
SELECT instance, messages FROM pv.fetch();
-- [locking 3] Messages arriving during the lock stay queued, unclaimed, and the ack leaves
-- them; the next fetch takes them.
SELECT pv.enqueue(pv.raised('l2', 'late'));
SELECT count(*) AS fetched_while_locked FROM pv.fetch(-2);
SELECT * FROM pv.orchestrator_queue;
SELECT pv.ack('l2', delta => jsonb_build_array(pv.started('l2')), name => 'O');
SELECT * FROM pv.orchestrator_queue;
SELECT instance, messages, history FROM pv.fetch(-2);
-- [locking 4] Locks are per instance: a locked instance does not hold back another.
SELECT pv.enqueue(pv.raised('l2', 'older')), pv.enqueue(pv.start('l4'));
SELECT instance FROM pv.fetch(-1);
-- [locking 5] Each fetch takes a fresh, unique, unguessable token.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('l5-' || i)) FROM generate_series(1, 5) i;
SELECT count(*) AS batches, count(DISTINCT lock_token) AS tokens, min(length(lock_token)) AS token_length
  FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 10);
-- [locking 6] The oldest visible message's instance comes first; max_items bounds a fetch.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('l6-b')), pv.enqueue(pv.start('l6-a')), pv.enqueue(pv.start('l6-c'));
SELECT instance FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 1);
SELECT instance FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 2) ORDER BY 1;
SELECT count(*) AS left_over FROM pv.fetch(-1, max_items => 5);
-- [locking 7] The lock of a dead dispatcher is free at once, before it expires; its ack then fails.
SELECT pv.reset();
SELECT duroxide_internal.probe_attach(-3);
SELECT pv.enqueue(pv.start('l7'));
SELECT instance, attempt_count FROM pv.fetch(-3);
SELECT token AS dead_token FROM pv.held WHERE key = 'l7' \gset
SELECT duroxide_internal.probe_detach(-3) AS died;
SELECT instance, attempt_count FROM pv.fetch(-1);
SELECT pv.try(format($$SELECT duroxide_internal.store_ack_orchestration_item('l7', %L)$$, :'dead_token'));
SELECT pv.ack('l7', delta => jsonb_build_array(pv.started('l7')), name => 'O');
-- [locking 8] A fetch by an owner that is not alive takes a lock that is free at once.
SELECT pv.enqueue(pv.raised('l7', 'x'));
SELECT instance FROM pv.fetch(-99);
SELECT instance, attempt_count FROM pv.fetch(-1);

-- == Lock expiration and renewal ==
-- [expiration 1] An expired lock is fetched again by another dispatcher.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('x1'));
SELECT instance FROM pv.fetch(-1, lock_ms => 100);
SELECT pg_sleep(0.3);
SELECT instance, attempt_count FROM pv.fetch(-2);
-- [expiration 2] Abandon releases the lock at once.
SELECT pv.abandon('x1');
SELECT instance, attempt_count FROM pv.fetch(-1, lock_ms => 1000);
-- [expiration 3] Renewal keeps the lock past its first timeout; the ack then succeeds.
SELECT duroxide_internal.store_renew_orchestration_item_lock('x1', pv.token('x1'), 30000) AS renewed;
SELECT pg_sleep(1.5);
SELECT count(*) AS fetched_by_other FROM pv.fetch(-2);
SELECT pv.ack('x1', delta => jsonb_build_array(pv.started('x1')), name => 'O');
-- [expiration 4] Renewal fails after the ack, for an unknown token, and after expiry.
SELECT duroxide_internal.store_renew_orchestration_item_lock('x1', pv.token('x1'), 30000) AS renewed_after_ack;
SELECT duroxide_internal.store_renew_orchestration_item_lock('x1', 'nope', 30000) AS renewed_unknown;
SELECT pv.enqueue(pv.raised('x1', 'e'));
SELECT instance FROM pv.fetch(-1, lock_ms => 100);
SELECT pg_sleep(0.3);
SELECT duroxide_internal.store_renew_orchestration_item_lock('x1', pv.token('x1'), 30000) AS renewed_after_expiry;

-- == Attempt counts (poison) ==
-- [attempts 1] The first fetch counts 1; each fetch after an abandon or an expired lock adds one.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('p1'));
SELECT attempt_count FROM pv.fetch();
SELECT pv.abandon('p1');
SELECT attempt_count FROM pv.fetch(lock_ms => 100);
SELECT pg_sleep(0.3);
SELECT attempt_count FROM pv.fetch();
-- [attempts 2] Counts are per message; a batch reports the highest of its messages.
SELECT pv.enqueue(pv.raised('p1', 'new'));
SELECT pv.abandon('p1');
SELECT attempt_count, messages FROM pv.fetch();
SELECT kind, attempt_count FROM pv.orchestrator_queue;
-- [attempts 3] Abandon with ignore_attempt takes the fetch back, never below zero.
SELECT pv.abandon('p1', ignore_attempt => true);
SELECT kind, attempt_count FROM pv.orchestrator_queue;
SELECT attempt_count FROM pv.fetch();
UPDATE duroxide.orchestrator_queue SET attempt_count = 0 WHERE instance_id = 'p1';
SELECT pv.abandon('p1', ignore_attempt => true);
SELECT kind, attempt_count FROM pv.orchestrator_queue;
-- [attempts 4] A message fetched past the poison threshold keeps counting (the dispatcher
-- fails such a batch as poison, duroxide.max_attempts): eleven fetches count eleven.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('p4'));
DO $$ BEGIN
    FOR i IN 1..10 LOOP PERFORM pv.fetch(); PERFORM pv.abandon('p4'); END LOOP;
END $$;
SELECT attempt_count, attempt_count > current_setting('duroxide.max_attempts')::int AS poison
  FROM pv.fetch();

-- == Abandon ==
-- [abandon 1] A delay hides the messages until it has passed.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('b1'));
SELECT instance FROM pv.fetch();
SELECT pv.abandon('b1', delay_ms => 60000);
SELECT instance_id, kind, claimed, delayed FROM pv.orchestrator_queue;
SELECT count(*) AS fetched FROM pv.fetch();
SELECT duroxide_internal.store_ms_until_next_visible('orchestrator') BETWEEN 1 AND 60000 AS due_within_the_delay;
-- [abandon 2] Abandon with a token that is not the lock's fails, and is not idempotent.
UPDATE duroxide.orchestrator_queue SET visible_at = clock_timestamp();
SELECT instance FROM pv.fetch();
SELECT pv.try($$SELECT duroxide_internal.store_abandon_orchestration_item('b1', 'wrong')$$);
SELECT pv.abandon('b1');
SELECT pv.try($$SELECT pv.abandon('b1')$$);
-- [abandon 3] Abandon gives back only its own messages; one enqueued meanwhile was never claimed.
SELECT instance FROM pv.fetch();
SELECT pv.enqueue(pv.raised('b1', 'meanwhile'));
SELECT pv.abandon('b1', delay_ms => 60000);
SELECT kind, claimed, delayed FROM pv.orchestrator_queue;

-- == Multiple executions (continue-as-new) ==
-- [executions 1] Continue-as-new ends execution 1; the next turn records execution 2, and
-- each fetch reads the current execution's history only.
SELECT pv.reset();
SELECT pv.create_instance('m1');
SELECT pv.enqueue(pv.raised('m1', 'again'));
SELECT instance, execution_id, history FROM pv.fetch();
SELECT pv.ack('m1', delta => jsonb_build_array(pv.ev('m1', 2, 'OrchestrationContinuedAsNew', '{"input": "2"}')),
              status => 'ContinuedAsNew', output => '2',
              orchestrator_items => '[{"ContinueAsNew": {"instance": "m1", "orchestration": "O", "input": "2", "version": "1.0.0"}}]');
SELECT instance, execution_id, messages, history FROM pv.fetch();
SELECT pv.ack('m1', execution_id => 2, delta => jsonb_build_array(pv.started('m1', execution_id => 2)), name => 'O');
SELECT instance_id, current_execution_id FROM duroxide.instances;
SELECT execution_id, status, output, completed_at IS NULL AS open FROM duroxide.executions ORDER BY 1;
SELECT execution_id, event_id, event_type FROM duroxide.history ORDER BY 1, 2;
SELECT pv.enqueue(pv.raised('m1', 'x'));
SELECT instance, execution_id, history FROM pv.fetch();
-- [executions 2] Completion ends the execution with its output.
SELECT pv.ack('m1', execution_id => 2, delta => jsonb_build_array(pv.completed('m1', 2, execution_id => 2)),
              status => 'Completed', output => 'done');
SELECT execution_id, status, output, completed_at IS NOT NULL AS ended FROM duroxide.executions ORDER BY 1;

-- == History ==
-- [history 1] History comes back ordered by event id, whatever the order of the inserts.
SELECT pv.reset();
SELECT pv.create_instance('h1', activities => 2);
SELECT pv.enqueue(pv.activity_done('h1', 3)), pv.enqueue(pv.activity_done('h1', 2));
SELECT instance, messages FROM pv.fetch();
SELECT pv.ack('h1', delta => jsonb_build_array(pv.ev('h1', 5, 'ActivityCompleted', '{"result": "b"}'),
                                               pv.ev('h1', 4, 'ActivityCompleted', '{"result": "a"}')));
SELECT pv.enqueue(pv.raised('h1', 'x'));
SELECT history FROM pv.fetch();

-- == Custom status ==
-- [custom status 1] A new instance has none, version 0.
SELECT pv.reset();
SELECT pv.create_instance('s1');
SELECT custom_status, custom_status_version FROM duroxide.instances;
-- [custom status 2] Two updates in one ack: the last one wins, the version moves once.
SELECT pv.enqueue(pv.raised('s1', 'x'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('s1', delta => jsonb_build_array(pv.custom_status('s1', 2, 'first'), pv.custom_status('s1', 3, 'second')));
SELECT custom_status, custom_status_version FROM duroxide.instances;
-- [custom status 3] An ack without an update keeps status and version.
SELECT pv.enqueue(pv.raised('s1', 'y'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('s1', delta => jsonb_build_array(pv.ev('s1', 4, 'ExternalEvent', '{"name": "y", "data": ""}')));
SELECT custom_status, custom_status_version FROM duroxide.instances;
-- [custom status 4] Clearing sets it to null and still moves the version.
SELECT pv.enqueue(pv.raised('s1', 'z'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('s1', delta => jsonb_build_array(pv.ev('s1', 5, 'CustomStatusUpdated', '{"status": null}')));
SELECT custom_status IS NULL AS cleared, custom_status_version FROM duroxide.instances;

-- == Timers ==
-- [timers 1] A timer is invisible until its fire time; the store says when it is due.
SELECT pv.reset();
SELECT pv.create_instance('t1');
SELECT pv.enqueue(pv.raised('t1', 'x'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('t1', delta => jsonb_build_array(pv.ev('t1', 2, 'TimerCreated', jsonb_build_object('fire_at_ms', pv.now_ms() + 60000)),
                                               pv.ev('t1', 3, 'TimerCreated', jsonb_build_object('fire_at_ms', pv.now_ms() + 3000))),
              orchestrator_items => jsonb_build_array(pv.timer_fired('t1', 2, pv.now_ms() + 60000),
                                                      pv.timer_fired('t1', 3, pv.now_ms() + 3000)));
SELECT kind, delayed FROM pv.orchestrator_queue;
SELECT count(*) AS fetched_before_fire_time FROM pv.fetch();
SELECT duroxide_internal.store_ms_until_next_visible('orchestrator') BETWEEN 1 AND 3000 AS next_due_within_3s;
-- [timers 2] At its fire time it is fetched, alone; the later one stays.
SELECT pg_sleep(3.2);
SELECT instance, messages FROM pv.fetch();
SELECT kind, claimed, delayed FROM pv.orchestrator_queue;

-- == Orphan messages ==
-- [orphans 1] Queue messages for an instance that was never started are handed over as an
-- orphan batch (no instance, no history); an empty ack drops them and creates nothing.
SELECT pv.reset();
SELECT pv.enqueue(pv.queued('ghost', 'q', '1')), pv.enqueue(pv.queued('ghost', 'q', '2'));
SELECT instance, instance_exists, messages, history FROM pv.fetch();
SELECT pv.ack('ghost');
SELECT (SELECT count(*) FROM duroxide.orchestrator_queue) AS messages, (SELECT count(*) FROM duroxide.instances) AS instances;
-- [orphans 2] Other orphan messages (a cancel, an event) are handed over the same way, never
-- dropped by the store itself.
SELECT pv.enqueue(pv.cancel('ghost-2')), pv.enqueue(pv.raised('ghost-2', 'e'));
SELECT instance, instance_exists, messages FROM pv.fetch();
SELECT pv.abandon('ghost-2');
SELECT kind FROM pv.orchestrator_queue;
SELECT pv.reset();

-- == Version filter ==
-- [versions 1] An execution records the duroxide library that started it (as
-- major * 1000000 + minor * 1000 + patch, here the extension's version).
SELECT pv.enqueue(pv.start('ver-old')), pv.enqueue(pv.start('ver-new'));
SELECT instance FROM pv.fetch(max_items => 2) ORDER BY 1;
SELECT pv.ack('ver-old', delta => jsonb_build_array(pv.started('ver-old')), name => 'O');
SELECT pv.ack('ver-new', delta => jsonb_build_array(pv.started('ver-new')), name => 'O');
SELECT e.instance_id, e.duroxide_version_num = split_part(x.extversion, '.', 1)::int * 1000000
           + split_part(x.extversion, '.', 2)::int * 1000 + split_part(x.extversion, '.', 3)::int
           AS started_by_this_library
  FROM duroxide.executions e, pg_extension x WHERE x.extname = 'duroxide' ORDER BY 1;
-- [versions 2] An instance whose current execution a newer library started is not fetched
-- (it waits for that library: the filter applies before locking); one of this library is, and
-- so is one recorded before executions kept their version (NULL).
UPDATE duroxide.executions SET duroxide_version_num = 99000000 WHERE instance_id = 'ver-new';
SELECT pv.enqueue(pv.raised('ver-old', 'go')), pv.enqueue(pv.raised('ver-new', 'go'));
SELECT instance FROM pv.fetch(max_items => 2);
SELECT count(*) AS locks_on_newer FROM duroxide.instance_locks WHERE instance_id = 'ver-new' AND lock_token IS NOT NULL;
SELECT pv.abandon('ver-old');
UPDATE duroxide.executions SET duroxide_version_num = NULL WHERE instance_id = 'ver-new';
SELECT instance FROM pv.fetch(max_items => 2) ORDER BY 1;
SELECT pv.reset();

-- == Stored form ==
-- [stored 1] A history row holds its event without what its columns hold (event id, instance,
-- execution, type) and without null fields: the stored form.
SELECT pv.enqueue(pv.start('sf'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('sf', delta => jsonb_build_array(pv.started('sf'), pv.scheduled('sf', 2),
                                               pv.ev('sf', 3, 'TimerCreated', '{"fire_at_ms": 9}')),
              name => 'O');
SELECT event_id, event_type, event_data FROM duroxide.history WHERE instance_id = 'sf' ORDER BY 1;
-- [stored 2] The store reads the events back whole, and so does duroxide._event_json.
SELECT pv.enqueue(pv.raised('sf', 'go'));
CREATE TEMP TABLE sf_stored AS
  SELECT * FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 1);
SELECT jsonb_array_elements(history) AS event FROM sf_stored;
SELECT event_id, duroxide._event_json(instance_id, execution_id, event_id, event_type, event_data)
  FROM duroxide.history WHERE instance_id = 'sf' ORDER BY 1;
-- [stored 3] A row of 0.1.0 holds the full form: rows of both forms in one history read back
-- as the same events, and _event_json returns a full-form row as it is.
UPDATE duroxide.history
   SET event_data = duroxide._event_json(instance_id, execution_id, event_id, event_type, event_data)
 WHERE instance_id = 'sf' AND event_id IN (1, 3);
SELECT event_id, event_data LIKE '{"event_id":%' AS full_form FROM duroxide.history
 WHERE instance_id = 'sf' ORDER BY 1;
SELECT duroxide_internal.store_abandon_orchestration_item('sf', lock_token) FROM sf_stored;
CREATE TEMP TABLE sf_mixed AS
  SELECT * FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 1);
SELECT m.history = s.history AS same_events, m.history_error FROM sf_mixed m, sf_stored s;
SELECT bool_and(duroxide._event_json(instance_id, execution_id, event_id, event_type, event_data)
                = event_data) AS full_rows_unchanged
  FROM duroxide.history WHERE instance_id = 'sf' AND event_id IN (1, 3);
-- [stored 4] A stored-form row that lacks a field of its own is corrupt: an error naming the
-- event, not a partial event (the store's fetch reports it as a history error). What is not
-- JSON is left to its reader.
SELECT duroxide_internal.store_abandon_orchestration_item('sf', lock_token) FROM sf_mixed;
UPDATE duroxide.history SET event_data = '{"fire_at_ms": 9}' WHERE instance_id = 'sf' AND event_id = 3;
SELECT pv.try($$SELECT duroxide._event_json(instance_id, execution_id, event_id, event_type, event_data)
                  FROM duroxide.history WHERE instance_id = 'sf' AND event_id = 3$$);
SELECT instance, jsonb_array_length(history) AS events, history_error
  FROM duroxide_internal.store_fetch_orchestration_items(-1, 30000, 1);
SELECT duroxide._event_json('sf', 1, 3, 'TimerCreated', 'not json');
DROP TABLE sf_stored, sf_mixed;
SELECT pv.reset();
