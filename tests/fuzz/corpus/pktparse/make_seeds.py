#!/usr/bin/python3
# Writes the fuzz_pktparse seed frames into this folder (run with Debian's python3,
# which has scapy): one frame per accepted shape and a few drops.
import os
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, ARP, IPv6ExtHdrHopByHop, \
    IPv6ExtHdrFragment, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, RouterAlert, Raw
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mr, IGMPv3gr
from scapy.layers.inet6 import ICMPv6MLReport2, ICMPv6MLQuery, ICMPv6MLReport, ICMPv6EchoRequest

here = os.path.dirname(os.path.abspath(__file__))
e4 = Ether(dst="01:00:5e:01:01:01")
e6 = Ether(dst="33:33:00:00:00:01")
hbh = IPv6ExtHdrHopByHop(options=[RouterAlert()])
seeds = {
    "ipv4_udp": e4 / IP(src="10.0.0.1", dst="232.1.1.1") / UDP() / Raw(b"x" * 8),
    "ipv4_vlan": e4 / Dot1Q(vlan=100) / IP(src="10.0.0.1", dst="239.1.1.1") / UDP(),
    "ipv4_frag": e4 / IP(src="10.0.0.1", dst="232.1.1.1", frag=100) / Raw(b"y" * 16),
    "igmpv3_report": e4 / IP(src="10.0.0.9", dst="224.0.0.22", ttl=1, options=[b"\x94\x04\x00\x00"])
        / IGMPv3(type=0x22) / IGMPv3mr(records=[IGMPv3gr(maddr="232.1.1.1", srcaddrs=["10.0.0.1"])]),
    "ipv6_udp": e6 / IPv6(src="2001:db8::1", dst="ff3e::8000:1") / UDP(),
    "ipv6_ext": e6 / Dot1Q(vlan=7) / IPv6(src="2001:db8::1", dst="ff3e::1") / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrRouting() / IPv6ExtHdrFragment(offset=0, m=1) / UDP(),
    "mldv2_report": e6 / IPv6(src="fe80::1", dst="ff02::16", hlim=1) / hbh / ICMPv6MLReport2(),
    "mld_query": e6 / IPv6(src="fe80::1", dst="ff02::1", hlim=1) / hbh / ICMPv6MLQuery(),
    "mldv1_report": e6 / IPv6(src="fe80::1", dst="ff3e::1", hlim=1) / hbh / ICMPv6MLReport(mladdr="ff3e::1"),
    "icmpv6_echo": e6 / IPv6(src="2001:db8::1", dst="ff3e::1") / ICMPv6EchoRequest(),
    "arp": Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(),
    "qinq": e4 / Dot1Q(vlan=1) / Dot1Q(vlan=2) / IP(src="10.0.0.1", dst="232.1.1.1") / UDP(),
}
for name, pkt in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(bytes(pkt))
