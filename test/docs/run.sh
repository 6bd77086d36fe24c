#!/usr/bin/env bash
# The docs' code samples as tests (a part of scripts/test.sh: `scripts/test.sh docs`):
#   - every C++ block of docs/*.md compiles (g++ -std=c++20 -fsyntax-only) against include/duroxide,
#     fragments after test/docs/prelude.hpp (see test/docs/extract.py for the fence markers);
#   - every ```sql runnable block runs, in document order, against a throwaway server that lists
#     the test plugins' directory (scripts/pg-cluster.sh), after test/docs/setup.sql.
# Each block is one test; appends "docs passed failed" to $DUROXIDE_RESULTS.
set -uo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$TOP"
: "${DUROXIDE_RESULTS:=/dev/null}"
OUT="$TOP/build/docs"
rm -rf "$OUT"; mkdir -p "$OUT"
list="$OUT/blocks.txt"
python3 test/docs/extract.py "$OUT" docs/*.md >"$list" || { echo "docs 0 1" >>"$DUROXIDE_RESULTS"; exit 1; }
passed=0; failed=0
n=$(wc -l <"$list")
i=0
while read -r kind file where; do
    case "$kind" in cpp*) ;; *) continue ;; esac
    i=$((i + 1))
    if err=$(${CXX:-g++} -std=c++20 -fsyntax-only -Wall -Wextra -Wno-unused-parameter \
             -Wno-unused-variable -Wno-unused-but-set-variable -Wno-unused-function -I include -I test/docs "$file" 2>&1); then
        passed=$((passed + 1)); echo "    [$i/$n] compiles: $where ($kind)"
    else
        failed=$((failed + 1)); echo "    [$i/$n] DOES NOT COMPILE: $where ($kind)"
        echo "$err" | head -n 20 | sed 's/^/      /'
    fi
done <"$list"

sql_blocks=$(awk '$1 == "sql" { print $2 }' "$list")
if [ -n "$sql_blocks" ]; then
    sqlres="$OUT/sql-results"
    : >"$sqlres"
    export DOCS_SQL_RESULTS="$sqlres" DOCS_LIST="$list" DOCS_FIRST=$((i + 1)) DOCS_TOTAL="$n"
    scripts/pg-cluster.sh run --conf "fsync = off" --conf "duroxide.poll_interval = 200" -- bash -c '
        set -uo pipefail
        psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE duroxide_docs" >/dev/null &&
            psql -X -q -v ON_ERROR_STOP=1 -d duroxide_docs -f test/docs/setup.sql >/dev/null ||
            { echo "    docs: could not prepare the database"; echo "0 1" >"$DOCS_SQL_RESULTS"; exit 1; }
        i=$DOCS_FIRST; p=0; f=0
        while read -r kind file where; do
            [ "$kind" = sql ] || continue
            if err=$(psql -X -q -v ON_ERROR_STOP=1 -d duroxide_docs -f "$file" 2>&1 >/dev/null); then
                p=$((p + 1)); echo "    [$i/$DOCS_TOTAL] runs: $where"
            else
                f=$((f + 1)); echo "    [$i/$DOCS_TOTAL] FAILS: $where"
                echo "$err" | head -n 10 | sed "s/^/      /"
            fi
            i=$((i + 1))
        done <"$DOCS_LIST"
        echo "$p $f" >"$DOCS_SQL_RESULTS"'
    read -r p f <"$sqlres" || { p=0; f=1; }
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
fi
echo "docs $passed $failed" >>"$DUROXIDE_RESULTS"
[ "$failed" -eq 0 ]
