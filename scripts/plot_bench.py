#!/usr/bin/python3
"""Plots the benchmark results kept by scripts/bench.sh into one PNG.

Usage: plot_bench.py JSON_DIR OUT.png
       plot_bench.py --scale BEFORE.jsonl AFTER.jsonl OUT.png   (two scale runs)
Reads JSON_DIR/pipeline.jsonl (bench.sh pipeline), scale.jsonl (bench.sh scale:
mcfwd against testpmd, ipv4_multicast and l3fwd -E, --no-huge and hugepages),
table.json and join_latency.json (Google Benchmark output of bench.sh table /
join_latency, median aggregates); a missing file leaves its panel empty with a
note.
Needs python3-matplotlib (Debian); run with /usr/bin/python3.
"""
import json
import os
import re
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load_gbench(path):
    """{run_name: median aggregate entry}."""
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        data = json.load(f)
    return {b["run_name"]: b for b in data["benchmarks"]
            if b.get("aggregate_name") == "median" or b.get("run_type") == "iteration"}


def missing(ax, what):
    ax.text(0.5, 0.5, "no %s results" % what, ha="center", va="center", transform=ax.transAxes)


def rates(path):
    """{run name: [Mpps of each round]} from a bench_pipeline.py JSON-lines file."""
    by = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if r.get("mpps"):
                    by.setdefault(r["name"], []).append(r["mpps"])
    return by


def color_of(name):
    return ("tab:gray" if name.startswith("testpmd") else
            "tab:orange" if name.startswith("ipv4mc") else
            "tab:green" if name.startswith("l3fwd") else
            "tab:cyan" if "-v6-" in name else "tab:blue")


def rate_bars(ax, by, names):
    med = [statistics.median(by[n]) for n in names]
    lo = [m - min(by[n]) for n, m in zip(names, med)]
    hi = [max(by[n]) - m for n, m in zip(names, med)]
    bars = ax.bar(range(len(names)), med, yerr=[lo, hi], color=[color_of(n) for n in names],
                  capsize=3)
    for b, n in zip(bars, names):
        if n.endswith("-huge"):
            b.set_hatch("//")
    return med


def rates_panel(ax, path, title, what, ylabel):
    """Bars of each run's median Mpps over its rounds (whiskers: min-max), labelled."""
    ax.set_title(title)
    if not os.path.exists(path):
        return missing(ax, what)
    by = rates(path)
    names = list(by)
    med = rate_bars(ax, by, names)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    for i, m in enumerate(med):
        ax.text(i, m, "%.1f" % m, ha="center", va="bottom", fontsize=7)


def pipeline_panel(ax, path):
    rates_panel(ax, path,
                "Pipeline: input rate, one forwarding core\n(net_pcap infinite_rx -> net_null)",
                "pipeline", "Mpps (median of rounds; bars: min-max)")


def scale_panel(ax, path, label=""):
    rates_panel(ax, path,
                "Scale (issue 11)%s: mcfwd (blue, IPv6 cyan) against testpmd io (gray), "
                "ipv4_multicast (orange), l3fwd -E (green); hatched: hugepages" % label,
                "scale", "Mpps in (median of rounds; bars: min-max)")


