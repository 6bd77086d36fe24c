#!/usr/bin/env bash
# Runs pg_regress and isolation suites against the server in PGHOST/PGPORT (started by
# scripts/pg-cluster.sh run). Appends "suite passed failed" lines to $DUROXIDE_RESULTS.
set -uo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
PGXS_DIR="$(dirname "$(pg_config --pgxs)")/.."
BINDIR="$(pg_config --bindir)"
rc=0

count() { # suite output-file
    local p f
    p=$(grep -cE '\.\.\. +ok( |$)' "$2" || true)
    f=$(grep -cE '\.\.\. +(FAILED|failed)' "$2" || true)
    echo "$1 ${p:-0} ${f:-0}" >>"$DUROXIDE_RESULTS"
}

for part in "$@"; do
    case "$part" in
    regress)
        out="$(mktemp)"
        "$PGXS_DIR/test/regress/pg_regress" --bindir="$BINDIR" --inputdir="$TOP" \
            --outputdir="$TOP/build/regress" --dbname=duroxide_regress \
            --schedule="$TOP/test/regress_schedule" 2>&1 | tee "$out"
        [ "${PIPESTATUS[0]}" -eq 0 ] || { rc=1; [ -f build/regress/regression.diffs ] && head -n 200 build/regress/regression.diffs; }
        count regress "$out"; rm -f "$out"
        ;;
    isolation)
        specs=$(cd test/isolation/specs 2>/dev/null && ls *.spec 2>/dev/null | sed 's/\.spec$//')
        if [ -z "$specs" ]; then echo "(no isolation specs yet)"; continue; fi
        out="$(mktemp)"
        "$PGXS_DIR/test/isolation/pg_isolation_regress" --bindir="$BINDIR" \
            --inputdir="$TOP/test/isolation" --outputdir="$TOP/build/isolation" \
            --dbname=duroxide_isolation --load-extension=duroxide $specs 2>&1 | tee "$out"
        [ "${PIPESTATUS[0]}" -eq 0 ] || { rc=1; [ -f build/isolation/regression.diffs ] && head -n 200 build/isolation/regression.diffs; }
        count isolation "$out"; rm -f "$out"
        ;;
    esac
done
exit $rc
