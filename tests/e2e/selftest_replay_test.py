#!/usr/bin/python3
"""The Linux bridge's IGMPv3 / MLDv2 selftests replayed against mcfwd's downstream port.

tools/testing/selftests/net/forwarding/bridge_igmp.sh and bridge_mld.sh send reports with
mausezahn to a querier bridge and check its per-source state (check_sg_entries /
check_sg_state: filter mode, sources with a running timer, sources with a zero timer).
tests/unit/router/scenario_test.cpp replays them on the router library; this test replays
them on the application: the same records (types, group, sources) in the same order, one
second apart (the scripts' "sleep 1"), sent on the wire to mcfwd, and the state read back
through telemetry (scripts/mcfwdctl --json router PORT).

  [host] hN --veth-- dN [mc: mcfwd, downstream port sN on net_af_packet]; upstream net_null

Each scenario starts from an empty group, as the scripts' cleanup leaves the bridge, so each
has its own downstream port (twelve veths, six per mcfwd run); IGMP and MLD run on the same port at
the same time (the families' states are independent). Reports go as the scripts' do: IGMPv3
from 192.0.2.1 to 224.0.0.1 (01:00:5e:00:00:01); MLDv2 from a link-local address to ff02::1
with a Hop-by-Hop Router Alert, hop limit 1. Per-scenario querier settings follow the
scripts: "mcast_last_member_interval 500" (5 s) for TO_EX and BLOCK in EXCLUDE mode, and for
the timeout scenario a 3 s Group Membership Interval (2 x 1.25 s + 0.5 s), as the unit test.
Exit 77 (meson: skipped) when not root or tools are missing.
Usage: selftest_replay_test.py MCFWD_BINARY SOURCE_ROOT
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (check, FAILURES, mcfwdctl as ctl, remove_topology, require,  # noqa: E402
                        run_in, run_topology)

require("network namespaces, AF_PACKET", ("ip", "sysctl"), scapy=True)
from scapy.all import Ether, IP, IPv6, raw  # noqa: E402
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mr, IGMPv3gr  # noqa: E402
from scapy.layers.inet6 import (ICMPv6MLReport2, ICMPv6MLDMultAddrRec,  # noqa: E402
                                IPv6ExtHdrHopByHop, RouterAlert)

PID = os.getpid()
NS = {k: "mcfwd-sr-%s-%d" % (k, PID) for k in ("mc", "host")}
PREFIXES = ["mcfwd-sr-%d-%d" % (PID, b) for b in (0, 1)]
PREFIX = PREFIXES[0]  # the running mcfwd's, for mcfwdctl

IS_IN, IS_EX, TO_IN, TO_EX, ALLOW, BLOCK = 1, 2, 3, 4, 5, 6
GROUP = {"igmp": "239.10.10.10", "mld": "ff02::cc"}
HOST_MAC = "fe:54:00:04:5e:ba"  # bridge_mld.sh's h1 (its packets carry it)
HOST_LL = "fe80::fc54:ff:fe04:5eba"
HOST_V4 = "192.0.2.1"


def src(proto, i):
    return ("192.0.2.%d" if proto == "igmp" else "2001:db8:1::%d") % i


def report(proto, rtype, sources):
    """The selftest's report as an Ethernet frame."""
    if proto == "igmp":
        rec = IGMPv3gr(rtype=rtype, maddr=GROUP[proto], srcaddrs=[src(proto, i) for i in sources])
        return raw(Ether(src=HOST_MAC, dst="01:00:5e:00:00:01") /
                   IP(src=HOST_V4, dst="224.0.0.1", ttl=1) /
                   IGMPv3(type=0x22) / IGMPv3mr(records=[rec]))
    rec = ICMPv6MLDMultAddrRec(rtype=rtype, dst=GROUP[proto],
                               sources=[src(proto, i) for i in sources])
    return raw(Ether(src=HOST_MAC, dst="33:33:00:00:00:01") /
               IPv6(src=HOST_LL, dst="ff02::1", hlim=1) /
               IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) /
               ICMPv6MLReport2(records=[rec]))


