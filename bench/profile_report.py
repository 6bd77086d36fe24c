#!/usr/bin/env python3
"""Summarises one workload's `perf script` output for bench/profile.sh, per process role.

    profile_report.py PERF_SCRIPT_TXT ROLES_FILE N_WORKFLOWS [FOLDED_PREFIX [SUMMARY_FILE WORKLOAD]]

PERF_SCRIPT_TXT: `perf script -F pid,period,ip,sym,dso --no-inline` of a cpu-clock recording
(period = nanoseconds of CPU). ROLES_FILE: lines "pid role" (dispatcher, activity worker,
client backend, ...). Prints, per role: CPU per workflow, the share by DSO of the sampled leaf,
the top symbols (self), the share of the cost centres that matter (inclusive: a sample counts
for a centre when any frame of its stack matches) and the store operations (inclusive, the
innermost duroxide::store frame). With FOLDED_PREFIX, writes FOLDED_PREFIX.<role>.folded
(root;...;leaf count), the input of flamegraph.pl. With SUMMARY_FILE, appends one line per
role to it (the summary table bench/profile_run.sh prints last).
"""
import collections
import re
import sys

TOP_SYMBOLS = 15
# The centres of the summary line, by label prefix, with their column names.
SUMMARY_CENTRES = [("SPI statements", "SPI"), ("  executor start-up", "ExecStart"),
                   ("commit", "commit"), ("notification trigger", "notify trg"),
                   ("JSON: duroxide", "codec"), ("libcrypto", "crypto"),
                   ("duroxide engine", "engine")]

# Cost centres, inclusive. Each is (label, regular expression matched against every frame's
# symbol of a sample, optional expression on the DSO).
CENTRES = [
    ("SPI statements (all)", r"^(SPI_execute|SPI_execute_plan|SPI_execute_with_args|_SPI_execute_plan|SPI_cursor)", None),
    ("  executor start-up (ExecutorStart)", r"^(standard_)?ExecutorStart$|^InitPlan$|^ExecInitNode$", None),
    ("  executor run (ExecutorRun)", r"^(standard_)?ExecutorRun$", None),
    ("  executor end (ExecutorEnd)", r"^(standard_)?ExecutorEnd$|^ExecEndNode$", None),
    ("  plan cache / planning", r"^(GetCachedPlan|RevalidateCachedQuery|pg_plan_query|planner|standard_planner|BuildCachedPlan)$", None),
    ("  parse / analyze", r"^(raw_parser|parse_analyze\w*|pg_analyze_and_rewrite\w*|pg_parse_query)$", None),
    ("index inserts", r"^(ExecInsertIndexTuples|btinsert|_bt_doinsert)$", None),
    ("heap insert/update/delete", r"^(heap_insert|heap_update|heap_delete|heap_multi_insert|simple_heap_\w+)$", None),
    ("index scans", r"^(index_getnext_slot|index_getnext_tid|btgettuple|_bt_first|_bt_next)$", None),
    ("WAL insert (XLogInsert)", r"^XLogInsert$", None),
    ("transaction start (StartTransaction)", r"^StartTransaction(Command)?$", None),
    ("commit (CommitTransaction)", r"^CommitTransaction(Command)?$", None),
    ("  WAL flush (XLogFlush)", r"^XLogFlush$", None),
    ("snapshots (GetSnapshotData)", r"^GetSnapshotData$", None),
    ("heavyweight locks (lmgr)", r"^(LockAcquireExtended|LockRelease|LockReleaseAll|LockAcquire)$", None),
    ("catalog / relcache lookups", r"^(SearchCatCache\w*|SearchSysCache\w*|RelationIdGetRelation|relation_open|RelationBuildDesc)$", None),
    ("memory contexts (palloc/AllocSet)", r"^(AllocSet\w+|palloc\w*|pfree|MemoryContext\w+)$", None),
    ("statistics (pgstat)", r"^pgstat_\w+$", None),
    ("wake-ups: latch, notify, signals", r"^(SetLatch|WaitLatch\w*|WaitEventSetWait\w*|Async_Notify|PreCommit_Notify|AtCommit_Notify|SignalBackends|ProcessCompletedNotifies|pg_notify|ConditionVariable\w+|kill|__kill|epoll_wait)$", None),
    ("notification trigger (plpgsql)", r"^(plpgsql_exec_trigger|pg_notify)$", None),
    ("JSON: duroxide codec / rapidjson", r"^duroxide::core::codec::|rapidjson::|^duroxide::core::dispatch::messages_json", None),
    ("JSON: PostgreSQL json/jsonb", r"^(json\w*|jsonb\w*|pg_parse_json\w*|datum_to_json\w*|to_json\w*|JsonbValue\w*|pushJsonbValue\w*|JsonbDeepContains|findJsonbValue\w*)$", None),
    ("libcrypto (uuid tokens, sha256)", None, r"libcrypto"),
    ("duroxide engine (duroxide::core, outside SPI)", "ENGINE", None),
    ("fiber switches (boost.context)", None, r"libboost_context"),
    ("plpgsql (client procedures, triggers)", r"^plpgsql_\w+|^exec_stmt\w*$", None),
    ("functions with SET clauses (fmgr_security_definer)", r"^fmgr_security_definer$", None),
    ("GUC save/restore (set_config_option, AtEOXact_GUC)", r"^(AtEOXact_GUC|set_config_option\w*|NewGUCNestLevel|ProcessGUCArray)$", None),
]
CENTRES = [(label, sym if sym == "ENGINE" else re.compile(sym) if sym else None,
            re.compile(dso) if dso else None) for label, sym, dso in CENTRES]
