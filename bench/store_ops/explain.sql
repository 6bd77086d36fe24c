-- The store's fetch and ack statements as the workers run them: prepared, generic plans,
-- sequential scans and JIT off (src/pg/spi.cpp). Statement texts as in src/store/store.cpp.
SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; SET jit = off;
\echo == orchestration fetch 1: candidate instances
PREPARE cand(text) AS SELECT q.instance_id FROM duroxide.orchestrator_queue q WHERE q.visible_at <= (SELECT clock_timestamp()) AND NOT EXISTS (SELECT 1 FROM duroxide.instance_locks l WHERE l.instance_id = q.instance_id AND NOT (l.locked_until <= clock_timestamp() OR NOT duroxide._lock_holder_alive(l.locked_by))) ORDER BY q.visible_at, q.id LIMIT $1::int;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE cand('64');
BEGIN;
\echo == orchestration fetch 2: instance locks
PREPARE lck(text, text, text) AS INSERT INTO duroxide.instance_locks AS l (instance_id, lock_token, locked_until, locked_by) SELECT id, gen_random_uuid()::text, clock_timestamp() + $2::int * interval '1 millisecond', $3::bigint FROM unnest($1::text[]) AS id ON CONFLICT (instance_id) DO UPDATE SET lock_token = excluded.lock_token, locked_until = excluded.locked_until, locked_by = excluded.locked_by, locked_at = clock_timestamp() WHERE (l.locked_until <= clock_timestamp() OR NOT duroxide._lock_holder_alive(l.locked_by)) RETURNING instance_id, lock_token;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE lck('{perf-1}', '30000', '-1');
\echo == orchestration fetch 3: read the messages the lock rows claim
PREPARE claim(text[], text[]) AS SELECT q.instance_id, q.id, q.work_item, q.attempt_count + 1, q.started_by FROM duroxide.instance_locks l JOIN duroxide.orchestrator_queue q ON q.instance_id = l.instance_id AND q.id = ANY (l.claimed) WHERE l.instance_id = ANY ($1::text[]) AND l.lock_token = ANY ($2::text[]);
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE claim('{perf-1}', '{tok}');
\echo == orchestration fetch 4: current execution
PREPARE cur(text[]) AS SELECT i.instance_id, i.current_execution_id, e.status, i.owner_role FROM duroxide.instances i LEFT JOIN duroxide.executions e ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id WHERE i.instance_id = ANY ($1::text[]);
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE cur('{perf-1}');
\echo == orchestration fetch 5: history
PREPARE hist(text[]) AS SELECT i.instance_id, i.current_execution_id, h.event_id, h.event_type, h.event_data FROM duroxide.instances i, LATERAL (SELECT h.event_id, h.event_type, h.event_data FROM duroxide.history h WHERE h.instance_id = i.instance_id AND h.execution_id = i.current_execution_id) h WHERE i.instance_id = ANY ($1::text[]) ORDER BY i.instance_id, h.event_id;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE hist('{perf-1}');
\echo == orchestration ack: release the lock, delete the claimed messages, cancel an activity
PREPARE rel(text, text) AS DELETE FROM duroxide.instance_locks WHERE instance_id = $1 AND lock_token = $2 AND locked_until > clock_timestamp() RETURNING 1;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE rel('perf-1', 'tok');
PREPARE delq(text, text) AS WITH released AS (UPDATE duroxide.instance_locks SET lock_token = NULL, locked_until = '-infinity' WHERE instance_id = $1 AND lock_token = $2 AND locked_until > clock_timestamp() RETURNING claimed), gone AS (DELETE FROM duroxide.orchestrator_queue q USING released r WHERE q.instance_id = $1 AND q.id = ANY (r.claimed)) SELECT 1 FROM released;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE delq('perf-1', 'tok');
PREPARE delw(text, text, text) AS DELETE FROM duroxide.worker_queue WHERE instance_id = $1 AND execution_id = $2::bigint AND activity_id = $3::bigint;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE delw('act-5', '1', '2');
ROLLBACK;
BEGIN;
\echo == work item fetch
PREPARE wf(text, text, text, text) AS WITH picked AS (SELECT w.id, s.session_id IS NOT NULL AND s.owner_id = $3 AND s.locked_by = $2::bigint AND s.locked_until > clock_timestamp() AS continued FROM duroxide.worker_queue w LEFT JOIN duroxide.session_locks s ON s.session_id = w.session_id WHERE w.visible_at <= (SELECT clock_timestamp()) AND w.tag IS NULL AND (w.lock_token IS NULL OR (w.locked_until <= clock_timestamp() OR NOT duroxide._lock_holder_alive(w.locked_by))) AND (w.session_id IS NULL OR (s.owner_id = $3 AND s.locked_until > clock_timestamp()) OR ((s.session_id IS NULL OR (s.locked_until <= clock_timestamp() OR duroxide._session_owner_pid(s.owner_id) IS NULL)) AND (SELECT count(*) FROM duroxide.session_locks o WHERE o.owner_id = $3 AND o.locked_until > clock_timestamp()) < $4::int)) ORDER BY w.visible_at, w.id LIMIT 1 FOR UPDATE OF w SKIP LOCKED) UPDATE duroxide.worker_queue q SET lock_token = gen_random_uuid()::text, locked_until = clock_timestamp() + $1::int * interval '1 millisecond', locked_by = $2::bigint, attempt_count = q.attempt_count + 1 FROM picked WHERE q.id = picked.id RETURNING q.id, q.work_item, q.lock_token, q.attempt_count, picked.continued;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE wf('30000', '-1', 'owner-a', '10');
\echo == work item fetch, tag filter tags:gpu
PREPARE wft(text, text, text, text, text) AS WITH picked AS (SELECT w.id, s.session_id IS NOT NULL AND s.owner_id = $3 AND s.locked_by = $2::bigint AND s.locked_until > clock_timestamp() AS continued FROM duroxide.worker_queue w LEFT JOIN duroxide.session_locks s ON s.session_id = w.session_id WHERE w.visible_at <= (SELECT clock_timestamp()) AND w.tag = ANY($5::text[]) AND (w.lock_token IS NULL OR (w.locked_until <= clock_timestamp() OR NOT duroxide._lock_holder_alive(w.locked_by))) AND (w.session_id IS NULL OR (s.owner_id = $3 AND s.locked_until > clock_timestamp()) OR ((s.session_id IS NULL OR (s.locked_until <= clock_timestamp() OR duroxide._session_owner_pid(s.owner_id) IS NULL)) AND (SELECT count(*) FROM duroxide.session_locks o WHERE o.owner_id = $3 AND o.locked_until > clock_timestamp()) < $4::int)) ORDER BY w.visible_at + interval '0 s', w.id LIMIT 1 FOR UPDATE OF w SKIP LOCKED) UPDATE duroxide.worker_queue q SET lock_token = gen_random_uuid()::text, locked_until = clock_timestamp() + $1::int * interval '1 millisecond', locked_by = $2::bigint, attempt_count = q.attempt_count + 1 FROM picked WHERE q.id = picked.id RETURNING q.id, q.work_item, q.lock_token, q.attempt_count, picked.continued;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE wft('30000', '-1', 'owner-a', '10', '{gpu}');
\echo == work item ack
PREPARE wa(text, text) AS DELETE FROM duroxide.worker_queue WHERE id = $1::bigint AND lock_token = $2 AND locked_until > clock_timestamp() RETURNING 1;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE wa('1', 'tok');
ROLLBACK;
\echo == next visible message (after an empty fetch)
PREPARE nv AS SELECT ceil(extract(epoch FROM min(visible_at) - clock_timestamp()) * 1000)::bigint FROM duroxide.orchestrator_queue WHERE visible_at > (SELECT clock_timestamp());
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE nv;
