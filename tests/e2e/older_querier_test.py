#!/usr/bin/python3
"""RFC 3376 §7.3.1 / RFC 3810 §8.3.1 on the wire: mcfwd's downstream port configured as an
IGMPv2 / MLDv1 querier (`querier: { igmp_version: 2, mld_version: 1 }`) next to a Linux
bridge set to the same versions and a Linux host.

Four network namespaces (root):

  [up] s0 --veth-- up0 [mc: mcfwd] dn0 --veth-- dm [dn: br1, snooping] vh --veth-- eth0 [h]

mcfwd's downstream port is 10.98.0.254 / fe80::1; br1 (mcast_igmp_version 2,
mcast_mld_version 1, snooping) has 10.98.0.1 (lower than mcfwd's) and its own EUI-64
link-local (higher than fe80::1). dumpcap records dm, the bridge's port facing mcfwd, and
tshark decodes the capture at the end. Checked:
  1. election, the bridge querying before mcfwd starts: the lowest address wins each
     family. IGMP: mcfwd becomes non-querier (elected 10.98.0.1, `mcfwdctl router` says
     so with `version 2`) and sends no general query, the bridge's are IGMPv2 (8 octets);
     MLD: mcfwd (fe80::1) stays querier (`version 1`), the bridge, whose MLDv1 queries ran
     before, sends none once it has heard mcfwd's. Same versions: no warning counted;
  2. the bridge switched to IGMPv3: mcfwd, an IGMPv2 querier, counts `newer_queries`
     (§7.3.1's warning); then the bridge back at IGMPv2 and its querier off: mcfwd takes
     IGMP over within its Other Querier Present Interval;
  3. mcfwd's general queries are IGMPv2 (8-octet IGMP message, Max Response Time 10 tenths
     for its 1 s response interval) and MLDv1 (24-octet message, Maximum Response Delay
     1000 ms), never IGMPv1/v3 or MLDv2; from its IGMP takeover, one query at once and the
     next a Query Interval (3 s) later;
  4. a host socket joins 239.1.1.1 and ff0e::1:1 on eth0: the kernel, having heard only
     IGMPv2 / MLDv1 queries, reports as an IGMPv2 / MLDv1 host (0x16 / 131 in the capture);
     `mcfwdctl router` shows both groups with the IGMPv2 / MLDv1 Host Present timer
     running, and both are in the uplink's merged state (proxied upstream);
  5. the host leaves: mcfwd sends [LMQC] = 2 IGMPv2 group-specific queries to 239.1.1.1
     and 2 MLDv1 multicast-address-specific ones to ff0e::1:1, [LMQI] = 0.5 s apart with
     Max Response 0.5 s, and both groups leave its router state within LMQT (1 s) plus a
     1 s margin; no group-and-source-specific query is ever sent; SIGTERM: exit 0.
Exit 77 (meson: skipped) when not root or tools are missing.
Usage: older_querier_test.py MCFWD_BINARY SOURCE_ROOT
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (capture, check, mcfwdctl as ctl, remove_topology, require,  # noqa: E402
                        run_in, run_topology, tshark_fields, wait_until)

require("network namespaces, bridges, AF_PACKET", ("ip", "bridge", "sysctl", "dumpcap", "tshark"))

PID = os.getpid()
NS = {k: "mcfwd-oq-%s-%d" % (k, PID) for k in ("mc", "up", "dn", "h")}
PREFIX = "mcfwd-oq-%d" % PID
G4, G6 = "239.1.1.1", "ff0e::1:1"
MC4, MC6 = "10.98.0.254", "fe80::1"
BR4 = "10.98.0.1"
LMQI = 0.5  # [Last Member Query Interval], s; [LMQC] is the robustness, 2: LMQT 1 s
QI = 3.0  # mcfwd's [Query Interval], s (query_interval_ms below)

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
    ipv4: {{ address: {mc4} }}
    ipv6: {{ link_local: "{mc6}" }}
    querier: {{ igmp_version: 2, mld_version: 1, query_interval_ms: 3000,
               query_response_interval_ms: 1000, startup_query_interval_ms: 1000,
               last_member_query_interval_ms: 500 }}
"""

# The host: "join" / "leave" both groups on eth0 with real sockets; answers "ok".
AGENT = r"""
import socket, struct, sys
idx = socket.if_nametoindex("eth0")
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
mreq4 = socket.inet_aton(sys.argv[1]) + socket.inet_aton("0.0.0.0") + struct.pack("=i", idx)
mreq6 = socket.inet_pton(socket.AF_INET6, sys.argv[2]) + struct.pack("=I", idx)
print("ok", flush=True)
for line in sys.stdin:
    if line.strip() == "join":
        s4.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq4)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq6)
    else:
        s4.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq4)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, mreq6)
    print("ok", flush=True)
"""

