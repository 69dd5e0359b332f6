#!/usr/bin/python3
"""mcfwd as an IGMPv3/MLDv2 proxy (RFC 4605) between a snooping Linux bridge and Linux hosts.

Seven network namespaces (root):

  [tx] s0 --veth-- vs [br: br0, snooping querier] vm --veth-- up0 [mc: mcfwd] dn0 --veth--
       dm [dn: br1, no snooping] ha, hb, hc --veth-- eth0 [ha], eth0 [hb], eth0 [hc]

mcfwd's ports are net_af_packet over up0 (role upstream, qpairs=2: a TX queue for the
downstream senders' traffic, none here, and one for reports) and dn0 (role downstream: the
querier and router for the hosts). The hosts are real kernel sockets (IGMPv3 / MLDv2
forced on ha and hb, IGMPv2 / MLDv1 on hc) joining through IP_ADD_MEMBERSHIP,
IP_BLOCK_SOURCE, IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_SOURCE_GROUP, MCAST_JOIN_GROUP,
MCAST_BLOCK_SOURCE, IPV6_JOIN_GROUP; then they
change (unblock, add a source) and leave (IP_DROP_MEMBERSHIP, MCAST_LEAVE_SOURCE_GROUP).
Checked, before and after the change:
  1. the upstream bridge's mdb for mcfwd's port is the merge of what the hosts asked
     (RFC 3376 §3.2 over the hosts, as mcfwd's router learns it: RFC 4605 §4.1);
  2. mcfwd's router state on the downstream port (scripts/mcfwdctl router) is that merge:
     filter mode, forwarded sources, blocked sources;
  3. an upstream sender's traffic (three sources per family) crosses the downstream veth
     exactly per the merge, and each host's socket gets exactly its own filter's packets;
     the TTL / hop limit of the routed copies is recorded (asserted decremented once the
     data path counts ttl_expired);
  4. after a leave, traffic of the left (S,G) stops on the downstream veth within the Last
     Member Query Time (1 s x 2) plus a margin;
  5. RFC 4604 §2.2.2, SSM: any-source requests for SSM groups (232/8, ff3x::/32) are ignored
     on the downstream port, counted, and never proxied. ha joins 232.5.5.5 and ff3e::5:5
     any-source as an IGMPv3 / MLDv2 host (the kernel sends TO_EX({}) then IS_EX({})), hc,
     forced to IGMPv2 / MLDv1, joins 232.6.6.6 and ff3e::6:6 (v2 / MLDv1 reports). Checked:
     neither mcfwd's router state (mcfwdctl router) nor the uplink's merged state (mcfwdctl
     groups) nor the upstream bridge's mdb holds them; no report mcfwd sent on the upstream
     veth (decoded from a capture) names them; the port's ssm_ignored counters moved by at
     least the records the hosts sent (decoded from the downstream capture). Control: ha's
     source-specific join of the SSM group 232.3.3.3 (items 1-3) is learnt, proxied and
     delivered, and traffic to the any-source SSM groups reaches nobody (item 3). At run
     time, mcfwdctl join / block / set-filter exclude of SSM groups of both families answer
     EINVAL and nothing goes upstream, while join --source does (tests/integration/
     telemetry_test.py checks the error codes of the IPv4 cases without a peer);
  6. SIGTERM: mcfwd exits 0; none of the upstream sender's packets went back upstream.
Exit 77 (meson: skipped) when not root or tools are missing.
Usage: proxy_test.py MCFWD_BINARY SOURCE_ROOT
"""
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (accepts, canon, capture, check, HostAgent, mcfwdctl as ctl,  # noqa: E402
                        merge, require, run_in, run_topology)


require("network namespaces, bridges, AF_PACKET",
        ("ip", "bridge", "dumpcap", "sysctl", "ethtool", "nstat"), scapy=True)
from scapy.all import IP, IPv6, Raw, rdpcap  # noqa: E402
from scapy.contrib.igmp import IGMP  # noqa: E402
from scapy.contrib.igmpv3 import IGMPv3mr  # noqa: E402
from scapy.layers.inet6 import ICMPv6MLReport, ICMPv6MLReport2  # noqa: E402

PID = os.getpid()
# The hosts: name, address (10.98.0.N), IGMP and MLD version their kernel is forced to.
HOSTS = [("ha", 11, 3, 2), ("hb", 12, 3, 2), ("hc", 13, 2, 1)]
NS = {k: "mcfwd-px-%s-%d" % (k, PID) for k in ("br", "mc", "tx", "dn", "ha", "hb", "hc")}
PREFIX = "mcfwd-px-%d" % PID
PORT = 5001
PACKETS = 10  # per (S,G) and traffic round
SEND_TTL = 8
LMQT = 2.0  # the default Last Member Query Interval (1 s) x Last Member Query Count (2)

