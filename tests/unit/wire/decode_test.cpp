// Every drop reason, each triggered by at least one frame, and the frames the
// decoder must accept although they are unusual.
#include "wire/wire_format.hpp"
#include "wire_test_util.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>

namespace mcfwd::wire {
namespace {

using namespace test;

const IpAddr ll = *IpAddr::parse("fe80::1");
const IpAddr mldv2_routers = *IpAddr::parse("ff02::16");

Bytes v2_report(uint32_t group = 0xef000005) {
    Bytes m = {0x16, 0, 0, 0};
    append_v4(m, IpAddr::v4(group));
    return igmp_msg(m);
}
Bytes v4_frame(const Bytes& igmp, uint8_t ttl = 1) {
    return ethernet(0x0800, ipv4_packet(igmp, ttl));
}

/// An MLDv1 report of ff05::2 (24 octets) before its checksum.
Bytes mld_v1_raw(uint8_t type = 131) {
    Bytes m = {type, 0, 0, 0, 0, 0, 0, 0};
    append_v6(m, ip("ff05::2"));
    return m;
}
Bytes v6_frame(const Bytes& icmp, uint8_t hop = 1, IpAddr src = ll, IpAddr dst = mldv2_routers) {
    return ethernet(0x86dd, ipv6_packet(hop_by_hop_ra(), 0, icmp, hop, src, dst));
}
Bytes mld_frame(Bytes raw, uint8_t hop = 1, IpAddr src = ll) {
    return v6_frame(icmpv6_msg(src, mldv2_routers, std::move(raw)), hop, src);
}

/// IGMPv3 report header + records (bytes given), checksummed.
Bytes v3_report(uint16_t n_records, const Bytes& records) {
    Bytes m = {0x22, 0, 0, 0, 0, 0};
    put16(m, n_records);
    append(m, records);
    return igmp_msg(m);
}
Bytes v3_record(uint8_t type, uint8_t aux, uint16_t n_src, uint32_t group, std::size_t real_src) {
    Bytes r = {type, aux};
    put16(r, n_src);
    append_v4(r, IpAddr::v4(group));
    for (std::size_t i = 0; i < real_src; ++i)
        append_v4(r, IpAddr::v4(0x0a000001 + uint32_t(i)));
    return r;
}

struct ReasonCase {
    const char* name;
    DropReason reason;
    std::function<Bytes()> frame;
};

std::vector<ReasonCase> reason_cases() {
    std::vector<ReasonCase> c;
    c.push_back({"ten_octets", DropReason::eth_truncated, [] { return Bytes(10, 0x01); }});
    c.push_back({"vlan_tag_cut", DropReason::eth_truncated, [] {
                     Bytes f = v4_frame(v2_report());
                     f.resize(12);
                     test::put16(f, 0x8100);
                     f.push_back(0);
                     return f;
                 }});
    c.push_back({"arp", DropReason::not_ip, [] { return ethernet(0x0806, Bytes(28, 0)); }});
    c.push_back({"qinq", DropReason::not_ip, [] {
                     return ethernet(0x8100, Bytes{0, 5, 0x81, 0, 0, 6}, uint16_t(5));
                 }});
    c.push_back({"ipv4_header_cut", DropReason::ip_truncated, [] {
                     return ethernet(0x0800, Bytes{0x45, 0, 0, 28, 0, 0});
                 }});
    c.push_back({"ipv4_total_beyond_frame", DropReason::ip_truncated, [] {
                     Bytes f = v4_frame(v2_report());
                     f.pop_back();
                     return f;
                 }});
    c.push_back({"ipv4_ihl_beyond_frame", DropReason::ip_truncated, [] {
                     Bytes ip4 = ipv4_packet({}, 1, Bytes{});
                     ip4[0] = 0x4f; // IHL and total length say 60, 22 octets follow
                     ip4[3] = 60;
                     test::put16(ip4, 0);
                     return ethernet(0x0800, ip4);
                 }});
    c.push_back({"ipv6_payload_beyond_frame", DropReason::ip_truncated, [] {
                     Bytes f = mld_frame(mld_v1_raw());
                     f.resize(f.size() - 3);
                     return f;
                 }});
    c.push_back({"ipv6_header_cut", DropReason::ip_truncated,
                 [] { return ethernet(0x86dd, Bytes(39, 0x60)); }});
    c.push_back({"v6_in_v4_ethertype", DropReason::bad_ip_version,
                 [] { return ethernet(0x0800, ipv6_packet(hop_by_hop_ra(), 0, mld_v1_raw())); }});
    c.push_back({"v4_in_v6_ethertype", DropReason::bad_ip_version, [] {
                     Bytes p = ipv4_packet(v2_report());
                     p.resize(48, 0);
                     return ethernet(0x86dd, p);
                 }});
    c.push_back({"ihl_4", DropReason::bad_ip_length, [] {
                     Bytes f = v4_frame(v2_report());
                     f[14] = 0x44;
                     return f;
                 }});
    c.push_back({"total_below_ihl", DropReason::bad_ip_length, [] {
                     Bytes f = v4_frame(v2_report());
                     f[16] = 0;
                     f[17] = 20;
                     return f;
                 }});
    c.push_back({"ipv6_jumbo", DropReason::bad_ip_length, [] {
                     Bytes f = mld_frame(mld_v1_raw());
                     f[18] = f[19] = 0;
                     return f;
                 }});
    c.push_back({"ip_checksum", DropReason::bad_ip_checksum, [] {
                     Bytes f = v4_frame(v2_report());
                     f[24] ^= 0x01;
                     return f;
                 }});
    c.push_back({"option_length_1", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x07, 1, 0, 0}));
                 }});
    c.push_back({"option_runs_past_header", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {1, 1, 0x83, 7}));
                 }});
    c.push_back({"option_type_without_length", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {1, 1, 1, 0x44}));
                 }});
    c.push_back({"router_alert_length_3", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x94, 3, 0, 0}));
                 }});
    c.push_back({"ipv4_more_fragments", DropReason::ip_fragment, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x94, 4, 0, 0}, 2,
                                                         IpAddr::v4(0x0a000001),
                                                         IpAddr::v4(0xef000005), 0x2000));
                 }});
    c.push_back({"ipv4_offset", DropReason::ip_fragment, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x94, 4, 0, 0}, 2,
                                                         IpAddr::v4(0x0a000001),
                                                         IpAddr::v4(0xef000005), 0x0001));
                 }});
    c.push_back({"ipv6_fragment_header", DropReason::ip_fragment, [] {
                     Bytes ext = hop_by_hop_ra(44);
                     append(ext, Bytes{58, 0, 0, 1, 0, 0, 0, 9});
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"hop_by_hop_option_past_end", DropReason::bad_extension_header, [] {
                     Bytes ext = {58, 0, 5, 2, 0, 0, 1, 1};
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"hop_by_hop_not_first", DropReason::bad_extension_header, [] {
                     Bytes ext = {0, 0, 1, 4, 0, 0, 0, 0};
                     append(ext, hop_by_hop_ra());
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 60, m));
                 }});
    c.push_back({"header_longer_than_payload", DropReason::bad_extension_header, [] {
                     Bytes ext = {58, 9, 1, 4, 0, 0, 0, 0};
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 60, m));
                 }});
    c.push_back({"routing_with_segments_left", DropReason::bad_extension_header, [] {
                     Bytes ext = hop_by_hop_ra(43);
                     append(ext, Bytes{58, 0, 0, 1, 0, 0, 0, 0});
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"router_alert_length_4", DropReason::bad_extension_header, [] {
                     Bytes ext = {58, 0, 5, 4, 0, 0, 0, 0};
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"nine_destination_options", DropReason::too_many_extension_headers, [] {
                     Bytes ext;
                     for (int i = 0; i < 9; ++i)
                         append(ext, Bytes{uint8_t(i == 8 ? 58 : 60), 0, 1, 4, 0, 0, 0, 0});
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 60, m));
                 }});
    c.push_back({"udp_over_ipv4", DropReason::not_igmp_mld,
                 [] { return ethernet(0x0800, ipv4_packet(Bytes(8, 0), 1, {}, 17)); }});
    c.push_back({"igmp_dvmrp_type", DropReason::not_igmp_mld, [] {
                     Bytes m = v2_report();
                     m[0] = 0x13;
                     return v4_frame(igmp_msg(m), 64);
                 }});
    c.push_back({"icmpv6_echo", DropReason::not_igmp_mld, [] {
                     Bytes m = mld_v1_raw(128);
                     return mld_frame(m, 64, ip("2001:db8::1"));
                 }});
    c.push_back({"udp_over_ipv6", DropReason::not_igmp_mld,
                 [] { return ethernet(0x86dd, ipv6_packet(hop_by_hop_ra(17), 0, Bytes(8, 0))); }});
    c.push_back({"igmp_ttl_2", DropReason::bad_ttl, [] { return v4_frame(v2_report(), 2); }});
    c.push_back(
        {"mld_hop_limit_255", DropReason::bad_ttl, [] { return mld_frame(mld_v1_raw(), 255); }});
    c.push_back({"mld_from_global", DropReason::mld_source_not_link_local,
                 [] { return mld_frame(mld_v1_raw(), 1, ip("2001:db8::1")); }});
    c.push_back({"mld_from_unspecified", DropReason::mld_source_not_link_local,
                 [] { return mld_frame(mld_v1_raw(), 1, IpAddr{}); }});
    c.push_back({"igmp_empty", DropReason::message_truncated, [] { return v4_frame(Bytes{}); }});
    c.push_back({"igmp_four_octets", DropReason::message_truncated, [] {
                     return v4_frame(Bytes{0x16, 0, 0xe9, 0xff});
                 }});
    c.push_back({"mld_v1_20_octets", DropReason::message_truncated, [] {
                     Bytes m = mld_v1_raw();
                     m.resize(20);
                     return mld_frame(m);
                 }});
    c.push_back({"mld_empty", DropReason::message_truncated,
                 [] { return ethernet(0x86dd, ipv6_packet(hop_by_hop_ra(), 0, Bytes{})); }});
    c.push_back({"igmp_query_10_octets", DropReason::bad_query_length, [] {
                     return v4_frame(igmp_msg(Bytes{0x11, 100, 0, 0, 0, 0, 0, 0, 0, 0}));
                 }});
    c.push_back({"mld_query_26_octets", DropReason::bad_query_length, [] {
                     Bytes m = mld_v1_raw(130);
                     m.resize(26);
                     return mld_frame(m);
                 }});
    c.push_back({"igmp_checksum", DropReason::bad_checksum, [] {
                     Bytes m = v2_report();
                     m[3] ^= 0x40;
                     return v4_frame(m);
                 }});
    c.push_back({"icmpv6_checksum_without_pseudo_header", DropReason::bad_checksum,
                 [] { return v6_frame(igmp_msg(mld_v1_raw())); }});
    c.push_back({"icmpv6_checksum_for_other_destination", DropReason::bad_checksum, [] {
                     Bytes m = icmpv6_msg(ll, ip("ff02::2"), mld_v1_raw());
                     return v6_frame(m);
                 }});
    c.push_back({"igmpv3_query_claims_3_has_2", DropReason::query_sources_overrun, [] {
                     Bytes m = {0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 3};
                     append_v4(m, IpAddr::v4(0x0a000001));
                     append_v4(m, IpAddr::v4(0x0a000002));
                     return v4_frame(igmp_msg(m));
                 }});
    c.push_back({"mldv2_query_claims_1_has_0", DropReason::query_sources_overrun, [] {
                     Bytes m = mld_v1_raw(130);
                     append(m, Bytes{2, 125, 0, 1});
                     return mld_frame(m);
                 }});
    c.push_back({"report_claims_2_records_has_1", DropReason::record_overrun,
                 [] { return v4_frame(v3_report(2, v3_record(1, 0, 1, 0xe8010101, 1))); }});
    c.push_back({"record_claims_5_sources_has_4", DropReason::record_overrun,
                 [] { return v4_frame(v3_report(1, v3_record(1, 0, 5, 0xe8010101, 4))); }});
    c.push_back({"record_header_cut", DropReason::record_overrun, [] {
                     return v4_frame(v3_report(1, Bytes{1, 0, 0, 0}));
                 }});
    c.push_back({"mldv2_record_claims_a_source", DropReason::record_overrun, [] {
                     Bytes m = {143, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1};
                     append_v6(m, ip("ff3e::1"));
                     return mld_frame(m);
                 }});
    c.push_back({"aux_data_missing", DropReason::aux_data_overrun, [] {
                     Bytes rec = v3_record(1, 2, 1, 0xe8010101, 1);
                     append(rec, Bytes{0, 0, 0, 0});
                     return v4_frame(v3_report(1, rec));
                 }});
    c.push_back({"v2_report_of_unicast", DropReason::bad_group,
                 [] { return v4_frame(v2_report(0x0a000001)); }});
    c.push_back({"v3_record_of_unicast", DropReason::bad_group,
                 [] { return v4_frame(v3_report(1, v3_record(1, 0, 0, 0x0a000001, 0))); }});
    c.push_back({"query_of_unicast", DropReason::bad_group, [] {
                     return v4_frame(igmp_msg(Bytes{0x11, 100, 0, 0, 10, 0, 0, 1}));
                 }});
    c.push_back({"mld_of_v4_mapped_group", DropReason::bad_group, [] {
                     Bytes m = mld_v1_raw();
                     auto g = IpAddr::v4(0xe0000001).bytes();
                     std::copy(g.begin(), g.end(), m.begin() + 8);
                     return mld_frame(m);
                 }});
    c.push_back({"mld_query_of_unicast", DropReason::bad_group, [] {
                     Bytes m = mld_v1_raw(130);
                     auto g = ip("2001:db8::1").bytes();
                     std::copy(g.begin(), g.end(), m.begin() + 8);
                     return mld_frame(m);
                 }});
    return c;
}

