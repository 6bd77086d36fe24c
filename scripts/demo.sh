#!/usr/bin/env bash
# The demo: installs what is missing, builds and installs duroxide, starts a throwaway server
# that preloads it, creates the extension, runs the demo SQL (scripts/demo.sql) and prints what
# it returns, then stops the server and removes it.
#
#   scripts/demo.sh          run and clean up
#   scripts/demo.sh --keep   leave the server running and print how to connect and stop it
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
keep=0
[ "${1:-}" = "--keep" ] && keep=1

scripts/install-deps.sh
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "== building duroxide"
make -j2 >${TMPDIR:-/tmp}/duroxide-demo-build.log 2>&1 || { tail -n 40 ${TMPDIR:-/tmp}/duroxide-demo-build.log; exit 1; }
$SUDO make install >>${TMPDIR:-/tmp}/duroxide-demo-build.log 2>&1 || { tail -n 40 ${TMPDIR:-/tmp}/duroxide-demo-build.log; exit 1; }
for plugin in test/plugins/*/; do
    [ -f "$plugin/Makefile" ] || continue
    make -C "$plugin" >>${TMPDIR:-/tmp}/duroxide-demo-build.log 2>&1 && $SUDO make -C "$plugin" install >>${TMPDIR:-/tmp}/duroxide-demo-build.log 2>&1 ||
        { tail -n 40 ${TMPDIR:-/tmp}/duroxide-demo-build.log; exit 1; }
done

run_demo() {
    echo "== server on port $PGPORT (data: $DUROXIDE_PGDATA)"
    psql -X -v ON_ERROR_STOP=1 -f scripts/demo.sql
}

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
