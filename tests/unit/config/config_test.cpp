// Good configurations: parsed values, defaults, joins of both families, and the error type.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

namespace mcfwd::config {
namespace {

using addr::IpAddr;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

TEST(ConfigDefaults, MinimalConfigTakesEveryDefault) {
    const Config c = load_string("ports: [{ name: up, device: net_null0 }]\n", "min.yaml");
    EXPECT_EQ(c.file, "min.yaml");
    EXPECT_TRUE(c.eal.empty());
    EXPECT_EQ(c.lcores.control, std::vector<unsigned>{0});
    EXPECT_EQ(c.lcores.forwarding, std::vector<unsigned>{1});
    EXPECT_EQ(c.mempool.mbufs, 8191u);
    EXPECT_EQ(c.mempool.cache, 256u);
    EXPECT_EQ(c.mempool.data_room, 2176u);
    EXPECT_EQ(c.limits.max_filter_sources, 64u);
    EXPECT_EQ(c.limits.max_merged_sources, 64u);
    EXPECT_FALSE(c.telemetry.read_only);
    EXPECT_EQ(c.shutdown.leave_deadline_ms, 3000u);
    EXPECT_TRUE(c.receivers.empty());
    ASSERT_EQ(c.ports.size(), 1u);
    const Port& p = c.ports[0];
    EXPECT_EQ(p.name, "up");
    EXPECT_EQ(p.kind, DeviceKind::vdev);
    EXPECT_EQ(p.device, "net_null0");
    EXPECT_EQ(p.rx_queues, 1);
    EXPECT_EQ(p.tx_queues, 1);
    EXPECT_EQ(p.mtu, 1500);
    EXPECT_FALSE(p.vlan.has_value());
    EXPECT_EQ(p.role, PortRole::upstream);
    EXPECT_FALSE(p.ipv4_address.has_value());
    EXPECT_FALSE(p.ipv6_link_local.has_value());
    EXPECT_TRUE(p.igmp.enabled);
    EXPECT_EQ(p.igmp.version, 3);
    EXPECT_EQ(p.igmp.robustness, 2);
    EXPECT_FALSE(p.igmp.unsolicited_report_interval_ms.has_value());
    EXPECT_FALSE(p.igmp.report_link_local_groups);
    EXPECT_TRUE(p.mld.enabled);
    EXPECT_EQ(p.mld.version, 2);
    EXPECT_EQ(p.mld.robustness, 2);
    EXPECT_EQ(p.flow_steering, FlowSteering::automatic);
    EXPECT_TRUE(p.querier.enabled);
    EXPECT_EQ(p.querier.query_interval_ms, 125000u);
    EXPECT_EQ(p.location, (Location{1, 9}));
}

constexpr const char* full_yaml = R"(# every key set
eal: ["--no-huge", "--no-pci", "-m", "256"]
lcores: { control: 3, forwarding: [1, 2] }
mempool: { mbufs: 16383, cache: 128, data_room: 9856 }
limits: { max_filter_sources: 4, max_merged_sources: 100 }
telemetry: { read_only: true }
ports:
  - name: uplink
    device: "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"
    rx_queues: 4
    tx_queues: 2
    mtu: 9600
    vlan: 100
    role: upstream
    ipv4: { address: 192.0.2.10 }
    ipv6: { link_local: "fe80::10" }
    igmp: { enabled: true, version: 2, robustness: 3, unsolicited_report_interval_ms: 500, report_link_local_groups: true }
    mld:  { enabled: false, version: 1, robustness: 7, unsolicited_report_interval_ms: 10000, report_link_local_groups: false }
    flow_steering: off
  - name: host-side_2
    pci: "0000:AF:1f.7"
    role: downstream
    ipv4: { address: 192.0.2.77 }
    flow_steering: on
receivers:
  - name: feeda
    sink: { ring: feedA, size: 4096 }
    joins:
      - { port: uplink, group: 232.1.1.1, mode: include, sources: [10.0.0.2, 10.0.0.1] }
      - { port: uplink, group: 239.1.1.1 }
      - { port: uplink, group: "ff3e::8000:1", sources: ["2001:db8::9"] }
      - { port: host-side_2, group: "ff15::1", mode: exclude, sources: ["2001:db8::9", "2001:db8::1"] }
  - name: recorder
    sink: { port: host-side_2 }
shutdown: { leave_deadline_ms: 0 }
)";

TEST(ConfigFull, EveryTopLevelValueIsRead) {
    const Config c = load_string(full_yaml, "full.yaml");
    EXPECT_EQ(c.eal, (std::vector<std::string>{"--no-huge", "--no-pci", "-m", "256"}));
    EXPECT_EQ(c.lcores.control, std::vector<unsigned>{3});
    EXPECT_EQ(c.lcores.forwarding, (std::vector<unsigned>{1, 2}));
    EXPECT_EQ(c.mempool.mbufs, 16383u);
    EXPECT_EQ(c.mempool.cache, 128u);
    EXPECT_EQ(c.mempool.data_room, 9856u);
    EXPECT_EQ(c.limits.max_filter_sources, 4u);
    EXPECT_EQ(c.limits.max_merged_sources, 100u);
    EXPECT_TRUE(c.telemetry.read_only);
    EXPECT_EQ(c.shutdown.leave_deadline_ms, 0u);
}

TEST(ConfigFull, EveryPortValueIsRead) {
    const Config c = load_string(full_yaml, "full.yaml");
    ASSERT_EQ(c.ports.size(), 2u);
    const Port& up = c.ports[0];
    EXPECT_EQ(up.device, "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap");
    EXPECT_EQ(up.rx_queues, 4);
    EXPECT_EQ(up.tx_queues, 2);
    EXPECT_EQ(up.mtu, 9600);
    EXPECT_EQ(up.vlan, std::optional<uint16_t>(100));
    EXPECT_EQ(up.ipv4_address, ip("192.0.2.10"));
    EXPECT_EQ(up.ipv6_link_local, ip("fe80::10"));
    EXPECT_TRUE(up.igmp.enabled);
    EXPECT_EQ(up.igmp.version, 2);
    EXPECT_EQ(up.igmp.robustness, 3);
    EXPECT_EQ(up.igmp.unsolicited_report_interval_ms, std::optional<uint32_t>(500));
    EXPECT_TRUE(up.igmp.report_link_local_groups);
    EXPECT_FALSE(up.mld.enabled);
    EXPECT_EQ(up.mld.version, 1);
    EXPECT_EQ(up.mld.robustness, 7);
    EXPECT_EQ(up.mld.unsolicited_report_interval_ms, std::optional<uint32_t>(10000));
    EXPECT_EQ(up.flow_steering, FlowSteering::off);
    EXPECT_EQ(up.location.line, 8);
    EXPECT_EQ(up.device_location, (Location{9, 13})) << "the device value, for later errors";

    const Port& down = c.ports[1];
    EXPECT_EQ(down.name, "host-side_2");
    EXPECT_EQ(down.kind, DeviceKind::pci);
    EXPECT_EQ(down.device, "0000:af:1f.7") << "PCI addresses are folded to lower case";
    EXPECT_EQ(down.device_location, (Location{21, 10}));
    EXPECT_EQ(down.role, PortRole::downstream);
    EXPECT_EQ(down.flow_steering, FlowSteering::on);
    EXPECT_EQ(c.find_port("host-side_2"), &down);
    EXPECT_EQ(c.find_port("nope"), nullptr);
}

TEST(ConfigFull, JoinsCarryFilterStatesOfBothFamilies) {
    const Config c = load_string(full_yaml, "full.yaml");
    ASSERT_EQ(c.receivers.size(), 2u);
    const Receiver& r = c.receivers[0];
    EXPECT_EQ(r.name, "feeda");
    EXPECT_EQ(r.sink.kind, SinkKind::ring);
    EXPECT_EQ(r.sink.name, "feedA");
    EXPECT_EQ(r.sink.ring_size, 4096u);
    ASSERT_EQ(r.joins.size(), 4u);

    EXPECT_EQ(r.joins[0].port, "uplink");
    EXPECT_EQ(r.joins[0].port_index, 0u);
    EXPECT_EQ(r.joins[0].group, ip("232.1.1.1"));
    EXPECT_EQ(r.joins[0].filter,
              (FilterState{FilterMode::include, {ip("10.0.0.1"), ip("10.0.0.2")}}));
    EXPECT_EQ(r.joins[0].location.line, 29);

    EXPECT_EQ(r.joins[1].group, ip("239.1.1.1"));
    EXPECT_EQ(r.joins[1].filter, FilterState::any_source()) << "no mode, no sources";

    EXPECT_EQ(r.joins[2].group, ip("ff3e::8000:1"));
    EXPECT_EQ(r.joins[2].filter, (FilterState{FilterMode::include, {ip("2001:db8::9")}}))
        << "sources without mode mean include";

    EXPECT_EQ(r.joins[3].port_index, 1u);
    EXPECT_EQ(r.joins[3].group, ip("ff15::1"));
    EXPECT_EQ(r.joins[3].filter,
              (FilterState{FilterMode::exclude, {ip("2001:db8::1"), ip("2001:db8::9")}}));

    const Receiver& rec = c.receivers[1];
    EXPECT_EQ(rec.sink.kind, SinkKind::port);
    EXPECT_EQ(rec.sink.name, "host-side_2");
    EXPECT_EQ(rec.sink.port_index, 1u);
    EXPECT_TRUE(rec.joins.empty());
}

TEST(ConfigJoins, SourceCountAtTheLimitIsAccepted) {
    const Config c = load_string(R"(
limits: { max_filter_sources: 2 }
ports: [{ name: up, device: net_null0 }]
receivers:
  - name: a
    sink: { ring: a }
    joins: [{ port: up, group: 232.0.0.9, sources: [192.0.2.1, 192.0.2.2] }]
)",
                                 "t.yaml");
    EXPECT_EQ(c.receivers[0].joins[0].filter.sources.size(), 2u);
}

