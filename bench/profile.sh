#!/usr/bin/env bash
# CPU profiles (perf) of the duroxide processes under benchmark workloads. Not a test: it prints
# a report, it never passes or fails (exit 3: perf is missing or not permitted here).
#
# Builds and installs the extension (as bench/run.sh does), starts a throwaway server
# (scripts/pg-cluster.sh, with pg_stat_statements), and for each workload: warms the
# workers up, then runs N instances with bench_throughput while `perf record` samples the
# dispatchers, the activity workers and the client backend that starts and waits for them. It
# prints, per workload and process role: CPU per workflow, the share by DSO, the top symbols
# (self), the inclusive cost centres (executor start-up, SPI, commit and WAL flush, engine,
# JSON codec, wake-ups, libcrypto, ...) and the store operations they fall under; then runs the
# workload again, unprofiled, with pg_stat_statements.track = all, and prints the statements
# per workflow. The server is stopped and every perf process ended whatever happens.
#
#   bench/profile.sh [--workloads seq3,fan10,sub10] [--n N] [--out DIR] [--freq HZ]
#                    [--call-graph dwarf|fp] [--activity-workers W] [--no-build]
#                    [--conf 'name = value']...
#   bench/profile.sh --check     exit 0 when perf can record here, 3 (with the reason) when not
#
#   --workloads   any of seq3, fan10, sub10, sql3, sqlwf3, sqlfan10, timer (default seq3,fan10,sub10)
#   --n           instances per workload (default 2000; fan10, sqlfan10 and sub10 run n/4, as in
#                 bench/run.sh)
#   --out         where the report (report.txt), perf data and folded stacks go
#                 (default $TMPDIR/duroxide-profile-<date>); the folded stacks
#                 (<workload>.<role>.folded) are the input of flamegraph.pl
#   --freq        samples per second per process (default 499)
#   --call-graph  dwarf (default: duroxide.so is built without frame pointers, so fp stacks stop
#                 at its first frame) or fp (cheaper, shallower)
#   --no-build    use the extension and the benchmark plugin installed as they are (the TAP
#                 self-check, test/tap/036_profile_script.pl, does)
#
# The last lines of the report are two summary tables, the ones to compare between runs. The
# run inside the server is bench/profile_run.sh; the report per workload, bench/profile_report.py.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"

if [ "${1:-}" = --inside ]; then
    exec bash "$TOP/bench/profile_run.sh"
fi

workloads="seq3,fan10,sub10"
n=2000
out="${TMPDIR:-/tmp}/duroxide-profile-$(date +%Y%m%d-%H%M%S)"
freq=499
call_graph=dwarf
activity_workers=2
build=1
check_only=0
extra_conf=()
while [ $# -gt 0 ]; do
    case "$1" in
    --workloads) workloads="$2"; shift 2 ;;
    --n) n="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --freq) freq="$2"; shift 2 ;;
    --call-graph) call_graph="$2"; shift 2 ;;
    --activity-workers) activity_workers="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --check) check_only=1; shift ;;
    --conf) extra_conf+=(--conf "$2"); shift 2 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "profile: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$call_graph" in
dwarf) call_graph="dwarf,16384" ;;
fp) ;;
*) echo "profile: --call-graph is dwarf or fp" >&2; exit 2 ;;
esac

# perf must be installed and allowed to sample this user's processes (perf_event_paranoid <= 2
# for one's own processes; a container's seccomp profile may forbid perf_event_open entirely).
if ! command -v perf >/dev/null 2>&1; then
    echo "profile: perf is not installed (Debian: linux-perf; scripts/install-deps.sh installs it)" >&2
    exit 3
fi
[ "$check_only" -eq 0 ] || out="$(mktemp -d "${TMPDIR:-/tmp}/duroxide-profile-check.XXXXXX")"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# Kernel samples need root (or perf_event_paranoid <= 1); otherwise user space only.
event=cpu-clock
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2)
[ "$(id -u)" -eq 0 ] || [ "$paranoid" -le 1 ] || event=cpu-clock:u
if ! probe=$(perf record -q -e "$event" -F "$freq" --call-graph "$call_graph" -o "$out/probe.data" -- true 2>&1); then
    echo "profile: perf cannot record here (perf_event_paranoid=$paranoid; in a container," \
         "perf_event_open may be forbidden): $(echo "$probe" | head -n 3 | tr '\n' ' ')" >&2
    rm -f "$out/probe.data"
    [ "$check_only" -eq 0 ] || rmdir "$out"
    exit 3
fi
rm -f "$out/probe.data"
if [ "$check_only" -eq 1 ]; then
    rmdir "$out"
    echo "profile: perf can record here (event $event)"
    exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "profile: python3 is needed for the report" >&2; exit 1; }

if [ "$build" -eq 1 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "profile: building and installing the extension (log: ${TMPDIR:-/tmp}/duroxide-profile-build.log)"
    { make -j2 && $SUDO make install && make -C bench/plugin install; } \
        >"${TMPDIR:-/tmp}/duroxide-profile-build.log" 2>&1 ||
        { tail -n 30 "${TMPDIR:-/tmp}/duroxide-profile-build.log"; exit 1; }
fi
export PROF_WORKLOADS="$workloads" PROF_N="$n" PROF_OUT="$out" PROF_FREQ="$freq" \
       PROF_CALL_GRAPH="$call_graph" PROF_EVENT="$event" PROF_ACTIVITY_WORKERS="$activity_workers"
echo "profile: report in $out/report.txt"
# The run gets a process group of its own, so that INT or TERM sent to this script alone reaches
# every process of the run: the runner ends perf and its client session, pg-cluster.sh stops and
# deletes the server.
setsid scripts/pg-cluster.sh run \
    --conf "shared_preload_libraries = 'duroxide,pg_stat_statements'" \
    --conf "pg_stat_statements.track = none" \
    --conf "pg_stat_statements.max = 2000" \
    --conf "shared_buffers = '512MB'" \
    --conf "max_wal_size = '4GB'" \
    --conf "duroxide.activity_workers = $activity_workers" \
    --conf "duroxide.resident_cache_size = 1000" \
    ${extra_conf[@]+"${extra_conf[@]}"} \
    -- bash "$TOP/bench/profile.sh" --inside &
run_pid=$!
stop_run() {
    trap - INT TERM
    echo "profile: interrupted; stopping the run" >&2
    kill -TERM -- "-$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
    exit 130
}
trap stop_run INT TERM
wait "$run_pid"
