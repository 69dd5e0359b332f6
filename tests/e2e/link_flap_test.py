#!/usr/bin/python3
"""Faults on the wire (issue 15): link flaps on net_af_packet and net_tap ports,
many quick flaps, SIGKILL and restart — behind a Linux bridge that snoops but is
not the querier, so nothing but mcfwd's own reports can restore its entries.

    [querier ns]  brq (IGMPv3/MLDv2 querier, queries every 60 s) -- q0 ==veth== vq
    [mcfwd ns]    br0 (snooping, not querier): vq, vm, mt0
                  vm ==veth== m0   <- mcfwd port "af"  (net_af_packet,iface=m0)
                  mt0              <- mcfwd port "tap" (net_tap,iface=mt0)

When a port's link goes down the bridge forgets that port's groups (the port is
disabled); after link up they come back only if mcfwd announces them again
(RFC 3376 §5.1 state-change reports; the seed's ill_recover_multicast). Checked:
  1. after a flap of mcfwd's own end (m0), of the far end (vm) and of the tap, the
     bridge's mdb for the port equals mcfwd's merged state within 2 s, no query;
     and while the link was down the entries were gone (so only mcfwd restored them);
  2. traffic from a sender behind the bridge then reaches each receiver exactly per
     its filter (delivered counts);
  3. 20 flaps 200 ms apart leave nothing behind (fds, threads) and the state returns;
  4. SIGKILL, the bridge's entries flushed, a restart on the same file prefix puts them
     back within 2 s; SIGTERM then leaves: the entries go.
Exit 77 when not root or namespaces/bridge/tap are unavailable.
Usage: link_flap_test.py MCFWD_BINARY SOURCE_ROOT
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (canon, check, mcfwdctl, remove_topology, require, run_in,  # noqa: E402
                        run_topology, wait_until)

require("network namespaces, a bridge, a tap, AF_PACKET", ("ip", "bridge"), tun=True)

PID = os.getpid()
NS_Q, NS_MC = "mcfwd-lf-q-%d" % PID, "mcfwd-lf-mc-%d" % PID
PREFIX = "mcfwd-lf-%d" % PID
S1, S2 = "10.98.0.11", "10.98.0.12"
PACKETS = 20

# Each port's one receiver and its filters: (mode, sources). One receiver per port,
# so the merged state of the port is the receiver's.
JOINS = {
    "af": ("ra", {"239.1.1.1": ("exclude", set()), "232.3.3.3": ("include", {S1}),
                  "ff0e::1:1": ("exclude", set())}),
    "tap": ("rt", {"239.5.5.5": ("exclude", set()), "232.6.6.6": ("include", {S2})}),
}
BRIDGE_PORT = {"af": "vm", "tap": "mt0"}

CONFIG = """\
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: af
    device: "net_af_packet0,iface=m0,qpairs=1"
    ipv4: {{ address: 10.98.0.2 }}
    ipv6: {{ link_local: "fe80::98:2" }}
  - name: tap
    device: "net_tap0,iface=mt0"
    ipv4: {{ address: 10.98.0.3 }}
    ipv6: {{ link_local: "fe80::98:3" }}
