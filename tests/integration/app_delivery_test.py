#!/usr/bin/python3
"""mcfwd end to end on DPDK virtual devices, checked packet by packet.

Runs the real application (EAL --no-huge --no-pci, net_pcap ports) on traffic
made by scripts/gen_traffic.py and checks, against an oracle computed here from
the receivers' filters:
  - (twice: untagged, and on a VLAN port fed tagged and untagged traffic)
  - the TX-port receiver got exactly the packets its filter accepts (every
    sequence number, no duplicates, nothing else);
  - the ring receiver's delivered count equals what its filter accepts;
  - not_member / source_filtered / punted counters equal the oracle's;
  - the IGMPv3 / MLDv2 reports mcfwd sent decode in tshark without warnings,
    announce the configured joins, and end with the leaves of shutdown.
Usage: app_delivery_test.py MCFWD_BINARY SOURCE_ROOT
"""
import ipaddress
import os
import re
import subprocess
import sys
import tempfile

import shutil

try:
    from scapy.all import Dot1Q, Raw, rdpcap, wrpcap  # noqa: E402
except ImportError:
    print("SKIP: python3-scapy is not installed for /usr/bin/python3 (scripts/setup.sh installs it)")
    sys.exit(77)  # meson's "skipped"
if shutil.which("tshark") is None:
    print("SKIP: tshark is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check  # noqa: E402


# The receivers' filters, as the config below states them: (port, group) -> (mode, sources).
RECORDER = {
    "232.1.1.1": ("include", {"198.51.100.1"}),
    "239.1.1.1": ("exclude", set()),
    "ff3e::8000:1": ("include", {"2001:db8::1"}),
}
FEED = {"239.1.1.1": ("exclude", {"198.51.100.66"})}

CONFIG = """
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix=mcfwd-it-{pid}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: uplink
    device: "net_pcap0,rx_pcap={d}/in.pcap,tx_pcap={d}/uplink-out.pcap"
    ipv4: {{ address: 192.0.2.10 }}{vlan_line}
    ipv6: {{ link_local: "fe80::10" }}
  - name: recorder
    device: "net_pcap1,rx_pcap={d}/empty.pcap,tx_pcap={d}/recorder-out.pcap"
    igmp: {{ enabled: false }}
    mld: {{ enabled: false }}
receivers:
  - name: recorder
    sink: {{ port: recorder }}
    joins:
      - {{ port: uplink, group: 232.1.1.1, mode: include, sources: [198.51.100.1] }}
      - {{ port: uplink, group: 239.1.1.1 }}
      - {{ port: uplink, group: "ff3e::8000:1", mode: include, sources: ["2001:db8::1"] }}
  - name: feed
    sink: {{ ring: it-feed-{pid}, size: 4096 }}
    joins:
      - {{ port: uplink, group: 239.1.1.1, mode: exclude, sources: [198.51.100.66] }}
"""


def accepts(filters, group, source):
    f = filters.get(group)
    if f is None:
        return False
    mode, sources = f
    return (source in sources) == (mode == "include")


def flow(pkt):
    """(source, group, seq) of a gen_traffic data packet, or None."""
    if Raw not in pkt:
        return None
    m = re.match(rb"mcfwd S=(\S+) G=(\S+) seq=(\d+)", bytes(pkt[Raw].load))
    if not m:
        return None
    return m.group(1).decode(), m.group(2).decode(), int(m.group(3))


def canonical(a):
    return str(ipaddress.ip_address(a))


def scenario(mcfwd, root, vlan):
    """One run; vlan 0: untagged uplink and traffic; else a tagged uplink receiving
    half its data tagged with that VLAN and half untagged (dropped as wrong_vlan)."""
    print("== scenario: %s" % ("VLAN %d port, mixed tagged/untagged traffic" % vlan if vlan
                               else "untagged port and traffic"))
    with tempfile.TemporaryDirectory(prefix="mcfwd-it-") as d:
        gen = ["/usr/bin/python3", os.path.join(root, "scripts/gen_traffic.py"),
               d + "/in.pcap", "--packets", "3000", "--seed", str(7 + vlan)]
        if vlan:
            gen += ["--vlan", str(vlan), "--tagged-share", "0.5"]
        subprocess.run(gen, check=True)
        wrpcap(d + "/empty.pcap", [])
        cfg = d + "/mcfwd.yaml"
        with open(cfg, "w") as f:
            f.write(CONFIG.format(d=d, pid=os.getpid(),
                                  vlan_line="\n    vlan: %d" % vlan if vlan else ""))
        run = subprocess.run([mcfwd, "--config", cfg, "--idle-exit", "3", "--duration", "60"],
                             capture_output=True, text=True, timeout=120)
        print(run.stdout)
        check(run.returncode == 0, "mcfwd exits 0 (stderr: %s)" % run.stderr.strip()[-300:])

        # The oracle, packet by packet.
        want_recorder, want_feed, not_member, filtered, queries, wrong_vlan = set(), 0, 0, 0, 0, 0
        for p in rdpcap(d + "/in.pcap"):
            tag = p[Dot1Q].vlan if Dot1Q in p else 0
            if tag != vlan:
                wrong_vlan += 1
                continue
            fl = flow(p)
            if fl is None:
                queries += 1
                continue
            s, g, seq = fl
            r, fe = accepts(RECORDER, g, s), accepts(FEED, g, s)
            if r:
                want_recorder.add(seq)
            want_feed += fe
            if g not in RECORDER and g not in FEED:
                not_member += 1
            elif not r and not fe:
                filtered += 1
        got = [flow(p) for p in rdpcap(d + "/recorder-out.pcap")]
        seqs = [x[2] for x in got if x]
        check(len(seqs) == len(got), "the recorder port carries only data packets")
        check(len(seqs) == len(set(seqs)), "no packet delivered twice to the recorder")
        check(set(seqs) == want_recorder,
              "recorder got exactly the %d accepted packets (got %d; missing %d, extra %d)"
              % (len(want_recorder), len(seqs), len(want_recorder - set(seqs)),
                 len(set(seqs) - want_recorder)))

        def counter(name):
            m = re.search(r"\b%s=(\d+)" % name, run.stdout)
            return int(m.group(1)) if m else 0

        m = re.search(r"receiver feed: delivered (\d+)", run.stdout)
        check(m is not None and int(m.group(1)) == want_feed,
              "feed (ring) delivered %s, oracle %d" % (m.group(1) if m else "?", want_feed))
        check(counter("not_member") == not_member, "not_member %d == oracle %d"
              % (counter("not_member"), not_member))
        check(counter("source_filtered") == filtered, "source_filtered %d == oracle %d"
              % (counter("source_filtered"), filtered))
        check(counter("punted") == queries, "punted %d == the %d queries" % (counter("punted"), queries))
        check(counter("wrong_vlan") == wrong_vlan, "wrong_vlan %d == oracle %d"
              % (counter("wrong_vlan"), wrong_vlan))
        if vlan:
            tags = subprocess.run(["tshark", "-r", d + "/uplink-out.pcap", "-T", "fields", "-e", "vlan.id"],
                                  capture_output=True, text=True).stdout.split()
            check(tags and all(t == str(vlan) for t in tags),
                  "every report is tagged with VLAN %d (%d reports)" % (vlan, len(tags)))

        # What mcfwd said on the wire, read by tshark.
        tshark = subprocess.run(["tshark", "-r", d + "/uplink-out.pcap", "-V"],
                                capture_output=True, text=True)
        bad = len(re.findall(r"Malformed|incorrect|Bad checksum", tshark.stdout))
        check(tshark.returncode == 0 and bad == 0, "tshark reads the reports without warnings")
        summary = subprocess.run(["tshark", "-r", d + "/uplink-out.pcap"],
                                 capture_output=True, text=True).stdout
        print(summary)
        check("Group 232.1.1.1, new source {198.51.100.1}" in summary,
              "an IGMPv3 ALLOW for the SSM join was sent")
        check("Join group 239.1.1.1 for any sources" in summary,
              "an IGMPv3 TO_EX {} for the any-source join was sent")
        check("Multicast Listener Report Message v2" in summary, "MLDv2 reports were sent")
        check("Leave group 239.1.1.1" in summary, "the group was left on the wire at exit")
        # The bundled general queries are answered with current-state records
        # (RFC 3376 §5.2: IS_IN for the SSM include, IS_EX for the any-source join).
        check("Record Type: Mode Is Include (1)" in tshark.stdout
              and "Record Type: Mode Is Exclude (2)" in tshark.stdout,
              "the general queries were answered with IS_IN and IS_EX records")



def main():
    mcfwd, root = sys.argv[1], sys.argv[2]
    scenario(mcfwd, root, 0)
    scenario(mcfwd, root, 100)
    # The EAL leaves its runtime directory behind (as root: /var/run/dpdk/<prefix>).
    shutil.rmtree("/var/run/dpdk/mcfwd-it-%d" % os.getpid(), ignore_errors=True)
    print("%d check(s) failed" % len(FAILURES) if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
