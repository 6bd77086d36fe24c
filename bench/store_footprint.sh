#!/usr/bin/env bash
# What one workflow costs the store: rows and bytes it leaves per table, rows that pass through
# the queues, WAL, and statements by kind. Not a test: it prints figures (docs/scale-out.md).
#
#   bench/store_footprint.sh [N]        (N workflows per workload, default 500)
#
# Runs on a throwaway server (scripts/pg-cluster.sh run) with pg_stat_statements (track = all,
# so the statements of the SQL functions and of the workers' SPI are counted) and the installed
# extension. Workloads are SQL workflows, so no plugin is needed: seq1, seq3, seq10 (that many
# SQL steps one after the other) and par10 (ten SQL steps in a `parallel`). Each step inserts
# one small row into a user table. Run it after `make install`.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
N="${1:-500}"

if [ -z "${DUROXIDE_FOOTPRINT_INNER:-}" ]; then
    exec env DUROXIDE_FOOTPRINT_INNER=1 "$TOP/scripts/pg-cluster.sh" run \
        --conf "shared_preload_libraries = 'duroxide,pg_stat_statements'" \
        --conf "pg_stat_statements.track = all" \
        --conf "pg_stat_statements.max = 10000" \
        --conf "duroxide.activity_workers = 2" \
        -- "$0" "$N"
fi

q() { psql -X -v ON_ERROR_STOP=1 -Atq "$@"; }
q >/dev/null <<'SQL'
CREATE EXTENSION duroxide;
CREATE EXTENSION pg_stat_statements;
CREATE ROLE fp_runner LOGIN IN ROLE duroxide_user;
CREATE TABLE fp_effects (instance text, step int);
GRANT INSERT ON fp_effects TO fp_runner;
SET ROLE fp_runner;
SELECT duroxide.define_workflow('seq' || k, jsonb_build_object('kind', 'seq', 'steps',
         (SELECT jsonb_agg(jsonb_build_object('kind', 'sql',
                   'query', 'INSERT INTO public.fp_effects VALUES ($1, ' || s || ')',
                   'params', jsonb_build_array('$input')) ORDER BY s)
            FROM generate_series(1, k) s)))
  FROM unnest(ARRAY[1, 3, 10]) k;
SELECT duroxide.define_workflow('par10', jsonb_build_object('kind', 'parallel', 'branches',
         (SELECT jsonb_agg(jsonb_build_object('kind', 'sql',
                   'query', 'INSERT INTO public.fp_effects VALUES ($1, ' || s || ')',
                   'params', jsonb_build_array('$input')) ORDER BY s)
            FROM generate_series(1, 10) s)));
SQL

tables="instances executions history orchestrator_queue worker_queue instance_locks kv_store kv_delta workflow_instances session_locks open_sessions"
printf '| workload | turns | activities | statements | of them store reads/writes | WAL bytes | rows left | bytes left (tables+indexes) | history rows | history bytes (data) | queue rows passed |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for w in seq1 seq3 seq10 par10; do
    q -c "CHECKPOINT" >/dev/null
    q -c "VACUUM" >/dev/null
    sizes_before=$(q -c "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'duroxide' AND c.relkind = 'r'")
    queue_before=$(q -c "SELECT (SELECT coalesce(max(id), 0) FROM duroxide.orchestrator_queue) + (SELECT coalesce(max(id), 0) FROM duroxide.worker_queue)")
    oq_before=$(q -c "SELECT last_value FROM duroxide.orchestrator_queue_id_seq")
    wq_before=$(q -c "SELECT last_value FROM duroxide.worker_queue_id_seq")
    turns_before=$(q -c "SELECT coalesce(sum(value), 0) FROM duroxide.metrics WHERE metric = 'orchestration_turns'")
    lsn_before=$(q -c "SELECT pg_current_wal_lsn()")
    q -c "SELECT pg_stat_statements_reset()" >/dev/null
    q -c "SET ROLE fp_runner; SELECT count(duroxide.start_workflow('$w-' || i, '$w', to_jsonb('$w-' || i))) FROM generate_series(1, $N) i" >/dev/null
    for _ in $(seq 1 600); do
        done_count=$(q -c "/* footprint */ SELECT count(*) FROM duroxide.executions WHERE instance_id LIKE '$w-%' AND status <> 'Running'")
        [ "$done_count" -ge "$N" ] && break
        sleep 0.5
    done
    lsn_after=$(q -c "/* footprint */ SELECT pg_current_wal_lsn()")
    statements=$(q -c "/* footprint */ SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE '%footprint%'")
    store=$(q -c "/* footprint */ SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE '%footprint%' AND query ~ 'duroxide\\.(instances|executions|history|orchestrator_queue|worker_queue|instance_locks|kv_store|kv_delta|session_locks|open_sessions)'")
    turns=$(q -c "/* footprint */ SELECT coalesce(sum(value), 0) - $turns_before FROM duroxide.metrics WHERE metric = 'orchestration_turns'")
    activities=$(q -c "/* footprint */ SELECT count(*) FROM fp_effects WHERE instance LIKE '$w-%'")
    wal=$(q -c "/* footprint */ SELECT pg_wal_lsn_diff('$lsn_after', '$lsn_before')")
    rows_left=$(q -c "/* footprint */ SELECT (SELECT count(*) FROM duroxide.instances WHERE instance_id LIKE '$w-%') + (SELECT count(*) FROM duroxide.executions WHERE instance_id LIKE '$w-%') + (SELECT count(*) FROM duroxide.history WHERE instance_id LIKE '$w-%') + (SELECT count(*) FROM duroxide.workflow_instances WHERE instance_id LIKE '$w-%')")
    history_rows=$(q -c "/* footprint */ SELECT count(*) FROM duroxide.history WHERE instance_id LIKE '$w-%'")
    history_bytes=$(q -c "/* footprint */ SELECT sum(pg_column_size(h.*)) FROM duroxide.history h WHERE instance_id LIKE '$w-%'")
    q -c "VACUUM" >/dev/null
    sizes_after=$(q -c "/* footprint */ SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'duroxide' AND c.relkind = 'r'")
    oq_after=$(q -c "/* footprint */ SELECT last_value FROM duroxide.orchestrator_queue_id_seq")
    wq_after=$(q -c "/* footprint */ SELECT last_value FROM duroxide.worker_queue_id_seq")
    awk -v w="$w" -v n="$N" -v turns="$turns" -v acts="$activities" -v st="$statements" -v store="$store" \
        -v wal="$wal" -v rows="$rows_left" -v bytes="$((sizes_after - sizes_before))" \
        -v hr="$history_rows" -v hb="$history_bytes" -v queue="$((oq_after - oq_before + wq_after - wq_before))" \
        'BEGIN { printf "| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f | %.0f | %.1f | %.0f | %.1f |\n",
                 w, turns / n, acts / n, st / n, store / n, wal / n, rows / n, bytes / n, hr / n, hb / n, queue / n }'
    if [ -n "${FOOTPRINT_STATEMENTS:-}" ]; then
        q -c "/* footprint */ SELECT round(calls::numeric / $N, 2) || '  ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 150) FROM pg_stat_statements WHERE query NOT LIKE '%footprint%' ORDER BY calls DESC LIMIT 25"
    fi
done
echo
echo "per workflow; N = $N per workload; $(psql -XAtc 'SELECT version()' | cut -d, -f1)"