receivers:
{receivers}
"""

SENDER = r"""
import json, socket, sys, time
for src, grp, n in json.loads(sys.argv[1]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
    s.bind((src, 0))
    for seq in range(n):
        s.sendto(("lf S=%s G=%s seq=%d" % (src, grp, seq)).encode(), (grp, 5001))
        time.sleep(0.002)
    s.close()
"""


def sh(*cmd, ns=None, check_rc=True):
    return run_in(ns, cmd, check_rc)


def setup():
    for ns in (NS_Q, NS_MC):
        sh("ip", "netns", "add", ns)
        sh("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
           ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    # The querier: startup queries, then one general query a minute.
    sh("ip", "link", "add", "brq", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1",
       "mcast_igmp_version", "3", "mcast_mld_version", "2", "mcast_query_use_ifaddr", "1",
       "mcast_query_interval", "6000", "mcast_membership_interval", "26000",
       "mcast_startup_query_count", "1", ns=NS_Q)
    sh("ip", "link", "add", "q0", "type", "veth", "peer", "name", "vq", "netns", NS_MC, ns=NS_Q)
    sh("ip", "link", "set", "q0", "master", "brq", ns=NS_Q)
    sh("ip", "link", "set", "q0", "up", ns=NS_Q)
    sh("ip", "addr", "add", "10.98.0.1/24", "dev", "brq", ns=NS_Q)
    for a in (S1, S2):
        sh("ip", "addr", "add", a + "/24", "dev", "brq", ns=NS_Q)
    sh("ip", "link", "set", "brq", "up", ns=NS_Q)
    sh("ip", "route", "add", "224.0.0.0/4", "dev", "brq", ns=NS_Q)
    # The snooping switch mcfwd's ports hang off: not a querier, long timers.
    sh("ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "0",
       "mcast_igmp_version", "3", "mcast_mld_version", "2",
       "mcast_membership_interval", "26000", ns=NS_MC)
    sh("ip", "link", "add", "vm", "type", "veth", "peer", "name", "m0", ns=NS_MC)
    sh("sysctl", "-qw", "net.ipv6.conf.m0.disable_ipv6=1", ns=NS_MC)
    for p in ("vq", "vm"):
        sh("ip", "link", "set", p, "master", "br0", ns=NS_MC)
        sh("ip", "link", "set", p, "up", ns=NS_MC)
    sh("ip", "link", "set", "m0", "up", ns=NS_MC)
    sh("ip", "link", "set", "br0", "up", ns=NS_MC)


PROCS = []


def cleanup():
    remove_topology(PROCS, (NS_Q, NS_MC), (PREFIX,))


def mdb(port):
    """The bridge's groups on PORT: {group: (mode, sources)}; link-local groups left out."""
    out = json.loads(sh("bridge", "-j", "-d", "mdb", "show", "dev", "br0", ns=NS_MC) or "[]")
    groups = {}
    for dev in out:
        for e in dev.get("mdb", []):
            if e.get("port") != port or "src" in e:
                continue
            g = canon(e["grp"])
            if g.startswith("ff02:") or g.startswith("224.0.0."):
                continue
            mode = e.get("filter_mode", "?")
            srcs = frozenset(canon(s["address"]) for s in e.get("source_list", []))
            groups[g] = (mode, srcs if mode == "include" else frozenset())
    return groups


def want(port):
    return {canon(g): (m, frozenset(s) if m == "include" else frozenset())
            for g, (m, s) in JOINS[port][1].items()}


def start(mcfwd, cfg, d, name):
    log = open(d + "/" + name, "w")
    mc = subprocess.Popen(["ip", "netns", "exec", NS_MC, mcfwd, "--config", cfg,
                           "--duration", "300"], stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(mc)
    ok = wait_until(lambda: mc.poll() is not None or "mcfwd: running" in open(d + "/" + name).read(),
                  20)
    return mc if ok is not None and mc.poll() is None else None


def flap(dev, down_s=0.5):
    sh("ip", "link", "set", dev, "down", ns=NS_MC)
    time.sleep(down_s)
    gone = {p: mdb(BRIDGE_PORT[p]) for p in JOINS}
    sh("ip", "link", "set", dev, "up", ns=NS_MC)
    return gone


def ctl(*args):
    rc, out, err = mcfwdctl(ROOT, PREFIX, *args)
    return rc, out + err


def delivered():
    rc, out = ctl("--json", "receivers")
    if rc != 0:
        return {}
    return {r["name"]: r.get("delivered", 0) for r in json.loads(out)["receivers"]}


def proc_counts(pid):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    threads = len(os.listdir("/proc/%d/task" % pid))
    return fds, threads


def mcfwd_pid(wrapper):
    # ip netns exec execs mcfwd: the same process.
    return wrapper.pid


ROOT = ""


def run(mcfwd, root, d):
    global ROOT
    ROOT = root
    receivers = []
    for port, (name, joins) in JOINS.items():
        lines = ["  - name: %s" % name, "    sink: { ring: lf-%s-%d }" % (name, PID), "    joins:"]
        for g, (mode, srcs) in joins.items():
            lines.append('      - { port: %s, group: "%s", mode: %s, sources: [%s] }'
                         % (port, g, mode, ", ".join('"%s"' % s for s in sorted(srcs))))
        receivers.append("\n".join(lines))
    cfg = d + "/mcfwd.yaml"
    with open(cfg, "w") as f:
        f.write(CONFIG.format(prefix=PREFIX, receivers="\n".join(receivers)))

    mc = start(mcfwd, cfg, d, "mcfwd.out")
    if not check(mc is not None, "mcfwd starts with an af_packet and a tap port"):
        print(open(d + "/mcfwd.out").read())
        return
    # The tap exists now: no kernel MLD of its own, and into the bridge.
    sh("sysctl", "-qw", "net.ipv6.conf.mt0.disable_ipv6=1", ns=NS_MC)
    sh("ip", "link", "set", "mt0", "master", "br0", ns=NS_MC)
    took = wait_until(lambda: mdb("vm") == want("af"), 5)
    check(took is not None, "the bridge learns the af port's groups at start: %s" % mdb("vm"))

    # 1. Flaps: mcfwd's own end, the far end, the tap.
    for dev, port in (("m0", "af"), ("vm", "af"), ("mt0", "tap")):
        gone = flap(dev)
        check(gone[port] == {}, "%s down: the bridge forgot port %s's groups (%s)"
              % (dev, BRIDGE_PORT[port], gone[port]))
        took = wait_until(lambda: mdb(BRIDGE_PORT[port]) == want(port), 2.0)
        check(took is not None, "after %s flaps, the mdb of %s equals mcfwd's state in %s"
              % (dev, BRIDGE_PORT[port], "%.2f s" % took if took is not None else
                 "more than 2 s: %s" % mdb(BRIDGE_PORT[port])))
    rc, out = ctl("--json", "ports")
    ports = {p["name"]: p for p in json.loads(out)["ports"]} if rc == 0 else {}
    check(ports.get("af", {}).get("link_changes", 0) >= 4 and
          ports.get("tap", {}).get("link_changes", 0) >= 2 and
          all(p.get("up") for p in ports.values()),
          "mcfwdctl ports counts the link changes and shows both up: %s"
          % {n: (p.get("up"), p.get("link_changes")) for n, p in ports.items()})

    # 2. Traffic per filter after the flaps.
    before = delivered()
    plan = [(s, g, PACKETS) for g in ("239.1.1.1", "232.3.3.3", "239.5.5.5", "232.6.6.6")
            for s in (S1, S2)]
    sh("/usr/bin/python3", "-c", SENDER, json.dumps(plan), ns=NS_Q)
    expect = {"ra": 3 * PACKETS, "rt": 3 * PACKETS}  # any-source group: both; SSM: one
    got = {}
    wait_until(lambda: got.update({k: v - before.get(k, 0) for k, v in delivered().items()})
             or got == expect, 5)
    check(got == expect, "each receiver got exactly its filter's packets: %s, want %s"
          % (got, expect))

    # 3. 20 quick flaps leave nothing behind.
    pid = mcfwd_pid(mc)
    fds0, threads0 = proc_counts(pid)
    for _ in range(20):
        sh("ip", "link", "set", "m0", "down", ns=NS_MC)
        time.sleep(0.1)
        sh("ip", "link", "set", "m0", "up", ns=NS_MC)
        time.sleep(0.1)
    took = wait_until(lambda: mdb("vm") == want("af"), 2.0)
    check(took is not None, "after 20 flaps the mdb of vm equals mcfwd's state (%s)" %
          ("%.2f s" % took if took is not None else mdb("vm")))
    fds1, threads1 = proc_counts(pid)
    check(mc.poll() is None and (fds1, threads1) == (fds0, threads0),
          "20 flaps: mcfwd alive, fds %d -> %d, threads %d -> %d"
          % (fds0, fds1, threads0, threads1))

    # 4. SIGKILL; the bridge forgets (far end flapped while mcfwd is gone); restart.
    mc.kill()
    mc.wait()
    flap("vm", 0.2)
    check(wait_until(lambda: mdb("vm") == {}, 2) is not None, "with mcfwd killed the entries stay gone")
    # Every frame of the next instance's af port is captured (for 5 below).
    cap = subprocess.Popen(["ip", "netns", "exec", NS_MC, "tcpdump", "-i", "vm", "-n", "-U",
                            "-w", d + "/vm.pcap"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(cap)
    time.sleep(1)
    mc = start(mcfwd, cfg, d, "mcfwd2.out")
    if not check(mc is not None, "mcfwd restarts on the same file prefix after SIGKILL"):
        print(open(d + "/mcfwd2.out").read())
        return
    took = wait_until(lambda: mdb("vm") == want("af"), 2.0)
    check(took is not None, "after the restart the mdb of vm equals mcfwd's state (%s)" %
          ("%.2f s" % took if took is not None else mdb("vm")))

    # 5. A frame counts as sent only if it left: after mcfwd's own end went down and
    #    up, af_packet's first send fails once (the socket's pending ENETDOWN). What
    #    the wire saw from mcfwd's af port equals what it counted sent plus the
    #    retries' extra copies, and there was a retry.
    flap("m0")
    wait_until(lambda: mdb("vm") == want("af"), 2.0)
    time.sleep(1.5)  # the retransmissions
    mc.terminate()
    rc = mc.wait(timeout=30)
    check(rc == 0, "SIGTERM: exit %d" % rc)
    took = wait_until(lambda: mdb("vm") == {}, 3)
    check(took is not None, "after SIGTERM the bridge dropped the af port's groups (%s)" % mdb("vm"))
    time.sleep(0.5)
    cap.terminate()
    cap.wait()
    out = open(d + "/mcfwd2.out").read()
    print(out)
    wire = sh("tcpdump", "-n", "-r", d + "/vm.pcap", ns=NS_MC).splitlines()
    mine = [w for w in wire if "10.98.0.2 >" in w or "fe80::98:2 >" in w]
    m = re.search(r"port af: .* reports sent (\d+) \(failed (\d+)(?:, retried (\d+))?\)", out)
    sent, retried = (int(m.group(1)), int(m.group(3) or 0)) if m else (-1, -1)
    check(m is not None and retried >= 1 and len(mine) == sent + retried,
          "on the wire %d reports from the af port = %d counted sent + %d retried copies"
          % (len(mine), sent, retried))


if __name__ == "__main__":
    sys.exit(run_topology(setup, cleanup, run, "link-flap topology", "mcfwd-lf-"))
