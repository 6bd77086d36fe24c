-- Remote activity workers' SQL functions (sql/objects/84_remote_workers.sql): who may call
-- them, attaching, claiming by tag, renewing, checking, completing in the caller's transaction
-- (exactly once with the activity's own writes), abandoning, and leases tied to the
-- connection: a worker whose backend is gone has its work claimable at once, long before its
-- lease would expire. Runs in the store validation database (no in-server workers there).
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
-- Only duroxide_worker (and superusers) may call them.
SELECT p.proname,
       has_function_privilege('duroxide_worker', p.oid, 'EXECUTE') AS worker,
       has_function_privilege('duroxide_user', p.oid, 'EXECUTE') AS "user",
       has_function_privilege('duroxide_admin', p.oid, 'EXECUTE') AS admin,
       p.prosecdef AS definer, p.proconfig
  FROM pg_proc p WHERE p.pronamespace = 'duroxide'::regnamespace AND p.proname LIKE 'worker\_%'
 ORDER BY p.proname;
SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'duroxide_worker';

-- Nothing before attaching.
SELECT pv.try($$SELECT * FROM duroxide.worker_claim('tags:remote')$$);
SELECT pv.try($$SELECT * FROM duroxide.worker_attach('')$$);
SELECT pv.try($$SELECT * FROM duroxide.worker_attach(repeat('x', 100))$$);
SELECT owner_id, max_attempts > 0 AS has_settings FROM duroxide.worker_attach('r1');
-- A remote worker runs tagged activities only.
SELECT pv.try($$SELECT * FROM duroxide.worker_claim('default')$$);
SELECT pv.try($$SELECT * FROM duroxide.worker_claim('any')$$);
SELECT pv.try($$SELECT * FROM duroxide.worker_claim('tags:remote', 0)$$);

-- Three activities, two of them tagged "remote".
SELECT pv.reset();
SELECT pv.create_instance('rw', activities => 3);
UPDATE duroxide.worker_queue
   SET tag = 'remote',
       work_item = jsonb_set(work_item::jsonb, '{ActivityExecute,tag}', '"remote"')::text
 WHERE activity_id IN (2, 3);
SELECT count(*) AS other_tag FROM duroxide.worker_claim('tags:gpu', 5);
CREATE TEMP TABLE claimed AS
  SELECT c.id, c.lock_token, c.attempt_count, c.work_item::jsonb->'ActivityExecute' AS item
    FROM duroxide.worker_claim('tags:remote', 5, 600000) c;
SELECT item->>'id' AS activity, item->>'tag' AS tag, attempt_count FROM claimed ORDER BY id;
SELECT activity_id, locked_by IS NOT NULL AS leased FROM duroxide.worker_queue ORDER BY activity_id;
SELECT count(*) AS nothing_more FROM duroxide.worker_claim('tags:remote', 5);

-- Renew and check.
SELECT duroxide.worker_renew(id, lock_token, 600000) AS renewed,
       duroxide.worker_holds(id, lock_token) AS holds,
       duroxide.worker_holds(id, 'not-the-token') AS holds_other_token
  FROM claimed WHERE item->>'id' = '2';

-- A completion commits with the activity's own writes ...
CREATE TABLE remote_effects (activity int);
BEGIN;
INSERT INTO remote_effects VALUES (2);
SELECT duroxide.worker_complete(id, lock_token, jsonb_build_object('ActivityCompleted',
         jsonb_build_object('instance', 'rw', 'execution_id', 1, 'id', 2, 'result', 'done-2'))::text)
  FROM claimed WHERE item->>'id' = '2';
COMMIT;
SELECT activity_id FROM duroxide.worker_queue ORDER BY activity_id;
SELECT work_item::jsonb FROM duroxide.orchestrator_queue;
-- ... and a second completion of it raises: the lease is gone, and the writes roll back.
BEGIN;
INSERT INTO remote_effects VALUES (2);
SELECT regexp_replace(pv.try($$SELECT duroxide.worker_complete(id, lock_token, jsonb_build_object('ActivityCompleted',
         jsonb_build_object('instance', 'rw', 'execution_id', 1, 'id', 2, 'result', 'again'))::text)
  FROM claimed WHERE item->>'id' = '2'$$), 'lease \d+', 'lease N') AS second_completion;
ROLLBACK;
SELECT activity, count(*) FROM remote_effects GROUP BY activity;
-- Only the leased activity's own completion is accepted.
SELECT pv.try($$SELECT duroxide.worker_complete(id, lock_token, jsonb_build_object('ActivityCompleted',
         jsonb_build_object('instance', 'rw', 'execution_id', 1, 'id', 1, 'result', 'x'))::text)
  FROM claimed WHERE item->>'id' = '3'$$);
SELECT pv.try($$SELECT duroxide.worker_complete(id, lock_token, pv.start('other')::text)
  FROM claimed WHERE item->>'id' = '3'$$);
SELECT count(*) AS completions FROM duroxide.orchestrator_queue;

-- Abandon: visible again, the attempt counted unless ignored.
SELECT duroxide.worker_abandon(id, lock_token) AS abandoned FROM claimed WHERE item->>'id' = '3';
SELECT duroxide.worker_abandon(id, lock_token) AS abandoned_twice FROM claimed WHERE item->>'id' = '3';
DELETE FROM claimed;
INSERT INTO claimed
  SELECT c.id, c.lock_token, c.attempt_count, c.work_item::jsonb->'ActivityExecute'
    FROM duroxide.worker_claim('tags:remote', 1, 600000) c;
SELECT item->>'id' AS activity, attempt_count FROM claimed;
-- A second connection cannot attach under a worker id a live connection holds; checked from
-- this backend by the owner id's holder.
SELECT duroxide._session_owner_pid('remote:r1') = pg_backend_pid() AS r1_is_this_backend;

-- Connection-tied leases: once this backend is gone, activity 3 (leased for ten minutes) is
-- claimable at once by another connection.
\c duroxide_store
SET client_min_messages = warning;
SELECT owner_id FROM duroxide.worker_attach('r2');
CREATE FUNCTION pg_temp.reclaim(lock_ms int DEFAULT 600000) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    got int := 0;
BEGIN
    FOR i IN 1..500 LOOP
        SELECT count(*) INTO got FROM duroxide.worker_claim('tags:remote', 1, lock_ms);
        EXIT WHEN got > 0;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN got;
END $$;
SELECT pg_temp.reclaim() AS reclaimed;
SELECT activity_id, attempt_count FROM duroxide.worker_queue ORDER BY activity_id;
-- A lease of a live connection that hangs ends when it expires: claimed for one second and
-- never renewed, the activity is claimable again (here by the same connection) after that.
SELECT duroxide.worker_abandon(id, lock_token) AS given_back FROM duroxide.worker_queue
 WHERE activity_id = 3;
SELECT count(*) AS claimed_for_a_second FROM duroxide.worker_claim('tags:remote', 1, 1000);
SELECT pg_temp.reclaim(1000) AS reclaimed_after_expiry;
SELECT activity_id, attempt_count FROM duroxide.worker_queue ORDER BY activity_id;
SELECT duroxide.worker_detach() AS sessions_released;
SELECT pv.try($$SELECT * FROM duroxide.worker_claim('tags:remote')$$);
DROP TABLE remote_effects;
