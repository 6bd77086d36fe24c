#!/usr/bin/env bash
# Throwaway PostgreSQL clusters that preload duroxide.
#
#   scripts/pg-cluster.sh start DIR [PORT]    initdb DIR (if new) and start it; prints the port
#   scripts/pg-cluster.sh stop DIR            stop it (fast, then immediate)
#   scripts/pg-cluster.sh env DIR             print PGHOST/PGPORT/PGUSER exports for it
#   scripts/pg-cluster.sh run [--port P] [--conf 'k = v']... -- CMD [ARGS...]
#        create a cluster in a fresh temp directory, run CMD with PGHOST/PGPORT/PGUSER/
#        PGDATABASE/DUROXIDE_PGDATA set, then stop and delete it, whatever happens (trap).
#
# Plugins: the clusters list DUROXIDE_PLUGIN_DIR (default: build/plugins of this checkout, where
# the demo, test and benchmark plugins' `make install` puts them) in duroxide.plugin_directories,
# so that no test plugin has to be installed into the server's $libdir.
#
# initdb refuses to run as root, so when run as root the server runs as the unprivileged OS
# user "postgres" (created by the Debian packages) or, failing that, a "duroxide" user that
# this script creates. The server listens on 127.0.0.1 and a Unix socket inside DIR.
set -euo pipefail

TOP="$(cd "$(dirname "$0")/.." && pwd)"
. "$TOP/scripts/use-pg-config.sh" # PG_CONFIG: which PostgreSQL (docs/compatibility.md)
PG_MAJOR="${PG_MAJOR:-15}"
PG_BIN="${PG_BIN:-$( (pg_config --bindir 2>/dev/null) || echo "/usr/lib/postgresql/${PG_MAJOR}/bin")}"
# Debian's pg_config reports /usr/lib/postgresql/N/bin; be explicit when it is elsewhere.
[ -x "$PG_BIN/initdb" ] || PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"

die() { echo "pg-cluster: $*" >&2; exit 1; }
PLUGIN_DIR="${DUROXIDE_PLUGIN_DIR:-$TOP/build/plugins}"
[ -x "$PG_BIN/initdb" ] || die "initdb not found in $PG_BIN: run scripts/install-deps.sh"

server_user() {
    if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
    if id postgres >/dev/null 2>&1; then echo postgres; return; fi
    if ! id duroxide >/dev/null 2>&1; then useradd --system --no-create-home duroxide; fi
    echo duroxide
}

as_server_user() {
    local user; user="$(server_user)"
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        port_in_use "$p" || { echo "$p"; return; }
    done
    die "no free port found"
}

cmd_start() {
    local dir="$1" port="${2:-}"
    shift $(( $# >= 2 ? 2 : 1 ))
    [ -n "$port" ] || port="$(pick_port)"
    if port_in_use "$port"; then
        die "port $port is already in use (another server?); choose another with --port"
    fi
    local user; user="$(server_user)"
    mkdir -p "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        [ "$(id -u)" -eq 0 ] && chown "$user" "$dir"
        chmod 755 "$dir"
        as_server_user "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
        {
            echo "# added by scripts/pg-cluster.sh"
            echo "shared_preload_libraries = 'duroxide'"
            echo "listen_addresses = '127.0.0.1'"
            echo "unix_socket_directories = '$dir'"
            echo "max_worker_processes = 32"
            echo "log_min_messages = info"
            echo "lc_messages = 'C'"
            if [ -d "$PLUGIN_DIR" ]; then echo "duroxide.plugin_directories = '$PLUGIN_DIR'"; fi
            for line in "${EXTRA_CONF[@]}"; do echo "$line"; done
        } >>"$dir/data/postgresql.conf"
    fi
    echo "$port" >"$dir/port"
    if ! as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/server.log" \
        -w -t 60 start >/dev/null; then
        tail -n 30 "$dir/server.log" >&2 || true
        die "server failed to start (log above: $dir/server.log)"
    fi
    echo "$port"
}

cmd_stop() {
    local dir="$1"
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

cmd_env() {
    local dir="$1"
    echo "export PGHOST='$dir' PGPORT='$(cat "$dir/port")' PGUSER=postgres PGDATABASE=postgres"
}

EXTRA_CONF=()
case "${1:-}" in
start) shift; [ $# -ge 1 ] || die "usage: start DIR [PORT]"; cmd_start "$@" ;;
stop) shift; [ $# -eq 1 ] || die "usage: stop DIR"; cmd_stop "$1" ;;
env) shift; [ $# -eq 1 ] || die "usage: env DIR"; cmd_env "$1" ;;
run)
    shift
    port=""
    while [ $# -gt 0 ]; do
        case "$1" in
        --port) port="$2"; shift 2 ;;
        --conf) EXTRA_CONF+=("$2"); shift 2 ;;
        --) shift; break ;;
        *) die "unknown option $1" ;;
        esac
    done
    [ $# -ge 1 ] || die "usage: run [--port P] [--conf LINE]... -- CMD"
    dir="$(mktemp -d ${TMPDIR:-/tmp}/duroxide-cluster.XXXXXX)"
    cleanup() { cmd_stop "$dir"; rm -rf "$dir"; }
    trap cleanup EXIT INT TERM
    port="$(cmd_start "$dir" "$port")"
    export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres DUROXIDE_PGDATA="$dir/data"
    export DUROXIDE_SERVER_LOG="$dir/server.log"
    set +e
    "$@"
    rc=$?
    set -e
    exit $rc
    ;;
*) die "usage: $0 start|stop|env|run ..." ;;
esac