TEST(DecodeDrop, EachCaseDropsForItsReason) {
    for (const ReasonCase& c : reason_cases()) {
        SCOPED_TRACE(c.name);
        auto got = drop_of(c.frame());
        ASSERT_TRUE(got.has_value()) << "decoded, expected " << drop_reason_name(c.reason);
        EXPECT_EQ(drop_reason_name(*got), drop_reason_name(c.reason));
    }
}

TEST(DecodeDrop, EveryReasonHasACase) {
    std::set<DropReason> covered;
    for (const ReasonCase& c : reason_cases())
        covered.insert(c.reason);
    for (std::size_t i = 0; i < drop_reason_count; ++i)
        EXPECT_TRUE(covered.count(DropReason(i))) << drop_reason_name(DropReason(i));
}

TEST(DecodeDrop, EveryPrefixOfAValidFrameIsDroppedNotRead) {
    // Under ASan this also proves no read past the span; each prefix is copied
    // into its own exact-size buffer.
    for (const Bytes& full :
         {v4_frame(v3_report(1, v3_record(1, 0, 2, 0xe8010101, 2))), mld_frame(mld_v1_raw())}) {
        for (std::size_t n = 0; n < full.size(); ++n) {
            Bytes prefix(full.begin(), full.begin() + long(n));
            EXPECT_TRUE(drop_of(prefix).has_value()) << n;
        }
        EXPECT_FALSE(drop_of(full).has_value());
    }
}