S1, S2, S3 = "10.99.0.11", "10.99.0.12", "10.99.0.13"
T1, T2, T3 = "2001:db8:99::11", "2001:db8:99::12", "2001:db8:99::13"
GROUPS = ["239.1.1.1", "232.3.3.3", "239.2.2.2", "ff0e::1:1", "ff3e::8000:1"]
NOBODY = ["239.9.9.9", "ff0e::9:9"]

# What each host does, by socket API, and the filter that results per group.
JOINS = {
    "ha": [("IP_ADD_MEMBERSHIP", "239.1.1.1", None), ("IP_BLOCK_SOURCE", "239.1.1.1", S2),
           ("IP_BLOCK_SOURCE", "239.1.1.1", S3),
           ("IP_ADD_SOURCE_MEMBERSHIP", "232.3.3.3", S1),
           ("IPV6_JOIN_GROUP", "ff0e::1:1", None), ("MCAST_BLOCK_SOURCE", "ff0e::1:1", T2),
           ("MCAST_BLOCK_SOURCE", "ff0e::1:1", T3),
           ("MCAST_JOIN_SOURCE_GROUP", "ff3e::8000:1", T1)],
    "hb": [("MCAST_JOIN_SOURCE_GROUP", "239.1.1.1", S2),
           ("MCAST_JOIN_SOURCE_GROUP", "232.3.3.3", S2),
           ("IP_ADD_MEMBERSHIP", "239.2.2.2", None),
           ("MCAST_JOIN_GROUP", "ff0e::1:1", None), ("MCAST_BLOCK_SOURCE", "ff0e::1:1", T3),
           ("MCAST_JOIN_SOURCE_GROUP", "ff3e::8000:1", T2)],
}
# Any-source joins of SSM groups (RFC 4604 §2.2.2: the router ignores and counts them, the
# proxy never reports them): ha's kernel sends IGMPv3 / MLDv2 EXCLUDE({}) records, hc's
# (IGMPv2 / MLDv1 forced, HOSTS) v2 reports and MLDv1 reports. They are in no FILTERS: no
# packet of theirs is forwarded, so no socket of theirs receives one.
SSM_ANY = {
    "ha": [("IP_ADD_MEMBERSHIP", "232.5.5.5", None), ("IPV6_JOIN_GROUP", "ff3e::5:5", None)],
    "hc": [("IP_ADD_MEMBERSHIP", "232.6.6.6", None), ("IPV6_JOIN_GROUP", "ff3e::6:6", None)],
}
SSM_ANY_GROUPS = sorted({canon(g) for ops in SSM_ANY.values() for _, g, _ in ops})
JOINS["ha"] += SSM_ANY["ha"]
JOINS["hc"] = SSM_ANY["hc"]
# mcfwdctl at run time (receiver r on the uplink): any-source requests for SSM groups,
# refused with EINVAL; the source-specific joins after them are taken and reported.
SSM_REFUSED = [("join", "r", "232.9.9.9"), ("block", "r", "232.9.9.8", S1),
               ("set-filter", "r", "232.9.9.7", "exclude", S1), ("join", "r", "ff3e::9:9"),
               ("block", "r", "ff3e::9:8", T1), ("set-filter", "r", "ff3e::9:7", "exclude", T1)]
SSM_TAKEN = [("join", "r", "232.9.9.10", "--source", S1),
             ("join", "r", "ff3e::9:10", "--source", T1)]
