#!/usr/bin/env bash
# Store operations on 100 000 queued rows (docs/performance.md). Not a test: prints figures.
# Runs against the server in PGHOST/PGPORT (e.g. scripts/pg-cluster.sh start/env): makes a
# database duroxide_store_ops that duroxide's workers do not serve, fills the orchestrator
# queue with 100 000 starts and the worker queue with 100 000 activities (and 1 000 tagged), prints the EXPLAIN
# ANALYZE of every fetch and ack statement, then times fetch+ack of each kind with pgbench
# over the store probes (duroxide_internal), with synchronous_commit on and off.
#
#   bench/store_ops/run.sh [ROWS] [TRANSACTIONS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROWS="${1:-100000}"
TXNS="${2:-3000}"
DB=duroxide_store_ops
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
    -c "CREATE DATABASE $DB" -c "ALTER DATABASE $DB SET duroxide.run_workers = off"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE EXTENSION duroxide;
INSERT INTO duroxide.orchestrator_queue (instance_id, work_item)
SELECT 'perf-' || n, jsonb_build_object('StartOrchestration', jsonb_build_object('instance', 'perf-' || n,
       'orchestration', 'O', 'input', '', 'execution_id', 1))::text
  FROM generate_series(1, $ROWS) n;
INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, activity_id)
SELECT jsonb_build_object('ActivityExecute', jsonb_build_object('instance', 'act-' || n, 'execution_id', 1,
       'id', 2, 'name', 'A', 'input', ''))::text, 'act-' || n, 1, 2
  FROM generate_series(1, $ROWS) n;
-- and a few tagged ones, for the plans of a tag-filtered fetch
INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, activity_id, tag)
SELECT jsonb_build_object('ActivityExecute', jsonb_build_object('instance', 'gpu-' || n, 'execution_id', 1,
       'id', 2, 'name', 'A', 'input', '', 'tag', 'gpu'))::text, 'gpu-' || n, 1, 2, 'gpu'
  FROM generate_series(1, $ROWS / 100) n;
VACUUM ANALYZE duroxide.orchestrator_queue; VACUUM ANALYZE duroxide.worker_queue;
SQL
echo "== plans with $ROWS pending rows in each queue"
psql -X -q -d "$DB" -f "$HERE/explain.sql"
echo "== plans with every row delayed (timers, backoff) and one visible activity at the end"
psql -X -q -d "$DB" <<SQL
UPDATE duroxide.orchestrator_queue SET visible_at = clock_timestamp() + interval '1 hour';
UPDATE duroxide.worker_queue SET visible_at = clock_timestamp() + interval '1 hour';
INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, activity_id)
VALUES (jsonb_build_object('ActivityExecute', jsonb_build_object('instance', 'last', 'execution_id', 1,
        'id', 2, 'name', 'A', 'input', ''))::text, 'last', 1, 2);
INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, activity_id, tag)
VALUES (jsonb_build_object('ActivityExecute', jsonb_build_object('instance', 'last-gpu', 'execution_id', 1,
        'id', 2, 'name', 'A', 'input', '', 'tag', 'gpu'))::text, 'last-gpu', 1, 2, 'gpu');
VACUUM ANALYZE duroxide.orchestrator_queue; VACUUM ANALYZE duroxide.worker_queue;
SQL
psql -X -q -d "$DB" -f "$HERE/explain.sql" | grep -E '^==|Execution Time|Rows Removed'
psql -X -q -d "$DB" <<SQL
DELETE FROM duroxide.worker_queue WHERE instance_id IN ('last', 'last-gpu');
UPDATE duroxide.orchestrator_queue SET visible_at = clock_timestamp() - interval '1 hour';
UPDATE duroxide.worker_queue SET visible_at = clock_timestamp() - interval '1 hour';
VACUUM ANALYZE duroxide.orchestrator_queue; VACUUM ANALYZE duroxide.worker_queue;
SQL
for sync in on off; do
    for op in orchestration work_item; do
        echo "== fetch+ack: $op, synchronous_commit = $sync, $TXNS in a row, one client"
        PGOPTIONS="-c synchronous_commit=$sync" pgbench -n -M extended -c 1 -t "$TXNS" \
            -f "$HERE/$op.pgb" -d "$DB" 2>&1 | grep -E 'latency average|failed'
    done
done
psql -X -q -d postgres -c "DROP DATABASE $DB WITH (FORCE)"