TEST(DecodeAccept, IgmpV2WithoutRouterAlertIsDecodedAndFlagged) {
    auto d = decode_ok(ethernet(0x0800, ipv4_packet(v2_report(), 1, {})));
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->router_alert);
    EXPECT_EQ(d->message, Message(LegacyReport{Family::v4, 2, IpAddr::v4(0xef000005)}));
}

TEST(DecodeAccept, MldWithoutRouterAlertOrWithAnotherValueIsFlagged) {
    Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
    auto d = decode_ok(ethernet(0x86dd, ipv6_packet({}, 58, m)));
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->router_alert);
    auto e = decode_ok(ethernet(0x86dd, ipv6_packet(hop_by_hop_ra(58, 1), 0, m)));
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->router_alert);
}

TEST(DecodeAccept, ExtraOctetsAndEthernetPaddingAreIgnored) {
    // RFC 2236 §2.5: octets past the first 8 are checksummed and ignored.
    Bytes m = v2_report();
    m.resize(12, 0xab);
    auto d = decode_ok(v4_frame(igmp_msg(m)));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->message, Message(LegacyReport{Family::v4, 2, IpAddr::v4(0xef000005)}));
    Bytes padded = v4_frame(v2_report());
    padded.resize(60, 0);
    EXPECT_TRUE(decode_ok(padded));
}

