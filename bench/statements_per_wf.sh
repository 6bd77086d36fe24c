#!/usr/bin/env bash
# Statements, WAL bytes, WAL records and commits per workflow: for each ORCHESTRATION:N, runs a
# 50-workflow warm-up, then N workflows (`CALL bench_throughput`), and prints the top-level and
# nested statements per workflow (pg_stat_statements, track = all; the client's procedure and
# its waits left out), the WAL bytes and records of the run (pg_walinspect) and the commits
# (pg_stat_database) per workflow. With DETAIL=1, each statement's calls, WAL records and bytes
# per workflow too. Not a test: it prints figures (docs/performance.md, "Dispatcher: fetch and
# ack"). Load-independent figures: compare them between commits on any machine.
#
#   bench/statements_per_wf.sh [ORCHESTRATION:N ...]   (default BenchSeq3:1000 BenchFan10:250)
#
# It starts a throwaway server the way bench/profile.sh does (scripts/pg-cluster.sh run, with
# pg_stat_statements preloaded), loads bench/setup.sql and stops it at the end. Run
# `make install` and `make -C bench/plugin install` first.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"

if [ -z "${DUROXIDE_STMTS_INNER:-}" ]; then
    exec env DUROXIDE_STMTS_INNER=1 "$TOP/scripts/pg-cluster.sh" run \
        --conf "shared_preload_libraries = 'duroxide,pg_stat_statements'" \
        --conf "pg_stat_statements.track = all" \
        --conf "pg_stat_statements.max = 2000" \
        --conf "shared_buffers = '512MB'" \
        --conf "max_wal_size = '4GB'" \
        --conf "duroxide.activity_workers = 2" \
        --conf "duroxide.resident_cache_size = 1000" \
        -- "$0" "$@"
fi

q() { psql -X -v ON_ERROR_STOP=1 -Atq "$@"; }
q -f "$TOP/bench/setup.sql" >/dev/null
q -c "CREATE EXTENSION IF NOT EXISTS pg_walinspect" \
  -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
commits() { q -c "SELECT sum(xact_commit) FROM pg_stat_database"; }
# The client's procedure, its waits and this script's own reads.
filter="query !~* 'bench_(throughput|finished_within|start)|wait_for_|_await_status_change|pg_stat_statements|pg_backend_pid|pg_current_wal|pg_stat_database|pg_get_wal'"

[ $# -gt 0 ] || set -- BenchSeq3:1000 BenchFan10:250
for spec in "$@"; do
    orch="${spec%%:*}"; n="${spec##*:}"
    q -c "CALL bench_throughput('$orch', 50, 'warm-$orch-')" >/dev/null
    q -c "SELECT pg_stat_statements_reset()" >/dev/null
    c0=$(commits); start=$(q -c "SELECT pg_current_wal_lsn()")
    q -c "CALL bench_throughput('$orch', $n, 'run-$orch-')" >/dev/null
    stop=$(q -c "SELECT pg_current_wal_lsn()")
    # The workers report their commits to the statistics when idle: give them a moment.
    sleep 1.5
    c1=$(commits)
    echo "== $orch, $n workflows, per workflow:"
    q -F ' ' -c "SELECT 'WAL bytes', pg_wal_lsn_diff('$stop', '$start')::bigint / $n,
                        '| WAL records', round(count(*)::numeric / $n, 1),
                        '| commit records', round(count(*) FILTER (WHERE record_type = 'COMMIT')::numeric / $n, 2),
                        '| commits (pg_stat_database)', round(($c1 - $c0)::numeric / $n, 2)
                   FROM pg_get_wal_records_info('$start', '$stop')"
    q -F ' ' -c "SELECT 'statements: top-level', round(sum(calls) FILTER (WHERE toplevel)::numeric / $n, 1),
                        '| nested', round(coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0)::numeric / $n, 1)
                   FROM pg_stat_statements WHERE $filter"
    if [ -n "${DETAIL:-}" ]; then
        echo "calls | WAL records | WAL bytes | statement (top-level)"
        q -F ' | ' -c "SELECT to_char(calls::numeric / $n, 'FM9990.00'),
                              to_char(wal_records::numeric / $n, 'FM9990.00'), wal_bytes / $n,
                              left(regexp_replace(query, '\s+', ' ', 'g'), 110)
                         FROM pg_stat_statements WHERE $filter AND toplevel AND calls > 0
                        ORDER BY calls DESC, wal_bytes DESC LIMIT 30"
    fi
done