def table_panel(ax, path):
    ax.set_title("Table lookup + source filter, ns/packet\n(solid: one at a time, dashed: bursts of 32)")
    runs = load_gbench(path)
    pat = re.compile(r"(BM_LookupAccept\w*)/groups:(\d+)/sources:(\d+)/every:(\d+)$")
    series = {}
    for name, b in runs.items():
        m = pat.match(name)
        if m:
            kind, g, s, every = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
            # items_per_second counts packets (a burst iteration is 32 of them).
            series.setdefault((kind, s), []).append((g, 1e9 / b["items_per_second"], every))
    if not series:
        return missing(ax, "table")
    colors = {0: "tab:green", 8: "tab:blue", 64: "tab:purple", 1024: "tab:red"}
    for (kind, s), pts in sorted(series.items()):
        pts.sort()
        style = "-" if kind == "BM_LookupAccept" else "--"
        label = "%d sources" % s if kind == "BM_LookupAccept" else None
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", color=colors.get(s),
                label=label)
        for g, t, every in pts:
            if every != 1:
                ax.annotate("*", (g, t), fontsize=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("groups in the table (* 1M x 1024: 1 group in 32 has 1024 sources)")
    ax.set_ylabel("ns per packet (CPU)")
    ax.legend(fontsize=8)


def memory_panel(ax, path):
    ax.set_title("Table memory per (S,G)")
    runs = load_gbench(path)
    pat = re.compile(r"BM_LookupAccept/groups:(\d+)/sources:(\d+)/every:1$")
    pts = []
    for name, b in runs.items():
        m = pat.match(name)
        if m and "B_per_SG" in b:
            pts.append((int(m.group(2)), int(m.group(1)), b["B_per_SG"], b.get("heap_B_per_SG")))
    if not pts:
        return missing(ax, "memory")
    pts.sort()
    labels = ["%s x %d" % (("1M" if g == 10**6 else "100k" if g == 10**5 else "1k" if g == 1000
                            else str(g)), s) for s, g, _, _ in pts]
    ax.bar(range(len(pts)), [p[2] for p in pts], color="tab:blue", label="memory_bytes()")
    ax.plot(range(len(pts)), [p[3] or 0 for p in pts], "k_", markersize=14, label="heap in use")
    ax.axhline(64, color="tab:red", linestyle=":", label="target 64 B")
    ax.set_xticks(range(len(pts)))
    ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("bytes per (S,G)")
    ax.legend(fontsize=8)


def latency_panel(ax, path):
    ax.set_title("Join to first packet of the (S,G)\n(1,000 joins per repetition)")
    runs = load_gbench(path)
    b = next((v for k, v in runs.items() if k.startswith("BM_JoinToFirstPacket")), None)
    if b is None:
        return missing(ax, "join latency")
    keys = ["p50_us", "p99_us", "max_us", "p99_undisturbed_us", "burst_us"]
    vals = [b.get(k, 0) for k in keys]
    ax.bar(range(len(keys)), vals,
           color=["tab:blue", "tab:blue", "tab:gray", "tab:cyan", "tab:green"])
    ax.set_yscale("log")
    target = 50 + b.get("burst_us", 0)
    ax.axhline(target, color="tab:red", linestyle=":", label="target: 50 us + one burst")
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(["p50", "p99", "max", "p99 of %d\nundisturbed" % (1000 - b.get("disturbed", 0)),
                        "one burst"], fontsize=8)
    ax.set_ylabel("microseconds (median of repetitions)")
    for i, v in enumerate(vals):
        ax.text(i, v, "%.1f" % v, ha="center", va="bottom", fontsize=8)
    ax.legend(fontsize=8)


def scale_before_after(before, after, out):
    """Two scale panels, one above the other, on the same y axis."""
    fig = plt.figure(figsize=(13, 9))
    top = fig.add_subplot(2, 1, 1)
    scale_panel(top, before, ", before")
    bottom = fig.add_subplot(2, 1, 2, sharey=top)
    scale_panel(bottom, after, ", after")
    fig.suptitle("scripts/bench.sh scale, before and after issue 11 (shared 2-core VM)")
    fig.tight_layout()
    fig.savefig(out, dpi=90)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--scale":
        return scale_before_after(sys.argv[2], sys.argv[3], sys.argv[4])
    d, out = sys.argv[1], sys.argv[2]
    fig = plt.figure(figsize=(13, 14))
    grid = fig.add_gridspec(3, 2)
    pipeline_panel(fig.add_subplot(grid[0, 0]), os.path.join(d, "pipeline.jsonl"))
    table_panel(fig.add_subplot(grid[0, 1]), os.path.join(d, "table.json"))
    latency_panel(fig.add_subplot(grid[1, 0]), os.path.join(d, "join_latency.json"))
    memory_panel(fig.add_subplot(grid[1, 1]), os.path.join(d, "table.json"))
    scale_panel(fig.add_subplot(grid[2, :]), os.path.join(d, "scale.jsonl"))
    fig.suptitle("mcfwd benchmarks (scripts/bench.sh; shared 2-core VM, noisy)")
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    main()