PROCS = []


def sh(*cmd, ns=None, check_rc=True):
    return run_in(NS[ns] if ns else None, cmd, check_rc)


def setup():
    for ns in NS:
        sh("ip", "netns", "add", NS[ns])
        sh("ip", "link", "set", "lo", "up", ns=ns)
    sh("ip", "link", "add", "s0", "type", "veth", "peer", "name", "up0", "netns", NS["mc"],
       ns="up")
    sh("ip", "link", "set", "s0", "up", ns="up")
    # The bridge at the older versions (kernel >= 5.10 for mcast_mld_version); run() turns
    # its querier on before mcfwd starts: 1 s queries from its own addresses; it waits 10 s after another
    # querier's query before it takes over (mcfwd queries every 3 s).
    sh("ip", "link", "add", "br1", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "0",
       "mcast_igmp_version", "2", "mcast_mld_version", "1", "mcast_query_use_ifaddr", "1",
       "mcast_query_interval", "100", "mcast_query_response_interval", "50",
       "mcast_querier_interval", "1000", "mcast_startup_query_interval", "50",
       "mcast_startup_query_count", "1", ns="dn")
    info = json.loads(sh("ip", "-d", "-j", "link", "show", "br1", ns="dn"))[0]["linkinfo"]
    versions = (info["info_data"].get("mcast_igmp_version"),
                info["info_data"].get("mcast_mld_version"))
    if versions != (2, 1):
        raise RuntimeError("the bridge does not take mcast_igmp_version 2 / mcast_mld_version "
                           "1 (ip -d link show: %s)" % (versions,))
    sh("sysctl", "-qw", "net.ipv6.conf.br1.accept_dad=0", ns="dn")
    sh("ip", "addr", "add", BR4 + "/24", "dev", "br1", ns="dn")
    sh("ip", "link", "add", "dm", "type", "veth", "peer", "name", "dn0", "netns", NS["mc"],
       ns="dn")
    sh("ip", "link", "add", "vh", "type", "veth", "peer", "name", "eth0", "netns", NS["h"],
       ns="dn")
    for p in ("dm", "vh"):
        sh("ip", "link", "set", p, "master", "br1", ns="dn")
        sh("ip", "link", "set", p, "up", ns="dn")
    # The host's reports reach mcfwd whoever queries (snooping sends them to router ports).
    sh("bridge", "link", "set", "dev", "dm", "mcast_router", "2", ns="dn")
    sh("ip", "link", "set", "br1", "up", ns="dn")
    # The host follows the querier's version (no force_*_version); no DAD, so its MLD
    # messages have a link-local source from the start (RFC 3810 §5).
    for c in ("all", "default"):
        sh("sysctl", "-qw", "net.ipv4.conf.%s.force_igmp_version=0" % c,
           "net.ipv6.conf.%s.force_mld_version=0" % c, "net.ipv6.conf.%s.accept_dad=0" % c,
           ns="h")
    sh("ip", "addr", "add", "10.98.0.11/24", "dev", "eth0", ns="h")
    sh("ip", "link", "set", "eth0", "up", ns="h")
    sh("ip", "route", "add", "default", "dev", "eth0", ns="h")
    for p in ("up0", "dn0"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % p, ns="mc")
        sh("ip", "link", "set", p, "up", ns="mc")


def cleanup():
    remove_topology(PROCS, NS.values(), [PREFIX])


def bridge(*settings):
    sh("ip", "link", "set", "br1", "type", "bridge", *settings, ns="dn")


def router(root):
    """(queriers by protocol, groups by address) of port down (mcfwdctl --json router)."""
    rc, out, _ = ctl(root, PREFIX, "--json", "router", "down")
    if rc != 0:
        return {}, {}
    ans = json.loads(out)
    return ({q["protocol"]: q for q in ans.get("queriers", [])},
            {g["group"]: g for g in ans.get("groups", [])})


def uplink_groups(root):
    rc, out, _ = ctl(root, PREFIX, "--json", "groups", "uplink")
    return {g["group"] for g in json.loads(out).get("groups", [])} if rc == 0 else set()


def tshark(pcap, display_filter, *fields):
    """Rows of the frames matching display_filter: [epoch time, field...] each."""
    return [[float(r[0])] + r[1:]
            for r in tshark_fields(pcap, ("frame.time_epoch",) + fields, display_filter)]


