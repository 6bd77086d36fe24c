#!/usr/bin/env bash
# Runs inside `scripts/pg-cluster.sh run` (PGHOST/PGPORT set); called by bench/run.sh.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)

cpu_busy_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat; }
wal_lsn() { "${PSQL[@]}" -c "SELECT pg_current_wal_lsn()"; }
wal_bytes_since() { "${PSQL[@]}" -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$1')::bigint"; }
ticks_per_second=$(getconf CLK_TCK)

echo "workload,clients,n,throughput_per_s,p50_ms,p95_ms,p99_ms,txn_per_wf,wal_bytes_per_wf,cpu_ms_per_wf" >"$BENCH_CSV"
table=("| workload | clients | n | throughput/s | p50 ms | p95 ms | p99 ms | txn/wf | WAL B/wf | CPU ms/wf |"
       "|---|---|---|---|---|---|---|---|---|---|")
record() { # workload clients n throughput p50 p95 p99 txn wal cpu
    echo "$(IFS=,; echo "$*")" >>"$BENCH_CSV"
    table+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 | ${10} |")
}

baseline() {
    "${PSQL[@]}" -c "CREATE TABLE IF NOT EXISTS bench_queue (id bigserial PRIMARY KEY, payload text)"
    local clients
    for clients in 1 4; do
        local lsn cpu0 out tps txns
        lsn=$(wal_lsn); cpu0=$(cpu_busy_ticks)
        out=$(pgbench -n -f "$TOP/bench/queue_txn.sql" -c "$clients" -j "$clients" -T "$BENCH_DURATION" 2>&1)
        tps=$(echo "$out" | awk '/^tps = / {printf "%.0f", $3}')
        txns=$(echo "$out" | awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]}')
        local wal cpu_ms
        wal=$(( $(wal_bytes_since "$lsn") / (txns > 0 ? txns : 1) ))
        cpu_ms=$(awk -v t="$(( $(cpu_busy_ticks) - cpu0 ))" -v n="$txns" -v hz="$ticks_per_second" \
            'BEGIN {printf "%.3f", t * 1000 / hz / (n > 0 ? n : 1)}')
        local lat
        lat=$(echo "$out" | awk '/^latency average/ {print $4}')
        record "pgbench queue txn" "$clients" "$txns" "$tps" "$lat (avg)" "" "" 1 "$wal" "$cpu_ms"
    done
}

IFS=',' read -r -a selected <<<"$BENCH_WORKLOADS"
for w in "${selected[@]}"; do
    case "$w" in
    baseline) baseline ;;
    *) echo "bench: workload '$w' is not available yet" >&2 ;;
    esac
done

echo
printf '%s\n' "${table[@]}"
echo
echo "CSV: $BENCH_CSV"
