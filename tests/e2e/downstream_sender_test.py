#!/usr/bin/python3
"""RFC 4605 §4.2 on the wire, second sentence: what a sender behind a downstream port sends
goes to the upstream interface, and to each other downstream interface per its hosts'
subscriptions, never back out of the port it came in on.

Six network namespaces (root):

  [up] s0 --veth-- up0 [mc: mcfwd] dn0 --veth-- dm0 [d0: br1, no snooping] hs, ha
                               dn1 --veth-- eth0 [hb]             --veth-- eth0 [hs], eth0 [ha]

mcfwd's ports are net_af_packet: up0 (upstream, qpairs=2: one TX queue for the forwarding
lcore, one for reports), dn0 and dn1 (downstream, mcfwd the querier). hs sends, from two
addresses per family, to groups ha (on the sender's own link) and hb (behind the other
downstream port) joined with different filters, to a group nobody downstream joined, to a
link-local scope group, and with TTL 1 to a group hb and a local receiver joined. A socket
in [up] joins every group the sender uses. Checked, from captures and real sockets:
  1. the upstream link carries every (S,G) the sender sent, each packet once, with TTL /
     hop limit one less and up0's MAC — members downstream or not — except the link-local
     scope group and the TTL 1 flow; the socket in [up] gets exactly those;
  2. hb's socket gets exactly its filter's (S,G), each packet once (the other downstream
     port, RFC 4605 §4.2), and those frames left dn1 with TTL one less and dn1's MAC;
  3. nothing mcfwd sent came back onto the sender's link (no frame from dn0's MAC with the
     sender's payload on dm0), and ha's socket gets each packet of its filter exactly once
     (the sender's own frame through the bridge; mcfwd's down0 outlet, which ha's join put
     in the upstream table, is masked out for frames from dn0);
  4. the local receiver on the uplink (ring, mcfwdctl stats' delivered) got its groups'
     packets, the TTL 1 ones included (receivers get the frame untouched); the data path's
     from_downstream counts the sender's forwarded packets;
  5. SIGTERM: mcfwd exits 0.
Exit 77 (meson: skipped) when not root or tools are missing.
Usage: downstream_sender_test.py MCFWD_BINARY SOURCE_ROOT
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (accepts, canon, capture, check, HostAgent, mcfwdctl as ctl,  # noqa: E402
                        remove_topology, require, run_in, run_topology, wait_until)

require("network namespaces, bridges, AF_PACKET",
        ("ip", "sysctl", "ethtool", "dumpcap"), scapy=True)
from scapy.all import IP, IPv6, Raw, rdpcap  # noqa: E402

PID = os.getpid()
NS = {k: "mcfwd-ds-%s-%d" % (k, PID) for k in ("up", "mc", "d0", "hs", "ha", "hb")}
PREFIX = "mcfwd-ds-%d" % PID
PORT = 5003
PACKETS = 10
SEND_TTL = 8

S1, S2 = "10.98.0.21", "10.98.0.22"
T1, T2 = "2001:db8:98::21", "2001:db8:98::22"
G1, G2, NOBODY, LL, G_TTL1 = "239.1.1.1", "239.2.2.2", "239.9.9.9", "224.0.0.200", "239.3.3.3"
H1, H_NOBODY = "ff0e::1:1", "ff0e::9:9"
# (source, group, TTL / hop limit) of every flow the sender sends, PACKETS each.
FLOWS = [(S1, G1, SEND_TTL), (S2, G1, SEND_TTL), (S1, G2, SEND_TTL), (S2, G2, SEND_TTL),
         (S1, NOBODY, SEND_TTL), (S1, LL, SEND_TTL), (S1, G_TTL1, 1),
         (T1, H1, SEND_TTL), (T2, H1, SEND_TTL), (T1, H_NOBODY, SEND_TTL)]
# What each host's sockets do, and the filter per group that results.
JOINS = {
    "ha": [("IP_ADD_MEMBERSHIP", G1, None), ("MCAST_JOIN_GROUP", H1, None)],
    "hb": [("MCAST_JOIN_SOURCE_GROUP", G1, S1), ("IP_ADD_MEMBERSHIP", G2, None),
           ("IP_BLOCK_SOURCE", G2, S2), ("IP_ADD_MEMBERSHIP", G_TTL1, None),
           ("MCAST_JOIN_GROUP", H1, None), ("MCAST_BLOCK_SOURCE", H1, T2)],
    "up": [("IP_ADD_MEMBERSHIP", g, None) for g in (G1, G2, NOBODY, G_TTL1)] +
          [("MCAST_JOIN_GROUP", g, None) for g in (H1, H_NOBODY)],
}
FILTERS = {
    "ha": {G1: ("exclude", set()), H1: ("exclude", set())},
    "hb": {G1: ("include", {S1}), G2: ("exclude", {S2}), G_TTL1: ("exclude", set()),
           H1: ("exclude", {T2})},
}
# The local receiver r joins on the uplink (configuration).
RECEIVER_GROUPS = [G1, G_TTL1]

CONFIG = """\
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: uplink
    device: "net_af_packet0,iface=up0,qpairs=2"
    rx_queues: 2
    ipv4: {{ address: 10.99.0.2 }}
    ipv6: {{ link_local: "fe80::99:2" }}
  - name: down0
    device: "net_af_packet1,iface=dn0,qpairs=2"
    role: downstream
    rx_queues: 2
    ipv4: {{ address: 10.98.0.1 }}
    ipv6: {{ link_local: "fe80::98:1" }}
    querier: {{ query_interval_ms: 5000, query_response_interval_ms: 2000 }}
  - name: down1
    device: "net_af_packet2,iface=dn1,qpairs=2"
    role: downstream
    rx_queues: 2
    ipv4: {{ address: 10.97.0.1 }}
    ipv6: {{ link_local: "fe80::97:1" }}
    querier: {{ query_interval_ms: 5000, query_response_interval_ms: 2000 }}
