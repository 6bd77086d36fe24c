#!/usr/bin/env bash
# The demo: installs what is missing, builds and installs duroxide, builds the demo's own plugin
# (examples/demo) into build/plugins (not into the server's $libdir), starts a throwaway server
# that preloads duroxide and lists that directory in duroxide.plugin_directories, runs the demo
# SQL (scripts/demo.sql: the demo's orchestrations, their results, their histories), then stops
# the server and removes it. Each step is printed as it starts.
#
#   scripts/demo.sh          run and clean up
#   scripts/demo.sh --keep   leave the server running and print how to connect and stop it
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
keep=0
[ "${1:-}" = "--keep" ] && keep=1
export DUROXIDE_PLUGIN_DIR="${DUROXIDE_PLUGIN_DIR:-$TOP/build/plugins}"
STEP_TOTAL=6
# shellcheck source=scripts/progress.sh
. scripts/progress.sh

LOG="${TMPDIR:-/tmp}/duroxide-demo-build.log"
: >"$LOG"
failed() { tail -n 40 "$LOG"; echo "demo: $1 failed (full log: $LOG)" >&2; exit 1; }

step "installing packages (scripts/install-deps.sh)"
scripts/install-deps.sh
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
step "building duroxide (log: $LOG)"
make_with_progress "$LOG" -j2 || failed "build"
step "installing duroxide into $(pg_config --pkglibdir)"
$SUDO make install >>"$LOG" 2>&1 || failed "make install"
step "building the demo plugin (examples/demo) into $DUROXIDE_PLUGIN_DIR"
make -C examples/demo PLUGIN_DIR="$DUROXIDE_PLUGIN_DIR" install >>"$LOG" 2>&1 || failed "building the demo plugin"

run_demo() {
    echo "    server up on port $PGPORT (data: $DUROXIDE_PGDATA)"
    echo "[6/6] running scripts/demo.sql"
    psql -X -q -v ON_ERROR_STOP=1 -f scripts/demo.sql
}

step "starting a throwaway server"
if [ "$keep" -eq 1 ]; then
    dir="$(mktemp -d ${TMPDIR:-/tmp}/duroxide-demo.XXXXXX)"
    scripts/pg-cluster.sh start "$dir" >/dev/null
    eval "$(scripts/pg-cluster.sh env "$dir")"
    export DUROXIDE_PGDATA="$dir/data"
    run_demo
    echo
    echo "The server is still running. Connect with:"
    echo "  psql -h $dir -p $PGPORT -U postgres"
    echo "Stop and remove it with:"
    echo "  scripts/pg-cluster.sh stop $dir && rm -rf $dir"
else
    scripts/pg-cluster.sh run -- bash -c "$(declare -f run_demo); run_demo"
    echo "== server stopped and removed"
fi
