#!/usr/bin/env bash
# Installs, with apt-get, exactly the Debian 12 packages duroxide needs that are missing.
# Idempotent: prints "all dependencies present" and changes nothing when everything is there.
set -euo pipefail

# The server packages follow PG_CONFIG (docs/compatibility.md): a Debian/PGDG installation
# (/usr/lib/postgresql/N/bin/pg_config) needs postgresql-N and postgresql-server-dev-N; any other
# one (built from source, /opt/pgsrc-N) brings its own. Default: 15, Debian 12's.
SERVER_PACKAGES=1
if [ -n "${PG_CONFIG:-}" ]; then
    case "$("$PG_CONFIG" --bindir 2>/dev/null)" in
    /usr/lib/postgresql/*/bin) PG_MAJOR="${PG_MAJOR:-$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')}" ;;
    *) SERVER_PACKAGES=0 ;;
    esac
fi
PG_MAJOR="${PG_MAJOR:-15}"
PACKAGES=()
[ "$SERVER_PACKAGES" -eq 0 ] || PACKAGES+=(
    "postgresql-${PG_MAJOR}"              # server (initdb, pg_ctl, postgres)
    "postgresql-server-dev-${PG_MAJOR}"   # headers, pg_config, PGXS, pg_regress, isolationtester
)
PACKAGES+=(
    postgresql-contrib                    # pg_stat_statements for the benchmark
    linux-perf                            # CPU profiles (bench/profile.sh, TAP 036)
    make g++                              # toolchain
    libboost-context-dev                  # fibers
    rapidjson-dev                         # JSON codec
    libgtest-dev                          # unit tests
    libbenchmark-dev                      # core micro-benchmarks
    libcurl4-openssl-dev                  # workflow http steps
    libipc-run-perl                       # TAP tests (PostgreSQL::Test::Cluster)
    clang-format                          # style checks
    python3                               # docs sample tests (test/docs/extract.py)
    prometheus-postgres-exporter          # Prometheus TAP test (test/tap/023_prometheus.pl)
    chromium libxml2-utils                # timeline picture TAP test (024_timeline.pl)
    python3-psycopg                       # Python client example (examples/python, 026b)
    debhelper postgresql-server-dev-all   # Debian package: dh, pg_buildext's dh addon (build-deb.sh)
    lintian                               # checks the package (test/tap/032_debian_package.pl)
)
# The Node.js client example (examples/node) needs node-pg, found through NODE_PATH below.
NODE_PATH_DIRS=/usr/share/nodejs:/usr/local/share/duroxide/nodejs
node_pg_present() {
    command -v node >/dev/null 2>&1 && NODE_PATH=$NODE_PATH_DIRS node -e "require('pg')" 2>/dev/null
}
# Beside a Node.js that apt cannot pair with Debian's node-pg (one from NodeSource, say), the
# pure-JavaScript .debs of node-pg are unpacked into /usr/local/share/duroxide/nodejs instead.
unpack_node_pg() {
    local dir
    dir="$(mktemp -d)"
    chmod 0755 "$dir"
    $SUDO apt-get update -qq &&
        (cd "$dir" && apt-get download -qq node-pg node-split2 node-xtend node-readable-stream) &&
        for deb in "$dir"/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done &&
        $SUDO mkdir -p /usr/local/share/duroxide/nodejs &&
        $SUDO cp -r "$dir"/root/usr/share/nodejs/. /usr/local/share/duroxide/nodejs/
    local rc=$?
    rm -rf "$dir"
    return $rc
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

unpack_node=false
if ! node_pg_present; then
    if ! command -v node >/dev/null 2>&1 || apt-get install -s nodejs node-pg >/dev/null 2>&1; then
        missing+=(nodejs node-pg)
    else
        unpack_node=true
    fi
fi

if [ ${#missing[@]} -eq 0 ] && ! $unpack_node; then
    echo "install-deps: all dependencies present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: missing packages (${missing[*]} node-pg) and not root; run as root" >&2
        exit 1
    fi
fi
if $unpack_node; then
    echo "install-deps: unpacking node-pg into /usr/local/share/duroxide/nodejs (a Node.js from outside Debian is installed)"
    unpack_node_pg || { echo "install-deps: could not unpack node-pg" >&2; exit 1; }
    [ ${#missing[@]} -gt 0 ] || { echo "install-deps: done"; exit 0; }
fi

echo "install-deps: installing ${missing[*]} (with what they need; this can take minutes)"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update"
$SUDO apt-get update -qq
# One line per package as apt-get downloads it and sets it up, so that a long install shows
# where it is ("[12/87] setting up libboost-context1.74.0").
total=$($SUDO apt-get install -s --no-install-recommends "${missing[@]}" 2>/dev/null | grep -c '^Inst ' || true)
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" 2>&1 |
    awk -v total="$total" '
        /^Get:[0-9]+/ { got++; if (got % 10 == 0 || got == total) { printf "    downloaded %d/%d packages\n", got, total; fflush() } }
        /^Setting up / { n++; printf "    [%d/%d] setting up %s\n", n, total, $3; fflush() }
        /^E: / { print; fflush() }'; then
    echo "install-deps: apt-get install failed" >&2
    exit 1
fi
echo "install-deps: done"
