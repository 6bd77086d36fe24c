-- Provider validation: work items (reference §3.5 and §5.1: queue semantics, lock expiration
-- of activity leases, attempt counts, abandon, cancellation by lock stealing). Owners -1 and
-- -2 are two pretend-live activity workers; without a session owner id they take no session
-- activities (store_sessions covers those).
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT duroxide_internal.probe_attach(-1), duroxide_internal.probe_attach(-2);

-- == Queue semantics ==
-- [queue 1] Activities are fetched oldest first, with their identity.
SELECT pv.reset();
SELECT pv.create_instance('q1', activities => 3);
SELECT * FROM pv.worker_queue;
SELECT item, attempt_count FROM pv.fetch_work();
SELECT item FROM pv.fetch_work();
SELECT item FROM pv.fetch_work();
SELECT count(*) AS fourth FROM pv.fetch_work();
-- [queue 2] Peek-lock: a leased activity stays queued and no other worker gets it.
SELECT pv.reset();
SELECT pv.create_instance('q2', activities => 1);
SELECT item FROM pv.fetch_work(-1);
SELECT count(*) AS fetched_by_other FROM pv.fetch_work(-2);
SELECT * FROM pv.worker_queue;
-- [queue 3] The ack deletes the activity and enqueues its completion for the orchestration.
SELECT pv.ack_work('q2#2', 'result-2');
SELECT count(*) AS activities FROM duroxide.worker_queue;
SELECT instance_id, work_item::jsonb FROM duroxide.orchestrator_queue;
-- [queue 4] The completion reaches the orchestration's next batch.
SELECT instance, messages FROM pv.fetch();
-- [queue 5] An activity enqueued by an ack is visible at once; one given back with a delay is
-- skipped in favour of the next.
SELECT pv.reset();
SELECT pv.create_instance('q5', activities => 2);
SELECT item FROM pv.fetch_work();
SELECT pv.abandon_work('q5#2', delay_ms => 60000) AS abandoned;
SELECT item FROM pv.fetch_work();
SELECT count(*) AS nothing_else FROM pv.fetch_work();
SELECT duroxide_internal.store_ms_until_next_visible('worker') BETWEEN 1 AND 60000 AS delayed_one_due_later;
-- [queue 6] Delayed activities ahead in the queue do not hide a visible one behind them, and
-- once due, a delayed activity comes in the order of the time it became visible.
SELECT pv.reset();
SELECT pv.create_instance('q6', activities => 3);
SELECT item FROM pv.fetch_work();
SELECT pv.abandon_work('q6#2', delay_ms => 300) AS abandoned;
SELECT item FROM pv.fetch_work();
SELECT pv.abandon_work('q6#3', delay_ms => 60000) AS abandoned;
SELECT item FROM pv.fetch_work();
SELECT pv.abandon_work('q6#4') AS abandoned;
SELECT pg_sleep(0.5);
SELECT item FROM pv.fetch_work();
SELECT item FROM pv.fetch_work();
SELECT count(*) AS the_long_delayed_one_waits FROM pv.fetch_work();

-- == Lock expiration and renewal ==
-- [leases 1] Renewal keeps a lease past its first timeout.
SELECT pv.reset();
SELECT pv.create_instance('w1', activities => 1);
SELECT item FROM pv.fetch_work(-1, lock_ms => 1000);
SELECT pv.renew_work('w1#2', 30000) AS renewed;
SELECT pg_sleep(1.5);
SELECT count(*) AS fetched_by_other FROM pv.fetch_work(-2);
-- [leases 2] Renewal with an unknown token fails.
SELECT duroxide_internal.store_renew_work_item_lock(h.id, 'nope', 30000) AS renewed_unknown
  FROM pv.held h WHERE h.key = 'w1#2';
