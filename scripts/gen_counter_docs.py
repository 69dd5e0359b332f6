#!/usr/bin/env python3
"""Writes the counter descriptions from the lists that declare them
(MCFWD_DATAPLANE_COUNTERS, MCFWD_PKTPARSE_DROP_REASONS, MCFWD_CONTROL_COUNTERS,
MCFWD_WIRE_DROP_REASONS, MCFWD_ROUTER_COUNTERS) into
  - docs/TELEMETRY.md's tables, between <!-- counters:begin --> and <!-- counters:end -->;
  - scripts/mcfwd-exporter's COUNTERS (its HELP texts and which counters are drops),
    between "# counters:begin" and "# counters:end".
Each row is a counter as /mcfwd/stats names it and its description; "drop" at the
start of a description marks a drop (the parser's and decoder's reasons all are).

  scripts/gen_counter_docs.py          rewrite both
  scripts/gen_counter_docs.py --check  exit 1 if either differs from the lists
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "TELEMETRY.md")
EXPORTER = os.path.join(ROOT, "scripts", "mcfwd-exporter")
BEGIN, END = "<!-- counters:begin -->", "<!-- counters:end -->"
PY_BEGIN, PY_END = "# counters:begin", "# counters:end"


def parse(rel, macro):
    s = open(os.path.join(ROOT, rel)).read()
    a = s.index("#define " + macro)
    body = s[a:s.index("\n\n", a)].replace("\\\n", " ")
    out = []
    for m in re.finditer(r'X\((\w+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', body):
        desc = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))).replace("\\'", "'")
        out.append((m.group(1), desc))
    return out


def rows():
    """{"dataplane" | "control" | "router": [(name as /mcfwd/stats shows it, description)]}"""
    return {
        "dataplane": parse("drivers/dataplane/counters.hpp", "MCFWD_DATAPLANE_COUNTERS")
        + [("parse_" + n, "drop: " + d)
           for n, d in parse("lib/pktparse/parse.hpp", "MCFWD_PKTPARSE_DROP_REASONS")],
        "control": parse("lib/control/control_plane.hpp", "MCFWD_CONTROL_COUNTERS")
        + [("decode_" + n, "drop: " + d)
           for n, d in parse("lib/wire/drop_reason.hpp", "MCFWD_WIRE_DROP_REASONS")],
        "router": parse("lib/router/router_engine.hpp", "MCFWD_ROUTER_COUNTERS"),
    }


def tables():
    lines = []
    for table, rs in rows().items():
        lines += ["| `%s` counter | meaning |" % table, "|---|---|"]
        lines += ["| `%s` | %s |" % (n, d) for n, d in rs]
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def exporter_table():
    lines = ["# Written by scripts/gen_counter_docs.py from the lists in the C++ headers; do",
             "# not edit (the unit suite's counter-docs test checks it).",
             "COUNTERS = {"]
    for table, rs in rows().items():
        lines.append("    %r: [" % table)
        lines += ["        (%r, %r)," % (n, d) for n, d in rs]
        lines.append("    ],")
    lines.append("}")
    return "\n".join(lines) + "\n"


def rewrite(path, begin, end, text):
    """(current file text, the text with begin..end replaced)."""
    old = open(path).read()
    a, b = old.index(begin) + len(begin), old.index(end)
    return old, old[:a] + "\n" + text + old[b:]


def main():
    check = "--check" in sys.argv[1:]
    status = 0
    for path, begin, end, text in ((DOC, BEGIN, END, tables()),
                                   (EXPORTER, PY_BEGIN, PY_END, exporter_table())):
        old, new = rewrite(path, begin, end, text)
        if not check:
            open(path, "w").write(new)
        elif new != old:
            print("%s: counter descriptions differ from the lists; run %s"
                  % (os.path.relpath(path, ROOT), sys.argv[0]))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
