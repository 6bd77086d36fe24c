#!/usr/bin/env bash
# Runs the TAP tests in test/tap/*.pl with prove, one file at a time, printing each file's
# counts as it ends ("[3/13] 006_sessions.pl: 24 passed, 0 failed (41 s)"). They use
# PostgreSQL::Test::Cluster, which runs initdb itself, so as root they run as the unprivileged
# server user. Each TAP assertion counts as one test in $DUROXIDE_RESULTS. The test plugins are
# loaded from $DUROXIDE_PLUGIN_DIR (default build/plugins), which the files that register
# plugins list in duroxide.plugin_directories.
#
#   scripts/run-tap-suites.sh [test/tap/NNN_name.pl ...]
set -uo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
. "$TOP/scripts/use-pg-config.sh" # PG_CONFIG: which PostgreSQL (docs/compatibility.md)
tests="${*:-$(ls test/tap/*.pl 2>/dev/null)}"
if [ -z "$tests" ]; then echo "(no TAP tests yet)"; exit 0; fi
: "${DUROXIDE_RESULTS:=/dev/null}"
PLUGIN_DIR="${DUROXIDE_PLUGIN_DIR:-$TOP/build/plugins}"
[ -d "$PLUGIN_DIR" ] || { echo "tap: no plugin directory $PLUGIN_DIR (scripts/test.sh builds it)" >&2; exit 1; }
PERL_LIB="$(dirname "$(pg_config --pgxs)")/../test/perl"
BINDIR="$(pg_config --bindir)"
work="$(mktemp -d ${TMPDIR:-/tmp}/duroxide-tap.XXXXXX)"
trap 'rm -rf "$work"' EXIT
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    user=postgres; id "$user" >/dev/null 2>&1 || { id duroxide >/dev/null 2>&1 || useradd --system --no-create-home duroxide; user=duroxide; }
    chown "$user" "$work"
    run_as=(runuser -u "$user" --)
fi
# PostgreSQL::Test::Utils puts its data and logs under $TESTDIR/tmp_check on 15 and under
# $TESTDATADIR and $TESTLOGDIR from 16 on: the same place either way.
env_vars=(PATH="$BINDIR:$PATH" PERL5LIB="$PERL_LIB" TESTDIR="$work"
          TESTDATADIR="$work/tmp_check" TESTLOGDIR="$work/tmp_check/log" PG_REGRESS="$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress"
          DUROXIDE_TOP="$TOP" DUROXIDE_PLUGIN_DIR="$PLUGIN_DIR" PG_TEST_TIMEOUT_DEFAULT="${PG_TEST_TIMEOUT_DEFAULT:-120}")
set -- $tests
n=$#; i=0; rc=0; total_p=0; total_f=0
for t in "$@"; do
    i=$((i + 1))
    out="$work/$(basename "$t" .pl).out"
    start=$SECONDS
    "${run_as[@]}" env "${env_vars[@]}" prove -v "$t" >"$out" 2>&1
    status=$?
    p=$(grep -cE '^ok [0-9]+' "$out" || true)
    f=$(grep -cE '^not ok [0-9]+' "$out" || true)
    total_p=$((total_p + p)); total_f=$((total_f + f))
    echo "    [$i/$n] $(basename "$t"): $p passed, $f failed ($((SECONDS - start)) s)"
    if [ "$status" -ne 0 ]; then
        rc=1
        grep -E '^not ok|^#' "$out" | grep -v '^# Looks like' | head -n 40 | sed 's/^/      /'
        [ "$f" -gt 0 ] || total_f=$((total_f + 1)) # died before its plan was done
        for log in "$work"/tmp_check/log/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 40 "$log"; }; done
        rm -rf "$work"/tmp_check/log/*
    fi
done
echo "tap $total_p $total_f" >>"$DUROXIDE_RESULTS"
exit $rc