TEST(DecodeAccept, OptionsAroundRouterAlertAndSkippableIpv6HeadersAreWalked) {
    auto d = decode_ok(ethernet(0x0800, ipv4_packet(v2_report(), 1, {1, 0x94, 4, 0, 0, 1, 1, 0})));
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->router_alert);
    // Hop-by-Hop (Pad1 + Router Alert + PadN), Destination Options, Routing with
    // Segments Left 0, then MLD.
    Bytes ext = {60, 0, 0, 5, 2, 0, 0, 0};
    append(ext, Bytes{43, 0, 1, 4, 0, 0, 0, 0});
    append(ext, Bytes{58, 0, 0, 0, 0, 0, 0, 0});
    Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
    auto e = decode_ok(ethernet(0x86dd, ipv6_packet(ext, 0, m)));
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->router_alert);
    EXPECT_EQ(e->message, Message(LegacyReport{Family::v6, 1, ip("ff05::2")}));
}

TEST(DecodeAccept, RecordsOfUnknownTypeAreSkippedAndCounted) {
    // RFC 3810 §5.2.12: ignore the record, process the rest of the report.
    Bytes rec = v3_record(7, 1, 1, 0xe8010101, 1);
    append(rec, Bytes{1, 2, 3, 4});
    append(rec, v3_record(2, 0, 0, 0xe8020202, 0));
    append(rec, v3_record(0, 0, 0, 0x0a000001, 0)); // even with a non-multicast group
    auto d = decode_ok(v4_frame(v3_report(3, rec)));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ignored_records, 2);
    EXPECT_EQ(
        d->message,
        Message(Report{Family::v4, {{RecordType::mode_is_exclude, IpAddr::v4(0xe8020202), {}}}}));
    Bytes m = {143, 0, 0, 0, 0, 0, 0, 1, 9, 0, 0, 0};
    append_v6(m, ip("ff3e::1"));
    auto e = decode_ok(mld_frame(m));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->ignored_records, 1);
    EXPECT_EQ(e->message, Message(Report{Family::v6, {}}));
}

