// pktparse::parse: every accepted frame shape and every drop reason, table-driven,
// plus truncation of every accepted frame at every length.
#include "frame_builder.hpp"
#include "pktparse/parse.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <set>
#include <string>

namespace {

using namespace mcfwd;
using mcfwd::testing::build_frame;
using mcfwd::testing::Bytes;
using mcfwd::testing::FrameSpec;
using mcfwd::testing::ip;
using pktparse::DropReason;
using pktparse::parse;

FrameSpec v4(const char* src = "10.0.0.1", const char* dst = "232.1.1.1") {
    FrameSpec s;
    s.src = ip(src);
    s.dst = ip(dst);
    return s;
}
FrameSpec v6(const char* src = "2001:db8::1", const char* dst = "ff3e::8000:1") {
    FrameSpec s;
    s.src = ip(src);
    s.dst = ip(dst);
    return s;
}
FrameSpec with(FrameSpec s, const std::function<void(FrameSpec&)>& f) {
    f(s);
    return s;
}
Bytes mld(uint8_t type) {
    return Bytes{type, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
}

struct Accepted {
    std::string name;
    FrameSpec spec;
    bool control;
    uint16_t l3_offset;
    uint32_t l4_offset;
};

class ParseAccepts : public ::testing::TestWithParam<Accepted> {};

TEST_P(ParseAccepts, YieldsSourceGroupOffsetsAndControlFlag) {
    const Accepted& a = GetParam();
    const Bytes f = build_frame(a.spec);
    const auto r = parse(f.data(), f.size());
    ASSERT_TRUE(r.ok) << pktparse::drop_reason_name(r.drop);
    EXPECT_EQ(r.packet.src, a.spec.src);
    EXPECT_EQ(r.packet.dst, a.spec.dst);
    EXPECT_EQ(r.packet.family, a.spec.src.family());
    EXPECT_EQ(r.packet.control, a.control);
    EXPECT_EQ(r.packet.hop_limit, a.spec.ttl);
    EXPECT_EQ(r.packet.l3_offset, a.l3_offset);
    EXPECT_EQ(r.packet.l4_offset, a.l4_offset);
    EXPECT_EQ(r.packet.l3_offset + r.packet.ip_length, f.size());
    EXPECT_EQ(r.packet.vlan_tci.has_value(), !a.spec.tags.empty());
    if (r.packet.vlan_tci) {
        EXPECT_EQ(*r.packet.vlan_tci, a.spec.vlan_tci);
    }
}

const auto vlan = [](FrameSpec& s) { s.tags = {0x8100}; };

INSTANTIATE_TEST_SUITE_P(
    Shapes, ParseAccepts,
    ::testing::Values(
        Accepted{"Ipv4Udp", v4(), false, 14, 34},
        Accepted{"Ipv4Vlan", with(v4(), vlan), false, 18, 38},
        Accepted{"Ipv4Options", with(v4(), [](FrameSpec& s) { s.ipv4_options = 4; }), false, 14,
                 38},
        Accepted{"Ipv4AnySourceMulticast", v4("10.0.0.1", "239.255.0.1"), false, 14, 34},
        Accepted{"Ipv4FirstFragment", with(v4(), [](FrameSpec& s) { s.more_fragments = true; }),
                 false, 14, 34},
        Accepted{"Ipv4NonFirstFragmentIsForwarded",
                 with(v4(), [](FrameSpec& s) { s.frag_offset = 185; }), false, 14, 34},
        Accepted{"IgmpToAllSystemsIsControl",
                 with(v4("10.0.0.9", "224.0.0.1"),
                      [](FrameSpec& s) {
                          s.proto = 2;
                          s.ttl = 1;
                          s.ipv4_options = 4;
                      }),
                 true, 14, 38},
        Accepted{"IgmpV2ReportToGroupIsControl",
                 with(v4("10.0.0.9", "239.1.2.3"), [](FrameSpec& s) { s.proto = 2; }), true, 14,
                 34},
        Accepted{"IgmpBehindVlanIsControl",
                 with(v4("10.0.0.9", "224.0.0.22"),
                      [](FrameSpec& s) {
                          s.proto = 2;
                          s.tags = {0x8100};
                      }),
                 true, 18, 38},
        Accepted{"Ipv6Udp", v6(), false, 14, 54},
        Accepted{"Ipv6Vlan", with(v6(), vlan), false, 18, 58},
        Accepted{"Ipv6BehindDestOptsAndRouting",
                 with(v6(),
                      [](FrameSpec& s) {
                          s.ext = {{60, 16}, {43, 8}};
                      }),
                 false, 14, 78},
        Accepted{"Ipv6NonFirstFragmentIsForwarded",
                 with(v6(),
                      [](FrameSpec& s) {
                          s.ext = {{44, 8}};
                          s.frag_offset = 100;
                      }),
                 false, 14, 62},
        Accepted{"Ipv6IcmpEchoToGroupIsData",
                 with(v6(),
                      [](FrameSpec& s) {
                          s.proto = 58;
                          s.payload = mld(128);
                      }),
                 false, 14, 54},
        Accepted{"Mldv2ReportBehindHopByHopIsControl",
                 with(v6("fe80::1", "ff02::16"),
                      [](FrameSpec& s) {
                          s.ext = {{0, 8}};
                          s.proto = 58;
                          s.payload = mld(143);
                          s.ttl = 1;
                      }),
                 true, 14, 62},
        Accepted{"MldQueryBehindHopByHopAndVlanIsControl",
                 with(v6("fe80::1", "ff02::1"),
                      [](FrameSpec& s) {
                          s.ext = {{0, 8}};
                          s.proto = 58;
                          s.payload = mld(130);
                          s.tags = {0x8100};
                      }),
                 true, 18, 66},
        Accepted{"Mldv1ReportToGroupIsControl",
                 with(v6("fe80::1", "ff3e::8000:1"),
                      [](FrameSpec& s) {
                          s.ext = {{0, 8}};
                          s.proto = 58;
                          s.payload = mld(131);
                      }),
                 true, 14, 62},
        Accepted{"Mldv1DoneWithoutHopByHopIsControl",
                 with(v6("fe80::1", "ff02::2"),
                      [](FrameSpec& s) {
                          s.proto = 58;
                          s.payload = mld(132);
                      }),
                 true, 14, 54},
        Accepted{"MldInFirstFragmentIsControl",
                 with(v6("fe80::1", "ff02::16"),
                      [](FrameSpec& s) {
                          s.ext = {{0, 8}, {44, 8}};
                          s.more_fragments = true;
                          s.proto = 58;
                          s.payload = mld(143);
                      }),
                 true, 14, 70}),
    [](const auto& info) { return info.param.name; });

struct Dropped {
    std::string name;
    Bytes frame;
    DropReason reason;
};

class ParseDrops : public ::testing::TestWithParam<Dropped> {};

TEST_P(ParseDrops, WithTheReason) {
    const Dropped& d = GetParam();
    const auto r = parse(d.frame.data(), d.frame.size());
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(pktparse::drop_reason_name(r.drop), pktparse::drop_reason_name(d.reason));
}

Bytes frame(const FrameSpec& s) {
    return build_frame(s);
}
Bytes patched(Bytes b, size_t at, uint8_t v) {
    b.at(at) = v;
    return b;
}
Bytes cut(Bytes b, size_t n) {
    b.resize(n);
    return b;
}
Bytes arp() {
    Bytes b = frame(v4());
    b[12] = 0x08, b[13] = 0x06;
    return b;
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, ParseDrops,
    ::testing::Values(
        Dropped{"EmptyFrame", {}, DropReason::truncated},
        Dropped{"ShorterThanEthernet", cut(frame(v4()), 13), DropReason::truncated},
        Dropped{"VlanTagCut", cut(frame(with(v4(), vlan)), 16), DropReason::truncated},
        Dropped{"Ipv4HeaderCut", cut(frame(v4()), 14 + 19), DropReason::truncated},
        Dropped{"Ipv4TotalLengthBeyondFrame", cut(frame(v4()), 14 + 20 + 7), DropReason::truncated},
        Dropped{"Ipv6HeaderCut", cut(frame(v6()), 14 + 39), DropReason::truncated},
        Dropped{"Ipv6PayloadBeyondFrame", cut(frame(v6()), 14 + 40 + 7), DropReason::truncated},
        Dropped{"Arp", arp(), DropReason::not_ip},
        Dropped{"Lldp", patched(patched(frame(v4()), 12, 0x88), 13, 0xcc), DropReason::not_ip},
        Dropped{"ArpBehindVlan", patched(patched(frame(with(v4(), vlan)), 16, 0x08), 17, 0x06),
                DropReason::not_ip},
        Dropped{"TwoDot1qTags",
                frame(with(v4(),
                           [](FrameSpec& s) {
                               s.tags = {0x8100, 0x8100};
                           })),
                DropReason::double_vlan},
        Dropped{"ServiceTagOuter",
                frame(with(v4(),
                           [](FrameSpec& s) {
                               s.tags = {0x88a8, 0x8100};
                           })),
                DropReason::double_vlan},
        Dropped{"Legacy9100Outer", frame(with(v6(), [](FrameSpec& s) { s.tags = {0x9100}; })),
                DropReason::double_vlan},
        Dropped{"Ipv4WrongVersion", patched(frame(v4()), 14, 0x65), DropReason::bad_ipv4_header},
        Dropped{"Ipv4IhlBelowFive", patched(frame(v4()), 14, 0x44), DropReason::bad_ipv4_header},
        Dropped{"Ipv4TotalLengthBelowIhl", patched(patched(frame(v4()), 16, 0), 17, 19),
                DropReason::bad_ipv4_header},
        Dropped{"Ipv4IhlBeyondTotalLength", patched(frame(v4()), 14, 0x4f),
                DropReason::bad_ipv4_header},
        Dropped{"Ipv6WrongVersion", patched(frame(v6()), 14, 0x40), DropReason::bad_ipv6_header},
        Dropped{"Ipv6Jumbogram", patched(patched(frame(v6()), 18, 0), 19, 0),
                DropReason::bad_ipv6_header},
        Dropped{"Ipv4Unicast", frame(v4("10.0.0.1", "10.0.0.2")), DropReason::not_multicast},
        Dropped{"Ipv4Broadcast", frame(v4("10.0.0.1", "255.255.255.255")),
                DropReason::not_multicast},
        Dropped{"Ipv6Unicast", frame(v6("2001:db8::1", "2001:db8::2")), DropReason::not_multicast},
        Dropped{"Ipv4MulticastSource", frame(v4("224.1.1.1", "232.1.1.1")), DropReason::bad_source},
        Dropped{
            "Ipv6V4MappedSource",
            frame(with(v6("::ffff:10.0.0.1", "ff3e::1"), [](FrameSpec& s) { s.force_v6 = true; })),
            DropReason::bad_source},
        Dropped{"Ipv6MulticastSource", frame(v6("ff05::1", "ff3e::1")), DropReason::bad_source},
        Dropped{"Ipv4LinkLocalGroup", frame(v4("10.0.0.1", "224.0.0.251")),
                DropReason::link_local_group},
        Dropped{"Ipv6LinkLocalGroup", frame(v6("fe80::1", "ff02::fb")),
                DropReason::link_local_group},
        Dropped{"Ipv6InterfaceLocalGroup", frame(v6("fe80::1", "ff01::1")),
                DropReason::link_local_group},
        Dropped{"Ipv6NeighborSolicitationIsNotControl",
                frame(with(v6("fe80::1", "ff02::1:ff00:1"),
                           [](FrameSpec& s) {
                               s.proto = 58;
                               s.payload = mld(135);
                           })),
                DropReason::link_local_group},
        Dropped{"Ipv6ExtChainTooLong",
                frame(with(v6(),
                           [](FrameSpec& s) {
                               for (int i = 0; i < 9; ++i)
                                   s.ext.push_back({60, 8});
                           })),
                DropReason::ipv6_ext_chain},
        Dropped{"Ipv6HopByHopNotFirst",
                frame(with(v6(),
                           [](FrameSpec& s) {
                               s.ext = {{60, 8}, {0, 8}};
                           })),
                DropReason::ipv6_ext_chain},
        Dropped{"Ipv6IcmpTypeMissing",
                frame(with(v6("fe80::1", "ff02::16"),
                           [](FrameSpec& s) {
                               s.ext = {{0, 8}};
                               s.proto = 58;
                               s.payload.clear();
                           })),
                DropReason::truncated}),
    [](const auto& info) { return info.param.name; });

// A Hop-by-Hop header whose length field claims 16 bytes where the payload holds 8.
TEST(ParseExtChain, HeaderLongerThanPayloadIsDropped) {
    Bytes f = frame(with(v6(), [](FrameSpec& s) {
        s.ext = {{0, 8}};
        s.payload.clear();
    }));
    f[14 + 40 + 1] = 1;
    const auto r = parse(f.data(), f.size());
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.drop, DropReason::ipv6_ext_chain);
}

TEST(ParseExtChain, EightHeadersAreAccepted) {
    FrameSpec s = v6();
    for (unsigned i = 0; i < pktparse::max_ipv6_ext; ++i)
        s.ext.push_back({60, 8});
    const Bytes f = frame(s);
    EXPECT_TRUE(parse(f.data(), f.size()).ok);
}

// Every prefix of every accepted frame is either accepted with consistent offsets
// or dropped; none is accepted with an IP length beyond its bytes.
TEST(ParseTruncation, EveryPrefixOfAnAcceptedFrameIsHandled) {
    for (const FrameSpec& s : {v4(), with(v4(), vlan), v6(), with(v6(), [](FrameSpec& x) {
                                   x.ext = {{0, 8}};
                               })}) {
        const Bytes f = frame(s);
        for (size_t n = 0; n < f.size(); ++n) {
            const auto r = parse(f.data(), n);
            EXPECT_FALSE(r.ok) << "prefix " << n << " of " << f.size();
        }
        EXPECT_TRUE(parse(f.data(), f.size()).ok);
    }
}

TEST(ParsePadding, EthernetPaddingAfterTheIpPacketIsIgnored) {
    Bytes f = frame(with(v4(), [](FrameSpec& s) { s.payload.clear(); }));
    f.resize(60, 0);
    const auto r = parse(f.data(), f.size());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.packet.ip_length, 20u);
}

