#!/usr/bin/python3
"""RFC 4605 §4.2 on the wire: mcfwd forwards onto a downstream link only while it is that
link's querier.

Four network namespaces (root):

  [tx] s0 --veth-- up0 [mc: mcfwd] dn0 --veth-- dm [dn: br1, snooping] vh --veth-- eth0 [h]

mcfwd's ports are net_af_packet over up0 (upstream) and dn0 (downstream, 10.98.0.254).
br1 is a snooping Linux bridge whose own querier (10.98.0.1, lower than mcfwd's address,
IGMPv3, 1 s query interval) is switched on and off during the run; dm is a permanent
router port, so the host's reports reach mcfwd whoever queries. The host (IGMPv3) joins
239.1.1.1; the sender in tx sends to it from 10.99.0.11. mcfwd is the only path from tx to
the host, so what the host's socket receives is what mcfwd forwarded. Checked:
  1. bridge querier off: mcfwd is the IGMP querier, `mcfwdctl router` says "forwarding on",
     and the host receives every datagram;
  2. bridge querier on: mcfwd becomes non-querier (elected 10.98.0.1), "forwarding off";
     the host receives none of the datagrams, while the group stays in mcfwd's router state
     and in its merged state on the uplink (RFC 4605 §4.1: the proxy still subscribes
     upstream for the link); MLD, with no other MLD querier on the link, stays querier and
     forwarding (the families are elected apart);
  3. bridge querier off again: mcfwd is querier and forwarding within the Other Querier
     Present Interval (RFC 3376 §8.5, with the bridge's QRV 2 and QQI 1 s adopted and
     mcfwd's 1 s Query Response Interval: 2 x 1 + 1 / 2 = 2.5 s) after the bridge's last
     query; once the host has answered mcfwd's first query (Max Resp Time 1 s: its
     membership may lapse before that, as the RFC's timers allow), it receives every
     datagram again;
  4. forwarding_changes counts the three changes (start, lost, won); SIGTERM: mcfwd
     exits 0.
Exit 77 (meson: skipped) when not root or tools are missing.
Usage: querier_test.py MCFWD_BINARY SOURCE_ROOT
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (check, mcfwdctl as ctl, remove_topology, require, run_in,  # noqa: E402
                        run_topology, wait_until)

require("network namespaces, bridges, AF_PACKET", ("ip", "bridge", "sysctl", "ethtool"))

PID = os.getpid()
NS = {k: "mcfwd-qr-%s-%d" % (k, PID) for k in ("mc", "tx", "dn", "h")}
PREFIX = "mcfwd-qr-%d" % PID
GROUP, SOURCE, PORT = "239.1.1.1", "10.99.0.11", 5002
PACKETS = 20
# RFC 3376 §8.5 Other Querier Present Interval with what mcfwd adopts from the bridge's
# IGMPv3 queries (QRV 2, QQI 1 s) and its own Query Response Interval (1 s).
OQPI = 2 * 1.0 + 1.0 / 2
QRI = 1.0  # mcfwd's Query Response Interval (query_response_interval_ms below)
BRIDGE_QUERY_INTERVAL = 1.0

CONFIG = """\
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: uplink
    device: "net_af_packet0,iface=up0,qpairs=1"
    ipv4: {{ address: 10.99.0.2 }}
    ipv6: {{ link_local: "fe80::99:2" }}
  - name: down
    device: "net_af_packet1,iface=dn0,qpairs=2"
    role: downstream
    rx_queues: 2
    ipv4: {{ address: 10.98.0.254 }}
    ipv6: {{ link_local: "fe80::98:fe" }}
    querier: {{ query_interval_ms: 3000, query_response_interval_ms: 1000,
               startup_query_interval_ms: 1000 }}
"""

# The host: one socket joined to GROUP; "dump" prints how many datagrams of each round
# (the payload's first word) it received.
AGENT = r"""
import json, socket, struct, sys, threading
counts, lock = {}, threading.Lock()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton(sys.argv[1]) + socket.inet_aton("0.0.0.0") +
             struct.pack("=i", socket.if_nametoindex("eth0")))
def receive():
    while True:
        data = s.recv(2048).decode(errors="replace").split()[0]
        with lock:
            counts[data] = counts.get(data, 0) + 1
threading.Thread(target=receive, daemon=True).start()
print("ok", flush=True)
for line in sys.stdin:
    with lock:
        print(json.dumps(counts), flush=True)
"""

SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[2]))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 8)
s.bind((sys.argv[2], 0))
for i in range(int(sys.argv[4])):
    s.sendto(("%s %d" % (sys.argv[1], i)).encode(), (sys.argv[3], int(sys.argv[5])))
    time.sleep(0.01)
"""

PROCS = []


def sh(*cmd, ns=None, check_rc=True):
    return run_in(NS[ns] if ns else None, cmd, check_rc)