TEST(ConfigJoins, SameGroupOnTwoPortsAndByTwoReceiversIsAllowed) {
    const Config c = load_string(R"(
ports: [{ name: a, device: net_null0 }, { name: b, device: net_null1 }]
receivers:
  - name: r1
    sink: { port: b }
    joins: [{ port: a, group: 239.0.0.1 }, { port: b, group: 239.0.0.1 }]
  - name: r2
    sink: { port: b }
    joins: [{ port: a, group: 239.0.0.1 }]
)",
                                 "t.yaml");
    EXPECT_EQ(c.receivers[0].joins.size(), 2u);
    EXPECT_EQ(c.receivers[1].joins.size(), 1u);
}

TEST(ConfigJoins, ExcludeWithEmptySourcesIsAnySource) {
    const Config c = load_string(R"(
ports: [{ name: a, device: net_null0 }]
receivers:
  - { name: r, sink: { ring: r }, joins: [{ port: a, group: "ff05::2", mode: exclude, sources: [] }] }
)",
                                 "t.yaml");
    EXPECT_EQ(c.receivers[0].joins[0].filter, FilterState::any_source());
}

// The reader builds its own tree from the parser's events (one pass over the text); these
// pin what YAML::Load's nodes gave it: anchors and aliases, tags, nesting and order at scale.
TEST(ConfigTree, AnAliasReadsAsTheAnchoredNode) {
    const Config c = load_string(R"(
ports: [{ name: up, device: net_null0 }]
receivers:
  - name: a
    sink: { ring: a }
    joins:
      - { port: &p up, group: 232.0.0.1, sources: &s [192.0.2.1, 192.0.2.2] }
      - { port: *p, group: 232.0.0.2, sources: *s }
)",
                                 "t.yaml");
    ASSERT_EQ(c.receivers[0].joins.size(), 2u);
    const FilterState both{FilterMode::include, {ip("192.0.2.1"), ip("192.0.2.2")}};
    EXPECT_EQ(c.receivers[0].joins[1].port_index, 0u);
    EXPECT_EQ(c.receivers[0].joins[1].filter, both);
    EXPECT_EQ(c.receivers[0].joins[0].filter, both);
}