# A step: ("send", type, sources) then a one-second wait; ("wait", seconds); ("expect", mode,
# running, blocked, absent) as check_sg_entries / check_sg_state.
INC_PREPARE = [("send", IS_IN, [1, 2, 3]), ("expect", "include", [1, 2, 3], [], [])]
EXC_PREPARE = INC_PREPARE + [("send", IS_EX, [1, 2, 20, 21]),
                             ("expect", "exclude", [1, 2], [20, 21], [3])]
LMQI_5S = "last_member_query_interval_ms: 5000"
GMI_3S = "query_interval_ms: 1250, query_response_interval_ms: 500"
# (name as in the scripts, querier settings, steps)
SCENARIOS = [
    ("v3include", "", INC_PREPARE),
    ("v3inc_allow", "", INC_PREPARE + [
        ("send", ALLOW, [10, 11, 12]), ("expect", "include", [1, 2, 3, 10, 11, 12], [], [])]),
    ("v3inc_is_include", "", INC_PREPARE + [
        ("send", IS_IN, [10, 11, 12]), ("expect", "include", [1, 2, 3, 10, 11, 12], [], [])]),
    ("v3inc_is_exclude", "", EXC_PREPARE),
    ("v3inc_to_exclude", LMQI_5S, INC_PREPARE + [
        ("send", TO_EX, [1, 20, 30]), ("expect", "exclude", [1], [20, 30], [2, 3, 21])]),
    ("v3exc_allow", "", EXC_PREPARE + [
        ("send", ALLOW, [20, 30]), ("expect", "exclude", [1, 2, 20, 30], [21], [3])]),
    ("v3exc_is_include", "", EXC_PREPARE + [
        ("send", IS_IN, [20, 30]), ("expect", "exclude", [1, 2, 20, 30], [21], [3])]),
    ("v3exc_is_exclude", "", EXC_PREPARE + [
        ("send", IS_EX, [20, 30]), ("expect", "exclude", [30], [20], [1, 2, 3, 21])]),
    ("v3exc_to_exclude", LMQI_5S, EXC_PREPARE + [
        ("send", TO_EX, [1, 20, 30]), ("expect", "exclude", [1, 30], [20], [2, 3, 21])]),
    # The lowered timer of 1 (LMQT 2 s) has run out 3 s after the BLOCK.
    ("v3inc_block", "", INC_PREPARE + [
        ("send", BLOCK, [1, 20, 30]), ("wait", 2.0),
        ("expect", "include", [2, 3], [], [1, 20, 30])]),
    ("v3exc_block", LMQI_5S, EXC_PREPARE + [
        ("send", BLOCK, [1, 20, 30]), ("expect", "exclude", [1, 2, 30], [20, 21], [3])]),
    # GMI 3 s: 1 and 2 expire 3 s after IS_IN, the group timer 3 s after IS_EX (EXCLUDE ->
    # INCLUDE, 21 dropped), 20 and 30 3 s after the ALLOW; read half way between the last
    # two (the unit test's 4.5 s).
    ("v3exc_timeout", GMI_3S, EXC_PREPARE + [
        ("send", ALLOW, [20, 30]), ("mid_last_two_plus", 3.0),
        ("expect", "include", [20, 30], [], [1, 2, 3, 21])]),
]


def sh(*cmd, ns=None):
    return run_in(NS[ns] if ns else None, cmd)


