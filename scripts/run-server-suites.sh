#!/usr/bin/env bash
# Runs pg_regress and isolation suites against the server in PGHOST/PGPORT (started by
# scripts/pg-cluster.sh run). Appends "suite passed failed" lines to $DUROXIDE_RESULTS.
set -uo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
. "$TOP/scripts/use-pg-config.sh" # PG_CONFIG: which PostgreSQL (docs/compatibility.md)
PGXS_DIR="$(dirname "$(pg_config --pgxs)")/.."
BINDIR="$(pg_config --bindir)"
rc=0
echo "    server up on port $PGPORT (data: ${DUROXIDE_PGDATA:-?})"

# pg_regress's lines, numbered as they come: "[12/27] test e2e_basic ... ok".
numbered() { # total
    awk -v total="$1" '/\.\.\. / { n++; printf "    [%d/%d] %s\n", n, total, $0; fflush(); next }
                       { print "    " $0; fflush() }'
}

count() { # suite output-file
    local p f
    # pg_regress 15 prints "test name ... ok"; 16 and later print TAP ("ok 3 - name").
    p=$(grep -cE '\.\.\. +ok( |$)|^ok [0-9]+ ' "$2" || true)
    f=$(grep -cE '\.\.\. +(FAILED|failed)|^not ok [0-9]+ ' "$2" || true)
    echo "$1 ${p:-0} ${f:-0}" >>"$DUROXIDE_RESULTS"
}

for part in "$@"; do
    case "$part" in
    regress)
        out="$(mktemp)"
        mkdir -p "$TOP/build/regress"
        # DUROXIDE_REGRESS_SCHEDULE: another order of the same suites (they must not depend on it).
        schedule="${DUROXIDE_REGRESS_SCHEDULE:-$TOP/test/regress/schedule}"
        "$PGXS_DIR/test/regress/pg_regress" --bindir="$BINDIR" --inputdir="$TOP/test/regress" \
            --outputdir="$TOP/build/regress" --dbname=duroxide_regress \
            --schedule="$schedule" 2>&1 | tee "$out" |
            numbered "$(awk '/^test:/ { n += NF - 1 } END { print n }' "$schedule")"
        [ "${PIPESTATUS[0]}" -eq 0 ] || { rc=1; [ -f build/regress/regression.diffs ] && head -n 200 build/regress/regression.diffs; }
        count regress "$out"; rm -f "$out"
        tail -n 1 "$DUROXIDE_RESULTS" | awk '{ printf "    %s: %d passed, %d failed\n", $1, $2, $3 }'
        ;;
    isolation)
        specs=$(cd test/isolation/specs 2>/dev/null && ls *.spec 2>/dev/null | sed 's/\.spec$//')
        if [ -z "$specs" ]; then echo "(no isolation specs yet)"; continue; fi
        out="$(mktemp)"
        # The specs drive the store themselves (the probes of the test extension duroxide_test,
        # test/probes): a database the
        # workers do not serve, made here because pg_isolation_regress cannot set that.
        mkdir -p "$TOP/build/isolation"
        "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
            -c "DROP DATABASE IF EXISTS duroxide_isolation WITH (FORCE)" \
            -c "CREATE DATABASE duroxide_isolation" \
            -c "ALTER DATABASE duroxide_isolation SET duroxide.run_workers = off" &&
            "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d duroxide_isolation -c "CREATE EXTENSION duroxide" \
                -c "CREATE EXTENSION duroxide_test" ||
            { echo "isolation: could not prepare database duroxide_isolation"; rc=1; echo "isolation 0 1" >>"$DUROXIDE_RESULTS"; continue; }
        "$PGXS_DIR/test/isolation/pg_isolation_regress" --bindir="$BINDIR" \
            --inputdir="$TOP/test/isolation" --outputdir="$TOP/build/isolation" \
            --dbname=duroxide_isolation --use-existing $specs 2>&1 | tee "$out" |
            numbered "$(echo $specs | wc -w)"
        [ "${PIPESTATUS[0]}" -eq 0 ] || { rc=1; [ -f build/isolation/regression.diffs ] && head -n 200 build/isolation/regression.diffs; }
        count isolation "$out"; rm -f "$out"
        tail -n 1 "$DUROXIDE_RESULTS" | awk '{ printf "    %s: %d passed, %d failed\n", $1, $2, $3 }'
        ;;
    esac
done
exit $rc