FILTERS = {
    "ha": {"239.1.1.1": ("exclude", {S2, S3}), "232.3.3.3": ("include", {S1}),
           "ff0e::1:1": ("exclude", {T2, T3}), "ff3e::8000:1": ("include", {T1})},
    "hb": {"239.1.1.1": ("include", {S2}), "232.3.3.3": ("include", {S2}),
           "239.2.2.2": ("exclude", set()), "ff0e::1:1": ("exclude", {T3}),
           "ff3e::8000:1": ("include", {T2})},
    "hc": {},
}
MERGED = {  # by hand, RFC 3376 §3.2 (checked against merge() at start)
    "239.1.1.1": ("exclude", {S3}),  # ({S2,S3} - {S2})
    "232.3.3.3": ("include", {S1, S2}),
    "239.2.2.2": ("exclude", set()),
    "ff0e::1:1": ("exclude", {T3}),  # {T2,T3} & {T3}
    "ff3e::8000:1": ("include", {T1, T2}),
}
CHANGES = {
    "ha": [("IP_UNBLOCK_SOURCE", "239.1.1.1", S3)],
    "hb": [("MCAST_JOIN_SOURCE_GROUP", "232.3.3.3", S3), ("IP_DROP_MEMBERSHIP", "239.2.2.2", None),
           ("MCAST_LEAVE_SOURCE_GROUP", "ff3e::8000:1", T2)],
    "hc": [],
}
FILTERS_AFTER = {
    "ha": dict(FILTERS["ha"], **{"239.1.1.1": ("exclude", {S2})}),
    "hb": {"239.1.1.1": ("include", {S2}), "232.3.3.3": ("include", {S2, S3}),
           "ff0e::1:1": ("exclude", {T3})},
    "hc": {},
}
MERGED_AFTER = {
    "239.1.1.1": ("exclude", set()),  # {S2} - {S2}: hb's include cancels ha's block
    "232.3.3.3": ("include", {S1, S2, S3}),
    "ff0e::1:1": ("exclude", {T3}),
    "ff3e::8000:1": ("include", {T1}),
}
LEFT = [(S1, "239.2.2.2"), (T2, "ff3e::8000:1")]  # (S,G) whose last member leaves

# The upstream sender: FLOWS interleaved, one datagram per flow every GAP seconds.
SENDER = r"""
import json, socket, sys, time
flows, gap = json.loads(sys.argv[1]), float(sys.argv[2])
socks = []
for src, grp, n, first in flows:
    if ":" in grp:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("s0"))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, %d)
        dest = (grp, %d, 0, 0)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, %d)
        dest = (grp, %d)
    s.bind((src, 0))
    socks.append((s, dest))
for i in range(max(f[2] for f in flows)):
    for (s, dest), (src, grp, n, first) in zip(socks, flows):
        if i < n:
            s.sendto(("e2e S=%%s G=%%s seq=%%d" %% (src, grp, first + i)).encode(), dest)
    time.sleep(gap)
""" % (SEND_TTL, PORT, SEND_TTL, PORT)


def sh(*cmd, ns=None, check_rc=True):
    return run_in(NS[ns] if ns else None, cmd, check_rc)


def link_local_scope(g):
    a = ipaddress.ip_address(g)
    return a in ipaddress.ip_network("224.0.0.0/24") if a.version == 4 else \
        a in ipaddress.ip_network("ff02::/16")


# --- topology -------------------------------------------------------------------------

