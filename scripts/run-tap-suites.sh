#!/usr/bin/env bash
# Runs the TAP tests in test/tap/*.pl with prove. They use PostgreSQL::Test::Cluster, which runs
# initdb itself, so as root they run as the unprivileged server user. Each TAP assertion counts
# as one test in $DUROXIDE_RESULTS.
set -uo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
tests="${*:-$(ls test/tap/*.pl 2>/dev/null)}"
if [ -z "$tests" ]; then echo "(no TAP tests yet)"; exit 0; fi
PERL_LIB="$(dirname "$(pg_config --pgxs)")/../test/perl"
BINDIR="$(pg_config --bindir)"
work="$(mktemp -d ${TMPDIR:-/tmp}/duroxide-tap.XXXXXX)"
trap 'rm -rf "$work"' EXIT
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    user=postgres; id "$user" >/dev/null 2>&1 || { useradd --system --no-create-home duroxide; user=duroxide; }
    chown "$user" "$work"
    run_as=(runuser -u "$user" --)
fi
out="$work/prove.out"
env_vars=(PATH="$BINDIR:$PATH" PERL5LIB="$PERL_LIB" TESTDIR="$work" PG_REGRESS="$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress"
          DUROXIDE_TOP="$TOP" PG_TEST_TIMEOUT_DEFAULT="${PG_TEST_TIMEOUT_DEFAULT:-120}")
"${run_as[@]}" env "${env_vars[@]}" prove -v $tests 2>&1 | tee "$out" | grep -E '^(ok|not ok)|^#|^t/|^test/|Result|Failed' | grep -v '^# Looks like' | tail -n 80
status=${PIPESTATUS[0]}
p=$(grep -cE '^ok [0-9]+' "$out" || true)
f=$(grep -cE '^not ok [0-9]+' "$out" || true)
echo "tap ${p:-0} ${f:-0}" >>"$DUROXIDE_RESULTS"
if [ "$status" -ne 0 ]; then
    for log in "$work"/tmp_check/log/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 40 "$log"; }; done
    exit 1
fi
