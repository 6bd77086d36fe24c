#!/usr/bin/env bash
# duroxide benchmark driver. Not a test: it never passes or fails, it prints figures.
#
# Builds and installs the extension, starts a throwaway server (scripts/pg-cluster.sh), runs
# the pgbench queue baseline and the selected workloads, prints a markdown table, writes a CSV,
# and stops the server.
#
#   bench/run.sh [--workloads baseline,seq3,fan10,sql3,sqlwf3,sqlfan10,timer,event,sub10,long,soak,
#                            fan1000,fan5000]
#                [--n N] [--soak-rounds R]
#                [--concurrency C] [--activity-workers W] [--sync on|off] [--resident on|off]
#                [--duration SECONDS] [--cap SECONDS] [--csv FILE] [--storage shipped|reset]
#                [--conf 'name = value']...
#
#   --n            instances per throughput run (fan10, sqlfan10, sub10: n/4); latency runs use
#                  200 (100); soak: the total (default 100000 when --n is not given)
#   --soak-rounds  rounds the soak's instances are split into (default 20)
#   --concurrency  client sessions that start and wait for the throughput instances (default 1)
#   --resident     keep waiting executions in memory between turns (duroxide.resident_cache_size)
#   --duration     seconds of each pgbench baseline run
#   --cap          longest a workload step may run before it is cut short (default 300)
#   --conf         a server setting for the throwaway server (repeatable), e.g.
#                  --conf 'autovacuum_naptime = 10s'
#   --storage      reset: the duroxide tables get the storage parameters they had before
#                  issue 21 (fillfactor 70 on the queues, no per-table autovacuum settings)
#                  instead of the shipped ones, to measure what those do
#
# Columns: throughput (workflows or transactions per second), latency percentiles (ms, start to
# terminal status seen by the client; for event, raise to terminal status), committed
# transactions, WAL bytes and CPU milliseconds per workflow (CPU is the whole machine's busy
# time over the run divided by workflows: client, server and workers).
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"

workloads="baseline,seq3,fan10,sql3,sqlwf3,sqlfan10,timer,event,sub10,long"
n=2000
n_given=""
extra_conf=()
storage=shipped
soak_rounds=20
concurrency=1
activity_workers=2
sync=on
resident=on
duration=10
cap=300
csv="$TOP/build/bench/results.csv"
while [ $# -gt 0 ]; do
    case "$1" in
    --workloads) workloads="$2"; shift 2 ;;
    --n) n="$2"; n_given=1; shift 2 ;;
    --soak-rounds) soak_rounds="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --activity-workers) activity_workers="$2"; shift 2 ;;
    --sync) sync="$2"; shift 2 ;;
    --resident) resident="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --cap) cap="$2"; shift 2 ;;
    --csv) csv="$2"; shift 2 ;;
    --storage) storage="$2"; shift 2 ;;
    --conf) extra_conf+=(--conf "$2"); shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
done
export BENCH_WORKLOADS="$workloads" BENCH_N="$n" BENCH_CONCURRENCY="$concurrency" \
       BENCH_DURATION="$duration" BENCH_CSV="$csv" BENCH_CAP="$cap" \
       BENCH_SOAK_N="${n_given:+$n}" BENCH_SOAK_ROUNDS="$soak_rounds" \
       BENCH_STORAGE="$storage"
: "${BENCH_SOAK_N:=100000}"
export BENCH_SOAK_N

scripts/install-deps.sh >/dev/null
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
{ make -j2 && $SUDO make install && make -C bench/plugin install; } \
    >${TMPDIR:-/tmp}/duroxide-bench-build.log 2>&1 || { tail -n 30 ${TMPDIR:-/tmp}/duroxide-bench-build.log; exit 1; }
mkdir -p "$(dirname "$csv")"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "settings: synchronous_commit=$sync activity_workers=$activity_workers clients=$concurrency resident=$resident storage=$storage${extra_conf[*]+ ${extra_conf[*]}}"
resident_size=1000; [ "$resident" = off ] && resident_size=0
scripts/pg-cluster.sh run \
    --conf "synchronous_commit = $sync" \
    --conf "shared_buffers = '512MB'" \
    --conf "max_wal_size = '4GB'" \
    --conf "duroxide.activity_workers = $activity_workers" \
    --conf "duroxide.resident_cache_size = $resident_size" \
    ${extra_conf[@]+"${extra_conf[@]}"} \
    -- bash "$TOP/bench/workloads.sh"
