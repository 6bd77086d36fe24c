# Progress lines for scripts/test.sh and scripts/demo.sh (sourced, not run).
#
#   step "building duroxide"              prints "[3/7] building duroxide" (STEP_TOTAL steps)
#   make_with_progress LOG [MAKE ARGS]    runs make, output to LOG, and shows "compiling N/M"
#                                         while it works (M: what make would compile)

STEP_NO=0
STEP_TOTAL="${STEP_TOTAL:-0}"
step() {
    STEP_NO=$((STEP_NO + 1))
    if [ "$STEP_TOTAL" -gt 0 ]; then echo "[$STEP_NO/$STEP_TOTAL] $*"; else echo "== $*"; fi
}

# A line that rewrites itself on a terminal; elsewhere (CI logs) one line each time the count
# passes a multiple of 10, and the last.
_PROGRESS_BUCKET=-1
_progress_line() { # text final(0|1) n
    if [ -t 1 ]; then
        printf '\r    %s\033[K' "$1"
        [ "$2" -eq 1 ] && printf '\n'
    elif [ "$2" -eq 1 ] || [ $(( $3 / 10 )) -ne "$_PROGRESS_BUCKET" ]; then
        _PROGRESS_BUCKET=$(( $3 / 10 ))
        printf '    %s\n' "$1"
    fi
    return 0
}

make_with_progress() { # LOG make-args...
    local log="$1"; shift
    # What make would compile: its dry run's compiler invocations with -c.
    local total
    total=$(make -n "$@" 2>/dev/null | grep -cE '(^| )(g\+\+|c\+\+|clang\+\+|gcc|cc)( .*)? -c ' || true)
    make "$@" >>"$log" 2>&1 &
    local pid=$! done_count=0 seen=-1 base
    _PROGRESS_BUCKET=-1
    base=$(grep -cE ' -c .*\.(cpp|c)( |$)' "$log" 2>/dev/null || true)
    while kill -0 "$pid" 2>/dev/null; do
        done_count=$(( $(grep -cE ' -c .*\.(cpp|c)( |$)' "$log" 2>/dev/null || true) - ${base:-0} ))
        if [ "$total" -gt 0 ] && [ "$done_count" -ne "$seen" ]; then
            seen=$done_count
            _progress_line "compiling $done_count/$total" 0 "$done_count"
        fi
        sleep 1
    done
    local rc=0
    wait "$pid" || rc=$?
    if [ "$total" -gt 0 ]; then
        done_count=$(( $(grep -cE ' -c .*\.(cpp|c)( |$)' "$log" 2>/dev/null || true) - ${base:-0} ))
        _progress_line "compiled $done_count/$total" 1 "$done_count"
    else
        echo "    up to date"
    fi
    return $rc
}