def between(rows, t0, t1):
    return [r for r in rows if t0 <= r[0] < t1]


def check_capture(pcap, t):
    # The election (1): one querier per family from mcfwd's start to the bridge's switch to
    # IGMPv3, after a second for mcfwd to hear the bridge and the bridge to hear mcfwd.
    w0, w1 = t["elected"], t["igmpv3"]
    check(w1 - w0 >= 3, "an election window of %.1f s (>= 3 s)" % (w1 - w0))
    g4 = tshark(pcap, "igmp.type == 0x11 && ip.src == %s && ip.dst == 224.0.0.1" % MC4,
                "igmp.version", "igmp.max_resp", "ip.len", "ip.hdr_len")
    g6 = tshark(pcap, "icmpv6.type == 130 && ipv6.src == %s && ipv6.dst == ff02::1" % MC6,
                "ipv6.plen", "icmpv6.mld.maximum_response_delay", "icmpv6.mld.flag.qrv")
    br4 = tshark(pcap, "igmp.type == 0x11 && ip.src == %s && ip.dst == 224.0.0.1" % BR4,
                 "igmp.version", "ip.len", "ip.hdr_len")
    br4_in = between(br4, w0, w1)
    mc4_in = between(g4, w0, w1)
    check(len(br4_in) >= 2 and all(r[1:] == ["2", "32", "24"] for r in br4_in) and not mc4_in,
          "IGMP: only the bridge (%s, lower) queries, IGMPv2 (%d of its, %d of mcfwd's)"
          % (BR4, len(br4_in), len(mc4_in)))
    br6 = tshark(pcap, "icmpv6.type == 130 && ipv6.dst == ff02::1 && ipv6.src != %s" % MC6,
                 "ipv6.plen", "icmpv6.mld.maximum_response_delay")
    br6_in = between(br6, w0, w1)
    mc6_in = between(g6, w0, w1)
    check(len(mc6_in) >= 1 and not br6_in,
          "MLD: only mcfwd (%s, lower) queries (%d of mcfwd's, %d of the bridge's)"
          % (MC6, len(mc6_in), len(br6_in)))
    br6_before = between(br6, 0, t["mc_start"])
    check(br6_before and all(r[1] == "32" for r in br6),
          "the bridge's MLD querier ran before mcfwd started, with MLDv1 queries (24-octet "
          "message): %d before, %d in all" % (len(br6_before), len(br6)))
    # mcfwd's general queries: IGMPv2 (8 octets after the IPv4 header, Max Resp Time 10
    # tenths) and MLDv1 (24 octets after the 8-octet Hop-by-Hop header, 1000 ms), the IGMP
    # ones at its start and again from its takeover.
    g4_after = between(g4, t["takeover"] - 1, 1e12)
    check(len(g4) >= 3 and len(g4_after) >= 2 and
          all(r[1:] == ["2", "10", "32", "24"] for r in g4),
          "mcfwd's IGMP general queries are IGMPv2: version 2, max resp 10 (1 s), 8-octet "
          "message (%d, %d from its takeover; first %s)" % (len(g4), len(g4_after), g4[:1]))
    gap = g4_after[1][0] - g4_after[0][0] if len(g4_after) >= 2 else -1
    check(abs(gap - QI) < 0.3,
          "after its takeover, mcfwd's next IGMP general query a Query Interval later "
          "(%.2f s, QI %.1f s)" % (gap, QI))
    check(len(g6) >= 3 and all(r[1:] == ["32", "1000", ""] for r in g6),
          "mcfwd's MLD general queries are MLDv1: 24-octet message, maximum response delay "
          "1000 ms, no QRV (%d, first %s)" % (len(g6), g6[:1]))
    newer = tshark(pcap, "(igmp.type == 0x11 && ip.src == %s && igmp.version != 2) || "
                   "(icmpv6.type == 130 && ipv6.src == %s && ipv6.plen != 32)" % (MC4, MC6))
    check(not newer, "mcfwd sends no IGMPv1/v3 or MLDv2 query (%d)" % len(newer))
    # The host reported as the older version's host it became.
    rep = tshark(pcap, "ip.src == 10.98.0.11 && igmp.type == 0x16 && igmp.maddr == %s" % G4)
    rep6 = tshark(pcap, "icmpv6.type == 131 && icmpv6.mld.multicast_address == %s" % G6)
    check(rep and rep6, "the host sent IGMPv2 (0x16) and MLDv1 (131) reports (%d, %d)"
          % (len(rep), len(rep6)))
    # The group-specific queries after the leave / done.
    leave = tshark(pcap, "igmp.type == 0x17 && igmp.maddr == %s" % G4)
    done = tshark(pcap, "icmpv6.type == 132 && icmpv6.mld.multicast_address == %s" % G6)
    q4 = tshark(pcap, "igmp.type == 0x11 && ip.src == %s && ip.dst == %s" % (MC4, G4),
                "igmp.version", "igmp.max_resp", "igmp.maddr", "ip.len", "ip.hdr_len")
    q6 = tshark(pcap, "icmpv6.type == 130 && ipv6.src == %s && ipv6.dst == %s" % (MC6, G6),
                "ipv6.plen", "icmpv6.mld.maximum_response_delay",
                "icmpv6.mld.multicast_address")
    for what, lv, qs, fields in (
            ("IGMPv2 leave", leave, q4, ["2", "5", G4, "32", "24"]),
            ("MLDv1 done", done, q6, ["32", "500", G6])):
        ok = bool(lv) and len(qs) == 2 and all(r[1:] == fields for r in qs)
        gap = qs[1][0] - qs[0][0] if len(qs) == 2 else -1
        after = qs[0][0] - lv[0][0] if lv and qs else -1
        check(ok and 0 <= after < 0.5 and abs(gap - LMQI) < 0.25,
              "after the %s, 2 group-specific queries %s, %.2f s after it and %.2f s apart "
              "(LMQI %.1f s): %s" % (what, fields, after, gap, LMQI, qs))