def setup():
    for ns in NS:
        sh("ip", "netns", "add", NS[ns])
        sh("ip", "link", "set", "lo", "up", ns=ns)
    sh("ip", "link", "add", "s0", "type", "veth", "peer", "name", "up0", "netns", NS["mc"],
       ns="tx")
    sh("ip", "addr", "add", SOURCE + "/24", "dev", "s0", ns="tx")
    sh("ip", "link", "set", "s0", "up", ns="tx")
    sh("ip", "route", "add", "224.0.0.0/4", "dev", "s0", ns="tx")
    sh("ethtool", "-K", "s0", "tx", "off", ns="tx")  # complete UDP checksums (CONVENTIONS)
    # The other querier: IGMPv3, 1 s queries from the bridge's own lower address. No IPv6
    # on br1, so it sends no MLD query and mcfwd stays the MLD querier.
    sh("ip", "link", "add", "br1", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "0",
       "mcast_igmp_version", "3", "mcast_query_use_ifaddr", "1",
       "mcast_query_interval", "100", "mcast_query_response_interval", "50",
       "mcast_querier_interval", "150", "mcast_startup_query_interval", "50",
       "mcast_startup_query_count", "1", "mcast_membership_interval", "1000", ns="dn")
    sh("sysctl", "-qw", "net.ipv6.conf.br1.disable_ipv6=1", ns="dn")
    sh("ip", "addr", "add", "10.98.0.1/24", "dev", "br1", ns="dn")
    sh("ip", "link", "add", "dm", "type", "veth", "peer", "name", "dn0", "netns", NS["mc"],
       ns="dn")
    sh("ip", "link", "add", "vh", "type", "veth", "peer", "name", "eth0", "netns", NS["h"],
       ns="dn")
    for p in ("dm", "vh"):
        sh("ip", "link", "set", p, "master", "br1", ns="dn")
        sh("ip", "link", "set", p, "up", ns="dn")
    # mcfwd's port is a router port for good: the host's reports reach it while the
    # bridge is the querier (snooping sends reports to router ports only).
    sh("bridge", "link", "set", "dev", "dm", "mcast_router", "2", ns="dn")
    sh("ip", "link", "set", "br1", "up", ns="dn")
    for c in ("all", "default", "eth0"):
        sh("sysctl", "-qw", "net.ipv4.conf.%s.force_igmp_version=3" % c,
           "net.ipv4.conf.%s.rp_filter=0" % c, ns="h")
    sh("ip", "addr", "add", "10.98.0.11/24", "dev", "eth0", ns="h")
    sh("ip", "link", "set", "eth0", "up", ns="h")
    sh("ip", "route", "add", "default", "dev", "eth0", ns="h")
    for p in ("up0", "dn0"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % p, ns="mc")
        sh("ip", "link", "set", p, "up", ns="mc")


def cleanup():
    remove_topology(PROCS, NS.values(), [PREFIX])


def bridge_querier(on):
    sh("ip", "link", "set", "br1", "type", "bridge", "mcast_querier", "1" if on else "0",
       ns="dn")


def queriers(root):
    """{protocol: querier record} of port down (mcfwdctl --json router)."""
    rc, out, _ = ctl(root, PREFIX, "--json", "router", "down")
    if rc != 0:
        return {}
    ans = json.loads(out)
    q = {r["protocol"]: r for r in ans.get("queriers", [])}
    q["groups"] = {g["group"] for g in ans.get("groups", [])}
    return q


def igmp_state(root):
    q = queriers(root).get("igmp")
    return (q["querier"], q["forwarding"]) if q else None


def traffic(host, rnd):
    """Sends PACKETS datagrams tagged rnd; how many the host's socket got within 2 s (the
    machine may be busy: the last ones can take a while through mcfwd and the bridge)."""
    subprocess.run(["ip", "netns", "exec", NS["tx"], "/usr/bin/python3", "-c", SENDER, rnd,
                    SOURCE, GROUP, str(PACKETS), str(PORT)], check=True)
    got = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2 and got < PACKETS:
        time.sleep(0.2)
        host.stdin.write("dump\n")
        host.stdin.flush()
        got = json.loads(host.stdout.readline()).get(rnd, 0)
    return got


def router_line(root):
    return [line for line in ctl(root, PREFIX, "router", "down")[1].splitlines()
            if " igmp " in line]