def setup():
    for ns in NS:
        sh("ip", "netns", "add", NS[ns])
        sh("ip", "link", "set", "lo", "up", ns=ns)
    for i in range(len(SCENARIOS)):
        sh("ip", "link", "add", "d%d" % i, "type", "veth", "peer", "name", "h%d" % i, "netns",
           NS["host"], ns="mc")
        # mcfwd speaks IGMP/MLD on its veth: the kernel must not. The host's kernel stays
        # quiet too: its only voice on the link is the replayed reports.
        sh("sysctl", "-qw", "net.ipv6.conf.d%d.disable_ipv6=1" % i, ns="mc")
        sh("sysctl", "-qw", "net.ipv6.conf.h%d.disable_ipv6=1" % i, ns="host")
        sh("ip", "link", "set", "h%d" % i, "address", HOST_MAC, ns="host")
        sh("ip", "link", "set", "d%d" % i, "up", ns="mc")
        sh("ip", "link", "set", "h%d" % i, "up", ns="host")


PROCS = []


def cleanup():
    remove_topology(PROCS, NS.values(), PREFIXES)


# The sender in the host namespace: "IFACE HEX" per line, one frame on AF_PACKET each.
SENDER = r"""
import socket, sys
socks = {}
for line in sys.stdin:
    ifname, frame = line.split()
    if ifname not in socks:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((ifname, 0))
        socks[ifname] = s
    socks[ifname].send(bytes.fromhex(frame))
    print("ok", flush=True)
"""


