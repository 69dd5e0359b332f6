#!/usr/bin/python3
"""Packet capture of mcfwd's ports with DPDK's dpdk-dumpcap (issue 13).

mcfwd runs on hugepages in its own network namespace (IPv6 off, so the kernel
sends nothing on its own) with two net_tap ports: "up" receives what scapy sends
into its tap and sends mcfwd's IGMPv3 reports; "down" is the TX sink of receiver
"tv". dpdk-dumpcap, a DPDK secondary process, captures both ports while:
  - a runtime join (mcfwdctl) makes mcfwd send reports on "up" (control lcore TX),
  - scapy sends frames of four (S,G) into "up": wanted by tv's static SSM join,
    filtered by its source, wanted by the runtime join, and joined by nobody;
  - mcfwd forwards the wanted ones to "down" (forwarding lcore TX).
Checked from the pcapng file, decoded by tshark, against the ports' own ethdev
counters (/ethdev/stats, the counts from the moment dumpcap attached):
  1. per port and direction, the capture holds exactly as many frames as the
     port received (ipackets) and sent (opackets);
  2. which frames: up/in is exactly what scapy sent, (S,G) by (S,G); down/out is
     exactly the (S,G) tv's filters accept; up/out is IGMPv3 reports of the
     runtime-joined group; down/in is empty;
  3. dumpcap dropped nothing, and mcfwd stops cleanly after the capture.
Exit 77 (meson: skipped) when not root, or hugepages, a tap, dpdk-dumpcap, tshark
or scapy are unavailable.
Usage: capture_test.py MCFWD_BINARY SOURCE_ROOT
"""
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import check, mcfwdctl, require, run_in, run_topology, skip  # noqa: E402

NR = "/proc/sys/vm/nr_hugepages"
PAGES = 160  # 2 MiB pages: mcfwd's -m 128 and dumpcap's ring and mempool

require("hugepages, a network namespace, tap interfaces", ("ip", "dpdk-dumpcap", "tshark"),
        tun=True)
if not os.access(NR, os.W_OK):
    skip(NR + " is not writable: no hugepages on this kernel")
if subprocess.run(["/usr/bin/python3", "-c", "import scapy.all"],
                  capture_output=True).returncode != 0:
    skip("python3-scapy is not installed for /usr/bin/python3 (scripts/setup.sh installs it)")

PID = os.getpid()
NS = "mcfwd-cap-%d" % PID
PREFIX = "mcfwd-cap-%d" % PID
UP, DOWN = "capup", "capdown"  # interface names inside NS
S1, S2, S9 = "198.51.100.1", "198.51.100.2", "198.51.100.9"
SSM, ASM, NOBODY = "232.1.1.1", "239.2.2.2", "239.3.3.3"
PER_FLOW = 25
SENT = [(S1, SSM), (S2, SSM), (S9, ASM), (S1, NOBODY)]
WANTED = [(S1, SSM), (S9, ASM)]  # tv: SSM include {S1} (static), ASM any source (run time)

PROCS = []
STATE = {"pages": 0, "huge": None}


def sh(*cmd, ns=None):
    return run_in(ns, cmd)


def setup():
    sh("ip", "netns", "add", NS)
    # Nothing of the kernel's own on the taps (router solicitations, MLD reports):
    # every frame on a port is one the test sent or mcfwd made.
    sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
       "net.ipv6.conf.default.disable_ipv6=1", ns=NS)
    sh("ip", "link", "set", "lo", "up", ns=NS)


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    if STATE["huge"]:
        subprocess.run(["umount", STATE["huge"]], capture_output=True)
    if STATE["pages"]:
        # Give back what this test added, whatever others did meanwhile.
        with open(NR) as f:
            now = int(f.read())
        with open(NR, "w") as f:
            f.write(str(max(0, now - STATE["pages"])))
        STATE["pages"] = 0
    shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)


def reserve_hugepages(d):
    with open(NR) as f:
        before = int(f.read())
    with open(NR, "w") as f:
        f.write(str(before + PAGES))
    with open(NR) as f:
        STATE["pages"] = int(f.read()) - before
    if STATE["pages"] < PAGES:
        skip("the kernel granted %d of %d hugepages (memory fragmented)"
             % (STATE["pages"], PAGES))
    huge = os.path.join(d, "huge")
    os.mkdir(huge)
    sh("mount", "-t", "hugetlbfs", "nodev", huge)
    STATE["huge"] = huge
    return huge


