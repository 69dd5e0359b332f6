#!/usr/bin/python3
"""Several control lcores (issue 14 item 5): each runs the ports it owns, and a flood on one
control lcore's ports does not delay another's timers.

Five network namespaces (root):

  [tx] s0 --veth-- up0 [mc: mcfwd] dn0 --veth-- eth0 [ha]
                                   dn1 --veth-- eth0 [hb]

mcfwd's ports are net_af_packet over up0 (upstream), dn0 (downstream "a", 10.98.0.254) and
dn1 (downstream "b", 10.97.0.254), each with one host behind a plain veth (mcfwd is the
only querier there). The upstream port and "a" are on control lcore 0, "b" on control
lcore 2 (forwarding lcore 1). Checked with two control lcores:
  1. /mcfwd/ports (mcfwdctl --json ports) names each port's control lcore;
  2. hb's kernel socket joins 239.7.7.7: b's router (on lcore 2) learns it and the upstream
     port's merged state (on lcore 0, through the UpstreamChannel) holds it; a sender in tx
     reaches hb's socket through mcfwd; mcfwdctl stats sums the control planes
     (router_messages counts hb's reports);
  3. groups and router without a port list every port's state across the control lcores;
     a join without port= answers EINVAL (which port?), never a partial answer;
     a receiver added at run time (add_receiver) joins on a port of each control lcore,
     receivers lists both memberships in one record, the sender's traffic reaches its
     ring, close_receiver leaves both (the uplink's and b's state drop its groups);
  4. the flood: ha sends IGMPv3 reports of many groups (joins, then leaves, in turn) as
     fast as it can into port a (punt_rate_pps 0, max_groups 100000) for FLOOD s, while
     hb's side records b's IGMP general queries (query interval 1 s). Their largest gap
     during the flood must stay within 1 s + BOUND;
  5. the control: the same run with one control lcore (every port on lcore 0), where the
     flood does delay b's queries beyond that bound (so the check of 4 can fail);
  6. SIGTERM: mcfwd exits 0 both times.
Exit 77 (meson: skipped) when not root or tools are missing.
Usage: control_lcores_test.py MCFWD_BINARY SOURCE_ROOT
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

require("network namespaces, AF_PACKET", ("ip", "sysctl", "ethtool"), scapy=True)

PID = os.getpid()
NS = {k: "mcfwd-cl-%s-%d" % (k, PID) for k in ("mc", "tx", "ha", "hb")}
PREFIX = "mcfwd-cl-%d" % PID
GROUP, SOURCE, PORT = "239.7.7.7", "10.99.0.11", 5003
PACKETS = 20
FLOOD = 5.0   # seconds of flood
BOUND = 0.25  # allowed lateness of a general query on port b, seconds
QUERY_INTERVAL = 1.0

CONFIG = """\
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: {control}, forwarding: [1] }}
ports:
  - name: uplink
    device: "net_af_packet0,iface=up0,qpairs=1"
    ipv4: {{ address: 10.99.0.2 }}
    mld: {{ enabled: false }}
    control_lcore: 0
  - name: a
    device: "net_af_packet1,iface=dn0,qpairs=2"
    rx_queues: 2
    role: downstream
    ipv4: {{ address: 10.98.0.254 }}
    mld: {{ enabled: false }}
    punt_rate_pps: 0
    control_lcore: 0
    querier: {{ query_interval_ms: 10000, query_response_interval_ms: 1000, max_groups: 100000 }}
  - name: b
    device: "net_af_packet2,iface=dn1,qpairs=2"
    rx_queues: 2
    role: downstream
    ipv4: {{ address: 10.97.0.254 }}
    mld: {{ enabled: false }}
    control_lcore: {b_lcore}
    querier: {{ query_interval_ms: 1000, query_response_interval_ms: 500,
               startup_query_interval_ms: 250 }}
