#!/usr/bin/python3
"""Traffic and configurations for the pipeline benchmark (scripts/bench.sh pipeline).

Writes a pcap that a net_pcap port replays with infinite_rx=1, and the mcfwd
configuration whose static joins accept every packet in it, so the rate measured
is the rate of forwarding (not of dropping).

  scale   N groups (239.0.0.1 + i) x K sources each. Every packet goes to a random
          group from one of S senders of that group (10.0.0.1 + 8i + j, j < S;
          --senders, default 8), so the lookups spread over the table like real
          traffic. K = 8 or 1: each group is joined INCLUDE {its first K sources}
          (one source probe per packet); K = 0: joined any-source (EXCLUDE {}, no
          probe). One receiver, sink: a net_null TX port. --rules writes the same
          (S,G) as examples/l3fwd -E rules (see below).
  mcast15 DPDK's examples/ipv4_multicast table: groups 224.0.0.101..115, group i
          sent to the ports in mask i (1..15), i.e. one to four outputs. Four
          receivers r0..r3 whose sinks are net_null ports, each joining (any
          source) the groups whose mask has its bit, so mcfwd's fan-out is the
          example's. Packets cycle over the 15 groups. --group-base moves the
          groups: the example needs its own 224.0.0.101.., mcfwd refuses to
          forward link-local groups, so its copy of the table is 239.0.0.101..

--family 6 makes the IPv6 version of either: groups ff3e::1:0 + i (scale; inside
ff3e::/96, the RFC 4607 SSM range, so only source-specific joins: K = 8 or 1) or
ff0e::101.. (mcast15: its joins are any-source, which mcfwd refuses in the SSM
range, RFC 4604 §2, so the table moves to the global-scope ASM range), sources
2001:db8::1 + 8i + j, Ethernet destination 33:33 + the group's low 32 bits
(RFC 2464 §7).

Frames are as small as the headers allow with a 4-byte sequence number: IPv4
60 bytes (64 on the wire; Ethernet / IPv4 / UDP / 18 payload bytes: the 4-byte
sequence number, then padding to the Ethernet minimum), IPv6 66 bytes (Ethernet /
IPv6 / UDP / 4 bytes). Deterministic for a given seed. Needs python3-scapy; run
with /usr/bin/python3.

--huge-config FILE also writes the configuration for an EAL on hugepages (no
--no-huge; -m and --huge-unlink, see eal_args), the same otherwise: one run of
the generator (a minute for 1M groups) serves both.

--rules FILE (scale) writes one examples/l3fwd exact-match rule per (S,G) that
the capture can hold, "R<group> <source> <dport> <sport> 0x11 <port>" (the order
of DPDK 22.11's em_route_parse.c), output port 1; --rules6 FILE the IPv6 file
that l3fwd wants beside it (it falls back to its built-in table unless both
are given): the capture's rules for --family 6, else one unused rule.

Usage:
  gen_bench_traffic.py scale --groups N --sources K --packets P --pcap F --config C
                       --file-prefix X [--senders S] [--family 6] [--huge-config H]
                       [--rules F --rules6 F]
  gen_bench_traffic.py mcast15 --packets P --pcap F --config C --file-prefix X
                       [--group-base 224.0.0.101] [--family 6] [--huge-config H]
"""
import argparse
import ipaddress
import random

from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap

SENDER_MAC = "02:00:00:00:00:aa"
GROUP_BASE = int(ipaddress.ip_address("239.0.0.1"))
SOURCE_BASE = int(ipaddress.ip_address("10.0.0.1"))
GROUP_BASE6 = int(ipaddress.ip_address("ff3e::1:0"))
SOURCE_BASE6 = int(ipaddress.ip_address("2001:db8::1"))
MCAST15_BASE6 = "ff0e::101"
SOURCES_PER_GROUP = 8
UDP_SPORT, UDP_DPORT = 5000, 5001
# The output port of every l3fwd rule: port 0 is the capture, port 1 a net_null.
L3FWD_OUT_PORT = 1
# Set from --family in main(): 4 or 6.
family = 4


def mcast15_table(base):
    """examples/ipv4_multicast/main.c, mcast_group_table: 224.0.0.(100 + i) -> port
    mask i, i = 1..15. base moves the groups (same masks) for mcfwd, which never
    forwards the link-local 224.0.0.0/24 (RFC 5771 §4; its parser drops them as
    parse_link_local_group), so it gets the table at 239.0.0.101..115."""
    b = ipaddress.ip_address(base)
    return [(str(b + (i - 1)), i) for i in range(1, 16)]


