# shellcheck shell=bash
# Sourced by the scripts that build, install or test against a PostgreSQL installation.
# PG_CONFIG (a pg_config program) selects the installation, as it does for `make`: its bindir
# goes first in PATH, so that pg_config, initdb, pg_ctl, psql, prove's PostgreSQL::Test::Cluster
# and the PGXS makefiles all use that installation. Unset, the pg_config on PATH decides (on
# Debian 12, PostgreSQL 15). See docs/compatibility.md.
#   PG_CONFIG=/opt/pgsrc-17/bin/pg_config scripts/test.sh regress
if [ -n "${PG_CONFIG:-}" ]; then
    if ! pg_bindir_="$("$PG_CONFIG" --bindir 2>/dev/null)" || [ ! -d "$pg_bindir_" ]; then
        echo "PG_CONFIG=$PG_CONFIG is not a working pg_config" >&2
        exit 1
    fi
    case ":$PATH:" in
    ":$pg_bindir_:"*) ;;
    *) PATH="$pg_bindir_:$PATH" ;;
    esac
    export PATH PG_CONFIG
    unset pg_bindir_
fi
