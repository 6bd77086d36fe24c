-- Provider validation: the batch activity fetch (Store::fetch_work_items, what an activity
-- worker uses with duroxide.activity_fetch_batch > 1). One statement leases up to max_items
-- activities with every rule of the single fetch: FIFO by (visible_at, id), tags, leases of
-- others skipped, session routing and max_sessions counted per claimed session; each row
-- carries its instance's owner. Owners -1 "owner-a" and -2 "owner-b" are two live workers.
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT duroxide_internal.probe_attach(-1, 'owner-a'), duroxide_internal.probe_attach(-2, 'owner-b');
-- Fetches a batch as `owner`; the items in the order returned.
CREATE FUNCTION pv.fetch_batch(owner bigint, max_items integer,
                               session_owner text DEFAULT NULL, max_sessions integer DEFAULT 10,
                               tag_filter text DEFAULT 'default')
    RETURNS TABLE (item text, attempt_count integer, session_id text, session_continued boolean,
                   owner_role text)
    LANGUAGE sql AS $$
    SELECT (f.work_item->'ActivityExecute'->>'instance') || '#' || (f.work_item->'ActivityExecute'->>'id'),
           f.attempt_count, f.work_item->'ActivityExecute'->>'session_id', f.session_continued,
           f.owner_role
      FROM duroxide_internal.store_fetch_work_items(owner, 30000, session_owner, 30000,
                                                     max_sessions, tag_filter, max_items) f $$;
CREATE FUNCTION pv.leases() RETURNS TABLE (item text, locked_by bigint, attempt_count integer)
    LANGUAGE sql AS $$
    SELECT instance_id || '#' || activity_id, locked_by, attempt_count
      FROM duroxide.worker_queue ORDER BY visible_at, id $$;

-- [batch 1] One fetch leases the oldest visible activities, in queue order, up to max_items,
-- each counted as an attempt and carrying its instance's owner.
SELECT pv.reset();
SELECT pv.create_instance('b1', activities => 5);
UPDATE duroxide.instances SET owner_role = 'pg_monitor'::regrole WHERE instance_id = 'b1';
SELECT * FROM pv.fetch_batch(-1, 3);
-- [batch 2] Another worker's batch skips the leased ones and takes the rest; a third finds none.
SELECT * FROM pv.fetch_batch(-2, 8);
SELECT count(*) AS left_over FROM pv.fetch_batch(-1, 8);
SELECT * FROM pv.leases();

-- [batch 3] Tags: a batch takes only what its filter admits, in queue order.
SELECT pv.reset();
SELECT pv.enqueue(pv.start('b3'));
SELECT count(*) FROM pv.fetch();
SELECT pv.ack('b3', delta => jsonb_build_array(pv.started('b3')) ||
                  (SELECT jsonb_agg(pv.scheduled('b3', i + 1) ORDER BY i) FROM generate_series(1, 5) i),
              worker_items => (SELECT jsonb_agg(jsonb_set(pv.activity('b3', i + 1), '{ActivityExecute,tag}',
                                   coalesce(to_jsonb((ARRAY[NULL, 'gpu', 'cpu', NULL, 'gpu'])[i]), 'null'))
                                   ORDER BY i) FROM generate_series(1, 5) i),
              name => 'O');
SELECT item FROM pv.fetch_batch(-1, 8, tag_filter => 'tags:gpu');
SELECT item FROM pv.fetch_batch(-1, 8);
SELECT item FROM pv.fetch_batch(-1, 8, tag_filter => 'any');