receivers:
  - name: r
    sink: {{ ring: ds-r }}
    joins:
{joins}
"""


# The sender: FLOWS interleaved, one datagram per flow every 2 ms.
SENDER = r"""
import json, socket, sys, time
flows, n = json.loads(sys.argv[1]), int(sys.argv[2])
socks = []
for src, grp, ttl in flows:
    if ":" in grp:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("eth0"))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, ttl)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        dest = (grp, %d, 0, 0)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        dest = (grp, %d)
    s.bind((src, 0))
    socks.append((s, dest, src, grp))
for i in range(n):
    for s, dest, src, grp in socks:
        s.sendto(("e2e S=%%s G=%%s seq=%%d" %% (src, grp, i)).encode(), dest)
    time.sleep(0.002)
""" % (PORT, PORT)

PROCS = []


def sh(*cmd, ns=None, check_rc=True):
    return run_in(NS[ns] if ns else None, cmd, check_rc)


def host_link(ns, peer_ns, peer, v4, v6):
    """A host namespace's eth0, its peer `peer` in peer_ns; address v4/24 and v6/64, a
    default route (the sources are off-link for hb and [up]), no reverse-path filter."""
    sh("ip", "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", NS[ns],
       ns=peer_ns)
    for c in ("all", "default", "eth0"):
        sh("sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % c, ns=ns)
    sh("ip", "addr", "add", v4 + "/24", "dev", "eth0", ns=ns)
    sh("ip", "addr", "add", v6 + "/64", "dev", "eth0", "nodad", ns=ns)
    sh("ip", "link", "set", "eth0", "up", ns=ns)
    sh("ip", "route", "add", "default", "dev", "eth0", ns=ns)
    sh("ip", "-6", "route", "add", "default", "dev", "eth0", ns=ns)


def setup():
    for ns in NS:
        sh("ip", "netns", "add", NS[ns])
        sh("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
           ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    # The upstream peer: a host on up0's link.
    host_link("up", "mc", "up0", "10.99.0.1", "2001:db8:99::1")
    # The sender's link: a plain bridge (floods) with the sender hs and the host ha.
    sh("ip", "link", "add", "br1", "type", "bridge", "mcast_snooping", "0", ns="d0")
    sh("ip", "link", "add", "dm0", "type", "veth", "peer", "name", "dn0", "netns", NS["mc"],
       ns="d0")
    for h, i in (("hs", 21), ("ha", 11)):
        host_link(h, "d0", h, "10.98.0.%d" % i, "2001:db8:98::%d" % i)
    for p in ("dm0", "hs", "ha"):
        sh("ip", "link", "set", p, "master", "br1", ns="d0")
        sh("ip", "link", "set", p, "up", ns="d0")
    sh("ip", "link", "set", "br1", "up", ns="d0")
    sh("ip", "addr", "add", S2 + "/24", "dev", "eth0", ns="hs")
    sh("ip", "addr", "add", T2 + "/64", "dev", "eth0", "nodad", ns="hs")
    sh("ip", "route", "add", "224.0.0.0/4", "dev", "eth0", ns="hs")
    # veth offloads the UDP checksum; mcfwd forwards the frames' bytes as they are, so the
    # sender's must be complete (as a NIC on the wire sends them): see proxy_test.py.
    sh("ethtool", "-K", "eth0", "tx", "off", ns="hs")
    # The other downstream link: hb alone on dn1.
    host_link("hb", "mc", "dn1", "10.97.0.12", "2001:db8:97::12")
    # mcfwd speaks IGMP/MLD on its veths: the kernel must not.
    for p in ("up0", "dn0", "dn1"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % p, ns="mc")
        sh("ip", "link", "set", p, "up", ns="mc")


def cleanup():
    remove_topology(PROCS, NS.values(), [PREFIX])


class Host(HostAgent):
    def __init__(self, name, addr):
        super().__init__(name, NS[name], addr, PORT, PROCS)

    def received(self):
        """{(S, G): packets}, and what did not parse under "junk"."""
        out = {}
        for d in self.datagrams():
            if d[0] == "junk":
                out.setdefault("junk", []).append(d[1])
                continue
            peer, group, _, n = d
            out[(peer, group)] = out.get((peer, group), 0) + n
        return out


def capture_on(ns, iface, path):
    p = capture(NS[ns], iface, path)
    PROCS.append(p)
    return p


def frames(path, src_mac):
    """The sender's datagrams in a capture sent from src_mac: {(S, G): [ttl, ...]}."""
    out = {}
    for p in rdpcap(path):
        if Raw not in p or p.src != src_mac:
            continue
        m = re.match(rb"e2e S=(\S+) G=(\S+) seq=(\d+)", bytes(p[Raw].load))
        if not m:
            continue
        ttl = p[IP].ttl if IP in p else p[IPv6].hlim if IPv6 in p else None
        out.setdefault((canon(m.group(1).decode()), canon(m.group(2).decode())), []).append(ttl)
    return out


