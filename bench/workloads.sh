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

# fanwide NAME ORCHESTRATION WIDTH: instances of one wide fan-out (one turn schedules WIDTH
# activities, joins collect them), one at a time; the p50 is the time of one instance, start
# to completion (bench_wide: short waits, so that no snapshot is held through the fan-out).
# BENCH_FAN_RUNS instances (default 3).
fanwide() {
    local name="$1" orchestration="$2" width="$3" runs="${BENCH_FAN_RUNS:-3}"
    measure "$runs" "${PSQL[@]}" -c "CALL bench_wide('$orchestration', $runs, '$name-l')"
    read -r p50 p95 p99 < <(percentiles "$name-l")
    [ "$m_capped" -eq 1 ] && p50="capped at ${BENCH_CAP}s (${p50:-no} p50)"
    record "$name (one at a time)" 1 "$runs" \
        "$(awk -v s="$m_seconds" -v n="$runs" -v w="$width" 'BEGIN {printf "%.0f activities", n * w / s}')" \
        "$p50" "$p95" "$p99" "$m_txn" "$m_wal" "$m_cpu"
}

# Memory of the duroxide processes (launcher, dispatchers, activity workers): "rss pss private"
# in MiB, summed over the processes, from /proc/<pid>/smaps_rollup. RSS counts the shared
# buffers a process has touched; PSS shares them out among the processes mapping them;
# private (Private_Clean + Private_Dirty) is what the process alone holds (its heap, caches).
duroxide_memory() {
    local pids pid rss=0 pss=0 priv=0 r p c d
    pids=$("${PSQL[@]}" -c "SELECT pid FROM pg_stat_activity WHERE backend_type LIKE 'duroxide%'")
    for pid in $pids; do
        read -r r p c d < <(awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_Clean:/ {c=$2}
            /^Private_Dirty:/ {d=$2} END {print r+0, p+0, c+0, d+0}' "/proc/$pid/smaps_rollup" 2>/dev/null \
            || echo 0 0 0 0)
        rss=$((rss + r)); pss=$((pss + p)); priv=$((priv + c + d))
    done
    echo "$((rss / 1024)) $((pss / 1024)) $((priv / 1024))"
}

# soak: BENCH_SOAK_N seq3 instances in rounds of BENCH_SOAK_N / BENCH_SOAK_ROUNDS, back to back
# on one server with its settings as they are (no autovacuum tuning here: the extension's table
# storage parameters are what is measured). After each round: the round's throughput, the dead
# tuples and sizes of the tables that churn or grow, the database size and the memory of the
# duroxide processes. Last: the last quarter's throughput against the first quarter's.
soak() {
    local total="$BENCH_SOAK_N" rounds="$BENCH_SOAK_ROUNDS" per r cpu0 lsn c0
    per=$(( total / rounds / BENCH_CONCURRENCY * BENCH_CONCURRENCY ))
    [ "$per" -ge "$BENCH_CONCURRENCY" ] || per=$BENCH_CONCURRENCY
    total=$(( per * rounds ))
    local stats_sql="SELECT string_agg(format('%s %s %s %s', relname, n_dead_tup,
            pg_total_relation_size(relid) / 1024, autovacuum_count), ' ' ORDER BY relname)
        FROM pg_stat_user_tables WHERE schemaname = 'duroxide'
         AND relname IN ('orchestrator_queue', 'worker_queue', 'instance_locks', 'history',
                         'instances', 'executions')"
    echo
    echo "soak: $total seq3 instances in $rounds rounds of $per, clients=$BENCH_CONCURRENCY," \
         "autovacuum_naptime=$("${PSQL[@]}" -c 'SHOW autovacuum_naptime')"
    echo "(dead = n_dead_tup; kB = pg_total_relation_size; av = autovacuum runs so far;" \
         "memory MiB of the duroxide processes: rss / pss / private)"
    echo "| round | done | wf/s | orchestrator_queue dead/kB/av | worker_queue dead/kB/av | instance_locks dead/kB/av | history kB | instances+executions kB | db MB | rss / pss / private MiB |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    local -a rates=()
    lsn=$(wal_lsn); cpu0=$(cpu_busy_ticks); c0=$(commits)
    local t0 t1 secs rate busy=0
    for r in $(seq 1 "$rounds"); do
        t0=$(date +%s.%N)
        PGOPTIONS="-c statement_timeout=${BENCH_CAP}s" start_and_wait_all BenchSeq3 "$per" "soak$r-" \
            >/dev/null 2>&1 || { echo "soak: round $r failed or was capped at ${BENCH_CAP}s"; break; }
        t1=$(date +%s.%N)
        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
        rate=$(awk -v n="$per" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
        rates+=("$rate")
        busy=$(awk -v a="$busy" -v b="$secs" 'BEGIN {print a + b}')
        # The workers flush their table statistics at most once a second.
        sleep 1
        local st mem db
        st=$("${PSQL[@]}" -c "$stats_sql")
        mem=$(duroxide_memory)
        db=$("${PSQL[@]}" -c "SELECT pg_database_size(current_database()) / 1048576")
        # st: "executions D K A history D K A instance_locks ... instances ... orchestrator_queue ... worker_queue ..."
        echo "$st" | awk -v r="$r" -v done_n="$((r * per))" -v rate="$rate" -v db="$db" -v mem="$mem" '{
            for (i = 1; i <= NF; i += 4) { d[$i] = $(i+1); k[$i] = $(i+2); a[$i] = $(i+3) }
            split(mem, m, " ")
            printf "| %d | %d | %d | %d / %d / %d | %d / %d / %d | %d / %d / %d | %d | %d | %d | %d / %d / %d |\n",
                r, done_n, rate,
                d["orchestrator_queue"], k["orchestrator_queue"], a["orchestrator_queue"],
                d["worker_queue"], k["worker_queue"], a["worker_queue"],
                d["instance_locks"], k["instance_locks"], a["instance_locks"],
                k["history"], k["instances"] + k["executions"], db, m[1], m[2], m[3] }'
    done
    local done_rounds=${#rates[@]}
    [ "$done_rounds" -gt 0 ] || return 0
    m_seconds=$busy # the rounds only, not the statistics taken between them
    local n_done=$(( done_rounds * per ))
    m_txn=$(awk -v a="$c0" -v b="$(commits)" -v n="$n_done" 'BEGIN {printf "%.1f", (b - a) / n}')
    m_wal=$(( $(wal_bytes_since "$lsn") / n_done ))
    m_cpu=$(awk -v t="$(( $(cpu_busy_ticks) - cpu0 ))" -v n="$n_done" -v hz="$ticks_per_second" \
        'BEGIN {printf "%.3f", t * 1000 / hz / n}')
    # Quarters by rounds (a quarter is at least one round); a quarter's rate is its rounds' mean.
    local summary
    summary=$(printf '%s\n' "${rates[@]}" | awk '{ r[NR] = $1 } END {
        q = int(NR / 4); if (q < 1) q = 1
        for (i = 1; i <= q; i++) { f += r[i]; l += r[NR - q + i] }
        f /= q; l /= q
        printf "%.0f %.0f %.2f", f, l, (f > 0 ? l / f : 0) }')
    local first last ratio
    read -r first last ratio <<<"$summary"
    echo
    echo "soak summary: first quarter $first wf/s, last quarter $last wf/s, last/first $ratio" \
         "($n_done instances, $(awk -v s="$m_seconds" 'BEGIN {printf "%.0f", s}') s," \
         "memory rss/pss/private MiB after: $(duroxide_memory))"
    record "soak (last/first quarter $ratio)" "$BENCH_CONCURRENCY" "$n_done" \
        "$(awk -v n="$n_done" -v s="$m_seconds" 'BEGIN {printf "%.0f", n / s}')" \
        "" "" "" "$m_txn" "$m_wal" "$m_cpu"
}

"${PSQL[@]}" -f "$TOP/bench/setup.sql" >/dev/null
if [ "${BENCH_STORAGE:-shipped}" = reset ]; then
    # The storage parameters the tables had before issue 21 (fillfactor 70 on the two queues
    # and session_locks, nothing else), to measure what the shipped ones do.
    for t in instances executions orchestrator_queue worker_queue instance_locks session_locks; do
        case "$t" in orchestrator_queue|worker_queue|session_locks) ff="" ;; *) ff="fillfactor," ;; esac
        "${PSQL[@]}" -c "ALTER TABLE duroxide.$t RESET ($ff
            autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
            autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold,
            autovacuum_vacuum_cost_delay)"
    done
fi
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
    soak) soak ;;
    fan1000) fanwide fan1000 BenchFan1000 1000 ;;
    fan5000) fanwide fan5000 BenchFan5000 5000 ;;
    *) echo "bench: workload '$w' is not available yet" >&2 ;;
    esac
done

echo
printf '%s\n' "${table[@]}"
echo
echo "CSV: $BENCH_CSV"
