#!/usr/bin/python3
"""scripts/mcfwd-exporter's rendering, on telemetry answers recorded from a real mcfwd
(snapshot.json: `mcfwd-exporter --snapshot` of tests/integration/prometheus_test.py's
setup after its replay, a downstream port added). No mcfwd, no EAL.

Checks:
  - every family has HELP and TYPE before its samples; counters end in _total,
    nothing else does; no (name, labels) twice;
  - every counter mcfwd published in the recording appears exactly once: the data
    path's summed and per lcore, control, each downstream port's router (per port
    and family), as its own family or as a reason of the subsystem's drops family;
  - values are mcfwd's: forwarded, delivered per receiver, ethdev rx_packets per
    port name, a NIC filter's state; per-lcore families sum to the summed ones
    (separate names: sum() over one family never counts a packet twice);
  - docs/METRICS.md's metric table lists exactly the families rendered (name,
    type, labels), so it cannot drift;
  - OpenMetrics (Accept: application/openmetrics-text): counter families named
    without _total, samples with it, "# EOF" last;
  - label values with " and \\ are escaped; mcfwd down answers mcfwd_up 0;
  - `promtool check metrics` accepts the text output (when promtool is
    installed: Debian's prometheus package, scripts/setup.sh).
Usage: exporter_test.py SOURCE_ROOT
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FAILURES = []
HERE = os.path.dirname(os.path.abspath(__file__))


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def exporter(root, *args):
    r = subprocess.run(["/usr/bin/python3", os.path.join(root, "scripts/mcfwd-exporter")]
                       + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def render(root, snap, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(snap, f)
        f.flush()
        rc, out, err = exporter(root, "--render", f.name, *args)
    if rc != 0:
        print(err)
    return out


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text, openmetrics=False):
    """{family: {"type", "help", "samples": [(name, labels dict, value)]}} and the
    structural problems found."""
    fams, problems, current = {}, [], None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            current = fams.setdefault(name, {"samples": []})
            if "help" in current:
                problems.append("%s: HELP twice" % name)
            current["help"] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            if current is None or name not in fams or fams[name] is not current:
                problems.append("%s: TYPE without its HELP before it" % name)
                current = fams.setdefault(name, {"samples": []})
            current["type"] = kind
        elif line == "# EOF":
            current = None
        else:
            m = SAMPLE.match(line)
            if not m:
                problems.append("unparsable line %r" % line)
                continue
            name, labels, value = m.group(1), dict(LABEL.findall(m.group(2) or "")), m.group(3)
            family = name[:-6] if openmetrics and name.endswith("_total") else name
            if current is None or family not in fams or fams[family] is not current:
                problems.append("%s: sample outside its family's HELP/TYPE" % name)
                continue
            current["samples"].append((name, labels, float(value)))
    return fams, problems


def value(fams, name, **labels):
    for n, lab, v in fams.get(name, {}).get("samples", []):
        if lab == {k: str(x) for k, x in labels.items()}:
            return v
    return None


def main():
    root = os.path.abspath(sys.argv[1])
    snap = json.load(open(os.path.join(HERE, "snapshot.json")))
    text = render(root, snap)
    fams, problems = parse(text)
    check(text and not problems, "text 0.0.4: HELP and TYPE before every family's samples %s"
          % problems[:5])

    # ---- names and types ----
    bad = [n for n, f in fams.items()
           if (f.get("type") == "counter") != n.endswith("_total")
           or f.get("type") not in ("counter", "gauge") or not f.get("help")]
    check(not bad, "counters and only counters end in _total, every family has HELP: %s" % bad)
    seen, twice = set(), []
    for f in fams.values():
        for n, lab, _ in f["samples"]:
            key = (n, tuple(sorted(lab.items())))
            if key in seen:
                twice.append(key)
            seen.add(key)
    check(not twice, "no series twice: %s" % twice[:3])

    # ---- every counter mcfwd published, exactly once ----
    def placed(prefix, counters, labels):
        """How often each counter appears: as <prefix>_<name>_total or as a reason
        of <prefix>_drops_total, with the given labels."""
        out = {}
        for name in counters:
            n = sum(1 for _, lab, _ in fams.get("%s_%s_total" % (prefix, name), {})
                    .get("samples", []) if lab == labels)
            n += sum(1 for _, lab, _ in fams.get(prefix + "_drops_total", {}).get("samples", [])
                     if lab == dict(labels, reason=name))
            out[name] = n
        return out

    stats = snap["stats"]
    missing = []
    for prefix, counters, labels in (
            [("mcfwd_dataplane", stats["dataplane"], {}),
             ("mcfwd_control", stats["control"], {})]
            + [("mcfwd_dataplane_lcore", r["counters"], {"lcore": str(r["lcore"])})
               for r in snap["per_lcore"]]
            + [("mcfwd_router", q["counters"], {"port": q["port"], "protocol": q["protocol"]})
               for q in snap["queriers"]]):
        missing += ["%s %s %s x%d" % (prefix, labels, n, k)
                    for n, k in placed(prefix, counters, labels).items() if k != 1]
    check(not missing and len(stats["dataplane"]) > 20 and len(stats["control"]) > 30
          and snap["queriers"] and snap["per_lcore"],
          "every data path (summed, per lcore), control and router counter appears once: %s"
          % missing[:5])
    drops = fams["mcfwd_dataplane_drops_total"]["samples"]
    check({lab["reason"] for _, lab, _ in drops} >= {"not_member", "source_filtered",
                                                     "parse_not_multicast", "sink_full"}
          and value(fams, "mcfwd_dataplane_drops_total", reason="not_member")
          == stats["dataplane"]["not_member"],
          "data path drops are one family with a reason label")
    r = {q["port"] + "/" + q["protocol"]: q for q in snap["queriers"]}
    q = next(iter(r.values()))
    check(value(fams, "mcfwd_router_reports_total", port=q["port"], protocol=q["protocol"])
          == q["counters"]["reports"]
          and value(fams, "mcfwd_router_querier", port=q["port"], protocol=q["protocol"])
          == q["querier"]
          and value(fams, "mcfwd_router_forwarding", port=q["port"], protocol=q["protocol"])
          == q["forwarding"]
          and value(fams, "mcfwd_router_forwarding_changes_total", port=q["port"],
                    protocol=q["protocol"]) == q["forwarding_changes"],
          "router counters and state per port and family (%s)" % sorted(r))
    check(value(fams, "mcfwd_engine_calls_total", result="ok") == stats["engine"]["calls_ok"]
          and value(fams, "mcfwd_tables_published_total") == stats["tables"]["published"],
          "engine and table counters")

    # ---- values ----
    fwd = stats["dataplane"]["forwarded"]
    check(fwd > 0 and value(fams, "mcfwd_dataplane_forwarded_total") == fwd,
          "mcfwd_dataplane_forwarded_total is mcfwd's forwarded count (%d)" % fwd)
    lsum = {}
    for f in fams:
        if f.startswith("mcfwd_dataplane_lcore_"):
            total = f.replace("_lcore_", "_", 1)
            for _, lab, v in fams[f]["samples"]:
                key = (total, lab.get("reason"))
                lsum[key] = lsum.get(key, 0) + v
    unequal = [k for k, v in lsum.items()
               if v != value(fams, k[0], **({"reason": k[1]} if k[1] else {}))]
    check(lsum and not unequal and all("lcore" not in lab for f in fams
                                       if f.startswith("mcfwd_dataplane_")
                                       and "_lcore_" not in f
                                       for _, lab, _ in fams[f]["samples"]),
          "per-lcore families sum to the summed ones, which carry no lcore label: %s"
          % unequal[:3])
    for name, d in zip(stats["outlets"], stats["delivered"]):
        check(value(fams, "mcfwd_receiver_delivered_total", receiver=name) == d,
              "receiver %s delivered %d" % (name, d))
    rec = snap["receivers"][0]
    check(value(fams, "mcfwd_receiver_info", receiver=rec["name"], outlet=rec["outlet"],
                sink=rec["sink"], internal=rec["internal"]) == 1
          and value(fams, "mcfwd_receiver_memberships", receiver=rec["name"])
          == len(rec["memberships"]), "receiver %s: info and memberships" % rec["name"])
    up = next(p for p in snap["ports"] if p["name"] == "uplink")
    check(value(fams, "mcfwd_ethdev_rx_packets_total", port="uplink", port_id=up["id"])
          == snap["ethdev"][str(up["id"])]["ipackets"] > 0,
          "ethdev rx_packets of the uplink, by mcfwd's port name")
    nic = up["nic"]
    check(value(fams, "mcfwd_port_allmulti", port="uplink") == nic["allmulti"]
          and value(fams, "mcfwd_port_allmulti_reason", port="uplink",
                    reason=nic["allmulti_reason"]) == 1
          and value(fams, "mcfwd_port_macs_programmed", port="uplink") == nic["macs_programmed"]
          and value(fams, "mcfwd_port_up", port="uplink") == up["up"],
          "uplink NIC filter state: allmulti %d (%s)" % (nic["allmulti"], nic["allmulti_reason"]))

    # ---- docs/METRICS.md lists exactly these families ----
    doc = open(os.path.join(root, "docs/METRICS.md")).read()
    table = doc[doc.index("<!-- metrics:begin -->"):doc.index("<!-- metrics:end -->")]
    listed = {}
    for m in re.finditer(r"^\| `(\w+)` \| (\w+) \| ([^|]*) \|", table, re.M):
        if not m.group(1).startswith("mcfwd_exporter_"):  # only when a request fails
            listed[m.group(1)] = (m.group(2), sorted(re.findall(r"`(\w+)`", m.group(3))))
    rendered = {n: (f["type"], sorted({k for _, lab, _ in f["samples"] for k in lab}))
                for n, f in fams.items() if not n.startswith("mcfwd_exporter_")}
    diff = sorted(n for n in set(listed) | set(rendered) if listed.get(n) != rendered.get(n))
    check(not diff, "docs/METRICS.md lists every family with its type and labels: %s"
          % [(n, listed.get(n), rendered.get(n)) for n in diff[:4]])

    # ---- OpenMetrics ----
    om = render(root, snap, "--openmetrics")
    ofams, oproblems = parse(om, openmetrics=True)
    counters = [n for n, f in ofams.items() if f.get("type") == "counter"]
    check(om.endswith("# EOF\n") and not oproblems
          and "mcfwd_dataplane_forwarded" in counters
          and all(not n.endswith("_total") and all(x[0] == n + "_total"
                                                   for x in ofams[n]["samples"])
                  for n in counters)
          and ofams["mcfwd_dataplane_forwarded"]["samples"][0][2] == fwd
          and set(ofams) == {n[:-6] if n.endswith("_total") else n for n in fams},
          "OpenMetrics: counter families without _total, samples with it, # EOF %s"
          % oproblems[:3])

    # ---- escaping, mcfwd down ----
    odd = copy.deepcopy(snap)
    odd["stats"]["outlets"][0] = 'a"b\\c'
    otext = render(root, odd)
    check('mcfwd_receiver_delivered_total{receiver="a\\"b\\\\c"}' in otext,
          "a receiver name with \" and \\ is escaped")
    rc, out, _ = exporter(root, "--once", "--socket", "/nonexistent/mcfwd-exporter-test")
    check(rc == 1 and "mcfwd_up 0" in out and 'mcfwd_exporter_request_failed{command="connect"'
          in out, "no mcfwd: mcfwd_up 0 and the failed connect (rc %d)" % rc)

    # ---- promtool ----
    promtool = shutil.which("promtool")
    if promtool:
        for what, t in (("the recording", text), ("escaped names", otext), ("mcfwd down", out)):
            r = subprocess.run([promtool, "check", "metrics"], input=t, capture_output=True,
                               text=True, timeout=60)
            check(r.returncode == 0, "promtool check metrics accepts %s: %s"
                  % (what, (r.stdout + r.stderr).strip()[:300]))
    else:
        print("note: promtool not installed (Debian package prometheus): not run")

    print("%d check(s) failed" % len(FAILURES) if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