TEST(DecodeAccept, AuxDataIsSkipped) {
    Bytes rec = v3_record(2, 1, 1, 0xe8010101, 1);
    append(rec, Bytes{9, 9, 9, 9});
    append(rec, v3_record(5, 0, 0, 0xe8020202, 0));
    auto d = decode_ok(v4_frame(v3_report(2, rec)));
    ASSERT_TRUE(d);
    const auto& r = std::get<Report>(d->message);
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_EQ(r.records[0].sources, std::vector<IpAddr>{IpAddr::v4(0x0a000001)});
    EXPECT_EQ(r.records[1].group, IpAddr::v4(0xe8020202));
}

struct VersionRow {
    Bytes igmp;
    uint8_t version;
    duration max_response;
};

// RFC 3376 §7.1: 8 octets & code 0 → v1; 8 octets & code ≠ 0 → v2; ≥ 12 → v3.
TEST(DecodeQueryVersion, IgmpFollowsRfc3376Section7_1) {
    using namespace std::chrono_literals;
    const VersionRow rows[] = {
        {{0x11, 0, 0, 0, 0, 0, 0, 0}, 1, 10s},
        {{0x11, 100, 0, 0, 0, 0, 0, 0}, 2, 10s},
        {{0x11, 0x80, 0, 0, 0, 0, 0, 0}, 2, 12800ms},                  // v2 codes are linear
        {{0x11, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 3, 12800ms},      // v3: 128 tenths too
        {{0x11, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 3, 25600ms},      // float code
        {{0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 3, 0ms}, // extra octets
    };
    for (const auto& r : rows) {
        auto d = decode_ok(v4_frame(igmp_msg(r.igmp)));
        ASSERT_TRUE(d);
        const auto& q = std::get<Query>(d->message);
        EXPECT_EQ(q.version, r.version);
        EXPECT_EQ(q.max_response, r.max_response);
    }
}

// RFC 3810 §8.1: 24 octets → MLDv1; 28 or more → MLDv2.
TEST(DecodeQueryVersion, MldFollowsRfc3810Section8_1) {
    Bytes v1 = mld_v1_raw(130);
    v1[4] = 0x27;
    v1[5] = 0x10;
    auto d = decode_ok(mld_frame(v1));
    ASSERT_TRUE(d);
    EXPECT_EQ(std::get<Query>(d->message).version, 1);
    EXPECT_EQ(std::get<Query>(d->message).max_response, std::chrono::milliseconds(10000));
    Bytes v2 = v1;
    append(v2, Bytes{0x0a, 0x90, 0, 0});
    d = decode_ok(mld_frame(v2));
    ASSERT_TRUE(d);
    const auto& q = std::get<Query>(d->message);
    EXPECT_EQ(q.version, 2);
    EXPECT_TRUE(q.suppress_router_processing);
    EXPECT_EQ(q.qrv, 2);
    EXPECT_EQ(q.qqi, std::chrono::seconds(256));
}

} // namespace
} // namespace mcfwd::wire