# Frames that only pass through to a store operation: the operation is their caller.
PASS_THROUGH = re.compile(r"^duroxide::store::(Statements::\w+|text_array)$")


def in_engine(frames):
    """The sample is the engine's own work: the innermost duroxide.so frame is in
    duroxide::core (not the codec) and nothing of PostgreSQL lies between it and the leaf."""
    for sym, dso in frames:
        kind = dso_class(dso)
        if kind in ("libc", "libstdc++", "boost", "duroxide_bench.so (plugin)", "kernel"):
            continue
        if kind != "duroxide.so":
            return False
        return sym.startswith("duroxide::core::") and not sym.startswith("duroxide::core::codec::")
    return False

FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")
HEADER = re.compile(r"^\s*(\d+)\s+(\d+)\s*$")


def strip_templates(name):
    """duroxide::pg::call<...lambda...> -> duroxide::pg::call; drops argument lists."""
    out, depth = [], 0
    name = name.replace("(anonymous namespace)::", "")
    for ch in name:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    short = "".join(out)
    short = short.replace("[abi:cxx11]", "")
    return short.strip() or name


def dso_class(dso):
    base = dso.rsplit("/", 1)[-1]
    if base == "postgres":
        return "postgres"
    if base.startswith("duroxide.so"):
        return "duroxide.so"
    if base.startswith("duroxide_bench"):
        return "duroxide_bench.so (plugin)"
    if "kernel" in base or base.startswith("[k") or dso.startswith("[kernel"):
        return "kernel"
    for key, label in (("libc.so", "libc"), ("libm.so", "libc"), ("libcrypto", "libcrypto"),
                       ("libssl", "libcrypto"), ("libboost", "boost"), ("libstdc++", "libstdc++"),
                       ("plpgsql", "plpgsql.so"), ("pg_stat_statements", "pg_stat_statements.so")):
        if key in base:
            return label
    if base in ("[unknown]", "unknown", ""):
        return "unknown"
    return base


def parse(path):
    """Yields (pid, period_ns, frames leaf first: [(symbol, dso)])."""
    pid = period = None
    frames = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if pid is not None:
                    yield pid, period, frames
                pid, frames = None, []
                continue
            m = HEADER.match(line)
            if m and not line.startswith("\t"):
                if pid is not None:
                    yield pid, period, frames
                pid, period, frames = int(m.group(1)), int(m.group(2)), []
                continue
            m = FRAME.match(line)
            if m and pid is not None:
                frames.append((m.group(2), m.group(3)))
    if pid is not None:
        yield pid, period, frames


def leaf_label(frames):
    """The leaf symbol; a static function PostgreSQL's stripped binary cannot name is shown as
    '(static) in CALLER', its nearest named caller."""
    sym, dso = frames[0]
    if sym != "[unknown]":
        return strip_templates(sym), dso_class(dso)
    for s, _ in frames[1:]:
        if s != "[unknown]":
            return "(static) in " + strip_templates(s), dso_class(dso)
    return "[unknown]", dso_class(dso)


def store_operation(frames):
    """The innermost duroxide::store (or sql_api) frame that is not a pass-through helper;
    failing that, the innermost duroxide::runtime frame."""
    runtime = None
    for sym, _ in frames:
        short = strip_templates(sym)
        if short.startswith("duroxide::store::") or short.startswith("duroxide::sql_api::"):
            if PASS_THROUGH.match(short):
                continue
            return short.split("::", 1)[1]
        if runtime is None and short.startswith("duroxide::runtime::"):
            runtime = short.split("::", 1)[1]
    return runtime


