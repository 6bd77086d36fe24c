#!/usr/bin/env bash
# The part of bench/profile.sh that runs inside `scripts/pg-cluster.sh run` (PGHOST/PGPORT set),
# with PROF_* from profile.sh. Writes $PROF_OUT/report.txt and prints it at the end; progress
# goes to stderr. Every perf and psql process it starts is ended on exit.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
report="$PROF_OUT/report.txt"
summary="$PROF_OUT/summary.txt"
: >"$report"
: >"$summary"
runs=()
perf_pid=""
client_open=0

cleanup() {
    if [ -n "$perf_pid" ] && kill -0 "$perf_pid" 2>/dev/null; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
    fi
    if [ "$client_open" -eq 1 ] && [ -n "${CLIENT_PID:-}" ]; then
        kill "$CLIENT_PID" 2>/dev/null || true
        wait "$CLIENT_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

progress() { echo "profile: $*" >&2; }
say() { echo "$*" >>"$report"; }

proc_cpu_ticks() { # pid -> "utime stime" (clock ticks)
    awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat" 2>/dev/null || echo "0 0"
}
commits() { "${PSQL[@]}" -c "SELECT sum(xact_commit) FROM pg_stat_database"; }
hz=$(getconf CLK_TCK)
ms_per_wf() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN {printf "%.3f", t * 1000 / hz / n}'; }

orchestration_of() {
    case "$1" in
    seq3) echo BenchSeq3 ;; fan10) echo BenchFan10 ;; sub10) echo BenchSub10 ;;
    sql3) echo BenchSql3 ;; sqlwf3) echo wf:BenchSqlWf3 ;; sqlfan10) echo wf:BenchSqlFan10 ;;
    timer) echo BenchTimer ;;
    *) return 1 ;;
    esac
}
role_sql() { case "$1" in wf:*) echo "SET ROLE bench_wf;" ;; *) echo "" ;; esac; }

"${PSQL[@]}" -f "$TOP/bench/setup.sql" >/dev/null
"${PSQL[@]}" -c "CREATE EXTENSION pg_stat_statements"

commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && ! git -C "$TOP" diff --quiet HEAD -- src sql include 2>/dev/null; then
    commit="$commit (with uncommitted changes in src, sql or include)"
fi
say "duroxide profile, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
say "machine: $(nproc) cores, $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "perf: event $PROF_EVENT, $PROF_FREQ Hz per process, call graph $PROF_CALL_GRAPH;" \
    "activity workers $PROF_ACTIVITY_WORKERS"
say "Units: us/wf = microseconds of CPU (perf's cpu-clock periods) per workflow of the run."
say "A share is of the role's sampled CPU. Off-CPU time (waiting for a WAL flush's fsync, for a"
say "latch) is not sampled: see the wall time and the commits per workflow beside it."