def ip4(v):
    return str(ipaddress.ip_address(v))


def group(i):
    if family == 6:
        assert i < (1 << 32) - (GROUP_BASE6 & 0xFFFFFFFF)  # stays inside ff3e::/96
        return str(ipaddress.IPv6Address(GROUP_BASE6 + i))
    return ip4(GROUP_BASE + i)


def source(g, j):
    if family == 6:
        return str(ipaddress.IPv6Address(SOURCE_BASE6 + g * SOURCES_PER_GROUP + j))
    return ip4(SOURCE_BASE + g * SOURCES_PER_GROUP + j)


def eth_for(group_text):
    """RFC 1112 §6.4: the low 23 bits of an IPv4 group in 01:00:5e:00:00:00;
    RFC 2464 §7: the low 32 bits of an IPv6 group after 33:33."""
    v = int(ipaddress.ip_address(group_text))
    if ipaddress.ip_address(group_text).version == 6:
        return "33:33:%02x:%02x:%02x:%02x" % ((v >> 24) & 0xFF, (v >> 16) & 0xFF,
                                              (v >> 8) & 0xFF, v & 0xFF)
    return "01:00:5e:%02x:%02x:%02x" % ((v >> 16) & 0x7F, (v >> 8) & 0xFF, v & 0xFF)


def frame(src, dst, seq):
    if ipaddress.ip_address(dst).version == 6:
        # The smallest IPv6 frame that still carries the sequence number: 66 bytes.
        f = (Ether(src=SENDER_MAC, dst=eth_for(dst)) / IPv6(src=src, dst=dst, hlim=16)
             / UDP(sport=UDP_SPORT, dport=UDP_DPORT) / Raw(seq.to_bytes(4, "big")))
    else:
        payload = seq.to_bytes(4, "big") + b"mcfwd-bench..."
        f = (Ether(src=SENDER_MAC, dst=eth_for(dst)) / IP(src=src, dst=dst, ttl=16)
             / UDP(sport=UDP_SPORT, dport=UDP_DPORT) / Raw(payload))
    # A timestamp from the sequence number, not the clock: the same arguments give the
    # same file byte for byte (bench.sh compares the two 1M-group captures).
    f.time = seq / 1e6
    return f


def eal_args(file_prefix, huge, mbufs):
    """--no-huge with 1 GiB of ordinary memory, or hugepages: -m preallocates what the
    mempool (about 2.4 KiB per mbuf) and the rest of EAL need, --huge-unlink gives
    the pages back when the process ends, however it ends (bench.sh reserves and
    releases the pages)."""
    if not huge:
        return ["--no-huge", "--no-pci", "-m", "1024", "--file-prefix=%s" % file_prefix,
                "--log-level=lib.eal:warning"]
    mem = 64 + (mbufs * 2432 >> 20)
    return ["--no-pci", "-m", str(mem), "--huge-unlink", "--file-prefix=%s" % file_prefix,
            "--log-level=lib.eal:warning"]


def yaml_header(file_prefix, pcap, sinks, mbufs, huge=False):
    lines = [
        "# Generated by scripts/gen_bench_traffic.py for scripts/bench.sh pipeline.",
        "eal: [%s]" % ", ".join('"%s"' % x for x in eal_args(file_prefix, huge, mbufs)),
        "lcores: { control: 0, forwarding: [1] }",
        "mempool: { mbufs: %d, cache: 256, data_room: 2176 }" % mbufs,
        "limits: { max_filter_sources: 64, max_merged_sources: 64 }",
        "ports:",
        "  - name: uplink",
        '    device: "net_pcap0,rx_pcap=%s,infinite_rx=1"' % pcap,
        "    igmp: { enabled: false }",
        "    mld: { enabled: false }",
    ]
    for s in range(sinks):
        lines += [
            "  - name: sink%d" % s,
            '    device: "net_null%d,no-rx=1"' % s,
            "    igmp: { enabled: false }",
            "    mld: { enabled: false }",
        ]
    return lines


def mbufs_for(packets):
    """net_pcap's infinite_rx keeps every packet of the file in an mbuf of the pool."""
    n = 8191
    while n < packets + 8192:
        n = n * 2 + 1
    return n


