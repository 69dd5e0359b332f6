#!/usr/bin/python3
"""Prints the tables of a pipeline or scale run of scripts/bench.sh from its JSON
lines (one object per application run, as scripts/bench_pipeline.py writes them).

Rates: the median second and the best second of each run, per round and their
median over the rounds. Ratios are taken within a round, then the median over the
rounds is printed, so a round disturbed by other tenants moves both sides.

Usage: bench_report.py pipeline|scale RESULTS.jsonl
"""
import json
import statistics
import sys

# (a, b, target or note): the ratios a / b each mode prints.
PIPELINE = [("mcfwd-15", "ipv4mc-15", ""), ("mcfwd-15", "testpmd-15", ""),
            ("ipv4mc-15", "testpmd-15", "")] + [
    (n, "testpmd-100k", "") for n in ("mcfwd-10k-s0", "mcfwd-10k-s8", "mcfwd-100k-s0",
                                      "mcfwd-100k-s8")]
SCALE = [("mcfwd-100k-s8-huge", "l3fwd-100k-s8-huge", ">= 1.5"),
         ("mcfwd-100k-s8", "l3fwd-100k-s8", ">= 1.0"),
         ("mcfwd-1M-s1-huge", "l3fwd-1M-huge", ">= 1.2"),
         ("mcfwd-1M-s1", "l3fwd-1M", ">= 1.2"),
         ("mcfwd-1M-s0-huge", "l3fwd-1M-huge", ">= 1.2"),
         ("mcfwd-1M-s0", "l3fwd-1M", ">= 1.2"),
         ("mcfwd-15", "ipv4mc-15", ">= 4"),
         ("mcfwd-15", "testpmd-15", ">= 0.5"),
         ("mcfwd-v6-100k-s8", "mcfwd-100k-s8", ">= 0.77 (1/1.3)"),
         ("mcfwd-v6-100k-s8-huge", "mcfwd-100k-s8-huge", ">= 0.77 (1/1.3)"),
         ("mcfwd-v6-15", "mcfwd-15", ">= 0.77 (1/1.3)"),
         ("mcfwd-100k-s8-huge", "mcfwd-100k-s8", "(hugepages' gain)"),
         ("l3fwd-100k-s8-huge", "l3fwd-100k-s8", "(hugepages' gain)"),
         ("l3fwd-100k-s8", "testpmd-100k", "(share of io)"),
         ("mcfwd-100k-s8", "testpmd-100k", "(share of io)")]


def main():
    mode, path = sys.argv[1], sys.argv[2]
    runs = [json.loads(line) for line in open(path) if line.strip()]
    names = list(dict.fromkeys(r["name"] for r in runs))

    def col(name, key):  # one value per round (None: failed)
        return [r.get(key) for r in runs if r["name"] == name]

    def med(xs):
        xs = [x for x in xs if x]
        return statistics.median(xs) if xs else None

    def fmt(x):
        return "%.2f" % x if x else "-"

    def ratio(a, b, key):  # within each round, then the median over rounds
        xs = [x / y for x, y in zip(col(a, key), col(b, key)) if x and y]
        return statistics.median(xs) if xs else None

    print("| run | Mpps, median second (per round) | Mpps, best second (per round) "
          "| startup s (max) |")
    print("|---|---:|---:|---:|")
    for n in names:
        print("| %s | %s (%s) | %s (%s) | %s |" % (
            n, fmt(med(col(n, "mpps"))), ", ".join(fmt(x) for x in col(n, "mpps")),
            fmt(med(col(n, "best"))), ", ".join(fmt(x) for x in col(n, "best")),
            fmt(max([x for x in col(n, "startup_s") if x] or [0]))))
    print()
    if mode == "scale":
        print("l3fwd -E hits (over each window: packets sent on the net_null port / received;")
        print("a miss would go back out of the capture port):")
        for n in names:
            if n.startswith("l3fwd"):
                print("  %s: tx/rx %s, sent back %s" % (
                    n, ", ".join(str(x) for x in col(n, "tx_ratio")),
                    ", ".join(str(x) for x in col(n, "sent_back"))))
        print()
    pairs = SCALE if mode == "scale" else PIPELINE
    print("| ratio (median of the rounds' ratios) | median seconds | best seconds | target |")
    print("|---|---:|---:|---:|")
    for a, b, t in pairs:
        if a in names and b in names:
            print("| %s / %s | %s | %s | %s |" % (a, b, fmt(ratio(a, b, "mpps")),
                                                fmt(ratio(a, b, "best")), t))


if __name__ == "__main__":
    main()
