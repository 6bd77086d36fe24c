#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds and installs the extension, builds the
# test plugins into build/plugins (never into the server's $libdir), then runs
#   1. style: the C++ sources match .clang-format,
#   2. GoogleTest unit tests of src/core (no server),
#   3. pg_regress suites (test/regress/schedule) and isolation specs (test/isolation) on a
#      throwaway cluster that preloads duroxide (with the test-only extension duroxide_test,
#      test/probes, installed next to it),
#   4. docs: every C++ sample of docs/*.md compiles, every runnable SQL sample of the user guide
#      runs (test/docs),
#   5. TAP tests (test/tap/*.pl, PostgreSQL::Test::Cluster, their own clusters),
#   6. pgversions: a compile check against every other PostgreSQL installation found
#      (scripts/check-pg-versions.sh; on Debian 12 there is none, which it says).
# PG_CONFIG=/path/to/pg_config picks the PostgreSQL to build and test against (default: the
# pg_config on PATH; docs/compatibility.md).
# Prints each step as it starts and the test counts as they come; ends with one line
# "N passed, M failed"; exits non-zero on any failure or broken suite.
#
#   scripts/test.sh                 everything
#   scripts/test.sh style|unit|regress|isolation|docs|tap|pgversions ...   only the named parts
set -uo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
. "$TOP/scripts/use-pg-config.sh" # PG_CONFIG: which PostgreSQL (docs/compatibility.md)
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(style unit regress isolation docs tap pgversions)
want() { local p; for p in "${PARTS[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
for p in "${PARTS[@]}"; do
    case "$p" in style|unit|regress|isolation|docs|tap|pgversions) ;; *) echo "test: unknown part '$p'" >&2; exit 2 ;; esac
done

