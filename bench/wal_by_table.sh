#!/usr/bin/env bash
# WAL per workflow, by relation: runs N workflows (`CALL bench_throughput(ORCH, N, ...)`), reads
# the WAL they wrote with pg_walinspect and prints, per relation (table or index; records that
# touch no relation, such as commits, by resource manager), the bytes, records and full-page
# image bytes per workflow. Not a test: it prints figures (docs/performance.md).
#
#   bench/wal_by_table.sh [N] [ORCHESTRATION]     (default 1000 BenchSeq3)
#
# With WAL_BY_TYPE=1 it also prints the records of each relation by record type (an insert, a
# HOT update, a row lock...) with their mean length: what each statement writes.
#
# With PGHOST or PGPORT set, it runs against that server, which must have bench/setup.sql loaded
# (the extension, the benchmark plugin, bench_throughput) and pg_walinspect available; otherwise
# it starts a throwaway server the way bench/run.sh does (scripts/pg-cluster.sh run), loads
# bench/setup.sql there and stops it at the end. Run `make install` and
# `make -C bench/plugin install` first in the second case.
#
# A record is counted once, against the first block it references (an index insert against the
# index, a heap update against the table). Full-page images follow checkpoints: the first
# change of a page after one logs the whole page, so compare runs of the same length on servers
# in the same state (bench/run.sh's settings keep checkpoints out of a short run).
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
N="${1:-1000}"
ORCH="${2:-BenchSeq3}"

if [ -z "${PGHOST:-}${PGPORT:-}" ] && [ -z "${DUROXIDE_WALTABLE_INNER:-}" ]; then
    exec env DUROXIDE_WALTABLE_INNER=1 WAL_BY_TYPE="${WAL_BY_TYPE:-}" "$TOP/scripts/pg-cluster.sh" run \
        --conf "shared_buffers = '512MB'" \
        --conf "max_wal_size = '4GB'" \
        --conf "duroxide.activity_workers = 2" \
        --conf "duroxide.resident_cache_size = 1000" \
        -- "$0" "$N" "$ORCH"
fi

q() { psql -X -v ON_ERROR_STOP=1 -Atq "$@"; }
if [ -n "${DUROXIDE_WALTABLE_INNER:-}" ]; then
    q -f "$TOP/bench/setup.sql" >/dev/null
fi
q -c "CREATE EXTENSION IF NOT EXISTS pg_walinspect" >/dev/null

# A short warm-up, so that the run does not log the first-touch page images of fresh tables.
q -c "CALL bench_throughput('$ORCH', 50, 'walwarm-$(date +%s)-')" >/dev/null
start=$(q -c "SELECT pg_current_wal_lsn()")
q -c "CALL bench_throughput('$ORCH', $N, 'walrun-$(date +%s)-')" >/dev/null
stop=$(q -c "SELECT pg_current_wal_lsn()")

echo "WAL of $N $ORCH workflows: $(q -c "SELECT pg_wal_lsn_diff('$stop', '$start')::bigint / $N") bytes per workflow"
echo
echo "| relation | bytes / wf | records / wf | of the bytes, page images / wf |"
echo "|---|---|---|---|"
q -F ' | ' <<SQL
WITH rec AS (
    SELECT r.record_length, r.fpi_length, r.resource_manager,
           pg_catalog.regexp_match(r.block_ref, 'rel (\d+)/(\d+)/(\d+)') AS rel
      FROM pg_get_wal_records_info('$start', '$stop') r
), named AS (
    SELECT record_length, fpi_length,
           CASE WHEN rel IS NULL THEN '(no relation: ' || resource_manager || ')'
                WHEN rel[2]::oid <> (SELECT oid FROM pg_database WHERE datname = current_database())
                    THEN '(other database)'
                ELSE coalesce(pg_catalog.pg_filenode_relation(
                         CASE WHEN rel[1]::oid = (SELECT dattablespace FROM pg_database
                                                   WHERE datname = current_database())
                              THEN 0 ELSE rel[1]::oid END, rel[3]::oid)::text,
                         '(filenode ' || rel[3] || ')')
           END AS relation
      FROM rec
)
SELECT '| ' || relation, round(sum(record_length)::numeric / $N), round(count(*)::numeric / $N, 1),
       round(sum(fpi_length)::numeric / $N) || ' |'
  FROM named GROUP BY relation
 UNION ALL
SELECT '| **total**', round(sum(record_length)::numeric / $N), round(count(*)::numeric / $N, 1),
       round(sum(fpi_length)::numeric / $N) || ' |'
  FROM named
 ORDER BY 2 DESC;
SQL

[ -n "${WAL_BY_TYPE:-}" ] || exit 0
echo
echo "| relation | record type | bytes / wf | records / wf | mean record length |"
echo "|---|---|---|---|---|"
q -F ' | ' <<SQL
WITH rec AS (
    SELECT r.record_length, r.resource_manager || '/' || r.record_type AS kind,
           pg_catalog.regexp_match(r.block_ref, 'rel (\d+)/(\d+)/(\d+)') AS rel
      FROM pg_get_wal_records_info('$start', '$stop') r
), named AS (
    SELECT record_length, kind,
           CASE WHEN rel IS NULL THEN '(no relation)'
                ELSE coalesce(pg_catalog.pg_filenode_relation(
                         CASE WHEN rel[1]::oid = (SELECT dattablespace FROM pg_database
                                                   WHERE datname = current_database())
                              THEN 0 ELSE rel[1]::oid END, rel[3]::oid)::text,
                         '(filenode ' || rel[3] || ')')
           END AS relation
      FROM rec
)
SELECT '| ' || relation, kind, round(sum(record_length)::numeric / $N),
       round(count(*)::numeric / $N, 2), round(avg(record_length)) || ' |'
  FROM named GROUP BY relation, kind
HAVING sum(record_length) >= $N * 10
 ORDER BY 1, 3 DESC;
SQL
