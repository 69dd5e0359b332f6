#!/usr/bin/python3
"""mcfwd against a real IGMPv3/MLDv2 peer: a Linux bridge that snoops and queries.

Three network namespaces (root):

    [mcfwd ns]  m0 --veth-- vm [bridge ns: br0, snooping querier] vs --veth-- s0  [sender ns]
    mcfwd on net_af_packet,iface=m0                        10.99.0.11-13, 2001:db8:99::11-13

mcfwd joins statically for three receivers whose filters overlap, so what it
reports is the per-port merge (RFC 3376 §3.2, RFC 3810 §4.2), and each receiver's
sink is a net_pcap TX port. Checked:
  1. the bridge's mdb for mcfwd's port holds exactly the merged filters: groups,
     filter mode, source lists, blocked (S,G) entries, IPv4 and IPv6;
  2. it stays exact for three membership intervals while the bridge keeps querying,
     and every general query is answered with current-state records equal to it;
  3. receivers change their filters at run time (scripts/mcfwdctl set-filter over DPDK
     telemetry) and the mdb follows to the new merge;
  4. before and after that change, the bridge forwards to mcfwd exactly the (S,G) the
     merged filters accept, and multicast from a kernel sender reaches each receiver
     exactly per its own filter (count per (S,G) per receiver, every sequence number once);
  5. after SIGTERM mcfwd leaves on the wire and the bridge drops every entry of its
     port well before the membership interval would have expired them.
Exit 77 (meson: skipped) when not root, or namespaces, bridge or scapy are unavailable.
Usage: bridge_peer_test.py MCFWD_BINARY SOURCE_ROOT
"""
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (accepts, canon, check, mcfwdctl as ctl, merge,  # noqa: E402
                        remove_topology, require, run_in, run_topology, tshark_fields)

require("network namespaces, a bridge, AF_PACKET", ("ip", "bridge", "dumpcap", "tshark"),
        scapy=True)
from scapy.all import Raw, rdpcap, wrpcap  # noqa: E402

PID = os.getpid()
NS_BR, NS_MC, NS_TX = "mcfwd-e2e-br-%d" % PID, "mcfwd-e2e-mc-%d" % PID, "mcfwd-e2e-tx-%d" % PID
PREFIX = "mcfwd-e2e-%d" % PID

# The bridge's querier, in centiseconds as `ip link` takes them. The membership interval
# is RFC 3376 §8.4's robustness * query interval + response interval (2 * 3 s + 1 s).
QUERY_INTERVAL, RESPONSE_INTERVAL, MEMBERSHIP_INTERVAL = 300, 100, 700
HOLD = 3 * MEMBERSHIP_INTERVAL / 100  # seconds the membership must survive on queries alone
PACKETS = 10  # per (S,G)

S1, S2, S3 = "10.99.0.11", "10.99.0.12", "10.99.0.13"
T1, T2, T3 = "2001:db8:99::11", "2001:db8:99::12", "2001:db8:99::13"

# Each receiver's filter per group: (mode, sources).
RECEIVERS = {
    "ra": {
        "239.1.1.1": ("exclude", {S2, S3}),
        "239.2.2.2": ("include", {S1}),
        "239.4.4.4": ("exclude", {S1}),
        "ff0e::1:1": ("exclude", {T2, T3}),
        "ff3e::8000:1": ("include", {T1}),
    },
    "rb": {
        "239.1.1.1": ("exclude", {S3}),
        "232.3.3.3": ("include", {S2}),
        "ff0e::1:1": ("include", {T2}),
        "ff3e::8000:1": ("include", {T1, T2}),
    },
    "rc": {
        "239.1.1.1": ("include", {S1}),
        "239.2.2.2": ("include", {S1, S2}),
        "232.3.3.3": ("include", {S3}),
        "239.4.4.4": ("include", {S1}),
        "ff0e::3:3": ("exclude", set()),
    },
}
# The port's merged filters, written out by hand from RFC 3376 §3.2 (any EXCLUDE member:
# EXCLUDE of the excludes' intersection minus every include; else INCLUDE of the union).
MERGED = {
    "239.1.1.1": ("exclude", {S3}),  # ({S2,S3} & {S3}) - {S1}
    "239.2.2.2": ("include", {S1, S2}),
    "232.3.3.3": ("include", {S2, S3}),
    "239.4.4.4": ("exclude", set()),  # {S1} - {S1}: an include cancels the exclude
    "ff0e::1:1": ("exclude", {T3}),  # {T2,T3} - {T2}
    "ff3e::8000:1": ("include", {T1, T2}),
    "ff0e::3:3": ("exclude", set()),
}
NOBODY = ["239.9.9.9", "ff0e::9:9"]  # sent to, joined by no receiver