def stats(root, port_id):
    rc, out, err = mcfwdctl(root, PREFIX, "raw", "/ethdev/stats,%d" % port_id)
    if rc != 0:
        raise RuntimeError("/ethdev/stats,%d: %s" % (port_id, err))
    return {k: int(v) for k, v in json.loads(out).items() if k in ("ipackets", "opackets")}


def settle(root, ids, want=lambda s: True, quiet=0.5, limit=10):
    """The ports' counters once want(counters) holds and they have not moved for
    QUIET seconds (LIMIT seconds at most)."""
    deadline, last, since = time.time() + limit, None, time.time()
    while time.time() < deadline:
        now = {n: stats(root, i) for n, i in ids.items()}
        if now != last:
            last, since = now, time.time()
        elif want(now) and time.time() - since >= quiet:
            return now
        time.sleep(0.1)
    return last


def send_into_up():
    """PER_FLOW frames of each (S,G) in SENT, sent into the up tap by scapy."""
    script = """
from scapy.all import Ether, IP, UDP, Raw, sendp
frames = []
for src, grp in %r:
    b = [int(x) for x in grp.split(".")]
    mac = "01:00:5e:%%02x:%%02x:%%02x" %% (b[1] & 0x7f, b[2], b[3])
    for seq in range(%d):
        frames.append(Ether(dst=mac, src="02:00:00:00:00:99") / IP(src=src, dst=grp, ttl=8)
                      / UDP(sport=5000, dport=5001) / Raw(b"capture seq=%%d" %% seq))
sendp(frames, iface=%r, verbose=False)
""" % (SENT, PER_FLOW, UP)
    sh("/usr/bin/python3", "-c", script, ns=NS)


def decode(pcapng):
    """(port id, direction, source, group, igmp type) per frame, as tshark reads them."""
    r = subprocess.run(["tshark", "-r", pcapng, "-T", "fields", "-E", "separator=|",
                        "-e", "frame.interface_id", "-e", "frame.packet_flags_direction",
                        "-e", "ip.src", "-e", "ip.dst", "-e", "igmp.type"],
                       capture_output=True, text=True)
    # tshark warns on stderr when run as root: not a complaint about the file.
    errors = [l for l in r.stderr.splitlines() if l.strip() and "as user \"root\"" not in l]
    check(r.returncode == 0 and not errors, "tshark decodes %s (exit %d) %s"
          % (os.path.basename(pcapng), r.returncode, errors))
    return [tuple(line.split("|")) for line in r.stdout.splitlines()]


