#!/usr/bin/python3
"""Debian's Prometheus scrapes scripts/mcfwd-exporter in front of a real mcfwd.

mcfwd runs on net_pcap ports (EAL --no-huge, its own file prefix): the uplink
replays scripts/gen_traffic.py's capture once, a TX-port receiver and a ring
receiver select from it, and a downstream port gives the router metrics.
mcfwd-exporter serves on a free port; `prometheus` (Debian's package) scrapes it
every second into a temporary TSDB. When the replay has ended, Prometheus's HTTP
API must return, for its latest scrape:
  - mcfwd_dataplane_forwarded_total == the forwarded count of `mcfwdctl --json
    stats`, and the per-lcore family's sum() the same (no double count);
  - the receivers' delivered counts, and the uplink's ethdev rx_packets == the
    packets of the capture;
  - the target up, with no scrape error (Prometheus asks for OpenMetrics first,
    so its own parser has read the exporter's OpenMetrics output).
It also checks that the unit test's recording (tests/unit/exporter/snapshot.json)
has the shape of this run's `mcfwd-exporter --snapshot` (every key, values aside),
so the recording cannot fall behind what mcfwd answers; --record rewrites it.
Skips (77) without prometheus or scapy.
Usage: prometheus_test.py MCFWD_BINARY SOURCE_ROOT [--record]
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PROMETHEUS = shutil.which("prometheus")
if PROMETHEUS is None:
    print("SKIP: prometheus is not installed (Debian package prometheus; scripts/setup.sh)")
    sys.exit(77)
try:
    from scapy.all import rdpcap, wrpcap  # noqa: E402
except ImportError:
    print("SKIP: python3-scapy is not installed for /usr/bin/python3 (scripts/setup.sh)")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check  # noqa: E402


CONFIG = """
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: uplink
    device: "net_pcap0,rx_pcap={d}/in.pcap,tx_pcap={d}/uplink-out.pcap"
    ipv4: {{ address: 192.0.2.10 }}
    ipv6: {{ link_local: "fe80::10" }}
  - name: recorder
    device: "net_pcap1,rx_pcap={d}/empty.pcap,tx_pcap={d}/recorder-out.pcap"
    igmp: {{ enabled: false }}
    mld: {{ enabled: false }}
  - name: down
    role: downstream
    device: "net_null0,no-rx=1"
    ipv4: {{ address: 198.51.100.1 }}
    ipv6: {{ link_local: "fe80::1:1" }}
    flow_steering: off
receivers:
  - name: recorder
    sink: {{ port: recorder }}
    joins:
      - {{ port: uplink, group: 232.1.1.1, mode: include, sources: [198.51.100.1] }}
      - {{ port: uplink, group: 239.1.1.1 }}
      - {{ port: uplink, group: "ff3e::8000:1", mode: include, sources: ["2001:db8::1"] }}
  - name: feed
    sink: {{ ring: {ring}, size: 4096 }}
    joins:
      - {{ port: uplink, group: 239.1.1.1, mode: exclude, sources: [198.51.100.66] }}
"""

PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mcfwd
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, f, timeout):
    """f() until it returns something true, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = f()
        if v:
            return v
        time.sleep(0.2)
    print("timed out waiting for %s" % what)
    return None


def shape(v, path=""):
    """Every key path of a JSON value (list items merged), values aside."""
    if isinstance(v, dict):
        return set().union(*[shape(x, path + "/" + k) for k, x in v.items()], {path})
    if isinstance(v, list):
        return set().union(*[shape(x, path + "[]") for x in v], {path})
    return {path}


