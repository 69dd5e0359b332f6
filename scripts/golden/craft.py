#!/usr/bin/python3
"""Craft reference IGMP/MLD frames with scapy into a pcap file.

Usage: /usr/bin/python3 scripts/golden/craft.py OUT.pcap

The frames are built by scapy (an independent implementation of the same RFCs)
so that mcfwd's decoder is checked against bytes it did not produce. The order
and content are part of the contract with tests/unit/wire/golden_test.cpp.
Exit status 3 when scapy cannot be imported, so the caller can skip.
"""
import sys

try:
    from scapy.contrib.igmp import IGMP
    from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mq, IGMPv3mr
    from scapy.layers.inet import IP, IPOption_Router_Alert
    from scapy.layers.inet6 import (IPv6, ICMPv6MLDMultAddrRec, ICMPv6MLDone,
                                    ICMPv6MLQuery2, ICMPv6MLReport,
                                    ICMPv6MLReport2, IPv6ExtHdrHopByHop,
                                    RouterAlert)
    from scapy.layers.l2 import Dot1Q, Ether
    from scapy.utils import wrpcap
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"scapy not importable: {e}", file=sys.stderr)
    sys.exit(3)

SRC_MAC = "02:00:00:00:00:01"
V4_SRC = "192.0.2.1"
V6_SRC = "fe80::1"


def v4(dst, payload, ra=True):
    opts = [IPOption_Router_Alert()] if ra else []
    return Ether(src=SRC_MAC) / IP(src=V4_SRC, dst=dst, ttl=1, tos=0xc0, options=opts) / payload


def v6(dst, payload, vlan=None):
    hbh = IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
    l2 = Ether(src=SRC_MAC)
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    return l2 / IPv6(src=V6_SRC, dst=dst, hlim=1) / hbh / payload


def frames():
    return [
        # 1. IGMPv3 report: IS_IN(232.1.1.1, {10.0.0.1, 10.0.0.2}), TO_EX(239.1.1.1, {}),
        #    BLOCK(232.2.2.2, {10.9.9.9})
        v4("224.0.0.22", IGMPv3(type=0x22) / IGMPv3mr(records=[
            IGMPv3gr(rtype=1, maddr="232.1.1.1", srcaddrs=["10.0.0.1", "10.0.0.2"]),
            IGMPv3gr(rtype=4, maddr="239.1.1.1"),
            IGMPv3gr(rtype=6, maddr="232.2.2.2", srcaddrs=["10.9.9.9"]),
        ])),
        # 2. IGMPv2 report of 239.0.0.5
        v4("239.0.0.5", IGMP(type=0x16, mrcode=0, gaddr="239.0.0.5")),
        # 3. IGMPv2 leave of 239.0.0.5
        v4("224.0.0.2", IGMP(type=0x17, mrcode=0, gaddr="239.0.0.5")),
        # 4. IGMPv3 group-and-source query: 232.1.1.1, sources 10.0.0.1 10.0.0.3,
        #    Max Resp Code 0x90 (25.6 s), S=1, QRV 2, QQIC 125
        v4("232.1.1.1", IGMPv3(type=0x11, mrcode=0x90) / IGMPv3mq(
            gaddr="232.1.1.1", s=1, qrv=2, qqic=125, srcaddrs=["10.0.0.1", "10.0.0.3"])),
        # 5. MLDv2 report: ALLOW(ff3e::1, {2001:db8::1}), TO_IN(ff05::1:3, {})
        v6("ff02::16", ICMPv6MLReport2(records=[
            ICMPv6MLDMultAddrRec(rtype=5, dst="ff3e::1", sources=["2001:db8::1"]),
            ICMPv6MLDMultAddrRec(rtype=3, dst="ff05::1:3"),
        ])),
        # 6. MLDv2 query: ff3e::1, sources 2001:db8::1 2001:db8::2, mrd 20000 ms, QRV 2, QQIC 125
        v6("ff3e::1", ICMPv6MLQuery2(mrd=20000, mladdr="ff3e::1", QRV=2, QQIC=125,
                                     sources=["2001:db8::1", "2001:db8::2"])),
        # 7. MLDv1 report of ff05::2, on VLAN 7
        v6("ff05::2", ICMPv6MLReport(mladdr="ff05::2"), vlan=7),
        # 8. MLDv1 done of ff05::2
        v6("ff02::2", ICMPv6MLDone(mladdr="ff05::2")),
    ]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    wrpcap(sys.argv[1], frames())
    return 0


if __name__ == "__main__":
    sys.exit(main())