def l3fwd_rule(g, s):
    return "R%s %s %d %d 0x11 %d" % (g, s, UDP_DPORT, UDP_SPORT, L3FWD_OUT_PORT)


def write_rules(a):
    """Every (S,G) the capture can hold, i.e. the keys of mcfwd's table (its
    INCLUDE sources, or the senders of an any-source group)."""
    rules = (l3fwd_rule(group(g), source(g, j)) for g in range(a.groups) for j in range(a.senders))
    unused = [l3fwd_rule("ff0e::dead", "2001:db8::dead") if family == 4 else
              l3fwd_rule("239.255.0.1", "10.255.0.1")]
    with open(a.rules, "w") as f:
        f.write("\n".join(rules if family == 4 else unused) + "\n")
    with open(a.rules6, "w") as f:
        f.write("\n".join(rules if family == 6 else unused) + "\n")


def write_configs(a, sinks, body):
    """--config (EAL on --no-huge) and, if asked, --huge-config (hugepages), each
    under its own --file-prefix (X and X-huge) so both can be measured in one run."""
    mbufs = mbufs_for(a.packets)
    body = "\n".join(body) + "\n"
    outs = [(a.config, a.file_prefix, False)]
    if a.huge_config:
        outs.append((a.huge_config, a.file_prefix + "-huge", True))
    for path, prefix, huge in outs:
        with open(path, "w") as f:
            f.write("\n".join(yaml_header(prefix, a.pcap, sinks, mbufs, huge)) + "\n")
            f.write(body)


def scale(a):
    if a.sources > a.senders:
        raise SystemExit("--sources %d exceeds --senders %d: some joins would see no traffic"
                         % (a.sources, a.senders))
    if a.sources and a.sources != a.senders:
        raise SystemExit("--sources must be 0 or --senders (every packet is forwarded)")
    if family == 6 and not a.sources:
        raise SystemExit("--family 6 groups are in ff3e::/96 (SSM): --sources must not be 0")
    rnd = random.Random(a.seed)
    frames = []
    for seq in range(a.packets):
        g = rnd.randrange(a.groups)
        frames.append(frame(source(g, rnd.randrange(a.senders)), group(g), seq))
    wrpcap(a.pcap, frames)
    if a.rules:
        write_rules(a)
    lines = ["receivers:", "  - name: r0", "    sink: { port: sink0 }", "    joins:"]
    for g in range(a.groups):
        if a.sources:
            srcs = ", ".join(source(g, j) for j in range(a.sources))
            lines.append("      - { port: uplink, group: %s, sources: [%s] }" % (group(g), srcs))
        else:
            lines.append("      - { port: uplink, group: %s }" % group(g))
    write_configs(a, 1, lines)


def mcast15(a):
    table = mcast15_table(a.group_base)
    frames = [frame(source(i % 15, 0), table[i % 15][0], i) for i in range(a.packets)]
    wrpcap(a.pcap, frames)
    lines = ["receivers:"]
    for r in range(4):
        lines += ["  - name: r%d" % r, "    sink: { port: sink%d }" % r, "    joins:"]
        for g, mask in table:
            if mask & (1 << r):
                lines.append("      - { port: uplink, group: %s }" % g)
    write_configs(a, 4, lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("scale", "mcast15"):
        s = sub.add_parser(name)
        s.add_argument("--packets", type=int, default=4096)
        s.add_argument("--pcap", required=True)
        s.add_argument("--config", required=True)
        s.add_argument("--file-prefix", required=True)
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--family", type=int, choices=(4, 6), default=4)
        s.add_argument("--huge-config")
        if name == "mcast15":
            s.add_argument("--group-base")
        if name == "scale":
            s.add_argument("--groups", type=int, required=True)
            s.add_argument("--sources", type=int, choices=(0, 1, SOURCES_PER_GROUP), required=True)
            s.add_argument("--senders", type=int, choices=(1, SOURCES_PER_GROUP),
                           default=SOURCES_PER_GROUP)
            s.add_argument("--rules")
            s.add_argument("--rules6")
    a = p.parse_args()
    global family
    family = a.family
    if a.mode == "mcast15" and a.group_base is None:
        a.group_base = MCAST15_BASE6 if family == 6 else "224.0.0.101"
    if a.mode == "scale" and bool(a.rules) != bool(a.rules6):
        raise SystemExit("--rules and --rules6 go together (l3fwd reads both)")
    scale(a) if a.mode == "scale" else mcast15(a)


if __name__ == "__main__":
    main()