LOGS="${TMPDIR:-/tmp}"
RESULTS="$(mktemp "$LOGS/duroxide-results.XXXXXX")"
trap 'rm -f "$RESULTS"' EXIT
export DUROXIDE_RESULTS="$RESULTS"
export DUROXIDE_PLUGIN_DIR="${DUROXIDE_PLUGIN_DIR:-$TOP/build/plugins}"
broken=0
# regress and isolation share one server: one step.
server_parts=()
want regress && server_parts+=(regress)
want isolation && server_parts+=(isolation)
STEP_TOTAL=$((5 + ${#PARTS[@]} - (${#server_parts[@]} > 1 ? 1 : 0)))
# shellcheck source=scripts/progress.sh
. scripts/progress.sh
# A part's counts, as soon as it is done.
report() { tail -n 1 "$RESULTS" | awk '{ printf "    %s: %d passed, %d failed\n", $1, $2, $3 }'; }

step "installing packages (scripts/install-deps.sh)"
scripts/install-deps.sh || { echo "test: dependency installation failed" >&2; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
BUILD_LOG="$LOGS/duroxide-build.log"
: >"$BUILD_LOG"
build_failed() {
    tail -n 40 "$BUILD_LOG" >&2
    echo "test: $1 failed (full log: $BUILD_LOG)" >&2
    echo "0 passed, 1 failed"
    exit 1
}
step "building duroxide (log: $BUILD_LOG)"
make_with_progress "$BUILD_LOG" -j2 || build_failed "build"
step "installing duroxide into $(pg_config --pkglibdir)"
$SUDO make install >>"$BUILD_LOG" 2>&1 || build_failed "make install"
step "building the test plugins into $DUROXIDE_PLUGIN_DIR"
for plugin in test/plugins/*/; do
    [ -f "$plugin/Makefile" ] || continue
    make -C "$plugin" PLUGIN_DIR="$DUROXIDE_PLUGIN_DIR" install >>"$BUILD_LOG" 2>&1 ||
        build_failed "building $plugin"
    echo "    $(basename "$plugin")"
done
# The store probes and boundary self-tests: test code, built as their own extension (never part
# of duroxide.so or its install script); CREATE EXTENSION duroxide_test needs a superuser.
step "building and installing the test extension duroxide_test (test/probes)"
make -C test/probes -j2 >>"$BUILD_LOG" 2>&1 || build_failed "building test/probes"
$SUDO make -C test/probes install >>"$BUILD_LOG" 2>&1 || build_failed "installing test/probes"
# Earlier versions of this script installed the test plugins into $libdir, where any
# duroxide_admin could register them; take them out.
libdir="$(pg_config --pkglibdir)"
for so in "$DUROXIDE_PLUGIN_DIR"/*.so; do
    stale="$libdir/$(basename "$so")"
    if [ -f "$stale" ]; then
        $SUDO rm -f "$stale" && echo "    removed the stale test plugin $stale"
    fi
done

if want style; then
    step "style (make format-check)"
    if make -s format-check >"$LOGS/duroxide-style.log" 2>&1; then
        echo "style 1 0" >>"$RESULTS"
    else
        head -n 30 "$LOGS/duroxide-style.log"; echo "test: run 'make format'" >&2
        echo "style 0 1" >>"$RESULTS"
    fi
    report
fi

if want unit; then
    step "unit tests (GoogleTest, src/core)"
    UNIT_LOG="$LOGS/duroxide-unit-build.log"
    : >"$UNIT_LOG"
    if make_with_progress "$UNIT_LOG" -j2 -f test/unit/Makefile all; then
        out="$(mktemp)"
        # Running counts per finished test suite; the failures' details after the run.
        build/unit/duroxide_unit_tests 2>&1 | tee "$out" |
            awk -v tty="$([ -t 1 ] && echo 1 || echo 0)" '
                 /^\[==========\] .* ran/ { summary = 1 }
                 !summary && /^\[ +FAILED +\] [A-Za-z]|^\[ +OK +\]/ { if ($0 ~ /FAILED/) f++; else p++ }
                 /^\[----------\] [0-9]+ tests? from .* \([0-9]+ ms total\)/ {
                     n++
                     line = sprintf("%d passed, %d failed (%d suites done, last: %s)", p, f, n, $5)
                     if (tty) printf "\r    %s\033[K", line; else if (n % 10 == 0) print "    " line
                     fflush() }
                 /: Failure$|^\[ +FAILED +\] [A-Za-z]/ && !summary { if (tty) printf "\n"; print "    " $0; fflush() }
                 END { if (tty) printf "\n" }'
        passed=$(grep -oE '^\[  PASSED  \] [0-9]+' "$out" | grep -oE '[0-9]+$' || echo 0)
        failed=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$out" | grep -oE '[0-9]+' | head -1 || echo 0)
        total=$(grep -oE '^\[==========\] [0-9]+ tests? from' "$out" | grep -oE '[0-9]+' | head -1 || echo 0)
        [ -n "$passed" ] || passed=0; [ -n "$failed" ] || failed=0
        [ "$failed" -eq 0 ] || grep -E -A 8 ': Failure$' "$out" | head -n 120
        if [ "$((passed + failed))" -ne "${total:-0}" ] || [ "${total:-0}" -eq 0 ]; then
            echo "test: unit test binary did not finish cleanly" >&2; broken=1
        fi
        echo "unit $passed $failed" >>"$RESULTS"
        rm -f "$out"
    else
        tail -n 40 "$UNIT_LOG" >&2
        echo "test: unit test build failed" >&2
        echo "unit 0 1" >>"$RESULTS"
    fi
    report
fi

if want pgversions; then
    step "compile check against the other PostgreSQL installations (scripts/check-pg-versions.sh)"
    scripts/check-pg-versions.sh --skip-path-pg-config || true # failed builds are counted
    report
fi

if [ ${#server_parts[@]} -gt 0 ]; then
    step "server suites (${server_parts[*]}): starting a throwaway server"
    scripts/pg-cluster.sh run --conf "fsync = off" --conf "duroxide.poll_interval = 200" \
        -- scripts/run-server-suites.sh "${server_parts[@]}" || broken=1
fi

if want docs; then
    step "docs samples (test/docs: C++ blocks compile, runnable SQL blocks run)"
    test/docs/run.sh || broken=1
    report
fi

if want tap; then
    step "TAP tests (test/tap, each file starts its own servers)"
    scripts/run-tap-suites.sh || broken=1
    report
fi

passed=0; failed=0
while read -r _ p f; do passed=$((passed + p)); failed=$((failed + f)); done <"$RESULTS"
echo
column -t "$RESULTS" 2>/dev/null | sed 's/^/  /' || cat "$RESULTS"
[ "$broken" -eq 0 ] || { [ "$failed" -gt 0 ] || failed=1; echo "test: a suite did not run to completion" >&2; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