# pg_stat_statements tracks nothing while perf samples (its hooks would be in the profile); a
# second, unprofiled run of the same workload counts the statements with track = all.
set_track() { # none|all: the workers take it at their next latch wait (SIGHUP)
    "${PSQL[@]}" -c "ALTER SYSTEM SET pg_stat_statements.track = '$1'" -c "SELECT pg_reload_conf()" >/dev/null
}
# The statements of the store, by execution time, per workflow. Statements nested in others
# (a trigger's, a SQL function's) are marked: their time is also in their caller's.
statements_pass() { # workload orchestration count
    local w="$1" orch="$2" count="$3" filter waits
    waits="bench_(throughput|finished_within|start)|wait_for_(orchestration|status_change)"
    waits="$waits|_await_status_change|pg_stat_statements|pg_backend_pid|pg_reload_conf|ALTER SYSTEM"
    filter="query !~* '$waits'"
    progress "$w: counting statements (pg_stat_statements, a second run of $count, not profiled)"
    set_track all
    # Wait until the dispatchers count their statements again (they reload at a latch wait).
    local tracked=0
    for i in $(seq 1 20); do
        "${PSQL[@]}" -c "$(role_sql "$orch") CALL bench_throughput('$orch', 2, 'track-$w-$i-')" >/dev/null
        tracked=$("${PSQL[@]}" -c "SELECT count(*) FROM pg_stat_statements
                                    WHERE query ~ 'duroxide\.(orchestrator_queue|history)' AND calls > 0")
        [ "$tracked" -gt 0 ] && break
    done
    "${PSQL[@]}" -c "SELECT pg_stat_statements_reset()" >/dev/null
    "${PSQL[@]}" -c "$(role_sql "$orch") CALL bench_throughput('$orch', $count, 'stmt-$w-')" >/dev/null
    say "--- statements (pg_stat_statements, track = all, a second run of $count not profiled; all"
    say "    processes; the client's procedure and its waits left out; 'nested' = called from another"
    say "    statement, whose time includes it), by execution + planning time:"
    "${PSQL[@]}" -F '|' -c "
        SELECT to_char(calls::numeric / $count, 'FM99990.00'),
               to_char((total_exec_time + total_plan_time) * 1000 / $count, 'FM9999990.0'),
               to_char(wal_bytes / $count, 'FM9999990'),
               CASE WHEN toplevel THEN '' ELSE 'nested ' END
               || left(regexp_replace(query, '\s+', ' ', 'g'), 140)
          FROM pg_stat_statements
         WHERE $filter AND calls > 0
         ORDER BY total_exec_time + total_plan_time DESC LIMIT 15" |
        awk -F'|' 'BEGIN { printf "    %8s %10s %8s  %s\n", "calls/wf", "us/wf", "WAL B/wf", "statement" }
                   { printf "    %8s %10s %8s  %s\n", $1, $2, $3, $4 }' >>"$report"
    local top nested wal
    read -r top nested wal < <("${PSQL[@]}" -F ' ' -c "
        SELECT to_char(sum(calls) FILTER (WHERE toplevel)::numeric / $count, 'FM99990.0'),
               to_char(coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0)::numeric / $count, 'FM99990.0'),
               to_char(sum(wal_bytes) FILTER (WHERE toplevel) / $count, 'FM9999990')
          FROM pg_stat_statements WHERE $filter")
    say "    top-level statements per workflow: $top, nested: $nested, WAL B/wf by statements: $wal"
    statements_per_wf+=("$w|$top + $nested nested")
    set_track none
}

statements_per_wf=()
IFS=',' read -r -a selected <<<"$PROF_WORKLOADS"
for w in "${selected[@]}"; do
    orch=$(orchestration_of "$w") || {
        progress "workload '$w' is not profiled (seq3, fan10, sub10, sql3, sqlwf3, sqlfan10, timer)"
        continue
    }
    count=$PROF_N
    case "$w" in fan10|sqlfan10|sub10) count=$(( PROF_N / 4 )) ;; esac
    [ "$count" -ge 1 ] || count=1
    warm=$(( count < 50 ? count : 50 ))
    progress "$w: warm-up ($warm instances)"
    "${PSQL[@]}" -c "$(role_sql "$orch") CALL bench_throughput('$orch', $warm, 'warm-$w-')" >/dev/null

    # The client: one session that starts the instances and waits for them (bench_throughput).
    coproc CLIENT { "${PSQL[@]}" 2>&1; }
    client_open=1
    echo "SELECT pg_backend_pid();" >&"${CLIENT[1]}"
    read -r -t 30 -u "${CLIENT[0]}" client_pid || { progress "$w: the client session did not answer"; exit 1; }
    roles_file="$PROF_OUT/$w.roles"
    "${PSQL[@]}" -F ' ' -c "SELECT pid, replace(backend_type, 'duroxide ', '') FROM pg_stat_activity
                             WHERE backend_type LIKE 'duroxide %' ORDER BY backend_type, pid" >"$roles_file"
    echo "$client_pid client backend" >>"$roles_file"
    pids=$(awk '{print $1}' "$roles_file" | paste -sd, -)
    declare -A ticks0=()
    for pid in ${pids//,/ }; do ticks0[$pid]=$(proc_cpu_ticks "$pid"); done

    c0=$(commits); lsn=$("${PSQL[@]}" -c "SELECT pg_current_wal_lsn()")
    data="$PROF_OUT/$w.perf.data"
    rm -f "$data"
    progress "$w: recording $count instances (pids $pids)"
    perf record -q -e "$PROF_EVENT" -F "$PROF_FREQ" --call-graph "$PROF_CALL_GRAPH" -p "$pids" \
        -o "$data" 2>"$PROF_OUT/$w.perf.log" &
    perf_pid=$!
    # perf has attached once it has written its file's header.
    for _ in $(seq 1 100); do [ -s "$data" ] && break; kill -0 "$perf_pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$perf_pid" 2>/dev/null || { progress "$w: perf record failed: $(cat "$PROF_OUT/$w.perf.log")"; exit 1; }
    t0=$(date +%s.%N)
    echo "$(role_sql "$orch") CALL bench_throughput('$orch', $count, 'prof-$w-');" >&"${CLIENT[1]}"
    printf '%s\n' '\echo profile-run-done' >&"${CLIENT[1]}"
    while :; do
        read -r -t 3600 -u "${CLIENT[0]}" line || { progress "$w: the run did not finish"; exit 1; }
        [ "$line" = profile-run-done ] && break
        case "$line" in *ERROR*) progress "$w: $line"; exit 1 ;; esac
    done
    t1=$(date +%s.%N)
    kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=""
    declare -A ticks1=()
    for pid in ${pids//,/ }; do ticks1[$pid]=$(proc_cpu_ticks "$pid"); done
    echo '\q' >&"${CLIENT[1]}"; wait "$CLIENT_PID" 2>/dev/null || true; client_open=0
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
    txn=$(awk -v a="$c0" -v b="$(commits)" -v n="$count" 'BEGIN {printf "%.1f", (b - a) / n}')
    wal=$("${PSQL[@]}" -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn')::bigint / $count")

    progress "$w: analysing ($(du -h "$data" | cut -f1) of samples)"
    say ""
    rate=$(awk -v n="$count" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
    say "=== $w ($orch): $count instances in $secs s ($rate wf/s), $txn commits/wf (all processes)," \
        "$wal WAL B/wf, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    say "CPU per role from /proc (user + system ms per workflow; system time is the kernel's," \
        "sampled by perf only as root):"
    while read -r pid role; do
        read -r u0 s0 <<<"${ticks0[$pid]}"
        read -r u1 s1 <<<"${ticks1[$pid]}"
        say "    $(printf '%-18s' "$role") pid $(printf '%-7s' "$pid")" \
            "user $(ms_per_wf $((u1 - u0)) "$count") ms/wf, system $(ms_per_wf $((s1 - s0)) "$count") ms/wf"
    done <"$roles_file"
    unset ticks0 ticks1
    perf script -i "$data" -F pid,period,ip,sym,dso --no-inline 2>/dev/null >"$PROF_OUT/$w.perf.txt"
    python3 "$TOP/bench/profile_report.py" "$PROF_OUT/$w.perf.txt" "$roles_file" "$count" \
        "$PROF_OUT/$w" "$summary" "$w" >>"$report"
    runs+=("$w|$count|$secs|$txn|$wal")
    rm -f "$PROF_OUT/$w.perf.txt"

    statements_pass "$w" "$orch" "$count"
    progress "$w: done"
done

say ""
say "=== summary (compare with another run's: CPU is per workflow, the centres are shares of the"
say "    role's CPU, inclusive; the top symbol is self time)"
say "| workload | wf/s | commits/wf | WAL B/wf | statements/wf |"
say "|---|---|---|---|---|"
for r in "${runs[@]}"; do
    IFS='|' read -r w count secs txn wal <<<"$r"
    st=""
    for x in "${statements_per_wf[@]}"; do [ "${x%%|*}" = "$w" ] && st="${x#*|}"; done
    say "| $w | $(awk -v n="$count" -v s="$secs" 'BEGIN {printf "%.0f", n / s}') | $txn | $wal | $st |"
done
say ""
say "| workload | role | CPU us/wf | SPI | ExecStart | commit | notify trg | codec | crypto | engine | top symbol (self) |"
say "|---|---|---|---|---|---|---|---|---|---|---|"
awk -F'|' '{ out = "|"; for (i = 1; i <= NF; i++) out = out " " $i " |"; print out }' "$summary" >>"$report"
say ""
say "Files: $PROF_OUT (<workload>.perf.data for perf report -i; <workload>.<role>.folded for flamegraph.pl)"
cat "$report"
