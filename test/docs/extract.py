#!/usr/bin/env python3
"""Extracts the code samples of docs/*.md for test/docs/run.sh.

A fenced block's info string says what it is:
  ```cpp             a complete translation unit: compiled as it is
  ```cpp fragment    declarations (functions, types) at namespace scope: compiled after the
                     prelude (test/docs/prelude.hpp: duroxide.hpp, the standard headers, and the
                     few helpers the samples leave to the reader)
  ```cpp statements  statements of an orchestration: compiled inside a function with
                     `duroxide::OrchestrationContext& ctx` and `const std::string& input`
  ```sql runnable    run, in document order, against a throwaway server (test/docs/setup.sql
                     first); other SQL blocks are illustrations and are not run
Every C++ block is compiled; a block of any other kind is left alone.

usage: extract.py OUTDIR DOC.md...   writes OUTDIR/cpp/*.cpp and OUTDIR/sql/*.sql, named
<doc>_<line>, and prints one line per file: "<kind> <file> <doc>:<line>".
"""
import os
import re
import sys

PRELUDE = '#include "prelude.hpp"\n'


def blocks(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+)\s*(\S*)\s*(.*)$", lines[i])
        if not m:
            i += 1
            continue
        fence, lang, flags = m.group(1), m.group(2).lower(), m.group(3).split()
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].startswith(fence):
            j += 1
        if j >= len(lines):
            sys.exit(f"{path}:{i + 1}: unclosed code block")
        yield i + 1, lang, flags, "\n".join(lines[start:j]) + "\n"
        i = j + 1


def main():
    out, docs = sys.argv[1], sys.argv[2:]
    os.makedirs(os.path.join(out, "cpp"), exist_ok=True)
    os.makedirs(os.path.join(out, "sql"), exist_ok=True)
    for doc in docs:
        stem = os.path.splitext(os.path.basename(doc))[0].replace("-", "_")
        for line, lang, flags, text in blocks(doc):
            where = f"{doc}:{line}"
            if lang in ("cpp", "c++", "cxx"):
                name = os.path.join(out, "cpp", f"{stem}_{line}.cpp")
                origin = f'#line {line + 1} "{doc}"\n'
                if "statements" in flags:
                    kind = "cpp-statements"
                    body = (PRELUDE + "std::string doc_sample(duroxide::OrchestrationContext& ctx,"
                            " const std::string& input) {\n    (void)ctx; (void)input;\n"
                            + origin + text + "    return {};\n}\n")
                elif "fragment" in flags:
                    kind = "cpp-fragment"
                    body = PRELUDE + origin + text
                elif flags:
                    sys.exit(f"{where}: unknown C++ block kind {' '.join(flags)!r} "
                             "(use fragment or statements)")
                else:
                    kind = "cpp"
                    body = origin + text
                with open(name, "w", encoding="utf-8") as f:
                    f.write(body)
                print(kind, name, where)
            elif lang == "sql" and "runnable" in flags:
                name = os.path.join(out, "sql", f"{stem}_{line:04d}.sql")
                with open(name, "w", encoding="utf-8") as f:
                    f.write(f"-- {where}\n" + text)
                print("sql", name, where)


if __name__ == "__main__":
    main()