TEST(ConfigTree, ATaggedScalarIsNotPlain) {
    // "!!str 5" is a string, not the number 5: numbers are read from plain scalars only.
    EXPECT_THROW(load_string("ports: [{ name: up, device: net_null0 }]\n"
                             "mempool: { mbufs: !!str 8191 }\n",
                             "t.yaml"),
                 ConfigError);
    EXPECT_NO_THROW(load_string("ports: [{ name: up, device: net_null0 }]\n"
                                "mempool: { mbufs: 8191 }\n",
                                "t.yaml"));
}

TEST(ConfigTree, ManyJoinsKeepTheirOrderNestingAndLines) {
    // Block and flow collections nested three deep, 5,000 of them, each with its own
    // children: every join, its sources and its line come out as written.
    constexpr int n = 5000;
    std::string text = "ports: [{ name: up, device: net_null0 }]\n"
                       "receivers:\n  - name: a\n    sink: { ring: a }\n    joins:\n";
    for (int i = 0; i < n; ++i)
        text += "      - { port: up, group: 232.0." + std::to_string(i / 256) + "." +
                std::to_string(i % 256) + ", sources: [10.0." + std::to_string(i / 256) + "." +
                std::to_string(i % 256) + ", 10.1.0.1] }\n";
    const Config c = load_string(text, "t.yaml");
    ASSERT_EQ(c.receivers.size(), 1u);
    ASSERT_EQ(c.receivers[0].joins.size(), static_cast<size_t>(n));
    for (int i : {0, 1, 255, 256, n - 1}) {
        const Join& j = c.receivers[0].joins[static_cast<size_t>(i)];
        const std::string low = std::to_string(i / 256) + "." + std::to_string(i % 256);
        EXPECT_EQ(j.group, ip(("232.0." + low).c_str())) << i;
        EXPECT_EQ(j.filter,
                  (FilterState{FilterMode::include, {ip(("10.0." + low).c_str()), ip("10.1.0.1")}}))
            << i;
        EXPECT_EQ(j.location.line, 6 + i) << i;
    }
}