# Run-time filter changes through telemetry (scripts/mcfwdctl set-filter), and the merge after.
CHANGES = [
    ("rc", "239.1.1.1", ("exclude", {S1})),  # an include becomes an exclude
    ("rc", "232.3.3.3", ("include", {S1})),  # a source swapped in an SSM channel
    ("rb", "ff3e::8000:1", ("include", {T2, T3})),
]
MERGED_AFTER = dict(MERGED)
MERGED_AFTER.update({
    "239.1.1.1": ("exclude", set()),  # {S2,S3} & {S3} & {S1}: the port now takes any source
    "232.3.3.3": ("include", {S1, S2}),  # rb's {S2} | rc's {S1}: S3 is blocked
    "ff3e::8000:1": ("include", {T1, T2, T3}),  # ra's {T1} | rb's {T2,T3}
})


def receivers_after():
    after = {name: dict(joins) for name, joins in RECEIVERS.items()}
    for name, g, flt in CHANGES:
        after[name][g] = flt
    return after


CONFIG = """\
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
ports:
  - name: uplink
    device: "net_af_packet0,iface=m0,qpairs=1"
    ipv4: {{ address: 10.99.0.2 }}
    ipv6: {{ link_local: "fe80::99:2" }}
{sink_ports}
receivers:
{receivers}
"""

SENDER = r"""
import json, socket, sys, time
for src, grp, n, first in json.loads(sys.argv[1]):
    if ":" in grp:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("s0"))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        dest = (grp, 5001, 0, 0)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
        dest = (grp, 5001)
    s.bind((src, 0))
    for seq in range(first, first + n):
        s.sendto(("e2e S=%s G=%s seq=%d" % (src, grp, seq)).encode(), dest)
        time.sleep(0.002)
    s.close()
"""


def sh(*cmd, ns=None, check_rc=True):
    return run_in(ns, cmd, check_rc)


# --- topology -------------------------------------------------------------------------