-- [batch 4] Sessions: a worker without a session owner id takes only the plain activities of a
-- batch; a session worker claims each session once (its later items continue it).
SELECT pv.reset();
SELECT pv.create_instance('s1', activities => 3, session => 'S1');
SELECT pv.create_instance('p1', activities => 2);
SELECT item, session_id FROM pv.fetch_batch(-1, 8);
SELECT item, session_id, session_continued FROM pv.fetch_batch(-1, 8, session_owner => 'owner-a');
SELECT session_id, owner_id, locked_by FROM duroxide.session_locks;
-- [batch 5] Another live owner's session is never batched by a second worker.
SELECT pv.reset();
SELECT pv.create_instance('s5', activities => 2, session => 'S5');
SELECT item FROM pv.fetch_batch(-1, 1, session_owner => 'owner-a');
SELECT count(*) AS taken_by_owner_b FROM pv.fetch_batch(-2, 8, session_owner => 'owner-b');
SELECT item, session_continued FROM pv.fetch_batch(-1, 8, session_owner => 'owner-a');

-- [batch 6] max_sessions holds within one batch: with room for one more session, a batch that
-- meets two new sessions claims the first and gives the other's items back (attempt not
-- counted); a later batch takes them once there is room.
SELECT pv.reset();
SELECT pv.create_instance('m1', activities => 2, session => 'M1');
SELECT pv.create_instance('m2', activities => 1, session => 'M2');
SELECT item, session_id, session_continued
  FROM pv.fetch_batch(-1, 8, session_owner => 'owner-a', max_sessions => 1);
SELECT * FROM pv.leases();
SELECT session_id, owner_id FROM duroxide.session_locks ORDER BY 1;
SELECT item, session_id FROM pv.fetch_batch(-1, 8, session_owner => 'owner-a', max_sessions => 2);

-- [batch 7] Delayed activities are not fetched, and max_items below 1 fetches nothing.
SELECT pv.reset();
SELECT pv.create_instance('d1', activities => 2);
UPDATE duroxide.worker_queue SET visible_at = clock_timestamp() + interval '1 hour'
 WHERE instance_id = 'd1' AND activity_id = 2;
SELECT item FROM pv.fetch_batch(-1, 8);
SELECT count(*) AS none FROM pv.fetch_batch(-2, 0);

-- [batch 8] The acks of a batch delete their rows with one statement, only while every lease
-- holds: one lost lease (another owner's token) fails it and deletes nothing.
SELECT pv.reset();
SELECT pv.create_instance('a1', activities => 3);
CREATE TEMP TABLE leased AS
SELECT id, lock_token FROM duroxide_internal.store_fetch_work_items(-1, max_items => 3);
SELECT pv.try($$SELECT duroxide_internal.store_delete_work_items(
    (SELECT array_agg(id ORDER BY id) FROM leased),
    (SELECT array_agg(CASE WHEN id = (SELECT max(id) FROM leased) THEN 'not-the-token'
                           ELSE lock_token END ORDER BY id) FROM leased))$$) AS one_lost;
SELECT count(*) AS still_queued FROM duroxide.worker_queue;
SELECT duroxide_internal.store_delete_work_items((SELECT array_agg(id ORDER BY id) FROM leased),
    (SELECT array_agg(lock_token ORDER BY id) FROM leased));
SELECT count(*) AS left_after_ack FROM duroxide.worker_queue;
-- [batch 9] Unstarted activities go back with one statement: lease cleared, attempt not
-- counted, place kept; a lease no longer held is not touched.
SELECT pv.reset();
SELECT pv.create_instance('g1', activities => 3);
TRUNCATE leased;
INSERT INTO leased SELECT id, lock_token FROM duroxide_internal.store_fetch_work_items(-1, max_items => 3);
UPDATE duroxide.worker_queue SET lock_token = 'taken-over' WHERE id = (SELECT max(id) FROM leased);
SELECT duroxide_internal.store_release_work_items((SELECT array_agg(id ORDER BY id) FROM leased),
    (SELECT array_agg(lock_token ORDER BY id) FROM leased)) AS released;
SELECT activity_id, lock_token IS NULL AS free, attempt_count FROM duroxide.worker_queue ORDER BY visible_at, id;
SELECT item FROM pv.fetch_batch(-2, 8);

SELECT pv.reset();
SELECT duroxide_internal.probe_detach(-1), duroxide_internal.probe_detach(-2);