"""

# hb: a socket joined to GROUP counting datagrams per round, and an AF_PACKET socket
# recording the arrival time of every IGMP general query (type 0x11, group 0). "dump"
# prints {"counts": ..., "queries": [t...]} (time.monotonic()).
AGENT = r"""
import json, socket, struct, sys, threading, time
counts, queries, lock = {}, [], threading.Lock()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton(sys.argv[1]) + socket.inet_aton("0.0.0.0") +
             struct.pack("=i", socket.if_nametoindex("eth0")))
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
raw.bind(("eth0", 0))
def receive():
    while True:
        data = s.recv(2048).decode(errors="replace").split()[0]
        with lock:
            counts[data] = counts.get(data, 0) + 1
def sniff():
    while True:
        f, addr = raw.recvfrom(2048)
        t = time.monotonic()
        if addr[2] == socket.PACKET_OUTGOING or len(f) < 14 + 24:
            continue
        ihl = (f[14] & 15) * 4
        if f[14 + 9] != 2:
            continue
        igmp = f[14 + ihl:]
        if len(igmp) >= 8 and igmp[0] == 0x11 and igmp[4:8] == b"\0\0\0\0":
            with lock:
                queries.append(t)
threading.Thread(target=receive, daemon=True).start()
threading.Thread(target=sniff, daemon=True).start()
print("ok", flush=True)
for line in sys.stdin:
    with lock:
        print(json.dumps({"counts": counts, "queries": queries}), flush=True)
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

# ha: IGMPv3 reports of FRAMES x RECORDS groups, alternately all joined (TO_EX {}) and all
# left (TO_IN {}), sent on a raw socket as fast as it goes for argv[1] seconds; prints
# how many frames it sent.
FLOODER = r"""
import socket, sys, time
from scapy.all import Ether, IP, raw
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mr, IGMPv3gr
FRAMES, RECORDS = 200, 180
def frames(rtype):
    out = []
    for f in range(FRAMES):
        recs = [IGMPv3gr(rtype=rtype, maddr="239.%d.%d.%d" % (100 + f // 250, f %% 250, r))
                for r in range(RECORDS)]
        p = (Ether(src="02:00:00:00:0a:0b", dst="01:00:5e:00:00:16") /
             IP(src="10.98.0.11", dst="224.0.0.22", ttl=1, options=[b"\x94\x04\x00\x00"]) /
             IGMPv3(type=0x22) / IGMPv3mr(records=recs))
        out.append(raw(p))
    return out
join, leave = frames(4), frames(3)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
end = time.monotonic() + float(sys.argv[1])
sent = 0
while time.monotonic() < end:
    for f in (join if (sent // FRAMES) % 2 == 0 else leave)[sent % FRAMES:] or [None]:
        if f is None or time.monotonic() >= end:
            break
        s.send(f)
        sent += 1
print(sent, flush=True)
""".replace("%%", "%")

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
    for host, port, net in (("ha", "dn0", "10.98.0"), ("hb", "dn1", "10.97.0")):
        sh("ip", "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", NS["mc"],
           ns=host)
        for c in ("all", "default", "eth0"):
            sh("sysctl", "-qw", "net.ipv4.conf.%s.force_igmp_version=3" % c,
               "net.ipv4.conf.%s.rp_filter=0" % c, ns=host)
        sh("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1", ns=host)
        sh("ip", "addr", "add", net + ".11/24", "dev", "eth0", ns=host)
        sh("ip", "link", "set", "eth0", "up", ns=host)
        sh("ip", "route", "add", "default", "dev", "eth0", ns=host)
    for p in ("up0", "dn0", "dn1"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % p, ns="mc")
        sh("ip", "link", "set", p, "up", ns="mc")


def cleanup():
    remove_topology(PROCS, NS.values(), [PREFIX])


def dump(agent):
    agent.stdin.write("dump\n")
    agent.stdin.flush()
    return json.loads(agent.stdout.readline())


