-- pgbench baseline: the smallest durable queue step (enqueue one row, dequeue the oldest).
BEGIN;
INSERT INTO bench_queue (payload) VALUES ('x');
DELETE FROM bench_queue
 WHERE id = (SELECT id FROM bench_queue ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED);
COMMIT;