def mac_of(iface):
    return json.loads(sh("ip", "-j", "link", "show", iface, ns="mc"))[0]["address"]


def router_groups(root, port):
    rc, out, _ = ctl(root, PREFIX, "--json", "router", port)
    return {canon(g["group"]) for g in json.loads(out).get("groups", [])} if rc == 0 else set()


def upstream_flows():
    """The flows that must reach the upstream link: all but link-local scope and TTL 1."""
    return [(s, g) for s, g, ttl in FLOWS if g != LL and ttl > 1]


def check_host(h, filters, what, routed=True):
    """h's sockets got each packet of its filter once; through mcfwd (routed) only those
    sent with a TTL / hop limit above 1 (RFC 1812 §5.3.1)."""
    got = h.received()
    wrong = []
    for s, g, ttl in FLOWS:
        want = PACKETS if g in filters and accepts(filters[g], s) and (ttl > 1 or not routed) \
            else 0
        n = got.get((canon(s), canon(g)), 0)
        if n != want:
            wrong.append("%s->%s: %d of %d" % (s, g, n, want))
    check(not wrong and "junk" not in got, "host %s (%s) got exactly its filter's packets, each "
          "once %s%s" % (h.name, what, wrong or "", got.get("junk", "")))


def run(mcfwd, root, d):
    joins = "\n".join("      - { port: uplink, group: %s }" % g for g in RECEIVER_GROUPS)
    with open(d + "/mcfwd.yaml", "w") as f:
        f.write(CONFIG.format(prefix=PREFIX, joins=joins))
    caps = [capture_on("up", "eth0", d + "/up.pcap"), capture_on("d0", "dm0", d + "/dm0.pcap"),
            capture_on("hb", "eth0", d + "/hb.pcap")]
    log = open(d + "/mcfwd.out", "w")
    mc = subprocess.Popen(["ip", "netns", "exec", NS["mc"], mcfwd, "--config", d + "/mcfwd.yaml",
                           "--duration", "60"], stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(mc)
    started = wait_until(lambda: mc.poll() is not None or
                         "mcfwd: running" in open(d + "/mcfwd.out").read(), 20, 0.1)
    if not check(started is not None and mc.poll() is None,
                 "mcfwd starts with an upstream and two downstream net_af_packet ports"):
        print(open(d + "/mcfwd.out").read())
        return
    out = open(d + "/mcfwd.out").read()
    check("not forwarded upstream" not in out, "the upstream port has its TX queues (qpairs=2)")
    hosts = {"ha": Host("ha", "10.98.0.11"), "hb": Host("hb", "10.97.0.12"),
             "up": Host("up", "10.99.0.1")}
    for name, h in hosts.items():
        h.do(JOINS[name])
    # Both downstream routers learned their hosts' groups (ha's join puts down0's outlet in
    # the upstream table: what must not send the sender's frames back).
    want0, want1 = {G1, canon(H1)}, {G1, G2, G_TTL1, canon(H1)}
    took = wait_until(lambda: want0 <= router_groups(root, "down0") and
                      want1 <= router_groups(root, "down1"), 15, 0.2)
    if not check(took is not None, "mcfwd's routers learned ha's and hb's groups"):
        print(ctl(root, PREFIX, "router")[1])
    time.sleep(1)  # capture and sockets settled
    subprocess.run(["ip", "netns", "exec", NS["hs"], "/usr/bin/python3", "-c", SENDER,
                    json.dumps(FLOWS), str(PACKETS)], check=True)
    time.sleep(1)
    rc, stats, _ = ctl(root, PREFIX, "--json", "stats")
    stats = json.loads(stats) if rc == 0 else {}

    mc.send_signal(signal.SIGTERM)
    try:
        rc = mc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    log.close()
    out = open(d + "/mcfwd.out").read()
    check(rc == 0 and "mcfwd: stopped" in out, "SIGTERM -> mcfwd exits 0 (exit %s)" % rc)
    print(out)
    time.sleep(0.5)
    for c in caps:
        c.send_signal(signal.SIGINT)
        c.wait(timeout=10)

    # 1. Upstream: every flow but link-local scope and TTL 1, once, TTL - 1, from up0.
    up = frames(d + "/up.pcap", mac_of("up0"))
    want = {(canon(s), canon(g)): [SEND_TTL - 1] * PACKETS for s, g in upstream_flows()}
    check(up == want, "the upstream link carries each of the sender's packets once, TTL / hop "
          "limit %d, from up0's MAC, members downstream or not, but no link-local scope or "
          "TTL 1 packet (got %s)" % (SEND_TTL - 1, {k: len(v) for k, v in up.items()}))
    up_filters = {g: ("exclude", set()) for _, g in upstream_flows()}
    check_host(hosts["up"], up_filters, "upstream")
    # 2. The other downstream port: hb's filter, routed copies.
    check_host(hosts["hb"], FILTERS["hb"], "behind the other downstream port")
    hb = frames(d + "/hb.pcap", mac_of("dn1"))
    want = {(canon(s), canon(g)): [SEND_TTL - 1] * PACKETS for s, g, ttl in FLOWS
            if g in FILTERS["hb"] and accepts(FILTERS["hb"][g], s) and ttl > 1}
    check(hb == want, "dn1 sent hb's (S,G) with TTL / hop limit %d from its MAC (got %s)"
          % (SEND_TTL - 1, {k: len(v) for k, v in hb.items()}))
    # 3. Never back onto the sender's link.
    back = frames(d + "/dm0.pcap", mac_of("dn0"))
    check(not back, "nothing mcfwd sent came back onto the sender's link (%s)"
          % {k: len(v) for k, v in back.items()})
    check_host(hosts["ha"], FILTERS["ha"], "on the sender's link", routed=False)
    # 4. The local receiver and the counters.
    delivered = dict(zip(stats.get("outlets", []), stats.get("delivered", [])))
    want_r = sum(PACKETS for s, g, _ in FLOWS if g in RECEIVER_GROUPS)
    check(delivered.get("r") == want_r, "the local receiver r got its groups' packets, TTL 1 "
          "included: %s of %d" % (delivered.get("r"), want_r))
    dp = stats.get("dataplane", {})
    want_fd = PACKETS * sum(1 for s, g, ttl in FLOWS if g != LL)
    check(dp.get("from_downstream") == want_fd, "from_downstream counts the sender's "
          "forwarded packets: %s of %d" % (dp.get("from_downstream"), want_fd))


if __name__ == "__main__":
    sys.exit(run_topology(setup, cleanup, run, "namespaces and bridges", "mcfwd-ds-"))
