#!/usr/bin/env bash
# libFuzzer targets for the parsers of src/core (not part of scripts/test.sh):
#   codec       the JSON codec: events, work items, histories, error details, actions
#   tag_filter  duroxide.worker_tag_filter / worker_tag_filters
#   version     Semver::parse (orchestration versions)
#   workflow    workflow definitions (parse_definition_text) and cron expressions
# Each target starts from its checked-in seeds (test/fuzz/corpus/<target>/), runs for a bounded
# time under AddressSanitizer and UndefinedBehaviorSanitizer, and prints libFuzzer's figures.
# New inputs it finds stay in build/fuzz/corpus/<target>/ (not checked in); a crash leaves its
# input in build/fuzz/crashes/<target>/ and makes the script fail.
#
#   scripts/fuzz.sh                      every target, 60 s each
#   scripts/fuzz.sh codec 300            one target for 300 s
#   scripts/fuzz.sh all 0                every target over its seeds only (a quick check)
#   scripts/fuzz.sh codec FILE...        run a target on given inputs (reproduce a crash)
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
cd "$TOP"
TARGETS=(codec tag_filter version workflow)
target="${1:-all}"
seconds=60
files=()
if [ $# -ge 2 ]; then
    if [[ "$2" =~ ^[0-9]+$ ]]; then seconds="$2"; else files=("${@:2}"); fi
fi

die() { echo "fuzz: $*" >&2; exit 1; }

# clang with libFuzzer's runtime is installed on first use only (Debian 12: clang-19 and
# libclang-rt-19-dev). src/core needs clang 17 or later (class template argument deduction for
# aggregates), so Debian 12's default clang 14 is not enough.
CLANG_VERSION="${CLANG_VERSION:-19}"
CLANGXX="${CLANGXX:-clang++-$CLANG_VERSION}"
fuzzer_runtime() { "$CLANGXX" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true; }
if ! command -v "$CLANGXX" >/dev/null 2>&1 || [ ! -f "$(fuzzer_runtime)" ]; then
    echo "== installing clang-$CLANG_VERSION and libFuzzer (libclang-rt-$CLANG_VERSION-dev)"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends "clang-$CLANG_VERSION" "libclang-rt-$CLANG_VERSION-dev" >/dev/null; } ||
        die "could not install clang-$CLANG_VERSION"
fi

sources() {
    case "$1" in
    codec) echo test/fuzz/fuzz_codec.cpp src/core/codec/json_codec.cpp src/core/model/*.cpp ;;
    tag_filter) echo test/fuzz/fuzz_tag_filter.cpp src/core/routing/tag_filter.cpp ;;
    version) echo test/fuzz/fuzz_version.cpp ;;
    workflow) echo test/fuzz/fuzz_workflow.cpp src/core/workflow/definition.cpp \
        src/core/workflow/expression.cpp src/core/workflow/json.cpp src/core/schedule/cron.cpp ;;
    *) die "unknown target '$1' (targets: ${TARGETS[*]})" ;;
    esac
}

build() {
    local t="$1" bin="build/fuzz/fuzz_$1" srcs
    srcs="$(sources "$t")"
    mkdir -p build/fuzz
    # Rebuild when a source or header is newer than the binary.
    if [ -x "$bin" ] && [ -z "$(find $srcs src/core include/duroxide test/fuzz -newer "$bin" \
            -name '*.[ch]pp' 2>/dev/null | head -1)" ]; then
        return
    fi
    echo "== building fuzz_$t"
    # Debian 12's RapidJSON (1.1.0) has a copy assignment that clang 19 rejects even unused
    # (it assigns a const member); the fuzz build reads a copy of its headers without it.
    if [ ! -f build/fuzz/include/rapidjson/document.h ]; then
        mkdir -p build/fuzz/include
        cp -r /usr/include/rapidjson build/fuzz/include/
        sed -i 's/GenericStringRef& operator=(const GenericStringRef& rhs) { s = rhs.s; length = rhs.length; }/GenericStringRef\& operator=(const GenericStringRef\&) = delete;/' \
            build/fuzz/include/rapidjson/document.h
    fi
    # shellcheck disable=SC2086
    "$CLANGXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -fsanitize-recover=pointer-overflow -isystem build/fuzz/include -I include -I src -DRAPIDJSON_HAS_STDSTRING=1 \
        $srcs -o "$bin"
}

# A recoverable report that is not suppressed still stops the run.
export UBSAN_OPTIONS="suppressions=$TOP/test/fuzz/ubsan.supp:halt_on_error=1:print_stacktrace=1"

run() {
    local t="$1"; shift
    local bin="build/fuzz/fuzz_$t" work="build/fuzz/corpus/$t" crashes="build/fuzz/crashes/$t/"
    mkdir -p "$work" "$crashes"
    if [ $# -gt 0 ]; then "$bin" -artifact_prefix="$crashes" "$@"; return; fi
    echo "== fuzz_$t for ${seconds}s (seeds: test/fuzz/corpus/$t, $(ls test/fuzz/corpus/$t | wc -l) files)"
    local log="build/fuzz/$t.log" args=(-artifact_prefix="$crashes" -print_final_stats=1)
    if [ "$seconds" -eq 0 ]; then
        args+=(-runs=0)
    else
        args+=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=4096)
    fi
    local rc=0
    "$bin" "${args[@]}" "$work" "test/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    # The figures: executions, coverage (edges) and features, corpus size, and any crash.
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::number_of_executed_units|^stat::peak_rss_mb|^stat::new_units_added' "$log" |
        sed 's/^/   /'
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -n 20 | sed 's/^/   /'
        echo "fuzz: fuzz_$t FAILED (log: $log; inputs: $crashes)"
        return 1
    fi
    echo "   crashes: 0"
}

if [ "$target" = "all" ]; then
    list=("${TARGETS[@]}")
else
    sources "$target" >/dev/null
    list=("$target")
fi
failed=0
for t in "${list[@]}"; do
    build "$t"
    run "$t" "${files[@]}" || failed=1
done
[ "$failed" -eq 0 ]
