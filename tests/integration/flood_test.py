#!/usr/bin/python3
"""A report flood on a downstream port (issue 7's flood test).

mcfwd runs a proxy on net_pcap ports: the downstream port replays a capture of
5,000 IGMPv3 reports, each for a different group, endlessly (infinite_rx=1: as
fast as the PMD reads, far beyond any real segment), while the upstream port
receives one general query (Max Resp Time 1 s) for the static join of a local
receiver. Checks:
  - the upstream query is answered (a Current-State IS_EX record for the local
    receiver's group) within its Max Resp Time, plus 1 s of scheduling margin on
    this shared 2-core machine: the flood does not delay another port's answers;
  - the flood was cut by the downstream port's punt rate (punt_limited > 0) and
    the shared control ring never overflowed (no punt_full);
  - memory stays bounded: the router keeps at most querier.max_groups groups, and
    mcfwd's resident set grows by less than 16 MiB between 1.5 s and 4.5 s of flood.
Usage: flood_test.py MCFWD_BINARY
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    from scapy.all import Ether, IP, IPOption_Router_Alert, rdpcap, wrpcap
    from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mq, IGMPv3mr
except ImportError:
    print("SKIP: python3-scapy is not installed for /usr/bin/python3 (scripts/setup.sh installs it)")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check  # noqa: E402

MAX_GROUPS = 1000
FLOOD_GROUPS = 5000


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    mcfwd = os.path.abspath(sys.argv[1])
    d = tempfile.mkdtemp(prefix="mcfwd-flood-")
    prefix = f"mcfwd-flood-{os.getpid()}"
    try:
        ra = [IPOption_Router_Alert()]
        query = (Ether(src="02:00:00:00:01:01", dst="01:00:5e:00:00:01")
                 / IP(src="192.0.2.1", dst="224.0.0.1", ttl=1, options=ra)
                 / IGMPv3(type=0x11, mrcode=10) / IGMPv3mq(gaddr="0.0.0.0", qrv=2, qqic=125))
        wrpcap(f"{d}/up-in.pcap", [query])
        reports = []
        for i in range(FLOOD_GROUPS):
            g = f"239.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}"
            reports.append(Ether(src="02:00:00:00:02:02", dst="01:00:5e:00:00:16")
                           / IP(src="198.51.100.2", dst="224.0.0.22", ttl=1, options=ra)
                           / IGMPv3(type=0x22) / IGMPv3mr(records=[IGMPv3gr(rtype=4, maddr=g)]))
        wrpcap(f"{d}/down-in.pcap", reports)
        with open(f"{d}/flood.yaml", "w") as f:
            f.write(f"""
eal: ["--no-huge", "--no-pci", "-m", "512", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: up
    device: "net_pcap0,rx_pcap={d}/up-in.pcap,tx_pcap={d}/up-out.pcap"
    ipv4: {{ address: 192.0.2.10 }}
    mld: {{ enabled: false }}
  - name: down
    role: downstream
    device: "net_pcap1,rx_pcap={d}/down-in.pcap,infinite_rx=1,tx_pcap={d}/down-data.pcap,tx_pcap={d}/down-ctl.pcap"
    ipv4: {{ address: 198.51.100.1 }}
    mld: {{ enabled: false }}
    punt_rate_pps: 1000
    querier: {{ max_groups: {MAX_GROUPS} }}
receivers:
  - name: local
    sink: {{ ring: flood-local-{os.getpid()} }}
    joins:
      - {{ port: up, group: 239.1.1.1 }}
""")
        proc = subprocess.Popen([mcfwd, "--config", f"{d}/flood.yaml", "--duration", "5"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)
        rss_early = rss_kib(proc.pid)
        time.sleep(3.0)
        rss_late = rss_kib(proc.pid)
        out, _ = proc.communicate(timeout=60)
        print(out)
        check(proc.returncode == 0, f"mcfwd exits 0 (got {proc.returncode})")

        counters = dict(re.findall(r"(\w+)=(\d+)", out.split("data path:")[1].splitlines()[0])) \
            if "data path:" in out else {}
        limited = int(counters.get("punt_limited", 0))
        check(limited > 0, f"the flood was rate limited on the downstream port (punt_limited={limited})")
        check("punt_full" not in counters,
              f"the shared control ring never overflowed (punt_full={counters.get('punt_full', 0)})")
        m = re.search(r"port down: IGMP router: (\d+) group\(s\) learned", out)
        learned = int(m.group(1)) if m else -1
        check(0 < learned <= MAX_GROUPS, f"the router kept at most {MAX_GROUPS} groups (kept {learned})")
        grew = rss_late - rss_early
        check(0 < rss_early and grew < 16 * 1024,
              f"resident memory bounded under the flood ({rss_early} KiB at 1.5 s, {rss_late} KiB at 4.5 s)")

        # The answer to the upstream query: a Current-State IS_EX {} record (type 2)
        # for the local receiver's group, within Max Resp Time (1 s) + 1 s margin of
        # mcfwd's first frame on the port (its startup report, sent when the query
        # was read: net_pcap hands over the one-packet capture at once).
        frames = rdpcap(f"{d}/up-out.pcap")
        check(len(frames) > 0, f"mcfwd sent on the upstream port ({len(frames)} frames)")
        t0 = float(frames[0].time) if frames else 0.0
        answer = None
        for p in frames:
            if IGMPv3mr in p:
                for r in p[IGMPv3mr].records:
                    if r.rtype == 2 and r.maddr == "239.1.1.1" and answer is None:
                        answer = float(p.time) - t0
        check(answer is not None and answer <= 2.0,
              f"the upstream query was answered in time under the flood "
              f"({'none' if answer is None else f'{answer:.3f} s'} after the first frame; limit 2.0 s)")
    finally:
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
        shutil.rmtree(f"/tmp/dpdk/{prefix}", ignore_errors=True)
    print(f"{len(FAILURES)} failed")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
