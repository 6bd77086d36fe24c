#!/usr/bin/env bash
# Remote activity workers (duroxide-worker) benchmark. Not a test: it prints figures.
#
#   bench/remote_workers.sh [--n N] [--rounds R] [--activity-workers W] [--slots S]
#
# Builds and installs the extension and duroxide-worker, builds the test plugin
# test/plugins/remote, starts a throwaway server (scripts/pg-cluster.sh) and measures:
#   1. CPU-bound throughput: N workflows of 10 RemoteSpin activities (R xorshift rounds each,
#      tag "cpu") with the W in-server activity workers (filter 'default,cpu') plus 0, 1, 2 and 3
#      remote workers of S slots each, on the same machine (so on a small machine the remote
#      workers compete with the server for the same cores: read the table with nproc in mind).
#   2. Per-activity overhead, remote beside in-server in the same run: N workflows of 10 empty
#      activities (RemoteSpin of 0 rounds) run in-server only, then remote only (one worker of S
#      slots, in-server filter 'default'); and 200 one-activity workflows one at a time (median
#      start-to-completion latency) both ways.
# Defaults: N=100, R=20000000 (about 20 ms of CPU), W=2, S=2.
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"

if [ "${1:-}" = "--inside" ]; then
    shift
    n="$1"; rounds="$2"; slots="$3"
    plugin="${DUROXIDE_PLUGIN_DIR:-$TOP/build/plugins}/duroxide_remote_test.so"
    psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION duroxide;
SELECT duroxide.register_plugin('duroxide_remote_test');
CREATE SEQUENCE remote_attempts;
CREATE TABLE remote_effects (instance_id text, activity_id bigint, worker text);
CREATE ROLE bench_worker LOGIN IN ROLE duroxide_worker;
SQL
    conn="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=bench_worker"
    pids=()
    start_workers() {
        for i in $(seq 1 "$1"); do
            duroxide-worker --connection "$conn" --worker-id "bench$i" --tags tags:cpu \
                --plugin "$plugin" --concurrency "$slots" 2>>"${TMPDIR:-/tmp}/duroxide-bench-workers.log" &
            pids+=($!)
        done
        local want=$(($1 * slots))
        for _ in $(seq 1 200); do
            [ "$(psql -XAtqc "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'duroxide-worker %'")" = "$want" ] && return
            sleep 0.05
        done
        echo "bench: the remote workers did not attach" >&2; exit 1
    }
    stop_workers() {
        [ ${#pids[@]} -eq 0 ] || { kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; }
        pids=()
    }
    in_server_filter() {
        psql -XAtqc "ALTER SYSTEM SET duroxide.worker_tag_filter = '$1'" -c "SELECT pg_reload_conf()" >/dev/null
        for _ in $(seq 1 200); do
            [ "$(psql -XAtqc "SELECT bool_and(tag_filter = '$1') FROM duroxide.runtime_status WHERE role = 'activity worker'")" = t ] && return
            sleep 0.05
        done
    }
    # Starts `count` workflows of `input` and waits for all; prints the seconds taken.
    run_batch() {
        local prefix="$1" count="$2" input="$3" start end
        start=$(date +%s.%N)
        seq 1 "$count" | sed "s/.*/SELECT duroxide.start_orchestration('$prefix-&', 'RemoteFan', '$input');/" | psql -X -q >/dev/null
        local bad
        bad=$(seq 1 "$count" | sed "s/.*/SELECT status FROM duroxide.wait_for_orchestration('$prefix-&', '600 s');/" \
              | psql -XAtq | grep -vc '^Completed$' || true)
        [ "$bad" = 0 ] || { echo "bench: $bad $prefix workflows did not complete" >&2; exit 1; }
        end=$(date +%s.%N)
        echo "$end - $start" | bc -l
    }
    # Median start-to-completion latency (ms) of `count` one-activity workflows, one at a time.
    run_latency() {
        local prefix="$1" count="$2" input="$3"
        for i in $(seq 1 "$count"); do
            psql -XAtq <<SQL
SELECT duroxide.start_orchestration('$prefix-$i', 'RemoteFan', '$input') \gset
SELECT extract(epoch FROM (s.updated_at - s.created_at)) * 1000
  FROM duroxide.wait_for_orchestration('$prefix-$i', '60 s') s;
SQL
        done | sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }'
    }
    echo "| remote workers ($slots slots each) | in-server workers | workflows x 10 | seconds | activities/s |"
    echo "|---|---|---|---|---|"
    in_server_filter 'default,cpu'
    for remote in 0 1 2 3; do
        start_workers "$remote"
        secs=$(run_batch "cpu$remote" "$n" "10|RemoteSpin|$rounds|cpu")
        printf '| %d | %s | %d | %.2f | %.1f |\n' "$remote" "$(psql -XAtqc "SELECT count(*) FROM duroxide.runtime_status WHERE role = 'activity worker'")" \
            "$n" "$secs" "$(echo "$n * 10 / $secs" | bc -l)"
        stop_workers
    done
    echo
    echo "| path | empty activities/s (${n} x 10) | ms per activity | one-activity workflow p50 ms |"
    echo "|---|---|---|---|"
    secs=$(run_batch "in" "$n" "10|RemoteSpin|0|cpu")
    lat=$(run_latency "inlat" 200 "1|RemoteSpin|0|cpu")
    printf '| in-server | %.1f | %.3f | %s |\n' "$(echo "$n * 10 / $secs" | bc -l)" "$(echo "$secs * 1000 / ($n * 10)" | bc -l)" "$lat"
    in_server_filter 'default'
    start_workers 1
    secs=$(run_batch "re" "$n" "10|RemoteSpin|0|cpu")
    lat=$(run_latency "relat" 200 "1|RemoteSpin|0|cpu")
    printf '| remote (1 worker, %d slots) | %.1f | %.3f | %s |\n' "$slots" "$(echo "$n * 10 / $secs" | bc -l)" "$(echo "$secs * 1000 / ($n * 10)" | bc -l)" "$lat"
    stop_workers
    exit 0
fi

n=100; rounds=20000000; activity_workers=2; slots=2
while [ $# -gt 0 ]; do
    case "$1" in
    --n) n="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --activity-workers) activity_workers="$2"; shift 2 ;;
    --slots) slots="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
done
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
{ make -j2 && $SUDO make install && make -C test/plugins/remote install; } \
    >${TMPDIR:-/tmp}/duroxide-bench-build.log 2>&1 || { tail -n 30 ${TMPDIR:-/tmp}/duroxide-bench-build.log; exit 1; }
export PATH="$(pg_config --bindir):$PATH"
echo "machine: $(nproc) cores, $(uname -r); in-server activity workers: $activity_workers; R=$rounds"
scripts/pg-cluster.sh run \
    --conf "duroxide.activity_workers = $activity_workers" \
    -- bash "$TOP/bench/remote_workers.sh" --inside "$n" "$rounds" "$slots"
