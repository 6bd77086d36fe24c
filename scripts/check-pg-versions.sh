#!/usr/bin/env bash
# Compile check against every PostgreSQL installation found (docs/compatibility.md): builds
# duroxide.so and the test extension (test/probes) against each one's server headers, in a
# scratch copy of this checkout (so the objects of the normal build are not touched), installs
# nothing, and prints one line per installation:
#     PostgreSQL 16.14 (/opt/pgsrc-16/bin/pg_config): built
# It looks for, in this order (the same installation found twice is checked once):
#   - the pg_config files named in PG_CONFIGS (space-separated), and nothing else when it is set;
#   - otherwise pg_config on PATH, /usr/lib/postgresql/*/bin/pg_config (Debian, PGDG) and
#     /opt/pgsrc-*/bin/pg_config (servers built from released source, docs/compatibility.md).
# --skip-path-pg-config leaves out the pg_config on PATH (scripts/test.sh builds against that one
# in its own build step). Finding no other installation is not a failure: on Debian 12 only
# PostgreSQL 15 is packaged, and the script then says that nothing else was found.
# Exit status: non-zero when a build failed. Appends "pg-versions <built> <failed>" to
# $DUROXIDE_RESULTS when that is set.
#
#   scripts/check-pg-versions.sh [--skip-path-pg-config]
#   PG_CONFIGS="/opt/pgsrc-17/bin/pg_config /opt/pgsrc-18/bin/pg_config" scripts/check-pg-versions.sh
set -uo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP" || exit 1
skip_path=0
[ "${1:-}" = "--skip-path-pg-config" ] && skip_path=1

candidates=()
if [ -n "${PG_CONFIGS:-}" ]; then
    read -r -a candidates <<<"$PG_CONFIGS"
else
    if [ "$skip_path" -eq 0 ] && command -v pg_config >/dev/null 2>&1; then
        candidates+=("$(command -v pg_config)")
    fi
    for c in /usr/lib/postgresql/*/bin/pg_config /opt/pgsrc-*/bin/pg_config; do
        [ -x "$c" ] && candidates+=("$c")
    done
fi

# One entry per installation: the server include directory identifies it (Debian's
# /usr/bin/pg_config and /usr/lib/postgresql/15/bin/pg_config are the same installation).
path_includedir=""
if [ "$skip_path" -eq 1 ] && command -v pg_config >/dev/null 2>&1; then
    path_includedir="$(pg_config --includedir-server 2>/dev/null || true)"
fi
seen=" "
checks=()
for c in "${candidates[@]}"; do
    inc="$("$c" --includedir-server 2>/dev/null)" || { echo "    $c: not a working pg_config, skipped"; continue; }
    [ -n "$path_includedir" ] && [ "$inc" = "$path_includedir" ] && continue
    case "$seen" in *" $inc "*) continue ;; esac
    seen+="$inc "
    checks+=("$c")
done

if [ "$skip_path" -eq 1 ] && [ -n "$path_includedir" ]; then
    echo "    $(pg_config --version) (pg_config on PATH): built by the main build, not again here"
fi
if [ ${#checks[@]} -eq 0 ]; then
    if [ -n "${PG_CONFIGS:-}" ]; then where="PG_CONFIGS=$PG_CONFIGS"; else
        where="looked in /usr/lib/postgresql/*/bin and /opt/pgsrc-*/bin; PG_CONFIGS unset"; fi
    echo "    no other PostgreSQL installation found ($where): nothing more to check"
    [ -n "${DUROXIDE_RESULTS:-}" ] && echo "pg-versions 0 0" >>"$DUROXIDE_RESULTS"
    exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/duroxide-pgversions.XXXXXX")"
trap 'rm -rf "$work"' EXIT
built=0; failed=0
for c in "${checks[@]}"; do
    version="$("$c" --version)"
    src="$work/$(echo "$c" | tr '/' '_')"
    mkdir -p "$src"
    # The checkout as it is now (tracked and new files, not the build outputs).
    git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$src" ||
        { echo "    $version ($c): could not copy the checkout"; failed=$((failed + 1)); continue; }
    log="$src/build.log"
    if make -C "$src" -j2 PG_CONFIG="$c" >"$log" 2>&1 &&
        make -C "$src/test/probes" -j2 PG_CONFIG="$c" >>"$log" 2>&1; then
        echo "    $version ($c): built"
        built=$((built + 1))
    else
        echo "    $version ($c): FAILED"
        grep -E '(error|fatal error):|\*\*\* ' "$log" | head -n 20 | sed 's/^/      /'
        failed=$((failed + 1))
    fi
done
[ -n "${DUROXIDE_RESULTS:-}" ] && echo "pg-versions $built $failed" >>"$DUROXIDE_RESULTS"
[ "$failed" -eq 0 ]