def traffic(agent, rnd):
    subprocess.run(["ip", "netns", "exec", NS["tx"], "/usr/bin/python3", "-c", SENDER, rnd,
                    SOURCE, GROUP, str(PACKETS), str(PORT)], check=True)
    got = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3 and got < PACKETS:
        time.sleep(0.2)
        got = dump(agent)["counts"].get(rnd, 0)
    return got


def groups(root, port):
    rc, out, _ = ctl(root, PREFIX, "--json", "groups", port)
    return {g["group"] for g in json.loads(out).get("groups", [])} if rc == 0 else set()


def receiver(root, name):
    rc, out, _ = ctl(root, PREFIX, "--json", "receivers")
    recs = json.loads(out).get("receivers", []) if rc == 0 else []
    return next((r for r in recs if r.get("name") == name), None)


def receivers_across(root, hb):
    """A receiver added at run time is on both control planes: it joins on a port of each,
    receivers shows both memberships, traffic reaches its ring, close_receiver leaves
    both; a name in use changes nothing."""
    rc, out, err = ctl(root, PREFIX, "--json", "add-receiver", "feedx", "--ring-size", "256")
    ans = json.loads(out) if rc == 0 else {}
    check(ans.get("ok") == "add_receiver" and ans.get("sink") == "ring feedx",
          "add_receiver with two control lcores makes the receiver: %s" % (out + err).strip())
    rc, out, err = ctl(root, PREFIX, "--json", "add-receiver", "feedx")
    check(rc != 0 and "EADDRINUSE" in out + err, "a second add_receiver feedx: EADDRINUSE (%s)"
          % (out + err).strip()[:200])
    joins = [("239.8.8.8", "uplink"), (GROUP, "uplink"), ("239.8.8.9", "b")]
    for g, port in joins:
        rc, out, err = ctl(root, PREFIX, "join", "feedx", g, "--port", port)
        check(rc == 0, "feedx joins %s on %s (%s)" % (g, port, (out + err).strip()[:200]))
    rec = receiver(root, "feedx") or {}
    ms = [(m["port"], m["group"]) for m in rec.get("memberships", [])]
    check(ms == [("uplink", GROUP), ("uplink", "239.8.8.8"), ("b", "239.8.8.9")],
          "receivers shows feedx's memberships on both control lcores' ports: %s" % (ms,))
    check(rec.get("sink") == "ring feedx" and rec.get("internal") == 0,
          "one record for feedx with its sink: %s" % json.dumps(rec)[:300])
    check("239.8.8.8" in groups(root, "uplink") and "239.8.8.9" in groups(root, "b"),
          "uplink (lcore 0) and b (lcore 2) hold feedx's groups")
    got = traffic(hb, "rx")
    delivered = wait_until(lambda: (receiver(root, "feedx") or {}).get("delivered", 0) >= PACKETS,
                           5, 0.2)
    check(got == PACKETS and delivered is not None,
          "the sender's datagrams reach hb and feedx's ring (delivered %s)"
          % (receiver(root, "feedx") or {}).get("delivered"))
    rc, out, err = ctl(root, PREFIX, "--json", "close-receiver", "feedx")
    ans = json.loads(out) if rc == 0 else {}
    check(ans.get("memberships_left") == 3 and ans.get("delivered", 0) >= PACKETS,
          "close_receiver leaves feedx's 3 memberships on both control lcores: %s"
          % (out + err).strip()[:300])
    check(receiver(root, "feedx") is None, "receivers no longer lists feedx")
    gone = wait_until(lambda: "239.8.8.8" not in groups(root, "uplink") and
                      "239.8.8.9" not in groups(root, "b"), 5, 0.2)
    check(gone is not None and GROUP in groups(root, "uplink"),
          "the uplink and b drop feedx's groups; hb's %s stays on the uplink" % GROUP)
    rc, out, err = ctl(root, PREFIX, "--json", "add-receiver", "feedx", "--ring-size", "256")
    check(rc == 0, "the name and the ring can be used again: %s" % (out + err).strip()[:200])
    rc, out, err = ctl(root, PREFIX, "--json", "close-receiver", "feedx")
    check(rc == 0 and json.loads(out).get("memberships_left") == 0,
          "and closed again: %s" % (out + err).strip()[:200])