class Sender:
    def __init__(self):
        self.p = subprocess.Popen(["ip", "netns", "exec", NS["host"], "/usr/bin/python3", "-c",
                                   SENDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        PROCS.append(self.p)

    def send(self, ifname, frame):
        self.p.stdin.write("%s %s\n" % (ifname, frame.hex()))
        self.p.stdin.flush()
        return self.p.stdout.readline().strip() == "ok"


def mcfwdctl(root, *args):
    return ctl(root, PREFIX, *args)


def router(root, port):
    rc, out, err = mcfwdctl(root, "--json", "router", port)
    if rc != 0:
        raise RuntimeError("mcfwdctl router %s: exit %d: %s" % (port, rc, err.strip()))
    return json.loads(out)


def group_state(ans, proto):
    """(mode, running, blocked, forwarding) of the selftest group, None if no record."""
    for g in ans.get("groups", []):
        if g["protocol"] == proto and g["group"] == GROUP[proto]:
            return (g["mode"], sorted(g.get("sources") or []), sorted(g.get("blocked") or []),
                    (g.get("forwarding_mode"), sorted(g.get("forwarding_sources") or [])))
    return None


def want_state(proto, step):
    _, mode, running, blocked, _ = step
    return (mode, sorted(src(proto, i) for i in running), sorted(src(proto, i) for i in blocked))


def run_scenario(root, sender, idx, name, steps):
    port = "s%d" % idx
    t0 = time.monotonic()
    sent = []
    for step in steps:
        if step[0] == "send":
            sent.append(time.monotonic())
            ok = all(sender.send("h%d" % idx, report(p, step[1], step[2])) for p in ("igmp", "mld"))
            check(ok, "%s: sent record type %d %s" % (name, step[1], step[2]))
            time.sleep(1.0)  # the scripts' "sleep 1"
        elif step[0] == "wait":
            time.sleep(step[1])
        elif step[0] == "mid_last_two_plus":
            # 0.1 s early: mcfwdctl takes about that long to ask.
            due = (sent[-2] + sent[-1]) / 2 + step[1] - 0.1
            time.sleep(max(0.0, due - time.monotonic()))
        else:
            ans = router(root, port)
            at = time.monotonic() - t0
            for proto in ("igmp", "mld"):
                want = want_state(proto, step)
                got = group_state(ans, proto)
                absent = [src(proto, i) for i in step[4]]
                listed = set(got[1] + got[2]) if got else set()
                stale = sorted(listed & set(absent))
                fwd = ""
                if got and got[3][0] is not None:
                    # RFC 3376 §6.3: INCLUDE forwards the running sources, EXCLUDE all but
                    # the blocked ones.
                    fwd_want = (want[0], want[1] if want[0] == "include" else want[2])
                    fwd = " forwarding %s" % (got[3],)
                    if got[3] != fwd_want:
                        stale.append("forwarding %s, want %s" % (got[3], fwd_want))
                check(got is not None and got[:3] == want and not stale,
                      "%s %s at %.1f s: %s running %s blocked %s (got %s%s%s)"
                      % (name.replace("v3", "mldv2" if proto == "mld" else "v3"), proto, at,
                         want[0], want[1], want[2], got[:3] if got else "no record", fwd,
                         " stale %s" % stale if stale else ""))


CONFIG_HEAD = """\
eal: ["--no-huge", "--no-pci", "-m", "512", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: up
    device: "net_null0,no-rx=1"
    flow_steering: off
"""
PORT = """\
  - name: s{i}
    device: "net_af_packet{i},iface=d{i},qpairs=2"
    role: downstream
    rx_queues: 2
    flow_steering: off
    ipv4: {{ address: 10.98.{i}.1 }}
    ipv6: {{ link_local: "fe80::98:{i}" }}
    querier: {{ {querier} }}
"""


def main():
    return run_topology(setup, cleanup, run, "namespaces and veths", "mcfwd-sr-")


def run(mcfwd, root, d):
    # net_af_packet with qpairs=2 fans the link's frames out over two sockets, so each
    # downstream port needs both RX queues polled; one forwarding lcore polls at most
    # dataplane::max_rx_queues, hence two mcfwd runs of half the scenarios each.
    half = (len(SCENARIOS) + 1) // 2
    for batch, first in enumerate((0, half)):
        run_batch(mcfwd, root, d, batch, range(first, min(first + half, len(SCENARIOS))))


def run_batch(mcfwd, root, d, batch, indices):
    global PREFIX
    PREFIX = PREFIXES[batch]
    conf = "%s/mcfwd-%d.yaml" % (d, batch)
    with open(conf, "w") as f:
        f.write(CONFIG_HEAD.format(prefix=PREFIX))
        for i in indices:
            f.write(PORT.format(i=i, querier=SCENARIOS[i][1]))
    out_path = "%s/mcfwd-%d.out" % (d, batch)
    log = open(out_path, "w")
    mc = subprocess.Popen(["ip", "netns", "exec", NS["mc"], mcfwd, "--config", conf,
                           "--duration", "150"], stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(mc)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 20 and mc.poll() is None:
        if "mcfwd: running" in open(out_path).read():
            break
        time.sleep(0.1)
    if not check(mc.poll() is None and "mcfwd: running" in open(out_path).read(),
                 "mcfwd starts with %d downstream net_af_packet ports" % len(indices)):
        print(open(out_path).read())
        return
    # The querier settings took: the Group Membership Interval and LMQT the scripts assume.
    ans = router(root, "")
    q = {(r["port"], r["protocol"]): r for r in ans.get("queriers", [])}
    for i in indices:
        name, querier = SCENARIOS[i][:2]
        gmi = 3000 if querier == GMI_3S else 260000
        lmqt = 10000 if querier == LMQI_5S else 2000
        for proto in ("igmp", "mld"):
            r = q.get(("s%d" % i, proto), {})
            check(r.get("querier") == 1 and r.get("group_membership_interval_ms") == gmi and
                  r.get("last_member_query_time_ms") == lmqt,
                  "%s %s: mcfwd is the querier, GMI %d ms, LMQT %d ms (got %s, %s, %s)"
                  % (name, proto, gmi, lmqt, r.get("querier"),
                     r.get("group_membership_interval_ms"), r.get("last_member_query_time_ms")))
    sender = Sender()
    for i in indices:
        run_scenario(root, sender, i, SCENARIOS[i][0], SCENARIOS[i][2])
    print("mcfwdctl router:\n" + mcfwdctl(root, "router")[1])

    mc.send_signal(signal.SIGTERM)
    try:
        rc = mc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    log.close()
    out = open(out_path).read()
    check(rc == 0 and "mcfwd: stopped" in out, "SIGTERM -> mcfwd exits 0 (exit %s)" % rc)
    if FAILURES:
        print(out)
    shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