-- [leases 3] After the ack, renewal fails: the activity is gone.
SELECT pv.ack_work('w1#2');
SELECT pv.renew_work('w1#2') AS renewed_after_ack;
-- [leases 4] An ack after the lease expired fails and enqueues no completion.
SELECT pv.reset();
SELECT pv.create_instance('w4', activities => 1);
SELECT item FROM pv.fetch_work(-1, lock_ms => 100);
SELECT pg_sleep(0.3);
SELECT pv.try($$SELECT pv.ack_work('w4#2')$$);
SELECT count(*) AS completions FROM duroxide.orchestrator_queue;
-- [leases 5] An expired lease is not renewed, even when nobody took it over (reference:
-- renew "if still valid"); once another worker has fetched it, the old lease's renew and ack
-- fail too.
SELECT pv.renew_work('w4#2', 100) AS renewed_expired_untaken;
SELECT pg_sleep(0.3);
SELECT h.id AS w4_id, h.token AS w4_old_token FROM pv.held h WHERE h.key = 'w4#2' \gset
SELECT item, attempt_count FROM pv.fetch_work(-2);
SELECT duroxide_internal.store_renew_work_item_lock(:w4_id, :'w4_old_token', 30000) AS old_lease_renewed;
SELECT pv.try(format($$SELECT duroxide_internal.store_ack_work_item(%s, %L, pv.activity('w4', 2), pv.activity_done('w4', 2))$$,
                     :w4_id, :'w4_old_token'));
SELECT pv.ack_work('w4#2', owner => -2);
SELECT kind FROM pv.orchestrator_queue;
-- [leases 6] The lease of a dead worker is free at once.
SELECT pv.reset();
SELECT duroxide_internal.probe_attach(-3);
SELECT pv.create_instance('w6', activities => 1);
SELECT item FROM pv.fetch_work(-3);
SELECT count(*) AS fetched_while_alive FROM pv.fetch_work(-1);
SELECT duroxide_internal.probe_detach(-3) AS died;
SELECT item, attempt_count FROM pv.fetch_work(-1);

-- == Attempt counts ==
-- [attempts 1] An activity counts 1 on its first fetch, one more after an abandon or an
-- expired lease.
SELECT pv.reset();
SELECT pv.create_instance('p1', activities => 2);
SELECT item, attempt_count FROM pv.fetch_work();
SELECT pv.abandon_work('p1#2') AS abandoned;
SELECT item, attempt_count FROM pv.fetch_work(lock_ms => 100);
SELECT pg_sleep(0.3);
SELECT item, attempt_count FROM pv.fetch_work();
-- [attempts 2] Counts are per activity.
SELECT item, attempt_count FROM pv.fetch_work();
SELECT activity_id, attempt_count FROM pv.worker_queue;
-- [attempts 3] ignore_attempt takes the fetch back, never below zero.
SELECT pv.abandon_work('p1#2', ignore_attempt => true) AS abandoned;
SELECT activity_id, attempt_count FROM pv.worker_queue;
SELECT item, attempt_count FROM pv.fetch_work();
UPDATE duroxide.worker_queue SET attempt_count = 0;
SELECT pv.abandon_work('p1#2', ignore_attempt => true) AS abandoned;
SELECT activity_id, attempt_count FROM pv.worker_queue;

-- == Abandon ==
-- [abandon 1] Abandon releases the lease at once, for any worker.
SELECT pv.reset();
SELECT pv.create_instance('b1', activities => 1);
SELECT item FROM pv.fetch_work(-1);
SELECT pv.abandon_work('b1#2') AS abandoned;
SELECT item FROM pv.fetch_work(-2);
-- [abandon 2] Abandon with a lease that is not the activity's changes nothing.
SELECT duroxide_internal.store_abandon_work_item(h.id, 'wrong') AS abandoned_with_wrong_token
  FROM pv.held h WHERE h.key = 'b1#2';