def setup():
    for ns in NS:
        sh("ip", "netns", "add", NS[ns])
        sh("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
           ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    # Upstream: the snooping querier of bridge_peer_test.py (1 s startup queries, 3 s
    # general queries, 7 s membership interval, fast last-member queries).
    sh("ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1",
       "mcast_igmp_version", "3", "mcast_mld_version", "2", "mcast_query_use_ifaddr", "1",
       "mcast_query_interval", "300", "mcast_query_response_interval", "100",
       "mcast_membership_interval", "700", "mcast_querier_interval", "700",
       "mcast_startup_query_interval", "100", "mcast_startup_query_count", "2",
       "mcast_last_member_interval", "50", "mcast_last_member_count", "2", ns="br")
    sh("ip", "link", "add", "vm", "type", "veth", "peer", "name", "up0", "netns", NS["mc"],
       ns="br")
    sh("ip", "link", "add", "vs", "type", "veth", "peer", "name", "s0", "netns", NS["tx"],
       ns="br")
    for p in ("vm", "vs"):
        sh("ip", "link", "set", p, "master", "br0", ns="br")
        sh("ip", "link", "set", p, "up", ns="br")
    sh("ip", "addr", "add", "10.99.0.1/24", "dev", "br0", ns="br")
    sh("ip", "link", "set", "br0", "up", ns="br")
    sh("ip", "link", "set", "s0", "up", ns="tx")
    for i in (11, 12, 13):
        sh("ip", "addr", "add", "10.99.0.%d/24" % i, "dev", "s0", ns="tx")
        sh("ip", "addr", "add", "2001:db8:99::%d/64" % i, "dev", "s0", "nodad", ns="tx")
    sh("ip", "route", "add", "224.0.0.0/4", "dev", "s0", ns="tx")
    # veth offloads the UDP checksum: the bridge passes the frame on with only the
    # pseudo-header sum (CHECKSUM_PARTIAL), AF_PACKET hands mcfwd those bytes, and mcfwd
    # forwards them unchanged, so the hosts' kernels would drop every datagram
    # (UdpInCsumErrors). A NIC on the wire always carries complete checksums.
    sh("ethtool", "-K", "s0", "tx", "off", ns="tx")
    # Downstream: a plain bridge (no snooping: it floods) with the hosts.
    sh("ip", "link", "add", "br1", "type", "bridge", "mcast_snooping", "0", ns="dn")
    sh("ip", "link", "add", "dm", "type", "veth", "peer", "name", "dn0", "netns", NS["mc"],
       ns="dn")
    sh("ip", "link", "set", "dm", "master", "br1", ns="dn")
    sh("ip", "link", "set", "dm", "up", ns="dn")
    for h, i, igmp, mld in HOSTS:
        sh("ip", "link", "add", h, "type", "veth", "peer", "name", "eth0", "netns", NS[h],
           ns="dn")
        sh("ip", "link", "set", h, "master", "br1", ns="dn")
        sh("ip", "link", "set", h, "up", ns="dn")
        # The kernel takes "all"'s MLD version over the device's when set: set every level.
        for c in ("all", "default", "eth0"):
            sh("sysctl", "-qw", "net.ipv4.conf.%s.force_igmp_version=%d" % (c, igmp),
               "net.ipv6.conf.%s.force_mld_version=%d" % (c, mld),
               "net.ipv4.conf.%s.rp_filter=0" % c, ns=h)
        sh("ip", "addr", "add", "10.98.0.%d/24" % i, "dev", "eth0", ns=h)
        sh("ip", "link", "set", "eth0", "up", ns=h)
        # The sources are off-link: a route so that nothing drops their datagrams.
        sh("ip", "route", "add", "default", "dev", "eth0", ns=h)
        sh("ip", "-6", "route", "add", "default", "dev", "eth0", ns=h)
    sh("ip", "link", "set", "br1", "up", ns="dn")
    # mcfwd speaks IGMP/MLD for both of its veths: the kernel must not, so no IPv6 and
    # no IPv4 address there.
    for p in ("up0", "dn0"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % p, ns="mc")
        sh("ip", "link", "set", p, "up", ns="mc")


PROCS = []


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in NS.values():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)