def stop(proc, sig=signal.SIGTERM):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    mcfwd, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    start = time.monotonic()
    tag = "mcfwd-prom-%d" % os.getpid()
    d = tempfile.mkdtemp(prefix=tag + "-")
    procs = []
    try:
        subprocess.run(["/usr/bin/python3", os.path.join(root, "scripts/gen_traffic.py"),
                        d + "/in.pcap", "--packets", "2000", "--seed", "13"], check=True)
        frames = len(rdpcap(d + "/in.pcap"))
        wrpcap(d + "/empty.pcap", [])
        with open(d + "/mcfwd.yaml", "w") as f:
            f.write(CONFIG.format(prefix=tag, d=d, ring=tag[-20:]))

        # mcfwd, up long enough for the test; stopped below.
        log = open(d + "/mcfwd.out", "w+")
        m = subprocess.Popen([mcfwd, "--config", d + "/mcfwd.yaml", "--duration", "90"],
                             stdout=log, stderr=subprocess.STDOUT)
        procs.append(m)

        def running():
            log.seek(0)
            return "mcfwd: running" in log.read() or m.poll() is not None
        wait_for("mcfwd to start", running, 30)
        check(m.poll() is None, "mcfwd runs")
        if m.poll() is not None:
            log.seek(0)
            print(log.read())
            return 1

        def ctl(*args):
            r = subprocess.run(["/usr/bin/python3", os.path.join(root, "scripts/mcfwdctl"),
                                "--file-prefix", tag, "--json"] + list(args),
                               capture_output=True, text=True, timeout=30)
            return json.loads(r.stdout) if r.returncode == 0 else {}

        # The exporter on a port of its choosing (it prints the address).
        ex = subprocess.Popen(["/usr/bin/python3", os.path.join(root, "scripts/mcfwd-exporter"),
                               "--file-prefix", tag, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=open(d + "/exporter.err", "w"),
                              text=True)
        procs.append(ex)
        line = ex.stdout.readline()
        print(line.strip())
        check(line.startswith("mcfwd-exporter: serving http://127.0.0.1:"), "the exporter serves")
        ex_port = int(line.split("http://127.0.0.1:")[1].split("/")[0])

        # Prometheus: its own config, TSDB and port.
        prom_port = free_port()
        with open(d + "/prometheus.yml", "w") as f:
            f.write(PROMETHEUS_CONFIG.format(port=ex_port))
        plog = open(d + "/prometheus.out", "w+")
        p = subprocess.Popen([PROMETHEUS, "--config.file=" + d + "/prometheus.yml",
                              "--storage.tsdb.path=" + d + "/tsdb",
                              "--web.listen-address=127.0.0.1:%d" % prom_port,
                              "--log.level=warn"], stdout=plog, stderr=subprocess.STDOUT)
        procs.append(p)
        api = "http://127.0.0.1:%d/api/v1/" % prom_port

        def get(path):
            try:
                with urllib.request.urlopen(api + path, timeout=5) as r:
                    return json.load(r)
            except (OSError, ValueError):
                return None

        def query(q):
            """The query's series as {labels: value}, or None."""
            ans = get("query?query=" + urllib.parse.quote(q))
            if not ans or ans.get("status") != "success":
                return None
            return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1])
                    for r in ans["data"]["result"]}

        # The replay has ended when rx_packets holds still at the capture's size.
        def replayed():
            s = ctl("stats")
            rx = s.get("dataplane", {}).get("rx_packets")
            return s if rx == frames else None
        s = wait_for("the replay to end", replayed, 30)
        check(s is not None, "mcfwd received the %d frames of the capture" % frames)
        s = s or {}
        forwarded = s.get("dataplane", {}).get("forwarded", -1)
        delivered = dict(zip(s.get("outlets", []), s.get("delivered", [])))

        # Prometheus's latest sample is the scrape after the replay (scrapes read
        # counters that no longer move).
        def one(q):
            r = query(q)
            return list(r.values())[0] if r and len(r) == 1 else None
        got = wait_for("prometheus to scrape the final count",
                       lambda: one("mcfwd_dataplane_forwarded_total") == forwarded, 20)
        v = one("mcfwd_dataplane_forwarded_total")
        check(got and forwarded > 0,
              "prometheus: mcfwd_dataplane_forwarded_total %s == mcfwdctl stats' forwarded %d"
              % (v, forwarded))
        v = one("sum(mcfwd_dataplane_lcore_forwarded_total)")
        check(v == forwarded, "prometheus: sum of the per-lcore forwarded %s == %d"
              % (v, forwarded))
        for name, n in sorted(delivered.items()):
            v = one('mcfwd_receiver_delivered_total{receiver="%s"}' % name)
            check(v == n, "prometheus: receiver %s delivered %s == %d" % (name, v, n))
        v = one('mcfwd_ethdev_rx_packets_total{port="uplink"}')
        check(v == frames, "prometheus: ethdev rx_packets of the uplink %s == %d frames"
              % (v, frames))
        v = one('mcfwd_router_querier{port="down",protocol="igmp"}')
        check(v is not None, "prometheus: the downstream port's IGMP querier state (%s)" % v)
        v = one('up{job="mcfwd"}')
        targets = (get("targets") or {}).get("data", {}).get("activeTargets", [])
        errors = [t.get("lastError") for t in targets if t.get("lastError")]
        check(v == 1 and len(targets) == 1 and not errors,
              "prometheus: the target is up, no scrape error %s" % errors)
        print("scrape duration (Prometheus's scrape_duration_seconds): last %s s, max %s s"
              % (one('scrape_duration_seconds{job="mcfwd"}'),
                 one('max_over_time(scrape_duration_seconds{job="mcfwd"}[1m])')))

        # The unit test's recording against this run.
        r = subprocess.run(["/usr/bin/python3", os.path.join(root, "scripts/mcfwd-exporter"),
                            "--file-prefix", tag, "--snapshot"],
                           capture_output=True, text=True, timeout=30)
        recording = os.path.join(root, "tests/unit/exporter/snapshot.json")
        if "--record" in sys.argv[3:]:
            with open(recording, "w") as f:
                f.write(r.stdout)
            print("recorded %s" % recording)
        live = shape(json.loads(r.stdout))
        recorded = shape(json.load(open(recording)))
        check(live == recorded, "the unit test's recording has this run's shape (re-record "
              "with --record): only live %s, only recorded %s"
              % (sorted(live - recorded)[:5], sorted(recorded - live)[:5]))
    finally:
        for proc in reversed(procs):
            stop(proc)
        for name in ("mcfwd.out", "exporter.err", "prometheus.out"):
            path = os.path.join(d, name)
            if FAILURES and os.path.exists(path):
                print("---- %s" % name)
                print(open(path).read()[-3000:])
        shutil.rmtree(d, ignore_errors=True)
        # The EAL leaves its runtime directory behind (as root: /var/run/dpdk/<prefix>).
        shutil.rmtree("/var/run/dpdk/" + tag, ignore_errors=True)
    print("run time %.1f s" % (time.monotonic() - start))
    print("%d check(s) failed" % len(FAILURES) if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