SELECT * FROM pv.worker_queue;
-- [abandon 3] The lease holder's abandon, twice: the second finds no lease.
SELECT pv.abandon_work('b1#2') AS first, pv.abandon_work('b1#2') AS second;
-- [abandon 4] Abandoned without a delay, an activity keeps its place: it comes before the
-- activities enqueued after it.
SELECT pv.reset();
SELECT pv.create_instance('b4', activities => 3);
SELECT item FROM pv.fetch_work();
SELECT pv.abandon_work('b4#2') AS abandoned;
SELECT item FROM pv.fetch_work();
SELECT item FROM pv.fetch_work();

-- == Cancellation (lock stealing) ==
-- [cancellation 1] An ack's cancelled activities are deleted from the worker queue, the
-- others stay.
SELECT pv.reset();
SELECT pv.create_instance('k1', activities => 3);
SELECT item FROM pv.fetch_work();
SELECT pv.enqueue(pv.raised('k1', 'stop'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k1', delta => jsonb_build_array(pv.ev('k1', 5, 'ActivityCancelRequested', '{"reason": "x"}')),
              cancelled => jsonb_build_array(pv.cancelled('k1', 2), pv.cancelled('k1', 3)));
SELECT activity_id FROM pv.worker_queue;
-- [cancellation 2] The worker running the cancelled activity: its renewal fails ...
SELECT pv.renew_work('k1#2') AS renewed;
-- [cancellation 3] ... and so does its ack, which enqueues no completion.
SELECT pv.try($$SELECT pv.ack_work('k1#2')$$);
SELECT count(*) AS completions FROM duroxide.orchestrator_queue;
-- [cancellation 4] Cancelling activities that do not exist (any more) is a no-op.
SELECT pv.enqueue(pv.raised('k1', 'again'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k1', delta => jsonb_build_array(pv.ev('k1', 6, 'ExternalEvent', '{"name": "again", "data": ""}')),
              cancelled => jsonb_build_array(pv.cancelled('k1', 2), pv.cancelled('k1', 99)));
SELECT activity_id FROM pv.worker_queue;
-- [cancellation 5] An activity scheduled and cancelled in the same ack leaves no row.
SELECT pv.enqueue(pv.raised('k1', 'schedule-and-cancel'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k1', delta => jsonb_build_array(pv.scheduled('k1', 7)),
              worker_items => jsonb_build_array(pv.activity('k1', 7)),
              cancelled => jsonb_build_array(pv.cancelled('k1', 7)));
SELECT activity_id FROM pv.worker_queue;
-- [cancellation 6] Cancellation matches the full identity: the same activity id of another
-- execution or instance is untouched.
SELECT pv.create_instance('k6', activities => 1);
SELECT pv.enqueue(pv.raised('k1', 'other-ids'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k1', cancelled => jsonb_build_array(pv.cancelled('k1', 4, execution_id => 2), pv.cancelled('k6-other', 2)));
SELECT instance_id, activity_id FROM pv.worker_queue;
-- [cancellation 7] A terminal ack cancels what is still open; every worker lease of it is lost.
SELECT item FROM pv.fetch_work();
SELECT pv.enqueue(pv.raised('k1', 'finish'));
SELECT instance FROM pv.fetch();
SELECT pv.ack('k1', delta => jsonb_build_array(pv.completed('k1', 8)), status => 'Completed',
              cancelled => jsonb_build_array(pv.cancelled('k1', 4)));
SELECT pv.try($$SELECT pv.ack_work('k1#4')$$);
SELECT instance_id, activity_id FROM pv.worker_queue;
SELECT pv.reset();

-- == Tag filtering ==
-- An instance that schedules activities 2 (untagged), 3 (gpu), 4 (cpu), 5 (untagged), 6 (gpu).
CREATE FUNCTION pv.tagged_instance(instance text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE tags text[] := ARRAY[NULL, 'gpu', 'cpu', NULL, 'gpu'];
BEGIN
    PERFORM pv.enqueue(pv.start(instance));
    PERFORM pv.fetch();
    PERFORM pv.ack(instance,
        delta => jsonb_build_array(pv.started(instance)) ||
                 (SELECT jsonb_agg(pv.scheduled(instance, i + 1) ORDER BY i) FROM generate_series(1, 5) i),
        worker_items => (SELECT jsonb_agg(jsonb_set(pv.activity(instance, i + 1), '{ActivityExecute,tag}',
                                                    coalesce(to_jsonb(tags[i]), 'null')) ORDER BY i)
                           FROM generate_series(1, 5) i),
        name => 'O');
END $$;
-- Fetches everything a filter admits (each lease kept); the items and their tags, in order.
CREATE FUNCTION pv.drain(filter text, owner bigint DEFAULT -1) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE got text[] := '{}'; f record;
BEGIN
    LOOP
        SELECT * INTO f FROM pv.fetch_work(owner, tag_filter => filter);
        EXIT WHEN NOT FOUND;
        got := got || (f.item || coalesce(':' || (SELECT work_item->'ActivityExecute'->>'tag'
                                                     FROM pv.held WHERE kind = 'work' AND key = f.item), ''));
    END LOOP;
    RETURN got;
END $$;
-- [tags 1] The default filter takes untagged activities only.
SELECT pv.reset();
SELECT pv.tagged_instance('t1');
SELECT tag, count(*) FROM duroxide.worker_queue GROUP BY tag ORDER BY tag;
SELECT pv.drain('default') AS default_only;
-- [tags 2] tags:gpu takes the gpu ones only, oldest first.
SELECT pv.reset();
SELECT pv.tagged_instance('t2');
SELECT pv.drain('tags:gpu') AS gpu_only;
-- [tags 3] Several tags: any of them, never the untagged ones.
SELECT pv.reset();
SELECT pv.tagged_instance('t3');
SELECT pv.drain('tags:cpu,gpu') AS cpu_or_gpu;
-- [tags 4] default,gpu: untagged ones and gpu ones, in queue order; cpu stays queued.
SELECT pv.reset();
SELECT pv.tagged_instance('t4');
SELECT pv.drain('default,gpu') AS default_and_gpu;
SELECT activity_id, tag FROM duroxide.worker_queue WHERE lock_token IS NULL;
-- [tags 5] any takes every activity.
SELECT pv.reset();
SELECT pv.tagged_instance('t5');
SELECT pv.drain('any') AS any;
-- [tags 6] none takes nothing and changes nothing (no lease, no attempt).
SELECT pv.reset();
SELECT pv.tagged_instance('t6');
SELECT pv.drain('none') AS none;
SELECT count(*) FILTER (WHERE lock_token IS NOT NULL) AS leased, sum(attempt_count) AS attempts
  FROM duroxide.worker_queue;
-- [tags 7] A tag that no worker's filter names is never fetched (starvation is the user's to
-- avoid with a timer), whatever the other filters take.
SELECT pv.reset();
SELECT pv.tagged_instance('t7');
SELECT pv.drain('default,gpu') AS first_worker, pv.drain('tags:tpu', -2) AS tpu_worker;
SELECT activity_id, tag, lock_token IS NULL AS waiting FROM duroxide.worker_queue
 WHERE tag = 'cpu';
-- [tags 8] The tag survives abandon and refetch, and an ack's completion carries the activity
-- back to its orchestration whatever its tag.
SELECT pv.reset();
SELECT pv.tagged_instance('t8');
SELECT pv.drain('tags:cpu') AS cpu;
SELECT pv.abandon_work('t8#4') AS abandoned;
SELECT pv.drain('default,gpu', -2) AS other_filters_leave_it;
SELECT pv.drain('tags:cpu') AS cpu_again;
SELECT pv.ack_work('t8#4', 'tagged-result');
SELECT instance, messages FROM pv.fetch();
-- [tags 9] A filter that is not one is refused.
SELECT pv.try($$SELECT * FROM duroxide_internal.store_fetch_work_item(-1, tag_filter => 'tags:')$$);
SELECT pv.try($$SELECT * FROM duroxide_internal.store_fetch_work_item(-1, tag_filter => 'sometimes')$$);