def start(mcfwd, d, control, b_lcore, tag):
    with open(d + "/mcfwd-%s.yaml" % tag, "w") as f:
        f.write(CONFIG.format(prefix=PREFIX, control=control, b_lcore=b_lcore))
    log = d + "/mcfwd-%s.out" % tag
    mc = subprocess.Popen(["ip", "netns", "exec", NS["mc"], mcfwd, "--config",
                           d + "/mcfwd-%s.yaml" % tag, "--duration", "120"],
                          stdout=open(log, "w"), stderr=subprocess.STDOUT)
    PROCS.append(mc)
    started = wait_until(lambda: mc.poll() is not None or
                         "mcfwd: running" in open(log).read(), 20, 0.1)
    if not check(started is not None and mc.poll() is None, "mcfwd starts (%s)" % tag):
        print(open(log).read())
        return None, log
    return mc, log


def stop(mc, log, tag, timeout=30):
    t0 = time.monotonic()
    mc.send_signal(signal.SIGTERM)
    try:
        rc = mc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        rc = None
    print("%s: SIGTERM to exit %.1f s" % (tag, time.monotonic() - t0))
    out = open(log).read()
    if not check(rc == 0 and "mcfwd: stopped" in out, "SIGTERM -> mcfwd exits 0 (%s, exit %s)"
                 % (tag, rc)):
        print(out[-3000:])


def flood_gap(agent, tag):
    """Floods port a for FLOOD s; the largest gap between b's general queries meanwhile."""
    t0 = time.monotonic()
    flood = subprocess.run(["ip", "netns", "exec", NS["ha"], "/usr/bin/python3", "-c", FLOODER,
                            str(FLOOD)], capture_output=True, text=True)
    t1 = time.monotonic()
    time.sleep(QUERY_INTERVAL + BOUND + 0.5)  # a query due at the end may still come
    sent = flood.stdout.strip()
    check(flood.returncode == 0 and sent.isdigit(), "%s: the flooder ran (%s)"
          % (tag, flood.stderr.strip()[-300:] or sent))
    qs = [t for t in dump(agent)["queries"]]
    t_dump = time.monotonic()
    # The gaps that overlap the flood: from the last query before it to the first after
    # (none yet: to now, a gap at least that long).
    before = [t for t in qs if t < t0]
    during = [t for t in qs if t0 <= t <= t1]
    after = [t for t in qs if t > t1]
    seq = before[-1:] + during + (after[:1] or [t_dump])
    gaps = [b - a for a, b in zip(seq, seq[1:])]
    gap = max(gaps) if gaps else float("inf")
    print("%s: flood of %s frames in %.1f s; b's general queries meanwhile: %d, largest gap "
          "%.3f s" % (tag, sent, t1 - t0, len(during), gap))
    return gap


