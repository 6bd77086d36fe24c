-- Provider validation: how a fetch claims an instance's messages (issue 21, third part). The
-- fetch records the ids it claims in the instance's lock row and writes no message; the ack
-- deletes exactly those ids; a holder that never released its lock (it crashed, or its lease
-- ran out) has its attempt counted on exactly its claimed messages when the lock is taken over.
-- Runs in duroxide_store, where no worker serves (store_setup).
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT duroxide_internal.probe_attach(-1), duroxide_internal.probe_attach(-2);

-- [claims 1] A fetch writes no message row: each message keeps its row version (xmin, ctid);
-- the claim is the lock row's list of ids.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('c1'));
SELECT pv.enqueue(pv.raised('c1', 'a'));
CREATE TEMP TABLE before_fetch AS SELECT id, xmin::text AS x, ctid::text AS c FROM duroxide.orchestrator_queue;
SELECT instance, attempt_count, messages FROM pv.fetch();
SELECT count(*) AS rewritten FROM duroxide.orchestrator_queue q JOIN before_fetch b USING (id)
 WHERE q.xmin::text <> b.x OR q.ctid::text <> b.c;
SELECT cardinality(claimed) AS claimed_ids,
       claimed @> (SELECT array_agg(id) FROM before_fetch) AS claims_both
  FROM duroxide.instance_locks WHERE instance_id = 'c1';
SELECT kind, attempt_count, claimed FROM pv.orchestrator_queue;
-- [claims 2] A message queued after the fetch is not in the claim: the ack deletes the
-- claimed ones only, and the new one is the next turn's.
SELECT pv.enqueue(pv.raised('c1', 'late'));
SELECT kind, attempt_count, claimed FROM pv.orchestrator_queue;
SELECT pv.ack('c1', delta => jsonb_build_array(pv.started('c1')), name => 'O');
SELECT kind, attempt_count, claimed FROM pv.orchestrator_queue;
SELECT instance, attempt_count, messages FROM pv.fetch();
-- [claims 3] The operator views see a claim: queue_depths counts it in progress, pending_work
-- shows a claimed start as running with its attempt in progress.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('c3'));
SELECT ready, in_progress FROM duroxide.queue_depths WHERE queue = 'orchestrator';
SELECT instance FROM pv.fetch();
SELECT ready, in_progress FROM duroxide.queue_depths WHERE queue = 'orchestrator';
SELECT kind, state, attempt FROM duroxide.pending_work('c3');
SELECT pv.abandon('c3');
SELECT ready, in_progress FROM duroxide.queue_depths WHERE queue = 'orchestrator';
SELECT kind, state, attempt FROM duroxide.pending_work('c3');
-- [claims 4] A holder that never released its lock: when its lease runs out and another
-- dispatcher takes the lock over, the holder's attempt is counted on the messages it had
-- claimed, and only on those (one queued after its fetch counts only the new fetch).
SELECT pv.reset();
SELECT pv.enqueue(pv.start('c4'));
SELECT attempt_count FROM pv.fetch(-1, lock_ms => 100);
CREATE TEMP TABLE old_holder AS SELECT pv.token('c4') AS token;
SELECT pv.enqueue(pv.raised('c4', 'after'));
SELECT pg_sleep(0.3);
SELECT attempt_count, messages FROM pv.fetch(-2);
SELECT kind, attempt_count, claimed FROM pv.orchestrator_queue;
SELECT (SELECT attempt_count FROM duroxide.orchestrator_queue WHERE work_item LIKE '{"StartOrchestration"%') AS start_stored,
       (SELECT attempt_count FROM duroxide.orchestrator_queue WHERE work_item LIKE '{"ExternalRaised"%') AS raised_stored;
-- [claims 5] The old holder's ack and abandon find the lock another's: nothing is deleted or
-- given back; the new holder's ack deletes both messages.
SELECT pv.try($$SELECT duroxide_internal.store_ack_orchestration_item('c4', (SELECT token FROM old_holder))$$);
SELECT pv.try($$SELECT duroxide_internal.store_abandon_orchestration_item('c4', (SELECT token FROM old_holder), 60000, false)$$);
SELECT kind, attempt_count, claimed, delayed FROM pv.orchestrator_queue;
SELECT pv.ack('c4', delta => jsonb_build_array(pv.started('c4')), name => 'O');
SELECT count(*) AS messages_left FROM duroxide.orchestrator_queue;
SELECT pv.reset();