TEST(DropReasons, NamesAreUniqueAndDescribed) {
    std::set<std::string_view> names;
    for (size_t i = 0; i < pktparse::drop_reason_count; ++i) {
        const auto r = static_cast<DropReason>(i);
        names.insert(pktparse::drop_reason_name(r));
        EXPECT_FALSE(pktparse::drop_reason_description(r).empty());
    }
    EXPECT_EQ(names.size(), pktparse::drop_reason_count);
    EXPECT_EQ(pktparse::drop_reason_name(DropReason::not_ip), "not_ip");
}

} // namespace

namespace {

// The data path's form: IPv4 keys are the packet's own 4 bytes (network order),
// IPv6 keys the frame's own bytes (a pointer into it); nothing else is copied.
TEST(ParseMeta, Ipv4KeysAreThePacketsBytes) {
    FrameSpec s = v4("10.1.2.3", "232.4.5.6");
    s.tags = {0x8100};
    const Bytes f = build_frame(s);
    pktparse::Meta m;
    ASSERT_TRUE(pktparse::parse_meta(f.data(), f.size(), m));
    EXPECT_FALSE(m.v6());
    EXPECT_TRUE(m.tagged());
    EXPECT_EQ(m.l3_offset, 18u);
    EXPECT_EQ(std::memcmp(&m.src4, f.data() + 18 + 12, 4), 0);
    EXPECT_EQ(std::memcmp(&m.group4, f.data() + 18 + 16, 4), 0);
    EXPECT_EQ(m.ip6, nullptr);
    EXPECT_EQ(pktparse::group_of(m), ip("232.4.5.6"));
    EXPECT_EQ(pktparse::source_of(m), ip("10.1.2.3"));
}

TEST(ParseMeta, Ipv6KeysPointIntoTheFrame) {
    const Bytes f = build_frame(v6("2001:db8::7", "ff3e::1:2"));
    pktparse::Meta m;
    ASSERT_TRUE(pktparse::parse_meta(f.data(), f.size(), m));
    EXPECT_TRUE(m.v6());
    EXPECT_FALSE(m.tagged());
    EXPECT_EQ(m.ip6, f.data() + 14);
    EXPECT_EQ(pktparse::group_of(m), ip("ff3e::1:2"));
    EXPECT_EQ(pktparse::source_of(m), ip("2001:db8::7"));
}

// A frame the parser refuses leaves the reason, as parse() reports it.
TEST(ParseMeta, RefusalCarriesTheSameReasonAsParse) {
    const Bytes f = build_frame(v4("10.0.0.1", "10.0.0.2"));
    pktparse::Meta m;
    EXPECT_FALSE(pktparse::parse_meta(f.data(), f.size(), m));
    EXPECT_EQ(m.drop, DropReason::not_multicast);
    EXPECT_EQ(parse(f.data(), f.size()).drop, DropReason::not_multicast);
}

} // namespace