def run(mcfwd, root, d):
    hb = subprocess.Popen(["ip", "netns", "exec", NS["hb"], "/usr/bin/python3", "-c", AGENT,
                           GROUP, str(PORT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
    PROCS.append(hb)
    check(hb.stdout.readline().strip() == "ok", "hb joins %s" % GROUP)

    # --- two control lcores: uplink and a on lcore 0, b on lcore 2 ---
    mc, log = start(mcfwd, d, "[0, 2]", 2, "two")
    if not mc:
        return
    rc, out, err = ctl(root, PREFIX, "--json", "ports")
    lcores = {p["name"]: p.get("control_lcore") for p in json.loads(out)["ports"]} if rc == 0 \
        else {}
    check(lcores == {"uplink": 0, "a": 0, "b": 2},
          "/mcfwd/ports names each port's control lcore: %s %s" % (lcores, err.strip()))
    learnt = wait_until(lambda: GROUP in groups(root, "uplink"), 15, 0.2)
    rc, out, _ = ctl(root, PREFIX, "--json", "router", "b")
    routed = {g["group"] for g in json.loads(out).get("groups", [])} if rc == 0 else set()
    check(GROUP in routed, "b's router (control lcore 2) learns hb's join of %s" % GROUP)
    check(learnt is not None, "the uplink's merged state (control lcore 0) holds %s: %s"
          % (GROUP, sorted(groups(root, "uplink"))))
    got = traffic(hb, "r0")
    check(got == PACKETS, "the sender's datagrams reach hb through b (%d of %d)" % (got, PACKETS))
    rc, out, _ = ctl(root, PREFIX, "--json", "stats")
    st = json.loads(out) if rc == 0 else {}
    check(st.get("control", {}).get("router_messages", 0) >= 1 and
          st.get("control", {}).get("proxy_set_filter", 0) >= 1,
          "stats sums the control planes: router_messages %s, proxy_set_filter %s"
          % (st.get("control", {}).get("router_messages"),
             st.get("control", {}).get("proxy_set_filter")))
    receivers_across(root, hb)
    rc, out, err = ctl(root, PREFIX, "--json", "groups")
    listed = [(g["port"], g["group"]) for g in json.loads(out).get("groups", [])] if rc == 0 \
        else err
    check(listed == [("uplink", GROUP)], "groups without a port lists every port's groups "
          "across the control lcores: %s" % (listed,))
    rc, out, err = ctl(root, PREFIX, "--json", "router")
    ans = json.loads(out) if rc == 0 else {}
    check([(g["port"], g["group"]) for g in ans.get("groups", [])] == [("b", GROUP)] and
          sorted(q["port"] for q in ans.get("queriers", [])) == ["a", "b"],
          "router without a port lists b's group and the queriers of a and b: %s"
          % (out.strip()[:300] if rc == 0 else err))
    rc, out, err = ctl(root, PREFIX, "join", "nobody", GROUP)
    check(rc != 0 and "which port" in out + err,
          "a join without port= asks for one (%s)" % (out + err).strip()[:200])
    # Let b's startup queries pass, then flood a.
    time.sleep(2)
    gap_two = flood_gap(hb, "two control lcores")
    check(gap_two <= QUERY_INTERVAL + BOUND,
          "two control lcores: b's general queries stay within %.1f s + %.2f s during the flood "
          "on a (largest gap %.3f s)" % (QUERY_INTERVAL, BOUND, gap_two))
    # Lcore 0 may still work through the flood's backlog (and the uplink's leaves).
    stop(mc, log, "two", timeout=150)

    # --- one control lcore: every port on lcore 0 ---
    mc, log = start(mcfwd, d, "[0]", 0, "one")
    if not mc:
        return
    time.sleep(3)
    gap_one = flood_gap(hb, "one control lcore")
    print("largest gap of b's general queries during the flood: one control lcore %.3f s, "
          "two %.3f s (bound %.2f s)" % (gap_one, gap_two, QUERY_INTERVAL + BOUND))
    # The control: with one control lcore the same flood does delay b's queries, so the
    # bound above can fail. On the 2-CPU test machine, 4 runs (one beside two other e2e
    # tests): largest gaps 2.31 to 2.64 s with one control lcore, 1.005 to 1.008 s with
    # two. A turn of lcore 0 takes up to 32 punted reports of 180 records each, so the
    # flood's records, not its frame rate, set the lateness; with 100 records a report
    # (before) the one-lcore gap was 1.54 to 1.89 s, too near a 0.5 s bound.
    check(gap_one > QUERY_INTERVAL + BOUND,
          "one control lcore: the flood on a delays b's general queries beyond the bound "
          "(largest gap %.3f s)" % gap_one)
    # The single control lcore still has the flood's backlog (and every group's leave) to
    # work through before it exits.
    stop(mc, log, "one", timeout=150)


if __name__ == "__main__":
    sys.exit(run_topology(setup, cleanup, run, "namespaces", "mcfwd-cl-"))