TEST(ConfigOrder, SectionsMayComeInAnyOrder) {
    const Config c = load_string(R"(
receivers:
  - { name: r, sink: { ring: r }, joins: [{ port: a, group: 232.1.1.1, sources: [10.1.1.1, 10.1.1.2] }] }
ports: [{ name: a, device: net_null0 }]
limits: { max_filter_sources: 2 }
)",
                                 "t.yaml");
    EXPECT_EQ(c.receivers[0].joins[0].port_index, 0u);
}

TEST(ConfigPorts, UntaggedFrameFitsTheDataRoomThatATaggedOneDoesNot) {
    // 128 headroom + 1500 + 14 + 4 (CRC) = 1646 <= 1648; a VLAN tag would need 1650.
    const Config c = load_string(
        "mempool: { data_room: 1648 }\nports: [{ name: a, device: net_null0 }]\n", "t.yaml");
    EXPECT_EQ(c.mempool.data_room, 1648u);
}

TEST(ConfigPorts, PuntRateAndBurstAreReadAndDefaultTo1000And64) {
    const Config c = load_string(R"(
ports:
  - { name: a, device: net_null0 }
  - { name: b, device: net_null1, punt_rate_pps: 0, punt_burst: 500 }
)",
                                 "t.yaml");
    EXPECT_EQ(c.ports[0].punt_rate_pps, 1000u);
    EXPECT_EQ(c.ports[0].punt_burst, 64u);
    EXPECT_EQ(c.ports[1].punt_rate_pps, 0u) << "0: no limit";
    EXPECT_EQ(c.ports[1].punt_burst, 500u);
}

TEST(ConfigLcores, ScalarControlIsAListOfOneAndOwnsEveryPort) {
    const Config c = load_string(R"(
lcores: { control: 2, forwarding: [1] }
ports:
  - { name: a, device: net_null0 }
  - { name: b, device: net_null1 }
)",
                                 "t.yaml");
    EXPECT_EQ(c.lcores.control, std::vector<unsigned>{2});
    EXPECT_EQ(c.ports[0].control_lcore, 2u);
    EXPECT_EQ(c.ports[1].control_lcore, 2u);
}

TEST(ConfigLcores, PortsGoRoundRobinOverControlLcoresUnlessTheyNameOne) {
    const Config c = load_string(R"(
lcores: { control: [0, 3], forwarding: [1, 2] }
ports:
  - { name: a, device: net_null0 }
  - { name: b, device: net_null1 }
  - { name: c, device: net_null2 }
  - { name: d, device: net_null3, control_lcore: 0 }
  - { name: e, device: net_null4, control_lcore: 3 }
)",
                                 "t.yaml");
    EXPECT_EQ(c.lcores.control, (std::vector<unsigned>{0, 3}));
    EXPECT_EQ(c.ports[0].control_lcore, 0u);
    EXPECT_EQ(c.ports[1].control_lcore, 3u);
    EXPECT_EQ(c.ports[2].control_lcore, 0u);
    EXPECT_EQ(c.ports[3].control_lcore, 0u) << "explicit, where round robin says 3";
    EXPECT_EQ(c.ports[4].control_lcore, 3u);
}