def main():
    perf_txt, roles_file, n = sys.argv[1], sys.argv[2], max(1, int(sys.argv[3]))
    folded_prefix = sys.argv[4] if len(sys.argv) > 4 else None
    summary_file = sys.argv[5] if len(sys.argv) > 6 else None
    workload = sys.argv[6] if len(sys.argv) > 6 else ""
    roles = {}
    with open(roles_file) as f:
        for line in f:
            parts = line.split(None, 1)
            if len(parts) == 2:
                roles[int(parts[0])] = parts[1].strip()
    order = []
    for r in roles.values():
        if r not in order:
            order.append(r)

    stats = {r: {"ns": 0, "samples": 0, "dso": collections.Counter(), "self": collections.Counter(),
                 "centre": collections.Counter(), "store": collections.Counter(),
                 "store_centre": collections.defaultdict(collections.Counter),
                 "folded": collections.Counter()} for r in order}
    for pid, period, frames in parse(perf_txt):
        role = roles.get(pid)
        if role is None or not frames:
            continue
        s = stats[role]
        s["ns"] += period
        s["samples"] += 1
        s["dso"][dso_class(frames[0][1])] += period
        s["self"][leaf_label(frames)] += period
        syms = [sym for sym, _ in frames]
        hit = []
        for label, sym_re, dso_re in CENTRES:
            if sym_re == "ENGINE":
                matched = in_engine(frames)
            else:
                matched = bool(sym_re and any(sym_re.search(x) for x in syms))
            if matched or \
               (dso_re and dso_re.search(frames[0][1])):
                s["centre"][label] += period
                hit.append(label)
        op = store_operation(frames) or "(no store or runtime frame: SQL-level code, or a cut stack)"
        s["store"][op] += period
        for label in hit:
            s["store_centre"][op][label] += period
        if folded_prefix:
            s["folded"][";".join(strip_templates(x) for x in reversed(syms)).replace(" ", "_")] += 1

    for role in order:
        s = stats[role]
        pids = " ".join(str(p) for p, r in roles.items() if r == role)
        print(f"--- role: {role} (pids {pids})")
        if s["samples"] == 0:
            print("    no samples (idle through the run)")
            continue
        total = s["ns"]
        print(f"    samples {s['samples']}, CPU {total / 1e6:.1f} ms, "
              f"{total / 1e3 / n:.1f} us CPU per workflow, {s['samples'] / n:.2f} samples per workflow")
        print("    share by DSO (leaf frame):")
        print("      " + ", ".join(f"{d} {100 * v / total:.1f}%" for d, v in s["dso"].most_common()))
        print(f"    top {TOP_SYMBOLS} symbols (self):")
        for (sym, dso), v in s["self"].most_common(TOP_SYMBOLS):
            print(f"      {100 * v / total:5.1f}%  {v / 1e3 / n:7.1f} us/wf  {sym[:100]}  [{dso}]")
        print("    cost centres (inclusive; a sample counts in every centre its stack passes through):")
        for label, _, _ in CENTRES:
            v = s["centre"].get(label, 0)
            if v:
                print(f"      {100 * v / total:5.1f}%  {v / 1e3 / n:7.1f} us/wf  {label}")
        print("    store / SQL API operations (inclusive, innermost duroxide::store or sql_api frame),"
              " with their main centres:")
        for op, v in s["store"].most_common(10):
            sub = s["store_centre"][op]
            parts = [f"{label.strip().split(' (')[0]} {100 * c / v:.0f}%"
                     for label, c in sub.most_common()
                     if not label.startswith("SPI statements") and c * 10 >= v][:4]
            print(f"      {100 * v / total:5.1f}%  {v / 1e3 / n:7.1f} us/wf  {op[:70]}"
                  + (f"  ({', '.join(parts)})" if parts else ""))
        if summary_file:
            cells = [workload, role, f"{total / 1e3 / n:.0f}"]
            for prefix, _ in SUMMARY_CENTRES:
                v = sum(c for label, c in s["centre"].items() if label.startswith(prefix))
                cells.append(f"{100 * v / total:.0f}%")
            (sym, _), v = s["self"].most_common(1)[0]
            cells.append(f"{sym[:60]} {100 * v / total:.1f}%")
            with open(summary_file, "a") as f:
                f.write("|".join(cells) + "\n")
        if folded_prefix:
            path = f"{folded_prefix}.{role.replace(' ', '_')}.folded"
            with open(path, "w") as f:
                for stack, count in s["folded"].items():
                    f.write(f"{stack} {count}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