def run(mcfwd, root, d):
    with open(d + "/mcfwd.yaml", "w") as f:
        f.write(CONFIG.format(prefix=PREFIX, mc4=MC4, mc6=MC6))
    pcap = d + "/dm.pcap"
    cap = capture(NS["dn"], "dm", pcap)
    PROCS.append(cap)
    # The bridge queries first (IGMPv2 from 10.98.0.1, MLDv1 from its link-local).
    bridge("mcast_querier", "1")
    time.sleep(2)
    t = {"mc_start": time.time()}
    log = open(d + "/mcfwd.out", "w")
    mc = subprocess.Popen(["ip", "netns", "exec", NS["mc"], mcfwd, "--config", d + "/mcfwd.yaml",
                           "--duration", "60"], stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(mc)
    started = wait_until(lambda: mc.poll() is not None or
                         "mcfwd: running" in open(d + "/mcfwd.out").read(), 20, 0.1)
    if not check(started is not None and mc.poll() is None, "mcfwd starts"):
        print(open(d + "/mcfwd.out").read())
        return

    # 1. The election: the lowest address per family. mcfwd starts as querier of both and
    # queries; the bridge's IGMP queries (lower) silence it, its MLD ones (fe80::1, lower)
    # silence the bridge's.
    lost = wait_until(lambda: router(root)[0].get("igmp", {}).get("querier") == 0, 5, 0.1)
    time.sleep(1)
    t["elected"] = time.time()
    q, _ = router(root)
    check(lost is not None and q["igmp"]["querier_address"] == BR4 and
          q["mld"]["querier"] == 1 and q["mld"]["querier_address"] == MC6,
          "IGMP: mcfwd non-querier, elected %s; MLD: mcfwd querier (%s / %s)"
          % (BR4, q.get("igmp", {}).get("querier_address"),
             q.get("mld", {}).get("querier_address")))
    check(q["igmp"]["version"] == 2 and q["mld"]["version"] == 1,
          "mcfwdctl router: IGMP version 2, MLD version 1 (%s, %s)"
          % (q["igmp"]["version"], q["mld"]["version"]))
    lines = ctl(root, PREFIX, "router", "down")[1].splitlines()
    check(any(" igmp non-querier elected %s version 2 " % BR4 in x for x in lines) and
          any(" mld querier elected %s version 1 " % MC6 in x for x in lines),
          "the querier lines say so: %s" % [x for x in lines if "elected" in x])
    time.sleep(3)
    q, _ = router(root)
    check(q["igmp"]["counters"]["older_queries"] == 0 and
          q["igmp"]["counters"]["newer_queries"] == 0 and
          q["igmp"]["counters"]["querier_lost"] == 1,
          "the bridge's IGMPv2 queries are of mcfwd's version: no warning counted (%s)"
          % {k: q["igmp"]["counters"][k] for k in ("older_queries", "newer_queries")})

    # 2. The bridge at IGMPv3 (still querier): mcfwd, an IGMPv2 querier, counts the newer
    # queries; then the bridge back at IGMPv2 and its querier off.
    t["igmpv3"] = time.time()
    bridge("mcast_igmp_version", "3")
    newer = wait_until(lambda: router(root)[0]["igmp"]["counters"]["newer_queries"] > 0, 5, 0.1)
    check(newer is not None, "the bridge at IGMPv3: mcfwd (IGMPv2) counts newer_queries (%s)"
          % [x for x in ctl(root, PREFIX, "router", "down")[1].splitlines() if " igmp " in x])
    bridge("mcast_igmp_version", "2", "mcast_querier", "0")

    # 3. mcfwd takes IGMP over after its Other Querier Present Interval (RFC 3376 §8.5):
    # 2 x 1 + 1 / 2 s with the QRV 2 and QQI 1 s of the bridge's last (IGMPv3) query, which
    # mcfwd adopts as non-querier; 2 x 3 + 1 / 2 s had the last been IGMPv2 (no QRV / QQI).
    took = wait_until(lambda: router(root)[0]["igmp"]["querier"] == 1, 6.5 + 1, 0.1)
    t["takeover"] = time.time()
    check(took is not None, "the bridge's querier off, mcfwd is the IGMP querier again after "
          "%s s (Other Querier Present Interval 2.5 s after the bridge's last query, at most "
          "6.5 s)" % ("%.1f" % took if took else "never"))

    # 4. The join, as an IGMPv2 / MLDv1 host: the kernel heard only v2 / MLDv1 queries.
    host = subprocess.Popen(["ip", "netns", "exec", NS["h"], "/usr/bin/python3", "-c", AGENT,
                             G4, G6], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    PROCS.append(host)
    check(host.stdout.readline().strip() == "ok", "the host agent runs")

    def host_do(cmd):
        host.stdin.write(cmd + "\n")
        host.stdin.flush()
        return host.stdout.readline().strip() == "ok"

    check(host_do("join"), "the host joins %s and %s" % (G4, G6))

    def learnt():
        _, g = router(root)
        return (G4 in g and "v2_host_ms" in g[G4] and G6 in g and "v1_host_ms" in g[G6])
    check(wait_until(learnt, 10, 0.2) is not None,
          "mcfwd's router holds both groups with the IGMPv2 / MLDv1 Host Present timer "
          "running (the host reports as the version it heard)")
    _, g = router(root)
    check(all(x in g and g[x]["mode"] == "exclude" and g[x]["compat_version"] == v
              for x, v in ((G4, 2), (G6, 1))),
          "as EXCLUDE({}) records in compatibility modes 2 / 1: %s"
          % {x: (g[x]["mode"], g[x]["compat_version"]) for x in g if x in (G4, G6)})
    up = wait_until(lambda: {G4, G6} <= uplink_groups(root), 5, 0.2)
    check(up is not None, "both groups are proxied: in the uplink's merged state %s"
          % sorted(uplink_groups(root)))
    print("\n".join(x for x in ctl(root, PREFIX, "router", "down")[1].splitlines()
                    if G4 in x or G6 in x or "elected" in x))

    # 5. The leave: older group-specific queries, the groups gone after LMQT.
    check(host_do("leave"), "the host leaves")
    gone = wait_until(lambda: not ({G4, G6} & set(router(root)[1])), 5, 0.05)
    check(gone is not None and gone <= 2 * LMQI + 1.0,
          "both groups leave mcfwd's router state %s s after the leave (LMQT %.1f s + 1 s "
          "margin)" % ("%.2f" % gone if gone is not None else "never", 2 * LMQI))
    q, _ = router(root)
    check(q["igmp"]["counters"]["group_queries_sent"] == 2 and
          q["mld"]["counters"]["group_queries_sent"] == 2 and
          q["igmp"]["counters"]["source_queries_sent"] == 0 and
          q["mld"]["counters"]["source_queries_sent"] == 0,
          "group_queries_sent 2 per family, no source-specific query")
    # The capture holds two of mcfwd's general queries from its takeover: the one it sends
    # on taking over and the next, a Query Interval later (RFC 3376 §7: no startup
    # queries on a takeover); the join and leave above can take less than that.
    time.sleep(max(1.0, t["takeover"] + QI + 0.5 - time.time()))

    mc.send_signal(signal.SIGTERM)
    try:
        rc = mc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    log.close()
    out = open(d + "/mcfwd.out").read()
    if not check(rc == 0 and "mcfwd: stopped" in out, "SIGTERM -> mcfwd exits 0 (exit %s)" % rc):
        print(out)
    time.sleep(0.5)
    cap.send_signal(signal.SIGTERM)
    cap.wait()
    check_capture(pcap, t)


if __name__ == "__main__":
    sys.exit(run_topology(setup, cleanup, run, "namespaces and bridge", "mcfwd-oq-"))