def run(mcfwd, root, d):
    with open(d + "/mcfwd.yaml", "w") as f:
        f.write(CONFIG.format(prefix=PREFIX))
    log = open(d + "/mcfwd.out", "w")
    mc = subprocess.Popen(["ip", "netns", "exec", NS["mc"], mcfwd, "--config", d + "/mcfwd.yaml",
                           "--duration", "60"], stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(mc)
    started = wait_until(lambda: mc.poll() is not None or
                       "mcfwd: running" in open(d + "/mcfwd.out").read(), 20, 0.1)
    if not check(started is not None and mc.poll() is None, "mcfwd starts"):
        print(open(d + "/mcfwd.out").read())
        return
    host = subprocess.Popen(["ip", "netns", "exec", NS["h"], "/usr/bin/python3", "-c", AGENT,
                             GROUP, str(PORT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    PROCS.append(host)
    check(host.stdout.readline().strip() == "ok", "the host joins %s" % GROUP)

    # 1. mcfwd alone on the link: querier, forwarding.
    learnt = wait_until(lambda: GROUP in queriers(root).get("groups", ()), 10, 0.2)
    check(learnt is not None, "mcfwd's router learns the host's join of %s" % GROUP)
    check(igmp_state(root) == (1, 1), "alone on the link, mcfwd is the IGMP querier and "
          "forwards (%s)" % router_line(root))
    got = traffic(host, "r0")
    check(got == PACKETS, "querier: the host receives all %d datagrams (got %d)"
          % (PACKETS, got))

    # 2. A lower-addressed querier appears: mcfwd stops forwarding onto the link.
    bridge_querier(True)
    took = wait_until(lambda: igmp_state(root) == (0, 0), 10)
    q = queriers(root)
    check(took is not None and q["igmp"]["querier_address"] == "10.98.0.1",
          "with the bridge querying from 10.98.0.1, mcfwd is non-querier and stops forwarding "
          "(%s)" % router_line(root))
    lines = router_line(root)
    check(lines and "non-querier elected 10.98.0.1" in lines[0] and "forwarding off" in lines[0],
          "mcfwdctl router says so: %s" % lines)
    got = traffic(host, "r1")
    check(got == 0, "non-querier: mcfwd forwards none of the %d datagrams onto the link "
          "(the host got %d)" % (PACKETS, got))
    q = queriers(root)
    check(GROUP in q.get("groups", ()), "the group stays in mcfwd's router state")
    rc, out, _ = ctl(root, PREFIX, "--json", "groups", "uplink")
    merged = {g["group"] for g in json.loads(out).get("groups", [])} if rc == 0 else set()
    check(GROUP in merged, "and in its merged state on the uplink (RFC 4605 §4.1) %s"
          % sorted(merged))
    check(q["mld"]["querier"] == 1 and q["mld"]["forwarding"] == 1,
          "MLD, with no other MLD querier, stays querier and forwarding")

    # 3. The other querier goes: mcfwd takes over within the Other Querier Present Interval.
    bridge_querier(False)
    t_off = time.monotonic()
    took = wait_until(lambda: igmp_state(root) == (1, 1), 3 * OQPI)
    # The bridge's last query may be up to one of its query intervals before t_off.
    check(took is not None and took <= OQPI + 0.5,
          "the bridge querier off, mcfwd is querier and forwarding again after %s s (within "
          "the Other Querier Present Interval %.1f s + 0.5 s margin, counted from the "
          "bridge's last query, at most %.0f s before)"
          % ("%.2f" % took if took is not None else "never", OQPI, BRIDGE_QUERY_INTERVAL))
    print("took over %.2f s after the bridge querier was switched off" % (time.monotonic() - t_off))
    # With no query since the bridge's last, the host's membership may lapse in mcfwd's
    # router before the host answers mcfwd's first query (RFC 3376 §8.4-8.5: the Group
    # Membership Interval, 2 x 1 s + 1 s from the host's last report, can end before a
    # report sent up to Max Resp Time (1 s) after the takeover at the Other Querier
    # Present Interval). The group is forwarded again once that report is in: the
    # traffic goes after it.
    time.sleep(QRI + 0.2)
    check(wait_until(lambda: GROUP in queriers(root).get("groups", ()), 2 * QRI, 0.1)
          is not None, "the host answers mcfwd's query: %s in its router state" % GROUP)
    got = traffic(host, "r2")
    check(got == PACKETS, "querier again: the host receives all %d datagrams (got %d)"
          % (PACKETS, got))
    q = queriers(root)["igmp"]
    check(q["forwarding_changes"] == 3 and q["counters"]["querier_lost"] == 1 and
          q["counters"]["querier_won"] == 1,
          "forwarding_changes 3 (start, lost, won), querier_lost 1, querier_won 1 (%s, %s, %s)"
          % (q["forwarding_changes"], q["counters"]["querier_lost"],
             q["counters"]["querier_won"]))
    print("\n".join(router_line(root)))

    mc.send_signal(signal.SIGTERM)
    try:
        rc = mc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    log.close()
    out = open(d + "/mcfwd.out").read()
    if not check(rc == 0 and "mcfwd: stopped" in out, "SIGTERM -> mcfwd exits 0 (exit %s)" % rc):
        print(out)


if __name__ == "__main__":
    sys.exit(run_topology(setup, cleanup, run, "namespaces and bridge", "mcfwd-qr-"))
