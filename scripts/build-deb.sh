#!/usr/bin/env bash
# Builds the Debian package postgresql-<major>-duroxide (debian/, pg_buildext) from a clean copy
# of this checkout and puts the .deb (and its .buildinfo and .changes) into OUTDIR.
#
#   scripts/build-deb.sh [--objects-from DIR] [--keep-source DIR] OUTDIR
#
# The copy holds the files git knows of (tracked, and new files not ignored: uncommitted edits
# are packaged, build products are not), so a build in the working tree cannot leak into the
# package. It runs `dpkg-buildpackage -us -uc -b` (unsigned, binary only) in the copy, with
# DEB_BUILD_OPTIONS parallel=2 unless DEB_BUILD_OPTIONS says otherwise, and prints each step
# and the compile's progress; the full log is OUTDIR/build-deb.log. Needs the Build-Depends of
# debian/control (scripts/install-deps.sh installs them); builds for the PostgreSQL majors of
# debian/pgversions with their system pg_config (/usr/lib/postgresql/N/bin), whatever PATH says.
#
#   --objects-from DIR   seed the copy with the compiled objects (src/**/*.o, *.d) of the checkout
#                        DIR, so that make compiles only what is out of date (test/tap/032 uses
#                        it after scripts/test.sh's build: the same sources, flags and headers;
#                        the library is still linked, installed and packaged by the build)
#   --keep-source DIR    leave the cleaned source copy in DIR (to run `make installcheck` from it)
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
die() { echo "build-deb: $*" >&2; exit 1; }

usage="usage: scripts/build-deb.sh [--objects-from DIR] [--keep-source DIR] OUTDIR"
objects_from=""; keep_source=""
while [ $# -gt 0 ]; do
    case "$1" in
        --objects-from) [ $# -ge 2 ] || die "$usage"; objects_from="$(cd "$2" && pwd)"; shift 2 ;;
        --keep-source) [ $# -ge 2 ] || die "$usage"; keep_source="$2"; shift 2 ;;
        -*) die "$usage" ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || die "$usage"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
LOG="$OUT/build-deb.log"
: >"$LOG"

n=0
step() { n=$((n + 1)); echo "[$n/5] $*"; }

# One version everywhere: the control file's default_version is the Debian upstream version.
version="$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$TOP/duroxide.control")"
deb_version="$(cd "$TOP" && dpkg-parsechangelog -S Version)"
[ "${deb_version%-*}" = "$version" ] ||
    die "debian/changelog says $deb_version, duroxide.control says $version (add a changelog entry: dch -v $version-1)"
meta_versions="$(perl -MJSON::PP -e 'local $/; my $m = decode_json(<STDIN>);
    print "$m->{version} $m->{provides}{duroxide}{version}"' <"$TOP/META.json")" ||
    die "META.json is not valid JSON"
[ "$meta_versions" = "$version $version" ] ||
    die "META.json says $meta_versions (version, provides.duroxide.version), duroxide.control says $version"

step "copying the tree (git ls-files) to a clean directory"
work="$(mktemp -d "${TMPDIR:-/tmp}/duroxide-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
src="$work/duroxide-$version"
mkdir -p "$src"
if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1 ||
   git -c safe.directory="$TOP" -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
    # safe.directory: the test suite runs this as the server's OS user in a checkout owned by root.
    (cd "$TOP" && git -c safe.directory="$TOP" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$src"
else # a release tarball: everything but build products
    (cd "$TOP" && tar --exclude=./build --exclude='*.o' --exclude='*.so' --exclude='*.d' \
        --exclude='*.bc' --exclude=./debian/tmp -cf - .) | tar -xf - -C "$src"
fi
echo "    $(find "$src" -type f | wc -l) files in $src"
if [ -n "$objects_from" ]; then
    # Objects and their dependency files with their times, so that make's timestamps decide.
    (cd "$objects_from" && find src \( -name '*.o' -o -name '*.d' \) -print0 | tar --null -T - -cf -) |
        tar -xf - -C "$src"
    echo "    $(find "$src/src" -name '*.o' | wc -l) compiled objects from $objects_from"
fi

step "checking the build dependencies (dpkg-checkbuilddeps)"
(cd "$src" && dpkg-checkbuilddeps) 2>&1 | tee -a "$LOG" ||
    die "missing build dependencies: run scripts/install-deps.sh"

step "building (dpkg-buildpackage -us -uc -b; log: $LOG)"
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=2}"
# With seeded objects, no clean before the build (it would delete them).
buildpackage=(dpkg-buildpackage -us -uc -b)
[ -z "$objects_from" ] || buildpackage+=(--no-pre-clean)
(cd "$src" && "${buildpackage[@]}") >>"$LOG" 2>&1 &
pid=$!
# What there is to compile: the layers' C++ files, once per PostgreSQL major.
majors=$(cd "$src" && pg_buildext supported-versions | wc -l)
total=$(( $(find "$src/src" -name '*.cpp' | wc -l) * majors ))
bucket=-1 # one line each time the count passes a multiple of 10
while kill -0 "$pid" 2>/dev/null; do
    done_count=$(grep -cE '(g\+\+|c\+\+).* -c .*\.cpp( |$)' "$LOG" || true)
    if [ $((done_count / 10)) -ne "$bucket" ]; then
        bucket=$((done_count / 10))
        echo "    compiling $done_count/$total"
    fi
    sleep 2
done
rc=0; wait "$pid" || rc=$?
if [ "$rc" -ne 0 ]; then
    tail -n 40 "$LOG" >&2
    die "dpkg-buildpackage failed (full log: $LOG)"
fi
echo "    compiled $(grep -cE '(g\+\+|c\+\+).* -c .*\.cpp( |$)' "$LOG" || true) files"

step "collecting the packages into $OUT"
shopt -s nullglob
built=("$work"/*.deb "$work"/*.ddeb "$work"/*.buildinfo "$work"/*.changes)
[ ${#built[@]} -gt 0 ] || die "dpkg-buildpackage made no package (log: $LOG)"
for f in "${built[@]}"; do mv -f "$f" "$OUT/"; echo "    $(basename "$f")"; done

if [ -n "$keep_source" ]; then
    rm -rf "$keep_source"; mkdir -p "$(dirname "$keep_source")"
    mv "$src" "$keep_source"
    echo "    source copy kept in $keep_source"
fi

step "done"
for deb in "${built[@]}"; do
    case "$deb" in *.deb) ;; *) continue ;; esac
    deb="$OUT/$(basename "$deb")"
    echo "    $(basename "$deb"): $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version), $(du -k "$deb" | cut -f1) KiB"
done
