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

commits() { "${PSQL[@]}" -c "SELECT sum(xact_commit) FROM pg_stat_database"; }

# measure N CMD...: runs CMD, sets m_seconds (wall clock) and the per-workflow costs m_txn
# (committed transactions), m_wal (WAL bytes) and m_cpu (machine CPU milliseconds).
measure() {
    local n="$1"; shift
    local lsn cpu0 c0 t0 t1
    lsn=$(wal_lsn); cpu0=$(cpu_busy_ticks); c0=$(commits)
    t0=$(date +%s.%N)
    m_capped=0
    PGOPTIONS="-c statement_timeout=${BENCH_CAP}s" "$@" >/dev/null 2>&1 || m_capped=1
    t1=$(date +%s.%N)
    m_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
    m_txn=$(awk -v a="$c0" -v b="$(commits)" -v n="$n" 'BEGIN {printf "%.1f", (b - a) / n}')
    m_wal=$(( $(wal_bytes_since "$lsn") / n ))
    m_cpu=$(awk -v t="$(( $(cpu_busy_ticks) - cpu0 ))" -v n="$n" -v hz="$ticks_per_second" \
        'BEGIN {printf "%.3f", t * 1000 / hz / n}')
}

# SQL workflows ("wf:<name>") start as bench_wf: their SQL steps never run as a superuser.
role_for() { case "$1" in wf:*) echo "SET ROLE bench_wf" ;; *) echo "SELECT 1" ;; esac; }

# BENCH_CONCURRENCY client sessions, each starting its share of n instances and waiting for them.
start_and_wait_all() { # orchestration n prefix
    local c pid status=0 share=$(( $2 / BENCH_CONCURRENCY )) pids=()
    for c in $(seq 1 "$BENCH_CONCURRENCY"); do
        "${PSQL[@]}" -c "$(role_for "$1")" -c "CALL bench_throughput('$1', $share, '$3$c-')" &
        pids+=("$!")
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || status=1
    done
    return "$status"
}

# Events: start all, wait until each waits, raise all in one transaction, wait for all.
events_all() { # n prefix
    "${PSQL[@]}" -c "SELECT duroxide.start_orchestration('$2' || i, 'BenchEvent', '')
                       FROM generate_series(1, $1) AS i" \
        -c "SELECT count(*) FROM generate_series(1, $1) AS i,
              LATERAL duroxide.wait_for_status_change('$2' || i, 0, '1 hour') w" \
        -c "SELECT duroxide.raise_event('$2' || i, 'Go', 'go') FROM generate_series(1, $1) AS i" \
        -c "SELECT count(*) FROM generate_series(1, $1) AS i,
              LATERAL duroxide.wait_for_orchestration('$2' || i, '1 hour') w"
}

percentiles() { # prefix -> "p50 p95 p99" in ms
    "${PSQL[@]}" -F ' ' -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
        round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2),
        round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2)
        FROM bench_latencies WHERE workload = '$1'"
}

# workflow NAME ORCHESTRATION N_THROUGHPUT N_LATENCY [raise_go]
workflow() {
    local name="$1" orchestration="$2" n="$3" n_lat="$4" raise="${5:-false}" clients
    if [ "$raise" = true ]; then
        clients=1
        measure "$n" events_all "$n" "$name-t"
    else
        clients=$BENCH_CONCURRENCY
        n=$(( n / clients * clients ))
        measure "$n" start_and_wait_all "$orchestration" "$n" "$name-t"
    fi
    local throughput
    throughput=$(awk -v n="$n" -v s="$m_seconds" 'BEGIN {printf "%.0f", n / s}')
    [ "$m_capped" -eq 1 ] && throughput="capped at ${BENCH_CAP}s"
    record "$name" "$clients" "$n" "$throughput" \
        "" "" "" "$m_txn" "$m_wal" "$m_cpu"
    measure "$n_lat" "${PSQL[@]}" -c "$(role_for "$orchestration")" \
        -c "CALL bench_latency('$orchestration', $n_lat, '$name-l', $raise)"
    read -r p50 p95 p99 < <(percentiles "$name-l")
    [ "$m_capped" -eq 1 ] && p50="capped at ${BENCH_CAP}s (${p50:-no} p50)"
    record "$name (one at a time)" 1 "$n_lat" "" "$p50" "$p95" "$p99" "$m_txn" "$m_wal" "$m_cpu"
}

long_chain() {
    local turns=1000
    measure 1 "${PSQL[@]}" -c "CALL bench_throughput('BenchLong', 1, 'long')"
    # Time per turn from the history's own timestamps, early against late in the chain.
    local early late
    read -r early late < <("${PSQL[@]}" -F ' ' -c "
        WITH done AS (
            SELECT (event->>'source_event_id')::bigint AS source,
                   (event->>'timestamp_ms')::bigint AS ts,
                   row_number() OVER (ORDER BY event_id) AS k
              FROM duroxide.read_history('long1') WHERE event_type = 'ActivityCompleted'),
        gaps AS (SELECT k, ts - lag(ts) OVER (ORDER BY k) AS ms FROM done)
        SELECT round(avg(ms) FILTER (WHERE k BETWEEN 2 AND 101), 3),
               round(avg(ms) FILTER (WHERE k > $turns - 100), 3) FROM gaps")
    record "long: turns 1-100" 1 "$turns" "" "$early" "" "" "" "" ""
    record "long: turns 901-1000" 1 "$turns" \
        "$(awk -v s="$m_seconds" -v n="$turns" 'BEGIN {printf "%.0f", n / s}') turns" \
        "$late" "" "" "$m_txn" "$m_wal" "$m_cpu"
}

"${PSQL[@]}" -f "$TOP/bench/setup.sql" >/dev/null
n=$BENCH_N
IFS=',' read -r -a selected <<<"$BENCH_WORKLOADS"
for w in "${selected[@]}"; do
    case "$w" in
    baseline) baseline ;;
    seq3) workflow seq3 BenchSeq3 "$n" 200 ;;
    fan10) workflow fan10 BenchFan10 $((n / 4)) 100 ;;
    sql3) workflow sql3 BenchSql3 "$n" 200 ;;
    sqlwf3) workflow sqlwf3 wf:BenchSqlWf3 "$n" 200 ;;
    sqlfan10) workflow sqlfan10 wf:BenchSqlFan10 $((n / 4)) 100 ;;
    timer) workflow timer BenchTimer "$n" 200 ;;
    event) workflow event BenchEvent "$n" 200 true ;;
    sub10) workflow sub10 BenchSub10 $((n / 4)) 100 ;;
    long) long_chain ;;
    *) echo "bench: workload '$w' is not available yet" >&2 ;;
    esac
done

echo
printf '%s\n' "${table[@]}"
echo
echo "CSV: $BENCH_CSV"