TEST(ConfigLcores, ControlLcoreIsCheckedAgainstAListWrittenAfterThePorts) {
    // Sections come in any order: lcores is read before ports whatever the file says.
    const Config c = load_string(R"(
ports: [{ name: a, device: net_null0, control_lcore: 4 }]
lcores: { control: [0, 4], forwarding: [1] }
)",
                                 "t.yaml");
    EXPECT_EQ(c.ports[0].control_lcore, 4u);
}

TEST(ConfigQuerier, EveryKeyOfADownstreamPortIsRead) {
    const Config c = load_string(R"(
ports:
  - { name: up, device: net_null0 }
  - name: down
    device: net_null1
    role: downstream
    ipv4: { address: 192.0.2.1 }
    querier:
      enabled: false
      query_interval_ms: 60000
      query_response_interval_ms: 5000
      last_member_query_interval_ms: 300
      last_member_query_count: 3
      startup_query_count: 4
      startup_query_interval_ms: 15000
      max_groups: 100
      max_sources: 2000
      igmp_version: 2
      mld_version: 1
)",
                                 "t.yaml");
    const QuerierConfig& q = c.ports[1].querier;
    EXPECT_EQ(q.igmp_version, 2);
    EXPECT_EQ(q.mld_version, 1);
    EXPECT_FALSE(q.enabled);
    EXPECT_EQ(q.query_interval_ms, 60000u);
    EXPECT_EQ(q.query_response_interval_ms, 5000u);
    EXPECT_EQ(q.last_member_query_interval_ms, 300u);
    EXPECT_EQ(q.last_member_query_count, std::optional<uint8_t>(3));
    EXPECT_EQ(q.startup_query_count, std::optional<uint8_t>(4));
    EXPECT_EQ(q.startup_query_interval_ms, std::optional<uint32_t>(15000));
    EXPECT_EQ(q.max_groups, 100u);
    EXPECT_EQ(q.max_sources, 2000u);
}

void expect_default_querier(const QuerierConfig& q) {
    EXPECT_TRUE(q.enabled);
    EXPECT_EQ(q.query_interval_ms, 125000u);
    EXPECT_EQ(q.query_response_interval_ms, 10000u);
    EXPECT_EQ(q.last_member_query_interval_ms, 1000u);
    EXPECT_FALSE(q.last_member_query_count.has_value()) << "defaults to the robustness";
    EXPECT_FALSE(q.startup_query_count.has_value()) << "defaults to the robustness";
    EXPECT_FALSE(q.startup_query_interval_ms.has_value()) << "defaults to query interval / 4";
    EXPECT_EQ(q.max_groups, 4096u);
    EXPECT_EQ(q.max_sources, 65536u);
    EXPECT_EQ(q.igmp_version, 3);
    EXPECT_EQ(q.mld_version, 2);
}

TEST(ConfigQuerier, DownstreamPortWithoutQuerierOrWithAnEmptyOneTakesTheDefaults) {
    const Config c = load_string(R"(
ports:
  - { name: a, device: net_null0, role: downstream, ipv4: { address: 192.0.2.1 } }
  - { name: b, device: net_null1, role: downstream, querier: {}, ipv4: { address: 192.0.2.2 } }
  - { name: u, device: net_null2 }
)",
                                 "t.yaml");
    for (const Port& p : c.ports) {
        SCOPED_TRACE(p.name);
        expect_default_querier(p.querier);
    }
}

TEST(ConfigQuerier, RangeEndsAreAccepted) {
    const Config lo = load_string(R"(
ports:
  - name: d
    device: net_null0
    role: downstream
    ipv4: { address: 192.0.2.1 }
    querier: { query_interval_ms: 1000, query_response_interval_ms: 100,
               last_member_query_interval_ms: 100, last_member_query_count: 1,
               startup_query_count: 1, startup_query_interval_ms: 100, max_groups: 1,
               max_sources: 1 }
  - { name: u, device: net_null1 }
)",
                                  "t.yaml");
    EXPECT_EQ(lo.ports[0].querier.query_interval_ms, 1000u);
    EXPECT_EQ(lo.ports[0].querier.query_response_interval_ms, 100u);
    const Config hi = load_string(R"(
ports:
  - name: d
    device: net_null0
    role: downstream
    ipv4: { address: 192.0.2.1 }
    querier: { query_interval_ms: 31744000, query_response_interval_ms: 3174400,
               last_member_query_interval_ms: 25500, last_member_query_count: 7,
               startup_query_count: 7, startup_query_interval_ms: 31744000,
               max_groups: 1000000, max_sources: 10000000 }
  - { name: u, device: net_null1 }
)",
                                  "t.yaml");
    const QuerierConfig& q = hi.ports[0].querier;
    EXPECT_EQ(q.query_interval_ms, 31744000u);
    EXPECT_EQ(q.query_response_interval_ms, 3174400u);
    EXPECT_EQ(q.last_member_query_interval_ms, 25500u);
    EXPECT_EQ(q.last_member_query_count, std::optional<uint8_t>(7));
    EXPECT_EQ(q.startup_query_count, std::optional<uint8_t>(7));
    EXPECT_EQ(q.max_groups, 1000000u);
    EXPECT_EQ(q.max_sources, 10000000u);
}

