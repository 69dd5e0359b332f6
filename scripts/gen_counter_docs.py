#!/usr/bin/env python3
"""Writes the counter tables of docs/TELEMETRY.md from the lists that declare them
(MCFWD_CONTROL_COUNTERS, MCFWD_WIRE_DROP_REASONS, MCFWD_ROUTER_COUNTERS), between
the markers <!-- counters:begin --> and <!-- counters:end -->.

  scripts/gen_counter_docs.py          rewrite the tables
  scripts/gen_counter_docs.py --check  exit 1 if the doc differs from the lists
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "TELEMETRY.md")
BEGIN, END = "<!-- counters:begin -->", "<!-- counters:end -->"


def parse(rel, macro):
    s = open(os.path.join(ROOT, rel)).read()
    a = s.index("#define " + macro)
    body = s[a:s.index("\n\n", a)].replace("\\\n", " ")
    out = []
    for m in re.finditer(r'X\((\w+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', body):
        desc = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))).replace("\\'", "'")
        out.append((m.group(1), desc))
    return out


def tables():
    lines = ["| `control` counter | meaning |", "|---|---|"]
    for n, d in parse("lib/control/control_plane.hpp", "MCFWD_CONTROL_COUNTERS"):
        lines.append("| `%s` | %s |" % (n, d))
    for n, d in parse("lib/wire/drop_reason.hpp", "MCFWD_WIRE_DROP_REASONS"):
        lines.append("| `decode_%s` | drop: %s |" % (n, d))
    lines += ["", "| `router` counter | meaning |", "|---|---|"]
    for n, d in parse("lib/router/router_engine.hpp", "MCFWD_ROUTER_COUNTERS"):
        lines.append("| `%s` | %s |" % (n, d))
    return "\n".join(lines) + "\n"


def main():
    doc = open(DOC).read()
    a, b = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    new = doc[:a] + "\n" + tables() + doc[b:]
    if "--check" in sys.argv[1:]:
        if new != doc:
            print("docs/TELEMETRY.md: counter tables differ from the lists; run %s" % sys.argv[0])
            return 1
        return 0
    open(DOC, "w").write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
