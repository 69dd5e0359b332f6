// The bad-configuration matrix: each row is a small YAML text and the error it must give —
// the key path, the 1-based line (and column where given) and a part of the message.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace mcfwd::config {
namespace {

struct BadCase {
    const char* name;
    const char* yaml;
    const char* path;
    int line;
    int column; // 0: not checked
    const char* message;
};

// Lines 1-2: one valid port, so most rows need only the lines under test.
#define PORT "ports:\n  - { name: up, device: net_null0 }\n"
// Lines 1-4: two ports and the start of a receiver list (line 5 is the first receiver).
#define TWO_PORTS                                                                                  \
    "ports:\n"                                                                                     \
    "  - { name: up, device: net_null0 }\n"                                                        \
    "  - { name: down, device: net_null1 }\n"                                                      \
    "receivers:\n"
// Lines 1-4: a downstream port, open for more keys (line 5 is the next key of the port).
#define DOWN "ports:\n  - name: down\n    device: net_null0\n    role: downstream\n"
// A downstream port as the second item of a port list (its "- name" on the line after).
#define DOWN_ITEM "  - name: down\n    device: net_null0\n    role: downstream\n"

const BadCase bad_cases[] = {
    // YAML itself.
    {"SyntaxUnclosedFlowSequence", "ports: [\n", "(syntax)", 2, 1,
     "end of sequence flow not found"},
    {"SyntaxIllegalMapValue", "a: b\n c: d\n", "(syntax)", 2, 3, "illegal map value"},
    {"SyntaxUndefinedAlias", PORT "eal: *nope\n", "(syntax)", 3, 6, "anchor is not defined"},
    // yaml-cpp 0.7's LoadAll loops forever (allocating) on a stray ',' (jbeder/yaml-cpp#1040).
    {"StrayCommaDoesNotHang", ",\n", "(document)", 1, 1, "the configuration is empty"},
    {"StrayCommaAfterPortsDoesNotHang", PORT ", x\n", "(syntax)", 3, 1, ""},
    {"EmptyText", "", "(document)", 1, 1,
     "the configuration is empty: it is a mapping of sections (eal, lcores, mempool, limits, "
     "telemetry, shutdown, ports, receivers) with at least ports:"},
    {"OnlyComments", "# nothing yet\n\n", "(document)", 1, 1, "the configuration is empty"},
    {"NullDocument", "~\n", "(document)", 1, 1, "the configuration is empty"},
    {"TopLevelSequence", "- a\n- b\n", "(document)", 1, 1,
     "expected a mapping of sections (eal, lcores, mempool, limits, telemetry, shutdown, ports, "
     "receivers), got a sequence"},
    {"TopLevelScalar", "hello\n", "(document)", 1, 1, "got \"hello\""},
    {"TwoDocuments", PORT "---\n" PORT, "(document)", 3, 1, "only one YAML document"},
    // Keys.
    {"UnknownTopLevelKeyListsAllowed", PORT "port: 1\n", "port", 3, 1,
     "unknown key \"port\"; allowed: eal, lcores, mempool, limits, telemetry, shutdown, ports, "
     "receivers"},
    {"DuplicateTopLevelKey", PORT "ports: []\n", "ports", 3, 1, "duplicate key (first at line 1)"},
    {"MissingPorts", "lcores: { control: 0 }\n", "ports", 1, 1, "missing required key"},
    {"PortsEmpty", "ports: []\n", "ports", 1, 8, "at least one port"},
    {"PortsNull", "ports:\n", "ports", 1, 1, "got nothing (null) (write [] for none)"},
    {"PortsMapping", "ports: { name: up }\n", "ports", 1, 8, "expected a sequence, got a mapping"},
    // eal.
    {"EalScalar", PORT "eal: --no-huge\n", "eal", 3, 6, "expected a sequence"},
    {"EalElementMapping", PORT "eal: [--no-huge, { m: 256 }]\n", "eal[1]", 3, 18,
     "expected a string, got a mapping"},
    {"EalSetsLcoresShort", PORT "eal: [--no-pci, -l0-3]\n", "eal[1]", 3, 17,
     "is set by mcfwd from lcores:"},
    {"EalSetsLcoresLong", PORT "eal:\n  - --no-pci\n  - --lcores=0@0\n", "eal[1]", 5, 5,
     "is set by mcfwd from lcores:"},
    {"EalSetsVdev", PORT "eal: [--vdev=net_null9]\n", "eal[0]", 3, 7,
     "is set by mcfwd from ports:"},
    // lcores.
    {"LcoreControlOutOfRange", PORT "lcores:\n  control: 128\n", "lcores.control", 4, 12,
     "must be between 0 and 127, got 128"},
    {"LcoreForwardingEmpty", PORT "lcores: { control: 0, forwarding: [] }\n", "lcores.forwarding",
     3, 35, "at least one lcore"},
    {"LcoreControlInForwarding", PORT "lcores:\n  control: 2\n  forwarding: [1, 2]\n",
     "lcores.forwarding[1]", 5, 19, "lcore 2 is the control lcore"},
    {"LcoreControlIsDefaultForwarding", PORT "lcores:\n  control: 1\n", "lcores.control", 4, 12,
     "also the default forwarding lcore"},
    {"LcoreForwardingTwice", PORT "lcores: { forwarding: [1, 3, 1] }\n", "lcores.forwarding[2]", 3,
     30, "lcore 1 is listed twice"},
    {"LcoreControlEmptyList", PORT "lcores: { control: [] }\n", "lcores.control", 3, 20,
     "at least one lcore"},
    {"LcoreControlTwice", PORT "lcores: { control: [0, 2, 0], forwarding: [1] }\n",
     "lcores.control[2]", 3, 27, "lcore 0 is listed twice"},
    {"LcoreControlListInForwarding", PORT "lcores:\n  control: [0, 2]\n  forwarding: [1, 2]\n",
     "lcores.forwarding[1]", 5, 19, "lcore 2 is a control lcore; it cannot also forward"},
    {"LcoreControlListHasDefaultForwarding", PORT "lcores:\n  control: [0, 1]\n",
     "lcores.control[1]", 4, 16, "lcore 1 is also the default forwarding lcore"},
    {"LcoreControlListElementOutOfRange", PORT "lcores: { control: [0, 200] }\n",
     "lcores.control[1]", 3, 24, "must be between 0 and 127, got 200"},
    {"PortControlLcoreNotInList",
     "lcores: { control: [0, 2], forwarding: [1] }\n"
     "ports: [{ name: a, device: net_null0, control_lcore: 1 }]\n",
     "ports[0].control_lcore", 2, 54, "lcore 1 is not a control lcore (lcores.control: [0, 2])"},
    {"PortControlLcoreNotANumber",
     "ports:\n  - name: a\n    device: net_null0\n    control_lcore: first\n",
     "ports[0].control_lcore", 4, 20, "expected a decimal integer"},
    {"LcoreUnknownKey", PORT "lcores: { workers: [1] }\n", "lcores.workers", 3, 11,
     "allowed: control, forwarding"},
    // mempool, limits, telemetry.
    {"MempoolTooFewMbufs", PORT "mempool:\n  mbufs: 100\n", "mempool.mbufs", 4, 10,
     "must be between 1023 and 16777215, got 100"},
    {"MempoolCacheTooLarge", PORT "mempool: { cache: 1000 }\n", "mempool.cache", 3, 19,
     "must be between 0 and 512"},
    {"MempoolDataRoomNotNumber", PORT "mempool: { data_room: big }\n", "mempool.data_room", 3, 23,
     "expected a decimal integer between 256 and 65535, got \"big\""},
    {"LimitsZero", PORT "limits: { max_filter_sources: 0 }\n", "limits.max_filter_sources", 3, 31,
     "must be between 1 and 65536, got 0"},
    {"LimitsTooLarge", PORT "limits:\n  max_merged_sources: 65537\n", "limits.max_merged_sources",
     4, 23, "got 65537"},
    {"LimitsHugeNumberDoesNotOverflow",
     PORT "limits:\n  max_merged_sources: 99999999999999999999\n", "limits.max_merged_sources", 4,
     23, "must be between 1 and 65536"},
    {"TelemetryYesIsNotBoolean", PORT "telemetry: { read_only: yes }\n", "telemetry.read_only", 3,
     25, "expected true or false, got \"yes\""},
    {"ShutdownDeadlineTooLong", PORT "shutdown: { leave_deadline_ms: 60001 }\n",
     "shutdown.leave_deadline_ms", 3, 32, "must be between 0 and 60000"},
    {"ShutdownUnknownKey", PORT "shutdown: { deadline: 1 }\n", "shutdown.deadline", 3, 13,
     "unknown key \"deadline\""},
    // Ports.
    {"PortNotMapping", "ports: [up]\n", "ports[0]", 1, 9, "expected a mapping, got \"up\""},
    {"PortMissingName", "ports:\n  - device: net_null0\n", "ports[0].name", 2, 5,
     "missing required key"},
    {"PortBadName", "ports:\n  - name: Up!\n    device: net_null0\n", "ports[0].name", 2, 11,
     "not a valid name"},
    {"PortDuplicateName",
     "ports:\n  - { name: up, device: net_null0 }\n  - { name: up, device: net_null1 }\n",
     "ports[1].name", 3, 13, "duplicate port name \"up\" (also ports[0], line 2)"},
    {"PortWithoutDevice", "ports:\n  - name: up\n    mtu: 1500\n", "ports[0]", 2, 5,
     "needs exactly one of device"},
    {"PortDeviceAndPci", "ports:\n  - name: up\n    device: net_null0\n    pci: 0000:01:00.0\n",
     "ports[0].pci", 4, 10, "exclusive"},
    {"PortPciDeviceOutOfRange", "ports:\n  - name: up\n    pci: \"0000:01:20.0\"\n", "ports[0].pci",
     3, 10, "is not a PCI address"},
    {"PortPciWithoutFunction", "ports:\n  - name: up\n    pci: \"01:00\"\n", "ports[0].pci", 3, 10,
     "is not a PCI address"},
    // Device strings: what the PMD would refuse after the EAL started (DPDK 22.11's
    // valid_arguments of each driver, lib/config/devices.cpp).
    {"PortUnknownDriver", "ports:\n  - name: up\n    device: net_bogus0\n", "ports[0].device", 3,
     13,
     "unknown driver \"net_bogus0\" (known: net_af_packet, net_null, net_pcap, net_ring, net_tap"},
    {"PortUnknownDevarg", "ports:\n  - name: up\n    device: \"net_null0,no-rx=1,bogus=1\"\n",
     "ports[0].device", 3, 13, "net_null takes no devarg \"bogus\" (it takes: size, copy, no-rx)"},
    {"PortTapDevargOfAnotherDriver", "ports:\n  - name: up\n    device: \"net_tap0,rx_pcap=a\"\n",
     "ports[0].device", 3, 13,
     "net_tap takes no devarg \"rx_pcap\" (it takes: iface, mac, remote, persist)"},
    {"PortPcapWithoutQueues", "ports:\n  - name: up\n    device: net_pcap0\n", "ports[0].device", 3,
     13, "net_pcap needs one of rx_pcap, tx_pcap, rx_iface, rx_iface_in, tx_iface, iface"},
    {"PortAfPacketWithoutIface", "ports:\n  - name: up\n    device: \"net_af_packet0,qpairs=1\"\n",
     "ports[0].device", 3, 13, "net_af_packet needs iface (its probe fails without)"},
    {"PortCaptureWithoutFile", "ports:\n  - name: up\n    device: \"net_pcap0,rx_pcap\"\n",
     "ports[0].device", 3, 13, "rx_pcap needs a value (rx_pcap=...)"},
    {"PortPciAddressAsDevice", "ports:\n  - name: up\n    device: \"0000:01:00.0\"\n",
     "ports[0].device", 3, 13,
     "\"0000:01:00.0\" is a PCI address: give it as pci: \"0000:01:00.0\""},
    {"PortDeviceNameTooLong",
     "ports:\n  - name: up\n    device: net_null_"
     "1234567890123456789012345678901234567890123456789012345\n",
     "ports[0].device", 3, 13, "is longer than the 63 characters DPDK takes"},
    {"PortVdevNotADriverName", "ports:\n  - name: up\n    device: \",rx_pcap=a\"\n",
     "ports[0].device", 3, 13, "is not a virtual device"},
    {"PortDuplicateVdev",
     "ports:\n  - { name: a, device: \"net_null0,no-rx=1\" }\n  - { name: b, device: net_null0 }\n",
     "ports[1].device", 3, 24, "device net_null0 is already used by ports[0] (a)"},
    {"PortDuplicatePci",
     "ports:\n  - { name: a, pci: 0000:01:00.0 }\n  - { name: b, pci: 0000:01:00.0 }\n",
     "ports[1].pci", 3, 21, "PCI device 0000:01:00.0 is already used"},
    {"ThirtyThreePorts",
     "ports:\n"
     "  - { name: p0, device: net_null0 }\n  - { name: p1, device: net_null1 }\n"
     "  - { name: p2, device: net_null2 }\n  - { name: p3, device: net_null3 }\n"
     "  - { name: p4, device: net_null4 }\n  - { name: p5, device: net_null5 }\n"
     "  - { name: p6, device: net_null6 }\n  - { name: p7, device: net_null7 }\n"
     "  - { name: p8, device: net_null8 }\n  - { name: p9, device: net_null9 }\n"
     "  - { name: p10, device: net_null10 }\n  - { name: p11, device: net_null11 }\n"
     "  - { name: p12, device: net_null12 }\n  - { name: p13, device: net_null13 }\n"
     "  - { name: p14, device: net_null14 }\n  - { name: p15, device: net_null15 }\n"
     "  - { name: p16, device: net_null16 }\n  - { name: p17, device: net_null17 }\n"
     "  - { name: p18, device: net_null18 }\n  - { name: p19, device: net_null19 }\n"
     "  - { name: p20, device: net_null20 }\n  - { name: p21, device: net_null21 }\n"
     "  - { name: p22, device: net_null22 }\n  - { name: p23, device: net_null23 }\n"
     "  - { name: p24, device: net_null24 }\n  - { name: p25, device: net_null25 }\n"
     "  - { name: p26, device: net_null26 }\n  - { name: p27, device: net_null27 }\n"
     "  - { name: p28, device: net_null28 }\n  - { name: p29, device: net_null29 }\n"
     "  - { name: p30, device: net_null30 }\n  - { name: p31, device: net_null31 }\n"
     "  - { name: p32, device: net_null32 }\n",
     "ports[32]", 34, 5, "too many ports: 33, at most 32 (RTE_MAX_ETHPORTS"},
    {"PortTooManyRxQueues", "ports:\n  - name: up\n    device: net_null0\n    rx_queues: 17\n",
     "ports[0].rx_queues", 4, 16, "must be between 1 and 16, got 17"},
    {"PuntRateTooHigh", "ports:\n  - name: up\n    device: net_null0\n    punt_rate_pps: 1000001\n",
     "ports[0].punt_rate_pps", 4, 20, "must be between 0 and 1000000, got 1000001"},
    {"PuntBurstZero", "ports:\n  - name: up\n    device: net_null0\n    punt_burst: 0\n",
     "ports[0].punt_burst", 4, 17, "must be between 1 and 65535, got 0"},
    {"PortQuotedNumber", "ports:\n  - name: up\n    device: net_null0\n    tx_queues: \"2\"\n",
     "ports[0].tx_queues", 4, 16, "expected an integer between 1 and 16, got \"2\""},
    {"PortHexNumber", "ports:\n  - name: up\n    device: net_null0\n    tx_queues: 0x2\n",
     "ports[0].tx_queues", 4, 16, "expected a decimal integer"},
    {"PortMtuTooSmall", "ports:\n  - name: up\n    device: net_null0\n    mtu: 67\n",
     "ports[0].mtu", 4, 10, "must be between 68 and 9600, got 67"},
    {"PortJumboMtuNeedsDataRoom", "ports:\n  - name: up\n    device: net_null0\n    mtu: 9000\n",
     "ports[0].mtu", 4, 10, "needs mempool.data_room >= 9146"},
    {"PortVlanTagCountsAgainstDataRoom",
     "mempool: { data_room: 1648 }\nports:\n  - name: up\n    device: net_null0\n"
     "    vlan: 7\n",
     "ports[0].mtu", 3, 5, "needs mempool.data_room >= 1650"},
    {"PortVlanZero", "ports:\n  - name: up\n    device: net_null0\n    vlan: 0\n", "ports[0].vlan",
     4, 11, "must be between 1 and 4094, got 0"},
    {"PortVlan4095", "ports:\n  - name: up\n    device: net_null0\n    vlan: 4095\n",
     "ports[0].vlan", 4, 11, "got 4095"},
    {"PortUnknownRole", "ports:\n  - name: up\n    device: net_null0\n    role: proxy\n",
     "ports[0].role", 4, 11, "must be one of upstream, downstream, got \"proxy\""},
    {"PortFlowSteeringYes", "ports:\n  - name: up\n    device: net_null0\n    flow_steering: yes\n",
     "ports[0].flow_steering", 4, 20, "must be one of auto, on, off"},
    {"PortUnknownKeyListsAllowed", "ports:\n  - name: up\n    device: net_null0\n    speed: 10\n",
     "ports[0].speed", 4, 5, "allowed: name, device, pci, rx_queues"},
    {"PortIpv4Multicast",
     "ports:\n  - name: up\n    device: net_null0\n    ipv4: { address: 224.0.0.1 }\n",
     "ports[0].ipv4.address", 4, 22, "not a unicast address"},
    {"PortIpv4GivenIpv6",
     "ports:\n  - name: up\n    device: net_null0\n    ipv4:\n      address: \"2001:db8::1\"\n",
     "ports[0].ipv4.address", 5, 16, "is not an IPv4 address"},
    {"PortIpv4NotAnAddress",
     "ports:\n  - name: up\n    device: net_null0\n    ipv4: { address: 192.0.2 }\n",
     "ports[0].ipv4.address", 4, 22, "\"192.0.2\" is not an IPv4 or IPv6 address"},
    {"PortIpv4WithoutAddress", "ports:\n  - name: up\n    device: net_null0\n    ipv4: {}\n",
     "ports[0].ipv4.address", 4, 11, "missing required key"},
    {"PortIpv6NotLinkLocal",
     "ports:\n  - name: up\n    device: net_null0\n    ipv6: { link_local: \"2001:db8::1\" }\n",
     "ports[0].ipv6.link_local", 4, 25, "is not link-local (fe80::/10)"},
    {"PortIgmpVersion4",
     "ports:\n  - name: up\n    device: net_null0\n    igmp:\n      version: 4\n",
     "ports[0].igmp.version", 5, 16, "must be 1, 2 or 3, got 4"},
    {"PortMldVersion3", "ports:\n  - name: up\n    device: net_null0\n    mld: { version: 3 }\n",
     "ports[0].mld.version", 4, 21, "must be 1 or 2, got 3"},
    {"PortIgmpRobustnessZero",
     "ports:\n  - name: up\n    device: net_null0\n    igmp: { robustness: 0 }\n",
     "ports[0].igmp.robustness", 4, 25, "must be between 1 and 7, got 0"},
    {"PortMldRobustness8",
     "ports:\n  - name: up\n    device: net_null0\n    mld: { robustness: 8 }\n",
     "ports[0].mld.robustness", 4, 24, "got 8"},
    {"PortIgmpEnabledOneIsNotBoolean",
     "ports:\n  - name: up\n    device: net_null0\n    igmp: { enabled: 1 }\n",
     "ports[0].igmp.enabled", 4, 22, "expected true or false, got \"1\""},
    {"PortIgmpUnsolicitedIntervalZero",
     "ports:\n  - name: up\n    device: net_null0\n    igmp:\n"
     "      unsolicited_report_interval_ms: 0\n",
     "ports[0].igmp.unsolicited_report_interval_ms", 5, 39, "must be between 1 and 600000"},
    {"PortIgmpUnknownKey",
     "ports:\n  - name: up\n    device: net_null0\n    igmp: { querier: true }\n",
     "ports[0].igmp.querier", 4, 13, "allowed: enabled, version, robustness"},
    // ports[].querier.
    {"QuerierOnDefaultRolePort",
     "ports:\n  - name: up\n    device: net_null0\n    querier: { enabled: true }\n",
     "ports[0].querier", 4, 5, "downstream ports only; this port's role is upstream (the default)"},
    {"QuerierOnUpstreamPort",
     "ports:\n  - name: up\n    device: net_null0\n    querier: {}\n    role: upstream\n",
     "ports[0].querier", 4, 5, "downstream ports only; this port's role is upstream"},
    {"DownstreamWithoutIpv4Address", "ports:\n  - name: up\n    device: net_null1\n" DOWN_ITEM,
     "ports[1].ipv4.address", 4, 5, "required on a downstream port that speaks IGMP"},
    {"DownstreamWithoutUpstreamPort", DOWN "    ipv4: { address: 192.0.2.1 }\n", "ports[0].role", 4,
     11, "a downstream port needs an upstream port to proxy to"},
    {"TwoDownstreamPortsWithoutUpstream",
     "ports:\n  - { name: a, device: net_null0, ipv4: { address: 192.0.2.1 }, role: downstream }\n"
     "  - { name: b, device: net_null1, role: downstream, ipv4: { address: 192.0.2.2 } }\n",
     "ports[0].role", 2, 71, "a downstream port needs an upstream port to proxy to"},
    {"QuerierNotAMapping", DOWN "    querier: true\n", "ports[0].querier", 5, 14,
     "expected a mapping, got \"true\""},
    {"QuerierUnknownKey", DOWN "    querier:\n      robustness: 2\n", "ports[0].querier.robustness",
     6, 7, "unknown key \"robustness\"; allowed: enabled, query_interval_ms"},
    {"QuerierEnabledYes", DOWN "    querier:\n      enabled: yes\n", "ports[0].querier.enabled", 6,
     16, "expected true or false, got \"yes\""},
    {"QuerierQueryIntervalBelowOneSecond", DOWN "    querier:\n      query_interval_ms: 999\n",
     "ports[0].querier.query_interval_ms", 6, 26, "must be between 1000 and 31744000, got 999"},
    {"QuerierQueryIntervalAboveLargestQqic",
     DOWN "    querier:\n      query_interval_ms: 31744001\n", "ports[0].querier.query_interval_ms",
     6, 26, "must be between 1000 and 31744000"},
    {"QuerierQueryIntervalSeconds", DOWN "    querier:\n      query_interval_ms: 125s\n",
     "ports[0].querier.query_interval_ms", 6, 26, "expected a decimal integer"},
    {"QuerierResponseIntervalTooShort", DOWN "    querier:\n      query_response_interval_ms: 99\n",
     "ports[0].querier.query_response_interval_ms", 6, 35,
     "must be between 100 and 3174400, got 99"},
    {"QuerierResponseIntervalBeyondIgmpv3Code",
     DOWN "    querier:\n      query_interval_ms: 4000000\n"
          "      query_response_interval_ms: 3174401\n",
     "ports[0].querier.query_response_interval_ms", 7, 35, "must be between 100 and 3174400"},
    {"QuerierResponseIntervalQuoted",
     DOWN "    querier:\n      query_response_interval_ms: \"500\"\n",
     "ports[0].querier.query_response_interval_ms", 6, 35, "expected an integer between 100"},
    {"QuerierResponseEqualToQueryInterval",
     DOWN "    querier:\n      query_interval_ms: 20000\n"
          "      query_response_interval_ms: 20000\n",
     "ports[0].querier.query_response_interval_ms", 7, 35,
     "query_response_interval_ms (20000) must be less than query_interval_ms (20000) (RFC 3376 "
     "§8.3)"},
    {"QuerierResponseAboveTheDefaultQueryInterval",
     DOWN "    querier:\n      query_response_interval_ms: 200000\n",
     "ports[0].querier.query_response_interval_ms", 6, 35,
     "must be less than query_interval_ms (125000), the default"},
    {"QuerierQueryIntervalBelowTheDefaultResponse",
     DOWN "    querier:\n      query_interval_ms: 10000\n", "ports[0].querier.query_interval_ms", 6,
     26, "with query_response_interval_ms at its default"},
    {"QuerierLastMemberIntervalTooShort",
     DOWN "    querier:\n      last_member_query_interval_ms: 99\n",
     "ports[0].querier.last_member_query_interval_ms", 6, 38, "must be between 100 and 25500"},
    {"QuerierLastMemberIntervalTooLong",
     DOWN "    querier:\n      last_member_query_interval_ms: 25600\n",
     "ports[0].querier.last_member_query_interval_ms", 6, 38, "got 25600"},
    {"QuerierLastMemberCountZero", DOWN "    querier: { last_member_query_count: 0 }\n",
     "ports[0].querier.last_member_query_count", 5, 41, "must be between 1 and 7, got 0"},
    {"QuerierStartupCountEight", DOWN "    querier: { startup_query_count: 8 }\n",
     "ports[0].querier.startup_query_count", 5, 37, "must be between 1 and 7, got 8"},
    {"QuerierStartupIntervalTooShort", DOWN "    querier: { startup_query_interval_ms: 50 }\n",
     "ports[0].querier.startup_query_interval_ms", 5, 43, "must be between 100 and 31744000"},
    {"QuerierMaxGroupsZero", DOWN "    querier: { max_groups: 0 }\n", "ports[0].querier.max_groups",
     5, 28, "must be between 1 and 1000000, got 0"},
    {"QuerierMaxGroupsTooMany", DOWN "    querier: { max_groups: 1000001 }\n",
     "ports[0].querier.max_groups", 5, 28, "got 1000001"},
    {"QuerierMaxSourcesZero", DOWN "    querier: { max_sources: 0 }\n",
     "ports[0].querier.max_sources", 5, 29, "must be between 1 and 10000000, got 0"},
    {"QuerierMaxSourcesTooMany", DOWN "    querier: { max_sources: 10000001 }\n",
     "ports[0].querier.max_sources", 5, 29, "got 10000001"},
    {"QuerierMaxSourcesNegative", DOWN "    querier: { max_sources: -1 }\n",
     "ports[0].querier.max_sources", 5, 29, "must be between 1 and 10000000, got -1"},
    // ports[].querier.igmp_version / mld_version (RFC 3376 §7.3.1, RFC 3810 §8.3.1).
    {"QuerierIgmpVersionFour", DOWN "    querier: { igmp_version: 4 }\n",
     "ports[0].querier.igmp_version", 5, 30, "must be 1, 2 or 3, got 4"},
    {"QuerierIgmpVersionZero", DOWN "    querier: { igmp_version: 0 }\n",
     "ports[0].querier.igmp_version", 5, 30, "must be 1, 2 or 3, got 0"},
    {"QuerierIgmpVersionName", DOWN "    querier: { igmp_version: v2 }\n",
     "ports[0].querier.igmp_version", 5, 30, "must be 1, 2 or 3, got v2"},
    {"QuerierMldVersionThree", DOWN "    querier: { mld_version: 3 }\n",
     "ports[0].querier.mld_version", 5, 29, "must be 1 or 2, got 3"},
    {"QuerierMldVersionList", DOWN "    querier: { mld_version: [1] }\n",
     "ports[0].querier.mld_version", 5, 29, "must be 1 or 2, got a sequence"},
    {"QuerierIgmpv2ResponseIntervalTooLong",
     DOWN "    querier:\n      igmp_version: 2\n      query_response_interval_ms: 25600\n",
     "ports[0].querier.query_response_interval_ms", 7, 35,
     "query_response_interval_ms (25600) is more than an IGMPv2 query carries (25500, RFC 2236 "
     "§2.2) with igmp_version 2 (line 6)"},
    {"QuerierMldv1ResponseIntervalTooLong",
     DOWN "    querier:\n      query_response_interval_ms: 65536\n      mld_version: 1\n",
     "ports[0].querier.query_response_interval_ms", 6, 35,
     "query_response_interval_ms (65536) is more than an MLDv1 query carries (65535, RFC 2710 "
     "§3.4) with mld_version 1 (line 7)"},
    // Receivers and sinks.
    {"ReceiversScalar", PORT "receivers: feedA\n", "receivers", 3, 12, "expected a sequence"},
    {"ReceiverMissingSink", TWO_PORTS "  - name: a\n", "receivers[0].sink", 5, 5,
     "missing required key"},
    {"ReceiverDuplicateName",
     TWO_PORTS "  - { name: a, sink: { ring: r1 } }\n  - { name: a, sink: { ring: r2 } }\n",
     "receivers[1].name", 6, 13, "duplicate receiver name \"a\" (also receivers[0], line 5)"},
    {"SinkEmpty", TWO_PORTS "  - name: a\n    sink: {}\n", "receivers[0].sink", 6, 11,
     "needs exactly one of ring"},
    {"SinkRingAndPort", TWO_PORTS "  - name: a\n    sink: { ring: r, port: down }\n",
     "receivers[0].sink.port", 6, 28, "exclusive"},
    {"SinkUnknownPortListsPorts", TWO_PORTS "  - name: a\n    sink: { port: side }\n",
     "receivers[0].sink.port", 6, 19, "unknown port \"side\"; configured: up, down"},
    {"SinkSizeOnPortSink", TWO_PORTS "  - name: a\n    sink: { port: down, size: 64 }\n",
     "receivers[0].sink.size", 6, 31, "size applies to ring sinks only"},
    {"SinkRingSizeNotPowerOfTwo", TWO_PORTS "  - name: a\n    sink: { ring: r, size: 1000 }\n",
     "receivers[0].sink.size", 6, 28, "must be a power of two"},
    {"SinkRingSizeTooSmall", TWO_PORTS "  - name: a\n    sink: { ring: r, size: 16 }\n",
     "receivers[0].sink.size", 6, 28, "must be between 32 and 16777216"},
    {"SinkRingNameTooLong",
     TWO_PORTS "  - name: a\n    sink: { ring: abcdefghijabcdefghijabcdefghij }\n",
     "receivers[0].sink.ring", 6, 19, "not a valid ring name"},
    {"SinkRingNameUsedTwice",
     TWO_PORTS "  - { name: a, sink: { ring: feed } }\n  - { name: b, sink: { ring: feed } }\n",
     "receivers[1].sink.ring", 6, 30, "ring \"feed\" is already the sink of another receiver"},
    // Joins.
    {"JoinUnknownPort",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: side, group: 239.1.1.1 }\n",
     "receivers[0].joins[0].port", 8, 17, "unknown port \"side\""},
    {"JoinMissingGroup",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n      - port: up\n",
     "receivers[0].joins[0].group", 8, 9, "missing required key"},
    {"JoinGroupNotMulticast",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 10.1.1.1 }\n",
     "receivers[0].joins[0].group", 8, 28, "10.1.1.1 is not a multicast address"},
    {"JoinGroupNotAnAddress",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: feed }\n",
     "receivers[0].joins[0].group", 8, 28, "\"feed\" is not an IPv4 or IPv6 address"},
    {"JoinSourceMulticast",
     TWO_PORTS
     "  - name: a\n    sink: { ring: r }\n    joins:\n"
     "      - port: up\n        group: 239.1.1.1\n        sources: [10.0.0.1, 239.9.9.9]\n",
     "receivers[0].joins[0].sources[1]", 10, 29, "source 239.9.9.9 is not a unicast address"},
    {"JoinSourceUnspecified",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - port: up\n        group: 239.1.1.1\n        sources: [0.0.0.0]\n",
     "receivers[0].joins[0].sources[0]", 10, 19, "not a unicast address"},
    {"JoinSourceOtherFamily",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - port: up\n        group: \"ff3e::1\"\n        sources: [10.0.0.1]\n",
     "receivers[0].joins[0].sources[0]", 10, 19,
     "source 10.0.0.1 is IPv4 but group ff3e::1 is IPv6"},
    {"JoinSourceListedTwice",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - port: up\n        group: 232.1.1.1\n"
               "        sources: [10.0.0.1, 10.0.0.2, 10.0.0.1]\n",
     "receivers[0].joins[0].sources[2]", 10, 39,
     "source 10.0.0.1 is listed twice (also sources[0])"},
    {"JoinSourcesNotSequence",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 232.1.1.1, sources: 10.0.0.1 }\n",
     "receivers[0].joins[0].sources", 8, 48, "expected a sequence, got \"10.0.0.1\""},
    {"JoinIncludeWithoutSources",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 239.1.1.1, mode: include }\n",
     "receivers[0].joins[0].mode", 8, 45, "include {} is no membership"},
    {"JoinIncludeWithEmptySources",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 239.1.1.1, mode: include, sources: [] }\n",
     "receivers[0].joins[0].mode", 8, 45, "include {} is no membership"},
    {"JoinUnknownMode",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 239.1.1.1, mode: any }\n",
     "receivers[0].joins[0].mode", 8, 45, "must be one of include, exclude, got \"any\""},
    {"JoinSsmGroupAnySource",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 232.1.1.1 }\n",
     "receivers[0].joins[0].group", 8, 28, "232.1.1.1 is a source-specific group (RFC 4607)"},
    {"JoinSsmGroupExcludeMode",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - port: up\n        group: \"ff3e::8000:1\"\n        mode: exclude\n"
               "        sources: [\"2001:db8::1\"]\n",
     "receivers[0].joins[0].mode", 10, 15, "only include mode is allowed"},
    {"JoinTooManySources",
     "limits: { max_filter_sources: 2 }\n" TWO_PORTS "  - name: a\n    sink: { ring: r }\n"
     "    joins:\n      - port: up\n        group: 232.1.1.1\n"
     "        sources: [10.0.0.1, 10.0.0.2, 10.0.0.3]\n",
     "receivers[0].joins[0].sources", 11, 18, "3 sources exceed limits.max_filter_sources (2)"},
    {"JoinDuplicateReceiverPortGroup",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 239.1.1.1 }\n      - { port: down, group: 239.1.1.1 }\n"
               "      - { port: up, group: 239.1.1.1, mode: exclude, sources: [10.0.0.1] }\n",
     "receivers[0].joins[2]", 10, 9,
     "duplicate join of 239.1.1.1 on port up (also joins[0], line 8)"},
    {"JoinUnknownKey",
     TWO_PORTS "  - name: a\n    sink: { ring: r }\n    joins:\n"
               "      - { port: up, group: 232.1.1.1, source: 10.0.0.1 }\n",
     "receivers[0].joins[0].source", 8, 39, "allowed: port, group, mode, sources"},
};