// The older versions' limits on the response interval: what IGMPv2 / MLDv1 carry is
// accepted; IGMPv1 carries none (hosts use 10 s), so any response interval goes.
TEST(ConfigQuerier, OlderVersionsTakeTheResponseIntervalTheirQueriesCarry) {
    auto load = [](const std::string& querier) {
        return load_string("ports:\n  - name: d\n    device: net_null0\n"
                           "    role: downstream\n    ipv4: { address: 192.0.2.1 }\n"
                           "    querier: " +
                               querier + "\n  - { name: u, device: net_null1 }\n",
                           "t.yaml");
    };
    const Config v2 = load("{ igmp_version: 2, query_response_interval_ms: 25500 }");
    EXPECT_EQ(v2.ports[0].querier.igmp_version, 2);
    EXPECT_EQ(v2.ports[0].querier.query_response_interval_ms, 25500u);
    const Config v1 = load("{ mld_version: 1, query_response_interval_ms: 65535 }");
    EXPECT_EQ(v1.ports[0].querier.mld_version, 1);
    const Config igmpv1 = load("{ igmp_version: 1, query_response_interval_ms: 100000 }");
    EXPECT_EQ(igmpv1.ports[0].querier.igmp_version, 1);
    EXPECT_EQ(igmpv1.ports[0].querier.mld_version, 2);
}

TEST(ConfigQuerier, ResponseIntervalJustBelowTheQueryIntervalIsAccepted) {
    const Config c = load_string("ports:\n  - name: d\n    device: net_null0\n"
                                 "    role: downstream\n    ipv4: { address: 192.0.2.1 }\n"
                                 "    querier: { query_interval_ms: 10001 }\n"
                                 "  - { name: u, device: net_null1 }\n",
                                 "t.yaml");
    EXPECT_EQ(c.ports[0].querier.query_interval_ms, 10001u);
}

TEST(ConfigScalars, BooleansAcceptYaml12CoreSpellings) {
    for (const char* t : {"true", "True", "TRUE"}) {
        const Config c = load_string(std::string("telemetry: { read_only: ") + t +
                                         " }\nports: [{ name: a, device: net_null0 }]\n",
                                     "t.yaml");
        EXPECT_TRUE(c.telemetry.read_only) << t;
    }
}

TEST(ConfigScalars, EalOptionsThatOnlyLookLikeLcoreOptionsAreKept) {
    const Config c = load_string("eal: [--log-level=8, --lcores-not-a-real-option, -m, \"64\"]\n"
                                 "ports: [{ name: a, device: net_null0 }]\n",
                                 "t.yaml");
    EXPECT_EQ(c.eal.size(), 4u);
}

TEST(ConfigErrorText, WhatIsFileLineColumnPathMessage) {
    const ConfigError e("x.yaml", {14, 7}, "ports[0].igmp.version", "must be 1, 2 or 3, got 4");
    EXPECT_STREQ(e.what(), "x.yaml:14:7: ports[0].igmp.version: must be 1, 2 or 3, got 4");
    const ConfigError nopos("x.yaml", {}, "(file)", "No such file or directory");
    EXPECT_STREQ(nopos.what(), "x.yaml: (file): No such file or directory");
}