class Host(HostAgent):
    def __init__(self, name, addr):
        super().__init__(name, NS[name], addr, PORT, PROCS)

    def received(self):
        """{(round, S, G): [seq, ...]} of what its sockets got."""
        out = {}
        for d in self.datagrams():
            if d[0] == "junk":
                out.setdefault("junk", []).append(d[1])
                continue
            peer, group, seq, n = d
            out.setdefault((seq // 1000, peer, group), []).extend([seq] * n)
        return out


# --- views of the membership ----------------------------------------------------------

def mdb():
    """The upstream bridge's entries for mcfwd's port vm, as the semantic view of
    bridge_peer_test.py: {group: (mode, include list or {}, blocked)}; link-local-scope
    groups apart."""
    out = json.loads(sh("bridge", "-j", "-d", "-s", "mdb", "show", ns="br") or "[]")
    groups, ll = {}, set()
    for dev in out:
        for e in dev.get("mdb", []):
            if e.get("port") != "vm" or "src" in e:
                continue
            g = canon(e["grp"])
            if link_local_scope(g):
                ll.add(g)
                continue
            mode = e.get("filter_mode", "?")
            srcs = [(canon(s["address"]), float(s["timer"])) for s in e.get("source_list", [])]
            if mode == "include":
                groups[g] = (mode, frozenset(a for a, _ in srcs), frozenset())
            else:  # EXCLUDE (X, Y): the requested X forward like any other source
                groups[g] = (mode, frozenset(), frozenset(a for a, t in srcs if t == 0))
    return groups, ll


def expected(merged):
    return {canon(g): (m, frozenset(map(canon, s)) if m == "include" else frozenset(),
                       frozenset(map(canon, s)) if m == "exclude" else frozenset())
            for g, (m, s) in merged.items()}


def show(groups):
    return "\n".join("  %s %s include=%s blocked=%s" % (g, m, sorted(i), sorted(b))
                     for g, (m, i, b) in sorted(groups.items()))


def mcfwdctl(root, *args):
    return ctl(root, PREFIX, *args)


def router_state(root):
    """mcfwd's router state on port down, same shape as expected(): mode, forwarded
    sources (INCLUDE), blocked sources (EXCLUDE); link-local-scope groups apart."""
    rc, out, err = mcfwdctl(root, "--json", "router", "down")
    if rc != 0:
        return None, out + err
    groups = {}
    for g in json.loads(out).get("groups", []):
        grp = canon(g["group"])
        if link_local_scope(grp):
            continue
        mode = g["mode"]
        if mode == "include":
            groups[grp] = (mode, frozenset(map(canon, g.get("sources") or [])), frozenset())
        else:
            groups[grp] = (mode, frozenset(), frozenset(map(canon, g.get("blocked") or [])))
    return groups, out


def wait_for(fn, want, timeout):
    t0 = time.monotonic()
    got = None
    while time.monotonic() - t0 < timeout:
        got = fn()
        if got == want:
            return time.monotonic() - t0, got
        time.sleep(0.2)
    return None, got


# --- traffic ----------------------------------------------------------------------------

def flows(rnd):
    return [(s, g, PACKETS, rnd * 1000) for g in GROUPS + NOBODY + SSM_ANY_GROUPS
            for s in ((T1, T2, T3) if ":" in g else (S1, S2, S3))]


def send(plan, gap=0.002, wait=True):
    cmd = ["ip", "netns", "exec", NS["tx"], "/usr/bin/python3", "-c", SENDER, json.dumps(plan),
           str(gap)]
    if wait:
        subprocess.run(cmd, check=True)
        return None
    p = subprocess.Popen(cmd)
    PROCS.append(p)
    return p


def on_wire(path):
    """What mcfwd sent on the downstream veth: {(round, S, G): [(time, ttl), ...]}."""
    out = {}
    for p in rdpcap(path):
        if Raw not in p:
            continue
        m = re.match(rb"e2e S=(\S+) G=(\S+) seq=(\d+)", bytes(p[Raw].load))
        if not m:
            continue
        ttl = p[IP].ttl if IP in p else p[IPv6].hlim if IPv6 in p else None
        key = (int(m.group(3)) // 1000, canon(m.group(1).decode()), canon(m.group(2).decode()))
        out.setdefault(key, []).append((float(p.time), (ttl, p.src)))
    return out


# --- SSM (RFC 4604 §2.2.2) ---------------------------------------------------------------

def records(p):
    """The group records of an IGMP / MLD report frame: [(protocol, group, any_source)],
    any_source for an EXCLUDE-mode record (IS_EX 2, TO_EX 4) or an IGMPv1/v2 / MLDv1
    report (RFC 3376 §7.3.2 reads it as IS_EX({}))."""
    if IGMPv3mr in p:
        return [("igmp", canon(r.maddr), r.rtype in (2, 4)) for r in p[IGMPv3mr].records]
    if IGMP in p and p[IGMP].type in (0x12, 0x16):
        return [("igmp", canon(p[IGMP].gaddr), True)]
    if ICMPv6MLReport2 in p:
        return [("mld", canon(r.dst), r.rtype in (2, 4)) for r in p[ICMPv6MLReport2].records]
    if ICMPv6MLReport in p:
        return [("mld", canon(p[ICMPv6MLReport].mladdr), True)]
    return []


def any_source_ssm_records(path, until):
    """{protocol: how many any-source records for SSM_ANY_GROUPS} in the capture before
    `until` (epoch seconds)."""
    n = {"igmp": 0, "mld": 0}
    for p in rdpcap(path):
        if float(p.time) < until:
            for proto, g, any_source in records(p):
                n[proto] += any_source and g in SSM_ANY_GROUPS
    return n


def ssm_ignored(root):
    """The downstream port's router counters ssm_ignored: {protocol: n}."""
    rc, out, _ = mcfwdctl(root, "--json", "router", "down")
    qs = json.loads(out).get("queriers", []) if rc == 0 else []
    return {q["protocol"]: q.get("counters", {}).get("ssm_ignored", 0) for q in qs}


def uplink_groups(root):
    """The groups of mcfwd's merged state on the uplink (mcfwdctl groups uplink)."""
    rc, out, _ = mcfwdctl(root, "--json", "groups", "uplink")
    return {canon(g["group"]) for g in json.loads(out).get("groups", [])} if rc == 0 else set()


def check_ssm_state(root, absent, present, what):
    """No state anywhere for the groups `absent`: mcfwd's router on the downstream port,
    its merged state on the uplink, the upstream bridge's mdb; the groups `present` are in
    the last two (the control: the same path carries an SSM (S,G) join)."""
    views = [("mcfwd's router state on the downstream port", set(router_state(root)[0] or {}),
              ()),
             ("mcfwd's merged state on the uplink (mcfwdctl groups)", uplink_groups(root),
              present),
             ("the upstream bridge's mdb", set(mdb()[0]), present)]
    for where, have, want in views:
        held, missing = sorted(have & set(absent)), sorted(set(want) - have)
        if not check(not held and not missing, "%s: %s holds none of %s%s" % (
                what, where, sorted(absent), ", and holds %s" % sorted(want) if want else "")):
            print("  holds %s, misses %s" % (held, missing))


def check_ssm_runtime(root):
    """mcfwdctl: any-source requests for SSM groups answer EINVAL (exit 1) and change
    nothing; the source-specific joins are taken and reach the upstream bridge."""
    for args in SSM_REFUSED:
        rc, out, err = mcfwdctl(root, *args, "--port", "uplink")
        check(rc == 1 and "EINVAL" in err, "mcfwdctl %s -> EINVAL, exit 1 (exit %d: %s)"
              % (" ".join(args), rc, (out + err).strip()))
    for args in SSM_TAKEN:
        rc, out, err = mcfwdctl(root, *args, "--port", "uplink")
        check(rc == 0, "mcfwdctl %s -> ok (exit %d: %s)" % (" ".join(args), rc,
                                                               (out + err).strip()))
    taken = {canon(a[2]) for a in SSM_TAKEN}
    wait_for(lambda: taken <= set(mdb()[0]), True, 5)
    check_ssm_state(root, SSM_ANY_GROUPS + [canon(a[2]) for a in SSM_REFUSED], sorted(taken),
                    "after mcfwdctl's SSM requests")


def check_ssm_wire(d, ssm0, ssm1, t_read):
    """The counters moved by at least the any-source records the hosts sent before they
    were read; no report mcfwd sent upstream names an any-source SSM group or a refused
    one, and its reports name the SSM (S,G) joins (so the capture decodes them)."""
    sent = any_source_ssm_records(d + "/dm.pcap", t_read)
    for proto in ("igmp", "mld"):
        moved = ssm1.get(proto, 0) - ssm0.get(proto, 0)
        check(sent[proto] > 0 and moved >= sent[proto],
              "%s: the downstream port's ssm_ignored moved by %d, at least the %d any-source "
              "records for %s the hosts sent" % (proto, moved, sent[proto], SSM_ANY_GROUPS))
    reported = {g for p in rdpcap(d + "/vm.pcap") for _, g, _ in records(p)}
    never = set(SSM_ANY_GROUPS) | {canon(a[2]) for a in SSM_REFUSED}
    check(not reported & never, "no report mcfwd sent upstream names an any-source SSM group "
          "or a refused one %s" % sorted(reported & never))
    control = {"232.3.3.3", "ff3e::8000:1"} | {canon(a[2]) for a in SSM_TAKEN}
    check(control <= reported, "mcfwd's upstream reports name the SSM (S,G) joins %s (missing "
          "%s)" % (sorted(control), sorted(control - reported)))


# --- the run --------------------------------------------------------------------------

CONFIG = """\
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: uplink
    device: "net_af_packet0,iface=up0,qpairs=2"
    rx_queues: 2
    ipv4: {{ address: 10.99.0.2 }}
    ipv6: {{ link_local: "fe80::99:2" }}
  - name: down
    device: "net_af_packet1,iface=dn0,qpairs=2"
    role: downstream
    rx_queues: 2
    ipv4: {{ address: 10.98.0.1 }}
    ipv6: {{ link_local: "fe80::98:1" }}
{querier}
receivers:
  - name: r
    sink: {{ ring: px-r }}
"""
# Short general-query cycle so that the hosts' answers are exercised within the run; the
# last member query interval and count stay at their defaults (LMQT above).
QUERIER = """\
    querier: { query_interval_ms: 5000, query_response_interval_ms: 2000,
               startup_query_interval_ms: 1000 }"""


def main():
    for merged, filters in ((MERGED, FILTERS), (MERGED_AFTER, FILTERS_AFTER)):
        for g in merged:
            check(merge([f[g] for f in filters.values() if g in f]) == merged[g],
                  "the hand-written merge of %s is RFC 3376's" % g)
    return run_topology(setup, cleanup, run, "namespaces and bridges", "mcfwd-px-")


def check_membership(root, merged, what, timeout):
    want = expected(merged)
    took, got = wait_for(lambda: mdb()[0], want, timeout)
    if not check(took is not None, "%s: the upstream bridge's mdb for mcfwd's port is the "
                 "hosts' merge%s" % (what, " after %.1f s" % took if took is not None else "")):
        print("want:\n%s\ngot:\n%s" % (show(want), show(got or {})))
    ll = mdb()[1]
    check(not ll, "%s: no link-local-scope group proxied upstream %s" % (what, sorted(ll)))
    if not HAVE_ROUTER:
        # TODO(issue 7): scripts/mcfwdctl has no `router` command in this tree.
        print("TODO: mcfwdctl router missing; mcfwd's learned state not checked")
        return
    took, got = wait_for(lambda: router_state(root)[0], want, timeout)
    if not check(took is not None, "%s: mcfwd's router on the downstream port learned the "
                 "hosts' merge (mode, forwarded and blocked sources)" % what):
        print("want:\n%s\ngot:\n%s" % (show(want), show(got or {})))
        print(router_state(root)[1])


def check_traffic(rnd, filters, merged, wire, hosts):
    wrong = []
    for s, g, n, first in flows(rnd):
        want = n if g in merged and accepts(merged[g], s) else 0
        got = len(wire.get((rnd, canon(s), canon(g)), []))
        if got != want:
            wrong.append("%s->%s: %d of %d" % (s, g, got, want))
    check(not wrong, "round %d: mcfwd sent on the downstream veth exactly the (S,G) the merge "
          "accepts %s" % (rnd, wrong or ""))
    for h in hosts:
        got = h.received()
        wrong = []
        for s, g, n, first in flows(rnd):
            acc = g in filters[h.name] and accepts(filters[h.name][g], s)
            want = list(range(first, first + n)) if acc else []
            seqs = sorted(got.get((rnd, canon(s), canon(g)), []))
            if seqs != want:
                wrong.append("%s->%s: %d of %d" % (s, g, len(seqs), len(want)))
        if not check(not wrong and "junk" not in got, "round %d: host %s's sockets got "
                     "exactly its filter's packets, each once %s%s"
                     % (rnd, h.name, wrong or "", got.get("junk", ""))):
            # Where the kernel dropped them, if it did.
            print("  %s: %s" % (h.name, " ".join(
                line.split()[0] + "=" + line.split()[1]
                for line in sh("nstat", "-az", ns=h.name, check_rc=False).splitlines()
                if re.match(r"(Ip|Udp|Ip6|Udp6|IpExt)\w* +[1-9]", line))))


def run(mcfwd, root, d):
    global HAVE_ROUTER
    ctl = os.path.join(root, "scripts/mcfwdctl")
    HAVE_ROUTER = os.path.exists(ctl) and "router" in open(ctl).read()
    with open(d + "/mcfwd.yaml", "w") as f:
        f.write(CONFIG.format(prefix=PREFIX, querier=QUERIER))
    cap, cap_up = capture(NS["dn"], "dm", d + "/dm.pcap"), capture(NS["br"], "vm", d + "/vm.pcap")
    PROCS.extend((cap, cap_up))
    time.sleep(1)
    log = open(d + "/mcfwd.out", "w")
    mc = subprocess.Popen(["ip", "netns", "exec", NS["mc"], mcfwd, "--config", d + "/mcfwd.yaml",
                           "--duration", "150"], stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(mc)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 20 and mc.poll() is None:
        if "mcfwd: running" in open(d + "/mcfwd.out").read():
            break
        time.sleep(0.1)
    if not check(mc.poll() is None, "mcfwd starts with an upstream and a downstream "
                 "net_af_packet port"):
        print(open(d + "/mcfwd.out").read())
        return
    ssm0 = ssm_ignored(root)
    hosts = [Host(h, "10.98.0.%d" % i) for h, i, _, _ in HOSTS]
    for h in hosts:
        h.do(JOINS[h.name])

    # 1-2. The membership, upstream and in mcfwd's router.
    check_membership(root, MERGED, "after the joins", 15)
    print("bridge -d mdb show (port vm):\n" + "\n".join(
        line for line in sh("bridge", "-d", "mdb", "show", ns="br").splitlines() if "vm" in line))
    if HAVE_ROUTER:
        print("mcfwdctl router down:\n" + mcfwdctl(root, "router", "down")[1])
    # 5. SSM: no state for the any-source joins, once the router has counted at least one
    # record of each host (ha, hc) per family.
    wait_for(lambda: all(ssm_ignored(root).get(p, 0) - ssm0.get(p, 0) >= 2
                         for p in ("igmp", "mld")), True, 5)
    check_ssm_state(root, SSM_ANY_GROUPS, ["232.3.3.3", "ff3e::8000:1"], "after the joins")
    # 3. Traffic round 0.
    send(flows(0))
    time.sleep(1)

    # 4. Changes and leaves while the left (S,G) flow at 50 packets/s.
    leave_flow = send([(s, g, 400, 5000) for s, g in LEFT], gap=0.02, wait=False)
    time.sleep(2)
    t_change = time.time()
    for h in hosts:
        h.do(CHANGES[h.name])
    check_membership(root, MERGED_AFTER, "after the changes and leaves", 15)
    leave_flow.wait()
    send(flows(1))
    time.sleep(1)
    check_ssm_runtime(root)
    t_read = time.time() - 0.5  # records older than this have reached the router
    ssm1 = ssm_ignored(root)

    # TTL decrement is asserted once the data path knows about it (ttl_expired).
    rc, stats, _ = mcfwdctl(root, "--json", "stats")
    knows_ttl = "ttl_expired" in stats

    mc.send_signal(signal.SIGTERM)
    try:
        rc = mc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    log.close()
    out = open(d + "/mcfwd.out").read()
    check(rc == 0 and "mcfwd: stopped" in out, "SIGTERM -> mcfwd exits 0 (exit %s)" % rc)
    knows_ttl = knows_ttl or "ttl_expired" in out
    time.sleep(0.5)
    for c in (cap, cap_up):
        c.send_signal(signal.SIGINT)
        c.wait(timeout=10)
    print(out)

    global DN0_MAC
    DN0_MAC = json.loads(sh("ip", "-j", "link", "show", "dn0", ns="mc"))[0]["address"]
    wire = on_wire(d + "/dm.pcap")
    check_traffic(0, FILTERS, MERGED, wire, hosts)
    check_traffic(1, FILTERS_AFTER, MERGED_AFTER, wire, hosts)
    check_ssm_wire(d, ssm0, ssm1, t_read)
    for s, g in LEFT:
        times = sorted(t for t, _ in wire.get((5, canon(s), canon(g)), []))
        before = [t for t in times if t_change - 1 < t < t_change]
        last = times[-1] - t_change if times else None
        check(before and last is not None and last <= LMQT + 1.5,
              "after the last member left, %s->%s stopped on the downstream veth %s s after the "
              "leave (%d packets in the second before it; LMQT %.0f s + 1.5 s margin)"
              % (s, g, "%.2f" % last if last is not None else "never", len(before), LMQT))
    # The upstream port has its outlet for the downstream senders (qpairs=2): the upstream
    # sender's packets never go back upstream (tests/e2e/downstream_sender_test.py has the
    # downstream senders).
    up0_mac = json.loads(sh("ip", "-j", "link", "show", "up0", ns="mc"))[0]["address"]
    back = sum(1 for p in rdpcap(d + "/vm.pcap") if Raw in p and p.src == up0_mac and
               bytes(p[Raw].load).startswith(b"e2e S="))
    check("not forwarded upstream" not in out and back == 0, "the upstream port has its "
          "outlet, and none of the upstream sender's packets went back upstream (%d)" % back)
    ttls = sorted({ttl for v in wire.values() for _, (ttl, _) in v})
    macs = sorted({mac for v in wire.values() for _, (_, mac) in v})
    if knows_ttl:
        # The data path has routed outlets (RFC 1812 §5.3.1 / RFC 4605 §3: the downstream
        # port is a routed hop). If this fails with TTL unchanged and the sender's MAC, the
        # application still sends on the downstream port as a plain TX outlet
        # (app/mcfwd/runtime.cpp: Outlet::tx instead of Outlet::routed_tx).
        check(ttls == [SEND_TTL - 1], "routed copies leave with TTL / hop limit %d - 1 (seen %s)"
              % (SEND_TTL, ttls))
        check(macs == [DN0_MAC], "routed copies leave from the downstream port's MAC %s (seen %s)"
              % (DN0_MAC, macs))
    else:
        # TODO(issue 7): no ttl_expired counter yet, so no TTL decrement to assert.
        print("NOTE: no ttl_expired counter in this build; routed copies' TTL / hop limit seen "
              "on the downstream veth: %s (sent with %d), source MACs %s" % (ttls, SEND_TTL, macs))


if __name__ == "__main__":
    sys.exit(main())