class BadConfig : public testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, NamesPathLineAndReason) {
    const BadCase& c = GetParam();
    try {
        (void)load_string(c.yaml, "bad.yaml");
        FAIL() << "loaded without error:\n" << c.yaml;
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), "bad.yaml");
        EXPECT_EQ(e.path(), c.path) << e.what();
        EXPECT_EQ(e.where().line, c.line) << e.what();
        if (c.column != 0) {
            EXPECT_EQ(e.where().column, c.column) << e.what();
        }
        EXPECT_NE(e.message().find(c.message), std::string::npos)
            << "message: " << e.message() << "\nwanted: " << c.message;
        const std::string prefix = "bad.yaml:" + std::to_string(e.where().line) + ":" +
                                   std::to_string(e.where().column) + ": " + c.path + ": ";
        EXPECT_EQ(std::string(e.what()), prefix + e.message());
    }
}

INSTANTIATE_TEST_SUITE_P(Matrix, BadConfig, testing::ValuesIn(bad_cases),
                         [](const testing::TestParamInfo<BadCase>& info) {
                             return std::string(info.param.name);
                         });

/// The error a text gives (the test fails if it loads).
ConfigError error_of(const std::string& yaml) {
    try {
        (void)load_string(yaml, "bad.yaml");
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "loaded without error";
    return ConfigError("", {}, "", "");
}

// A value echoed in a message is cut after 64 bytes, with its length: a 10 MB name is
// not printed back whole (issue 12).
TEST(BadConfigEcho, TenMegabyteNameIsCutWithItsLength) {
    const std::string name(10 * 1024 * 1024, 'x');
    const ConfigError e = error_of("ports:\n  - { name: " + name + ", device: net_null0 }\n");
    EXPECT_EQ(e.path(), "ports[0].name");
    EXPECT_EQ(e.where(), (Location{2, 13}));
    EXPECT_EQ(e.message(), "\"" + std::string(64, 'x') +
                               "…\" (10485760 bytes) is not a valid name: 1 to 32 characters of "
                               "[a-z0-9_-]");
    EXPECT_LT(std::string(e.what()).size(), 200u);
}

TEST(BadConfigEcho, LongUnknownKeyIsCutInThePathToo) {
    // YAML allows an implicit key of at most 1024 characters.
    const std::string key(1000, 'k');
    const ConfigError e = error_of(PORT + key + ": 1\n");
    EXPECT_EQ(e.path(), std::string(64, 'k') + "… (1000 bytes)");
    EXPECT_EQ(e.where(), (Location{3, 1}));
    EXPECT_LT(std::string(e.what()).size(), 400u);
}

TEST(BadConfigEcho, LongNumberIsCut) {
    const ConfigError e = error_of(PORT "mempool: { mbufs: " + std::string(5000, '9') + " }\n");
    EXPECT_EQ(e.path(), "mempool.mbufs");
    EXPECT_EQ(e.message(),
              "must be between 1023 and 16777215, got " + std::string(64, '9') + "… (5000 bytes)");
}

TEST(BadConfigEcho, ControlCharactersAreShownAsQuestionMarks) {
    const ConfigError e = error_of("ports:\n  - { name: \"a\\e[2Jb\", device: net_null0 }\n");
    EXPECT_EQ(e.path(), "ports[0].name");
    EXPECT_NE(e.message().find("\"a?[2Jb\" is not a valid name"), std::string::npos) << e.message();
}

TEST(BadConfigEcho, CutDoesNotSplitAUtf8Character) {
    // 63 ASCII bytes, then "é" (2 bytes) across the 64-byte mark: cut before it.
    const std::string name = std::string(63, 'a') + "\xc3\xa9" + std::string(10, 'b');
    const ConfigError e = error_of("ports:\n  - { name: \"" + name + "\", device: net_null0 }\n");
    EXPECT_EQ(e.message().substr(0, 68), "\"" + std::string(63, 'a') + "…\"") << e.message();
}

} // namespace
} // namespace mcfwd::config
