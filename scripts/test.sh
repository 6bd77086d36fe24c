#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds and installs the extension, then runs
#   1. GoogleTest unit tests of src/core (no server),
#   2. pg_regress suites (test/regress_schedule) and isolation specs (test/isolation) on a
#      throwaway cluster that preloads duroxide,
#   3. TAP tests (test/tap/*.pl, PostgreSQL::Test::Cluster, their own clusters).
# Ends with one line "N passed, M failed"; exits non-zero on any failure or broken suite.
#
#   scripts/test.sh                 everything
#   scripts/test.sh style|unit|regress|isolation|tap ...   only the named parts
# (style: the C++ sources match .clang-format)
set -uo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(style unit regress isolation tap)
want() { local p; for p in "${PARTS[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

RESULTS="$(mktemp ${TMPDIR:-/tmp}/duroxide-results.XXXXXX)"
trap 'rm -f "$RESULTS"' EXIT
export DUROXIDE_RESULTS="$RESULTS"
broken=0

scripts/install-deps.sh || { echo "test: dependency installation failed" >&2; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "== build"
if ! make -j2 >${TMPDIR:-/tmp}/duroxide-build.log 2>&1 || ! $SUDO make install >>${TMPDIR:-/tmp}/duroxide-build.log 2>&1; then
    tail -n 40 ${TMPDIR:-/tmp}/duroxide-build.log >&2
    echo "test: build failed (full log: ${TMPDIR:-/tmp}/duroxide-build.log)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
if [ -d test/plugins ] && [ -n "$(ls test/plugins 2>/dev/null)" ]; then
    for plugin in test/plugins/*/; do
        [ -f "$plugin/Makefile" ] || continue
        if ! make -C "$plugin" >>${TMPDIR:-/tmp}/duroxide-build.log 2>&1 || ! $SUDO make -C "$plugin" install >>${TMPDIR:-/tmp}/duroxide-build.log 2>&1; then
            tail -n 40 ${TMPDIR:-/tmp}/duroxide-build.log >&2; echo "test: building $plugin failed" >&2; exit 1
        fi
    done
fi

if want style; then
    echo "== style"
    if make -s format-check >${TMPDIR:-/tmp}/duroxide-style.log 2>&1; then
        echo "style 1 0" >>"$RESULTS"
    else
        head -n 30 ${TMPDIR:-/tmp}/duroxide-style.log; echo "test: run 'make format'" >&2
        echo "style 0 1" >>"$RESULTS"
    fi
fi

if want unit; then
    echo "== unit tests"
    if make -j2 -f test/unit/Makefile all >${TMPDIR:-/tmp}/duroxide-unit-build.log 2>&1; then
        out="$(mktemp)"
        build/unit/duroxide_unit_tests --gtest_brief=1 2>&1 | tee "$out" | grep -vE '^\[ +(OK|RUN) +\]' | tail -n 30
        passed=$(grep -oE '^\[  PASSED  \] [0-9]+' "$out" | grep -oE '[0-9]+$' || echo 0)
        failed=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$out" | grep -oE '[0-9]+' | head -1 || echo 0)
        total=$(grep -oE '^\[==========\] [0-9]+ tests? from' "$out" | grep -oE '[0-9]+' | head -1 || echo 0)
        [ -n "$passed" ] || passed=0; [ -n "$failed" ] || failed=0
        if [ "$((passed + failed))" -ne "${total:-0}" ] || [ "${total:-0}" -eq 0 ]; then
            echo "test: unit test binary did not finish cleanly" >&2; broken=1
        fi
        echo "unit $passed $failed" >>"$RESULTS"
        rm -f "$out"
    else
        tail -n 40 ${TMPDIR:-/tmp}/duroxide-unit-build.log >&2
        echo "test: unit test build failed" >&2
        echo "unit 0 1" >>"$RESULTS"
    fi
fi

server_parts=()
want regress && server_parts+=(regress)
want isolation && server_parts+=(isolation)
if [ ${#server_parts[@]} -gt 0 ]; then
    echo "== server suites (${server_parts[*]})"
    scripts/pg-cluster.sh run --conf "fsync = off" --conf "duroxide.poll_interval = 200" \
        -- scripts/run-server-suites.sh "${server_parts[@]}" || broken=1
fi

if want tap; then
    echo "== TAP tests"
    scripts/run-tap-suites.sh || broken=1
fi

passed=0; failed=0
while read -r _ p f; do passed=$((passed + p)); failed=$((failed + f)); done <"$RESULTS"
echo
column -t "$RESULTS" 2>/dev/null | sed 's/^/  /' || cat "$RESULTS"
[ "$broken" -eq 0 ] || { [ "$failed" -gt 0 ] || failed=1; echo "test: a suite did not run to completion" >&2; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