def run(mcfwd, root, d):
    huge = reserve_hugepages(d)
    cfg = os.path.join(d, "mcfwd.yaml")
    with open(cfg, "w") as f:
        f.write("""eal: ["--no-pci", "-m", "128", "--huge-dir=%s", "--file-prefix=%s",
      "--log-level=lib.eal:error"]
mempool: { mbufs: 4095, cache: 128 }
ports:
  - name: up
    device: "net_tap0,iface=%s"
    ipv4: { address: 192.0.2.10 }
    igmp: { unsolicited_report_interval_ms: 100 }
    mld: { enabled: false }
  - name: down
    device: "net_tap1,iface=%s"
    igmp: { enabled: false }
    mld: { enabled: false }
receivers:
  - name: tv
    sink: { port: down }
    joins:
      - { port: up, group: %s, mode: include, sources: [%s] }
""" % (huge, PREFIX, UP, DOWN, SSM, S1))
    log = open(os.path.join(d, "mcfwd.out"), "w+")
    m = subprocess.Popen(["ip", "netns", "exec", NS, mcfwd, "--config", cfg, "--duration", "60"],
                         stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(m)
    text = ""
    for _ in range(100):
        log.seek(0)
        text = log.read()
        if "mcfwd: running" in text or m.poll() is not None:
            break
        time.sleep(0.1)
    if not check("mcfwd: running" in text, "mcfwd runs on hugepages"):
        print(text)
        return
    check("capture: dpdk-dumpcap --file-prefix=%s -p -w FILE -i DEVICE (one port per dumpcap; "
          "-i '*': all); devices: up net_tap0, down net_tap1" % PREFIX in text,
          "mcfwd says how to capture its ports")
    sh("ip", "link", "set", UP, "up", ns=NS)
    sh("ip", "link", "set", DOWN, "up", ns=NS)
    ids = {"up": 0, "down": 1}
    # The static join's reports go out when "up" comes up; after them the ports
    # are quiet, and what moves from here on is what the test does.
    before = settle(root, ids, want=lambda s: s["up"]["opackets"] > 0)

    # dpdk-dumpcap 22.11 captures one interface per process (its last -i; -i '*'
    # is every port): one for "up" by device name, one for "down" by port id.
    caps = {}
    for name, arg in (("up", "net_tap0"), ("down", "1")):
        pcapng = os.path.join(d, name + ".pcapng")
        err = open(os.path.join(d, name + ".dumpcap.err"), "w+")
        p = subprocess.Popen(["ip", "netns", "exec", NS, "dpdk-dumpcap", "--file-prefix=" + PREFIX,
                              "-p", "-i", arg, "-w", pcapng],
                             stdout=subprocess.DEVNULL, stderr=err)
        PROCS.append(p)
        caps[name] = (p, err, pcapng)
    for name, (p, err, _) in caps.items():
        for _ in range(100):  # dumpcap prints its count once its callbacks are installed
            err.seek(0)
            if "Packets captured" in err.read() or p.poll() is not None:
                break
            time.sleep(0.1)
        err.seek(0)
        said = err.read()
        if not check("Packets captured" in said, "dpdk-dumpcap attaches to mcfwd's port " + name):
            print(said)
            return
    check(settle(root, ids, quiet=0.3) == before, "the ports were quiet while dumpcap attached")

    rc, out, err = mcfwdctl(root, PREFIX, "join", "tv", ASM, "--port", "up")
    check(rc == 0, "runtime join of %s: %s%s" % (ASM, out.strip(), err.strip()))
    settle(root, ids, want=lambda s: s["up"]["opackets"] > before["up"]["opackets"])
    send_into_up()
    sent = len(SENT) * PER_FLOW
    after = settle(root, ids, want=lambda s: s["up"]["ipackets"] - before["up"]["ipackets"] >= sent)

    for name, (p, err, _) in caps.items():
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        check(p.returncode == 0, "dpdk-dumpcap on %s stops on SIGINT (exit %s)"
              % (name, p.returncode))
        err.seek(0)
        said = [line.strip() for line in err.read().splitlines() if "dropped" in line]
        check(len(said) == 1 and "/0 (" in said[0], "dumpcap on %s dropped nothing: %s"
              % (name, said))
    m.send_signal(signal.SIGTERM)
    m.wait(timeout=30)
    log.seek(0)
    check(m.returncode == 0 and "mcfwd: stopped" in log.read(),
          "mcfwd stops cleanly after the capture (exit %d)" % m.returncode)

    # Each file: frames of its port (interface id = DPDK port id), pcapng EPB
    # flags direction 1 inbound (RX), 2 outbound (TX).
    by = collections.defaultdict(list)
    for name, (_, _, pcapng) in caps.items():
        for port, direction, src, dst, igmp in decode(pcapng):
            port = {"0": "up", "1": "down"}.get(port, port)
            by[(port, {1: "rx", 2: "tx"}.get(int(direction, 0), direction))].append(
                (src, dst, igmp))
            if port != name:
                check(False, "a frame of port %s in the capture of %s" % (port, name))
    for name in ids:
        for d_name, key in (("rx", "ipackets"), ("tx", "opackets")):
            n = after[name][key] - before[name][key]
            got = len(by[(name, d_name)])
            check(got == n, "port %s %s: the capture holds %d frame(s), its counter says %d"
                  % (name, d_name, got, n))
    flows = lambda rows: collections.Counter((s, g) for s, g, _ in rows)  # noqa: E731
    check(flows(by[("up", "rx")]) == collections.Counter(
        {f: PER_FLOW for f in SENT}), "up rx: exactly what scapy sent, (S,G) by (S,G)")
    check(flows(by[("down", "tx")]) == collections.Counter(
        {f: PER_FLOW for f in WANTED}), "down tx: exactly the (S,G) tv's filters accept")
    reports = by[("up", "tx")]
    check(reports and all(g == "224.0.0.22" and t == "0x22" for _, g, t in reports),
          "up tx: the runtime join's IGMPv3 reports (%d)" % len(reports))
    check(not by[("down", "rx")], "down rx: nothing")
    seen = sorted(k for k, rows in by.items() if rows)
    check(seen == [("down", "tx"), ("up", "rx"), ("up", "tx")],
          "nothing else in the captures: %s" % seen)


def main():
    return run_topology(setup, cleanup, run, "network namespace", "mcfwd-cap-")


if __name__ == "__main__":
    sys.exit(main())
