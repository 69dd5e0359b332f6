#!/usr/bin/python3
"""Generates the demo's bundled traffic: a pcap that a net_pcap port replays.

It holds what an upstream link carries: a router's IGMPv3 and MLDv2 general
queries, and UDP multicast data from many groups and sources in IPv4 and IPv6,
some of it wanted by the default configuration's receivers and some not
(non-member groups, excluded sources, sources outside an INCLUDE list), with and
without an 802.1Q tag. Every data packet's payload names its (S,G) and a
sequence number, so a consumer can check exactly what it received.

Usage: gen_traffic.py OUT.pcap [--packets N] [--seed S]
Deterministic for a given seed. Needs python3-scapy (Debian), run with
/usr/bin/python3.
"""
import argparse
import ipaddress
import random
import sys

from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, Raw, wrpcap  # noqa: E402
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq  # noqa: E402
from scapy.layers.inet6 import IPv6ExtHdrHopByHop, RouterAlert, ICMPv6MLQuery2  # noqa: E402

ROUTER_MAC = "02:00:00:00:00:fe"
SENDER_MAC = "02:00:00:00:00:aa"

# (group, [sources]) the traffic comes from. The default configuration's
# receivers want some of these (see config/default.yaml), not all.
V4_FLOWS = [
    ("232.1.1.1", ["198.51.100.1", "198.51.100.2"]),  # recorder includes .1 only
    ("239.1.1.1", ["198.51.100.1", "198.51.100.66"]),  # feed-a excludes .66
    ("239.9.9.9", ["198.51.100.3"]),  # nobody joins it
]
V6_FLOWS = [
    ("ff3e::8000:1", ["2001:db8::1", "2001:db8::2"]),  # recorder includes ::1 only
    ("ff3e::8000:9", ["2001:db8::9"]),  # nobody joins it
]


def eth_for(group):
    """RFC 1112 §6.4 / RFC 2464 §7 group -> MAC mapping."""
    a = ipaddress.ip_address(group)
    if a.version == 4:
        v = int(a)
        return "01:00:5e:%02x:%02x:%02x" % ((v >> 16) & 0x7F, (v >> 8) & 0xFF, v & 0xFF)
    v = int(a)
    return "33:33:%02x:%02x:%02x:%02x" % ((v >> 24) & 0xFF, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)


def data_packet(group, source, seq, vlan):
    payload = ("mcfwd S=%s G=%s seq=%d" % (source, group, seq)).encode().ljust(64, b".")
    if ":" in group:
        l3 = IPv6(src=source, dst=group, hlim=16) / UDP(sport=5000, dport=5001) / Raw(payload)
    else:
        l3 = IP(src=source, dst=group, ttl=16) / UDP(sport=5000, dport=5001) / Raw(payload)
    eth = Ether(src=SENDER_MAC, dst=eth_for(group))
    return eth / Dot1Q(vlan=vlan) / l3 if vlan else eth / l3


def tagged(eth_frame, vlan):
    """The same frame with one 802.1Q tag inserted after the Ethernet header."""
    if not vlan:
        return eth_frame
    return Ether(src=eth_frame.src, dst=eth_frame.dst) / Dot1Q(vlan=vlan) / eth_frame.payload


def queries(vlan=0):
    q4 = (Ether(src=ROUTER_MAC, dst="01:00:5e:00:00:01")
          / IP(src="192.0.2.1", dst="224.0.0.1", ttl=1, tos=0xC0, options=[b"\x94\x04\x00\x00"])
          / IGMPv3(type=0x11, mrcode=20) / IGMPv3mq(gaddr="0.0.0.0", qrv=2, qqic=125))
    q6 = (Ether(src=ROUTER_MAC, dst="33:33:00:00:00:01")
          / IPv6(src="fe80::fe", dst="ff02::1", hlim=1)
          / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
          / ICMPv6MLQuery2(mrd=2000, mladdr="::", QRV=2, QQIC=125))
    return [tagged(q4, vlan), tagged(q6, vlan)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=2000, help="data packets (default 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vlan", type=int, default=0,
                    help="tag the queries and a share of the data with this VLAN id")
    ap.add_argument("--tagged-share", type=float, default=1.0,
                    help="with --vlan: the share of data packets tagged (default all)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    flows = [(g, s) for g, ss in V4_FLOWS + V6_FLOWS for s in ss]
    pkts = queries(args.vlan)
    for seq in range(args.packets):
        g, s = flows[rng.randrange(len(flows))]
        vlan = args.vlan if args.vlan and rng.random() < args.tagged_share else 0
        pkts.append(data_packet(g, s, seq, vlan))
        if seq == args.packets // 2:
            pkts.extend(queries(args.vlan))
    wrpcap(args.out, pkts)
    print("%s: %d packets (%d data, %d queries)" % (args.out, len(pkts), args.packets, len(pkts) - args.packets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