TEST(ConfigErrorText, ExampleFromTheReferenceIsProducedVerbatim) {
    try {
        (void)load_string("ports:\n  - name: up\n    device: net_null0\n    igmp: { version: 4 }\n",
                          "mcfwd.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "mcfwd.yaml:4:22: ports[0].igmp.version: must be 1, 2 or 3, got 4");
    }
}

TEST(ConfigFile, MissingFileIsAConfigErrorWithoutPosition) {
    try {
        (void)load_file("/nonexistent/mcfwd.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.path(), "(file)");
        EXPECT_EQ(e.where().line, 0);
        EXPECT_EQ(std::string(e.what()),
                  "/nonexistent/mcfwd.yaml: (file): No such file or directory");
    }
}

// --config /tmp said "expected a mapping" (issue 12): a directory reads as nothing.
TEST(ConfigFile, DirectoryIsSaidToBeADirectory) {
    try {
        (void)load_file("/tmp");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where().line, 0);
        EXPECT_EQ(std::string(e.what()), "/tmp: (file): Is a directory (expected a YAML file)");
    }
}

TEST(ConfigFile, EmptyFileIsSaidToBeEmpty) {
    char name[] = "/tmp/mcfwd_config_testXXXXXX";
    const int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    try {
        (void)load_file(name);
        ADD_FAILURE() << "an empty file loaded";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.path(), "(document)");
        EXPECT_NE(std::string(e.what()).find(std::string(name) +
                                             ":1:1: (document): the configuration is empty"),
                  std::string::npos)
            << e.what();
    }
    close(fd);
    std::remove(name);
}

TEST(ConfigFile, FileNameIsTheNameInMessages) {
    char name[] = "/tmp/mcfwd_config_testXXXXXX";
    const int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    {
        std::ofstream out(name);
        out << "ports:\n  - name: up\n    device: net_null0\n    mtu: 0\n";
    }
    try {
        (void)load_file(name);
        ADD_FAILURE() << "mtu 0 accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  std::string(name) + ":4:10: ports[0].mtu: must be between 68 and 9600, got 0");
    }
    close(fd);
    std::remove(name);
}

} // namespace
} // namespace mcfwd::config

namespace mcfwd::config {
namespace {

/// ports (YAML lines) and n receivers, one per line, each with its own ring.
std::string with_receivers(const std::string& ports, int n) {
    std::string y = ports + "receivers:\n";
    for (int i = 0; i < n; ++i)
        y += "  - { name: r" + std::to_string(i) + ", sink: { ring: r" + std::to_string(i) +
             " } }\n";
    return y;
}

// Each receiver and each downstream port is one outlet of the forwarding tables,
// whose masks have 64 bits, and a proxy's upstream port one more (its downstream
// senders' traffic): the 65th is refused at its own entry, before EAL.
TEST(ConfigOutlets, SixtyFourOutletsFitAndTheSixtyFifthIsRefusedWhereItStands) {
    const std::string one_port = "ports: [{ name: up, device: net_null0 }]\n";
    EXPECT_EQ(load_string(with_receivers(one_port, 64), "t.yaml").receivers.size(), 64u);
    try {
        load_string(with_receivers(one_port, 65), "t.yaml");
        FAIL() << "65 receivers were accepted";
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("t.yaml:67:5:"), std::string::npos) << what; // receivers[64]'s entry
        EXPECT_NE(what.find("receivers[64]"), std::string::npos) << what;
        EXPECT_NE(what.find("at most 64"), std::string::npos) << what;
    }
    const std::string proxy = "ports:\n"
                              "  - { name: up, device: net_null0 }\n"
                              "  - { name: down, device: net_null1, role: downstream,"
                              " ipv4: { address: 198.51.100.1 } }\n";
    EXPECT_EQ(load_string(with_receivers(proxy, 62), "t.yaml").receivers.size(), 62u);
    try {
        load_string(with_receivers(proxy, 63), "t.yaml");
        FAIL() << "63 receivers beside a downstream port and the upstream port were accepted";
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("receivers[62]"), std::string::npos) << what;
        EXPECT_NE(what.find("1 downstream port(s)"), std::string::npos) << what;
    }
}

// DPDK port ids are below RTE_MAX_ETHPORTS (32): 32 ports load, the 33rd is refused at
// its own entry (bad_config_test: ThirtyThreePorts).
TEST(ConfigPorts, ThirtyTwoPortsLoad) {
    std::string y = "ports:\n";
    for (int i = 0; i < 32; ++i)
        y +=
            "  - { name: p" + std::to_string(i) + ", device: net_null" + std::to_string(i) + " }\n";
    EXPECT_EQ(load_string(y, "t.yaml").ports.size(), max_ports);
}

} // namespace
} // namespace mcfwd::config