def setup():
    for ns in (NS_BR, NS_MC, NS_TX):
        sh("ip", "netns", "add", ns)
        # No DAD: addresses (the bridge's link-local for MLD queries, the sender's
        # sources) are usable at once instead of after a second of tentativeness.
        sh("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
           ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    sh("ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1",
       "mcast_igmp_version", "3", "mcast_mld_version", "2", "mcast_query_use_ifaddr", "1",
       "mcast_query_interval", str(QUERY_INTERVAL),
       "mcast_query_response_interval", str(RESPONSE_INTERVAL),
       "mcast_membership_interval", str(MEMBERSHIP_INTERVAL),
       "mcast_querier_interval", str(MEMBERSHIP_INTERVAL),
       "mcast_startup_query_interval", "100", "mcast_startup_query_count", "2",
       "mcast_last_member_interval", "50", "mcast_last_member_count", "2", ns=NS_BR)
    sh("ip", "link", "add", "vm", "type", "veth", "peer", "name", "m0", "netns", NS_MC, ns=NS_BR)
    sh("ip", "link", "add", "vs", "type", "veth", "peer", "name", "s0", "netns", NS_TX, ns=NS_BR)
    for p in ("vm", "vs"):
        sh("ip", "link", "set", p, "master", "br0", ns=NS_BR)
        sh("ip", "link", "set", p, "up", ns=NS_BR)
    # The querier sends IGMPv3 queries from this address (mcast_query_use_ifaddr) and
    # MLDv2 queries from br0's link-local.
    sh("ip", "addr", "add", "10.99.0.1/24", "dev", "br0", ns=NS_BR)
    sh("ip", "link", "set", "br0", "up", ns=NS_BR)
    global BR_UP
    BR_UP = time.time()
    # mcfwd speaks for m0: the kernel must not report anything there itself. Without IPv6
    # on m0 it sends no MLD; it has no IPv4 address and joins no IPv4 group but 224.0.0.1,
    # which is never reported.
    sh("sysctl", "-qw", "net.ipv6.conf.m0.disable_ipv6=1", ns=NS_MC)
    sh("ip", "link", "set", "m0", "up", ns=NS_MC)
    sh("ip", "link", "set", "s0", "up", ns=NS_TX)
    for i in (11, 12, 13):
        sh("ip", "addr", "add", "10.99.0.%d/24" % i, "dev", "s0", ns=NS_TX)
        sh("ip", "addr", "add", "2001:db8:99::%d/64" % i, "dev", "s0", "nodad", ns=NS_TX)
    sh("ip", "route", "add", "224.0.0.0/4", "dev", "s0", ns=NS_TX)


PROCS = []
BR_UP = 0.0  # when br0 came up (wall clock)


def cleanup():
    remove_topology(PROCS, (NS_BR, NS_MC, NS_TX), (PREFIX,))


# --- the bridge's view ----------------------------------------------------------------

def mdb(port="vm"):
    """The bridge's entries for PORT: ({group: (mode, requested, blocked)}, {(G, S, blocked)}).

    In INCLUDE mode every listed source is requested. In EXCLUDE mode the list holds
    the router's two sets (RFC 3376 §6.2.1): requested sources run a timer, excluded
    ones sit at 0.00 and also appear as (S,G) entries flagged "blocked"."""
    out = json.loads(sh("bridge", "-j", "-d", "-s", "mdb", "show", ns=NS_BR) or "[]")
    groups, sg = {}, set()
    for dev in out:
        for e in dev.get("mdb", []):
            if e.get("port") != port:
                continue
            g = canon(e["grp"])
            if "src" in e:
                sg.add((g, canon(e["src"]), "blocked" in e.get("flags", [])))
                continue
            mode = e.get("filter_mode", "?")
            srcs = [(canon(s["address"]), float(s["timer"])) for s in e.get("source_list", [])]
            if mode == "include":
                groups[g] = (mode, frozenset(a for a, _ in srcs), frozenset())
            else:
                groups[g] = (mode, frozenset(a for a, t in srcs if t > 0),
                             frozenset(a for a, t in srcs if t == 0))
    return groups, sg


def semantic(state):
    """STATE without the router's requested sources of EXCLUDE-mode groups.

    EXCLUDE(X, Y) forwards every source but Y whatever X is, so X is no part of the
    membership: a host's ALLOW retransmitted after a filter-mode change (RFC 3376 §5.1
    keeps source retransmission state across it) puts sources into X until the next
    IS_EX answer deletes them (§6.4.1: EXCLUDE (X,Y) IS_EX (A) -> Delete (X-A))."""
    groups, sg = state
    ex = {g for g, (mode, _, _) in groups.items() if mode == "exclude"}
    return ({g: (m, frozenset() if m == "exclude" else r, b) for g, (m, r, b) in groups.items()},
            {(g, s, blk) for g, s, blk in sg if blk or g not in ex})


def expected_mdb(merged):
    groups, sg = {}, set()
    for g, (mode, srcs) in merged.items():
        g = canon(g)
        srcs = frozenset(canon(s) for s in srcs)
        if mode == "include":
            groups[g] = (mode, srcs, frozenset())
        else:
            groups[g] = (mode, frozenset(), srcs)
        sg |= {(g, s, mode == "exclude") for s in srcs}
    return groups, sg


def show(state):
    groups, sg = state
    lines = []
    for g in sorted(groups, key=lambda a: ipaddress.ip_address(a).packed):
        mode, req, blocked = groups[g]
        lines.append("  %s %s requested=%s blocked=%s" % (g, mode, sorted(req), sorted(blocked)))
    lines.append("  (S,G): %s" % sorted(sg))
    return "\n".join(lines)


def wait_mdb(want, timeout, view=lambda s: s):
    """Seconds until the bridge's mdb for mcfwd's port, seen through VIEW, equals WANT."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if view(mdb()) == want:
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


# --- the run --------------------------------------------------------------------------

def write_config(d):
    sink_ports, receivers = [], []
    for i, (name, joins) in enumerate(RECEIVERS.items(), start=1):
        sink_ports.append(
            '  - name: {n}\n'
            '    device: "net_pcap{i},rx_pcap={d}/empty.pcap,tx_pcap={d}/{n}.pcap"\n'
            "    igmp: {{ enabled: false }}\n"
            "    mld: {{ enabled: false }}".format(n=name, i=i, d=d))
        lines = ["  - name: %s" % name, "    sink: { port: %s }" % name, "    joins:"]
        for g, (mode, srcs) in joins.items():
            lines.append('      - { port: uplink, group: "%s", mode: %s, sources: [%s] }'
                         % (g, mode, ", ".join('"%s"' % s for s in sorted(srcs))))
        receivers.append("\n".join(lines))
    wrpcap(d + "/empty.pcap", [])
    with open(d + "/mcfwd.yaml", "w") as f:
        f.write(CONFIG.format(prefix=PREFIX, sink_ports="\n".join(sink_ports),
                              receivers="\n".join(receivers)))
    return d + "/mcfwd.yaml"


ROUND = 1000  # sequence numbers of traffic round r start at r * ROUND


def send_traffic(rnd):
    """PACKETS to every (S,G) of the same family, groups joined or not; returns the plan."""
    plan = []
    for g in list(MERGED) + NOBODY:
        for s in ((T1, T2, T3) if ":" in g else (S1, S2, S3)):
            plan.append((s, g, PACKETS, rnd * ROUND))
    sh("/usr/bin/python3", "-c", SENDER, json.dumps(plan), ns=NS_TX)
    return plan


def payload_flow(pkt):
    if Raw not in pkt:
        return None
    m = re.match(rb"e2e S=(\S+) G=(\S+) seq=(\d+)", bytes(pkt[Raw].load))
    if not m:
        return None
    return canon(m.group(1).decode()), canon(m.group(2).decode()), int(m.group(3))


def split_sources(counts, flat):
    """tshark flattens every record's sources into one list; cut it by the counts."""
    out, k = [], 0
    for n in counts:
        out.append(frozenset(canon(a) for a in flat[k:k + n]))
        k += n
    return out


def decode_capture(path):
    """What crossed vm: the general queries and mcfwd's reports as (time, kind, records)
    (kind: q4/q6 queries, r4/r6 reports, records {group: (record type, sources)}), and the
    data packets per (S,G). tshark decodes IGMP/MLD (scapy reads only an MLDv2 report's
    first record)."""
    fields = ["frame.time_epoch", "ip.src", "ipv6.src", "igmp.type", "igmp.maddr",
              "igmp.num_src", "igmp.record_type", "igmp.saddr", "icmpv6.type",
              "icmpv6.mld.multicast_address", "icmpv6.mldr.mar.record_type",
              "icmpv6.mldr.mar.multicast_address", "icmpv6.mldr.mar.nb_sources",
              "icmpv6.mldr.mar.source_address"]
    shown = "igmp || icmpv6.type == 130 || icmpv6.type == 143"
    events = []
    for row in tshark_fields(path, fields, shown, sep="\t"):
        v = dict(zip(fields, [x.split(",") if x else [] for x in row]))
        t = float(v["frame.time_epoch"][0])
        if v["igmp.type"] == ["0x11"] and v["igmp.maddr"] == ["0.0.0.0"]:
            events.append((t, "q4", None))
        elif v["igmp.type"] == ["0x22"] and v["ip.src"] == ["10.99.0.2"]:
            srcs = split_sources(map(int, v["igmp.num_src"]), v["igmp.saddr"])
            events.append((t, "r4", {canon(g): (int(r), s) for g, r, s in
                                     zip(v["igmp.maddr"], v["igmp.record_type"], srcs)}))
        elif v["icmpv6.type"] == ["130"] and v["icmpv6.mld.multicast_address"] == ["::"]:
            events.append((t, "q6", None))
        elif v["icmpv6.type"] == ["143"] and v["ipv6.src"] == ["fe80::99:2"]:
            srcs = split_sources(map(int, v["icmpv6.mldr.mar.nb_sources"]),
                                 v["icmpv6.mldr.mar.source_address"])
            events.append((t, "r6", {canon(g): (int(r), s) for g, r, s in
                                     zip(v["icmpv6.mldr.mar.multicast_address"],
                                         v["icmpv6.mldr.mar.record_type"], srcs)}))
    data = {}
    for p in rdpcap(path):
        fl = payload_flow(p)
        if fl:
            key = (fl[2] // ROUND,) + fl[:2]
            data[key] = data.get(key, 0) + 1
    return events, data


def current_state(merged, v6):
    """The records answering a general query: IS_IN (1) / IS_EX (2) per group."""
    return {canon(g): (1 if m == "include" else 2, frozenset(map(canon, s)))
            for g, (m, s) in merged.items() if (":" in g) == v6}


def main():
    for g, flt in MERGED.items():
        check(merge([r[g] for r in RECEIVERS.values() if g in r]) == flt,
              "the hand-written merge of %s is RFC 3376's" % g)
    return run_topology(setup, cleanup, run, "namespaces and bridge", "mcfwd-e2e-")


def hold(want, seconds, rnd=None):
    """Poll the mdb for SECONDS; every poll must show WANT (semantic view). Sends traffic
    round RND once the bridge filters strictly: it floods all multicast for its first
    mcast_querier_interval (waiting for other queriers), so not before that."""
    send_at = max(time.time() + 2, BR_UP + MEMBERSHIP_INTERVAL / 100 + 3)
    start, bad, polls, sent = time.time(), [], 0, None
    while time.time() - start < seconds:
        got = semantic(mdb())
        polls += 1
        if got != want:
            bad.append((time.time() - start, got))
        if rnd is not None and sent is None and time.time() > send_at:
            sent = send_traffic(rnd)
        time.sleep(0.5)
    return bad, polls, sent


def full_state_settles(want, what):
    """After a general query round the router holds no requested sources in EXCLUDE mode."""
    took = wait_mdb(want, (QUERY_INTERVAL + RESPONSE_INTERVAL) / 100 + 2)
    if not check(took is not None, "%s: the router state is exactly the merge, no requested "
                 "sources left in EXCLUDE mode" % what):
        print(show(mdb()))


def mcfwdctl(root, *args):
    rc, out, err = ctl(root, PREFIX, *args)
    return rc, (out + err).strip()


def run(mcfwd, root, d):
    cfg = write_config(d)
    want = expected_mdb(MERGED)
    print("expected on mcfwd's bridge port:\n" + show(want))

    cap = subprocess.Popen(["ip", "netns", "exec", NS_BR, "dumpcap", "-q", "-i", "vm", "-w",
                            d + "/vm.pcap", "-P"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    PROCS.append(cap)
    time.sleep(1)  # dumpcap opens the interface
    log = open(d + "/mcfwd.out", "w")
    mc = subprocess.Popen(["ip", "netns", "exec", NS_MC, mcfwd, "--config", cfg,
                           "--duration", "120"], stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(mc)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 20 and mc.poll() is None:
        if "mcfwd: running" in open(d + "/mcfwd.out").read():
            break
        time.sleep(0.1)
    if not check(mc.poll() is None, "mcfwd starts on net_af_packet over the veth"):
        print(open(d + "/mcfwd.out").read())
        return
    t_running = time.time()  # wall clock, as the capture's timestamps

    # 1. The bridge learns exactly the merged membership.
    took = wait_mdb(want, 8, semantic)
    check(took is not None, "the bridge's mdb for mcfwd's port holds exactly the merged filters "
          "(groups, modes, include lists, blocked sources)%s"
          % (" after %.1f s" % took if took is not None else ""))
    table = sh("bridge", "-d", "-s", "mdb", "show", ns=NS_BR).splitlines()
    print("bridge -d -s mdb show (mcfwd's port vm):\n"
          + "\n".join(line for line in table if "port vm" in line))
    if took is None:
        print("got:\n" + show(mdb()))

    # 2. It survives on answers to the bridge's queries alone; traffic round 0 meanwhile.
    bad, polls, sent0 = hold(semantic(want), HOLD, 0)
    check(not bad, "the mdb stayed exact for %.0f s (%d polls, 3 membership intervals of "
          "%.0f s, queries every %.0f s)" % (HOLD, polls, MEMBERSHIP_INTERVAL / 100,
                                             QUERY_INTERVAL / 100))
    for t, got in bad[:3]:
        print("  at +%.1f s:\n%s" % (t, show(got)))
    full_state_settles(want, "after the queries")
    rounds = [(sent0, RECEIVERS, MERGED)]

    # 3. Receivers change their filters through telemetry; the mdb follows.
    t_change = None
    if os.path.exists(os.path.join(root, "scripts/mcfwdctl")):
        t_change = time.time()
        for name, g, (mode, srcs) in CHANGES:
            rc, out = mcfwdctl(root, "set-filter", name, g, mode, ",".join(sorted(srcs)),
                               "--port", "uplink")
            check(rc == 0, "mcfwdctl set-filter %s %s %s %s -> %s" % (name, g, mode,
                                                                     sorted(srcs), out))
        want_after = expected_mdb(MERGED_AFTER)
        took = wait_mdb(semantic(want_after), 8, semantic)
        check(took is not None, "after set-filter the mdb holds exactly the new merge%s"
              % (" after %.1f s" % took if took is not None else ""))
        if took is None:
            print("want:\n%s\ngot:\n%s" % (show(want_after), show(mdb())))
        bad, polls, sent1 = hold(semantic(want_after), 2 * QUERY_INTERVAL / 100, 1)
        check(not bad, "and stays so (%d polls)" % polls)
        full_state_settles(want_after, "after set-filter and a query round")
        rounds.append((sent1, receivers_after(), MERGED_AFTER))
    else:
        # TODO(issue #6, telemetry): scripts/mcfwdctl is missing from this tree, so the
        # run-time filter change is not exercised. Not counted as a pass.
        print("TODO: scripts/mcfwdctl not found; run-time set-filter step not run")
    final_merged = rounds[-1][2]

    # 4. SIGTERM: leave reports, and the bridge drops the port's entries at once
    #    (last-member queries: 2 x 0.5 s), long before the 7 s membership interval.
    mc.send_signal(signal.SIGTERM)
    t_term = time.time()
    try:
        rc = mc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    log.close()
    out = open(d + "/mcfwd.out").read()
    check(rc == 0 and "mcfwd: stopped" in out, "SIGTERM -> mcfwd exits 0 (exit %s)" % rc)
    t0 = time.monotonic()
    gone = None
    while time.monotonic() - t0 < MEMBERSHIP_INTERVAL / 100:
        if mdb() == ({}, set()):
            gone = time.time() - t_term
            break
        time.sleep(0.1)
    check(gone is not None and gone < MEMBERSHIP_INTERVAL / 100 / 2,
          "after SIGTERM the bridge has no entry for mcfwd's port (after %s s; expiry would "
          "take %.0f s)" % ("%.1f" % gone if gone is not None else "never",
                            MEMBERSHIP_INTERVAL / 100))
    if gone is None:
        print(show(mdb()))
    time.sleep(0.5)
    cap.send_signal(signal.SIGINT)
    cap.wait(timeout=10)
    print(out)

    # 5. Every general query was answered with the merged current state of its time.
    events, on_wire = decode_capture(d + "/vm.pcap")
    for v6, q, r in ((False, "q4", "r4"), (True, "q6", "r6")):
        fam = "MLDv2" if v6 else "IGMPv3"
        # Those whose Max Resp Time ended before SIGTERM (a later one is rightly left
        # unanswered), and none whose answer window overlaps the filter change.
        queries = [t for t, k, _ in events
                   if k == q and t_running + 1 < t < t_term - RESPONSE_INTERVAL / 100 - 0.1
                   and not (t_change and t_change - QUERY_INTERVAL / 100 < t < t_change + 1)]
        answered, wrong, latency = 0, [], []
        for tq in queries:
            state = current_state(MERGED if not t_change or tq < t_change else MERGED_AFTER, v6)
            # RFC 3376 §5.2 / RFC 3810 §6.2: one answer after a random delay within Max Resp
            # Time (1 s), possibly split over frames. The window reaches to just before the
            # next query: on a loaded 2-core CI machine mcfwd's answers may come late.
            recs, first = {}, None
            for t, k, rr in events:
                if k == r and tq < t < tq + QUERY_INTERVAL / 100 - 0.1:
                    cur = {g: v for g, v in rr.items() if v[0] in (1, 2)}
                    if cur and first is None:
                        first = t - tq
                    recs.update(cur)
            if first is not None:
                latency.append(first)
            if recs == state:
                answered += 1
            else:
                wrong.append((tq - t_running, recs))
        check(len(queries) >= HOLD / (QUERY_INTERVAL / 100) - 1 and answered == len(queries),
              "%s: of %d general queries from the bridge mcfwd answered %d with exactly the "
              "merged IS_IN/IS_EX records (latest answer after %.2f s; Max Resp Time %.0f s)"
              % (fam, len(queries), answered, max(latency, default=-1), RESPONSE_INTERVAL / 100))
        for t, recs in wrong[:2]:
            print("  query at +%.2f s answered with %s" % (t, sorted(recs.items())))
        # The leave: state-change records taking every group to INCLUDE {} (RFC 3376 §5.1:
        # TO_IN {} for an exclude, BLOCK of all sources for an include).
        leaves = {}
        for t, k, rr in events:
            if k == r and t > t_term - 0.2:
                leaves.update({g: v for g, v in rr.items() if v[0] not in (1, 2)})
        want_leave = {g: (3, frozenset()) if m == 2 else (6, s)
                      for g, (m, s) in current_state(final_merged, v6).items()}
        if not check(leaves == want_leave, "%s: after SIGTERM mcfwd sent TO_IN {} / BLOCK(all) "
                     "for every group" % fam):
            print("  got %s" % sorted(leaves.items()))

    # 6. The bridge forwarded to mcfwd exactly what the merged filters accepted at the time
    #    (unregistered groups go only to multicast router ports, which vm is not); and
    # 7. each receiver got exactly what its own filter accepted, every packet once.
    got = {name: {} for name in RECEIVERS}
    extra = {name: 0 for name in RECEIVERS}
    for name in RECEIVERS:
        for p in rdpcap("%s/%s.pcap" % (d, name)):
            fl = payload_flow(p)
            if fl is None:
                extra[name] += 1
            else:
                got[name].setdefault((fl[2] // ROUND,) + fl[:2], []).append(fl[2])
    for rnd, (sent, receivers, merged) in enumerate(rounds):
        wrong_fwd = []
        for s, g, n, first in sent or []:
            key = (rnd, canon(s), canon(g))
            want_n = n if g in merged and accepts(merged[g], s) else 0
            if on_wire.get(key, 0) != want_n:
                wrong_fwd.append((s, g, on_wire.get(key, 0), want_n))
        check(sent is not None and not wrong_fwd, "round %d: the bridge forwarded to mcfwd "
              "exactly the (S,G) the merged filters accept %s" % (rnd, wrong_fwd or ""))
        for name, joins in receivers.items():
            wrong, total = [], 0
            for s, g, n, first in sent or []:
                accepted = g in joins and accepts(joins[g], s)
                want_seqs = list(range(first, first + n)) if accepted else []
                total += len(want_seqs)
                seqs = sorted(got[name].pop((rnd, canon(s), canon(g)), []))
                if seqs != want_seqs:
                    wrong.append("%s->%s: %d of %d" % (s, g, len(seqs), len(want_seqs)))
            check(sent is not None and not wrong, "round %d: receiver %s got exactly its "
                  "filter's %d packets, each once %s" % (rnd, name, total, wrong or ""))
    for name in RECEIVERS:
        check(not got[name] and extra[name] == 0, "receiver %s got nothing else %s"
              % (name, sorted(got[name]) or ""))


if __name__ == "__main__":
    sys.exit(main())
