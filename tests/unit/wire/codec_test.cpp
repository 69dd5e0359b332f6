// Encoder → decoder round trips, header facts of the encoded frames, checksums
// checked by an independent computation, and report splitting by the MTU.
#include "wire_test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace mcfwd::wire {
namespace {

using namespace std::chrono_literals;
using test::Bytes;
using test::ip;

FrameParams params(std::optional<uint16_t> vlan = {}) {
    FrameParams p;
    p.src_mac = MacAddr{{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
    p.ipv4_src = ip("192.0.2.7");
    p.ipv6_src = ip("fe80::211:22ff:fe33:4455");
    p.vlan = vlan;
    return p;
}

Frame encode_one(const Message& m, const FrameParams& p) {
    std::vector<Frame> out;
    EXPECT_EQ(encode(m, p, out), errc::ok);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? Frame{} : out[0];
}

std::vector<IpAddr> v4_sources(std::size_t n, uint32_t base = 0x0a000000) {
    std::vector<IpAddr> v;
    for (std::size_t i = 0; i < n; ++i)
        v.push_back(IpAddr::v4(base + uint32_t(i) + 1));
    return v;
}
std::vector<IpAddr> v6_sources(std::size_t n) {
    std::vector<IpAddr> v;
    for (std::size_t i = 0; i < n; ++i) {
        auto b = ip("2001:db8::").bytes();
        b[12] = uint8_t(i >> 24);
        b[13] = uint8_t(i >> 16);
        b[14] = uint8_t(i >> 8);
        b[15] = uint8_t(i + 1);
        v.push_back(IpAddr::from_v6_bytes(b.data()));
    }
    return v;
}

struct Case {
    const char* name;
    Message message;
    IpAddr ip_dst;
    bool router_alert;
};

std::vector<Case> all_kinds() {
    return {
        {"igmpv3_report",
         Report{Family::v4,
                {{RecordType::mode_is_include, ip("232.1.1.1"), v4_sources(3)},
                 {RecordType::change_to_exclude, ip("239.1.2.3"), {}},
                 {RecordType::block_old_sources, ip("232.9.9.9"), v4_sources(1, 0xc0000200)}}},
         ip("224.0.0.22"), true},
        {"igmpv1_report", LegacyReport{Family::v4, 1, ip("239.0.0.5")}, ip("239.0.0.5"), false},
        {"igmpv2_report", LegacyReport{Family::v4, 2, ip("239.0.0.5")}, ip("239.0.0.5"), true},
        {"igmpv2_leave", Leave{Family::v4, ip("239.0.0.5")}, ip("224.0.0.2"), true},
        {"igmpv1_query", Query{Family::v4, 1, IpAddr::v4(0), 10s, false, 0, 0s, {}},
         ip("224.0.0.1"), false},
        {"igmpv2_general_query", Query{Family::v4, 2, IpAddr::v4(0), 10s, false, 0, 0s, {}},
         ip("224.0.0.1"), true},
        {"igmpv2_group_query", Query{Family::v4, 2, ip("239.1.1.1"), 1s, false, 0, 0s, {}},
         ip("239.1.1.1"), true},
        {"igmpv3_general_query", Query{Family::v4, 3, IpAddr::v4(0), 10s, false, 2, 125s, {}},
         ip("224.0.0.1"), true},
        {"igmpv3_source_query",
         Query{Family::v4, 3, ip("232.1.1.1"), 1s, true, 7, 60s, v4_sources(4)}, ip("232.1.1.1"),
         true},
        {"igmpv3_query_float_codes",
         Query{Family::v4, 3, IpAddr::v4(0), 25600ms, false, 3, 1024s, {}}, ip("224.0.0.1"), true},
        {"mldv2_report",
         Report{Family::v6,
                {{RecordType::allow_new_sources, ip("ff3e::1234"), v6_sources(2)},
                 {RecordType::mode_is_exclude, ip("ff05::1:3"), {}}}},
         ip("ff02::16"), true},
        {"mldv1_report", LegacyReport{Family::v6, 1, ip("ff05::2")}, ip("ff05::2"), true},
        {"mldv1_done", Leave{Family::v6, ip("ff05::2")}, ip("ff02::2"), true},
        {"mldv1_query", Query{Family::v6, 1, IpAddr{}, 10s, false, 0, 0s, {}}, ip("ff02::1"), true},
        {"mldv2_general_query", Query{Family::v6, 2, IpAddr{}, 10s, false, 2, 125s, {}},
         ip("ff02::1"), true},
        {"mldv2_source_query",
         Query{Family::v6, 2, ip("ff3e::1"), 40000ms, true, 3, 200s, v6_sources(3)}, ip("ff3e::1"),
         true},
    };
}

class RoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(RoundTrip, EveryKindDecodesToTheSameMessageWithItsHeaders) {
    const bool tagged = GetParam();
    const FrameParams p = params(tagged ? std::optional<uint16_t>(42) : std::nullopt);
    for (const Case& c : all_kinds()) {
        SCOPED_TRACE(c.name);
        Frame f = encode_one(c.message, p);
        auto d = test::decode_ok(f);
        ASSERT_TRUE(d);
        EXPECT_EQ(d->message, c.message);
        EXPECT_EQ(d->src_mac, p.src_mac);
        EXPECT_EQ(d->dst_mac, c.ip_dst.multicast_mac());
        EXPECT_EQ(d->vlan, p.vlan);
        EXPECT_EQ(d->ip_dst, c.ip_dst);
        const bool v4 = c.ip_dst.is_v4();
        EXPECT_EQ(d->ip_src, v4 ? p.ipv4_src : p.ipv6_src);
        EXPECT_EQ(d->ttl, 1);
        EXPECT_EQ(d->router_alert, c.router_alert);
    }
}

INSTANTIATE_TEST_SUITE_P(Vlan, RoundTrip, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Tagged" : "Untagged"; });

/// Checks every checksum of an untagged frame with the reference implementation.
void expect_checksums_valid(const Frame& f) {
    ASSERT_GE(f.size(), 14u);
    const uint16_t type = uint16_t(f[12] << 8 | f[13]);
    if (type == 0x0800) {
        const std::size_t ihl = (f[14] & 0x0f) * 4u;
        const std::size_t total = std::size_t(f[16] << 8 | f[17]);
        ASSERT_EQ(f.size(), 14 + total);
        EXPECT_EQ(test::ref_checksum(Bytes(f.begin() + 14, f.begin() + 14 + long(ihl))), 0);
        EXPECT_EQ(test::ref_checksum(Bytes(f.begin() + 14 + long(ihl), f.end())), 0);
        return;
    }
    ASSERT_EQ(type, 0x86dd);
    const std::size_t plen = std::size_t(f[18] << 8 | f[19]);
    ASSERT_EQ(f.size(), 14 + 40 + plen);
    ASSERT_EQ(f[20], 0); // Hop-by-Hop, 8 octets, then ICMPv6
    ASSERT_EQ(f[54], 58);
    Bytes msg(f.begin() + 62, f.end());
    Bytes all = test::pseudo_header(IpAddr::from_v6_bytes(&f[22]), IpAddr::from_v6_bytes(&f[38]),
                                    uint32_t(msg.size()), 58);
    test::append(all, msg);
    EXPECT_EQ(test::ref_checksum(all), 0);
}

TEST(Encode, ChecksumsVerifyWithAnIndependentComputation) {
    for (const Case& c : all_kinds()) {
        SCOPED_TRACE(c.name);
        expect_checksums_valid(encode_one(c.message, params()));
    }
}

TEST(Encode, Ipv4HeaderIsTtl1Tos0xc0DfWithRouterAlertOption) {
    Frame f = encode_one(LegacyReport{Family::v4, 2, ip("239.0.0.5")}, params());
    const Bytes expected_ip_header = {0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02};
    EXPECT_EQ(Bytes(f.begin() + 14, f.begin() + 24), expected_ip_header);
    const Bytes ra = {0x94, 0x04, 0x00, 0x00};
    EXPECT_EQ(Bytes(f.begin() + 34, f.begin() + 38), ra);
    const Bytes igmp_head = {0x16, 0x00};
    EXPECT_EQ(Bytes(f.begin() + 38, f.begin() + 40), igmp_head);
    EXPECT_EQ(f.size(), 14u + 24 + 8);
}

TEST(Encode, IgmpV1ReportHasNoRouterAlert) {
    Frame f = encode_one(LegacyReport{Family::v4, 1, ip("239.0.0.5")}, params());
    EXPECT_EQ(f[14], 0x45);
    EXPECT_EQ(f[34], 0x12);
}

TEST(Encode, Ipv6HasHopLimit1AndHopByHopRouterAlertMld) {
    Frame f = encode_one(Leave{Family::v6, ip("ff05::2")}, params());
    EXPECT_EQ(f[20], 0); // next header: Hop-by-Hop
    EXPECT_EQ(f[21], 1); // hop limit
    const Bytes hbh = {58, 0, 5, 2, 0, 0, 1, 0};
    EXPECT_EQ(Bytes(f.begin() + 54, f.begin() + 62), hbh);
    EXPECT_EQ(f[62], 132);
    const Bytes dst_mac = {0x33, 0x33, 0, 0, 0, 2};
    EXPECT_EQ(Bytes(f.begin(), f.begin() + 6), dst_mac);
}

TEST(Encode, VlanTagCarriesIdAndPriority) {
    FrameParams p = params(0x123);
    p.vlan_pcp = 6;
    Frame f = encode_one(Leave{Family::v4, ip("239.0.0.5")}, p);
    const Bytes tag = {0x81, 0x00, 0xc1, 0x23, 0x08, 0x00};
    EXPECT_EQ(Bytes(f.begin() + 12, f.begin() + 18), tag);
    auto d = test::decode_ok(f);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->vlan, 0x123);
    EXPECT_EQ(d->vlan_pcp, 6);
}

TEST(Encode, QueryTimesUseTheRfcCodes) {
    // IGMPv3: 25.6 s = 256 tenths = code 0x90; QQI 1024 s = code 0xb0.
    Frame f =
        encode_one(Query{Family::v4, 3, IpAddr::v4(0), 25600ms, false, 9, 1024s, {}}, params());
    EXPECT_EQ(f[39], 0x90);
    EXPECT_EQ(f[46], 0x00); // QRV 9 > 7 is sent as 0 (RFC 3376 §4.1.6)
    EXPECT_EQ(f[47], 0xb0); // 1024 = 0x10 << (3 + 3)
    // IGMPv2: 50 ms would be code 0 (an IGMPv1 query); it is sent as 1.
    Frame g = encode_one(Query{Family::v4, 2, IpAddr::v4(0), 50ms, false, 0, 0s, {}}, params());
    EXPECT_EQ(g[39], 1);
    // MLDv2: 40000 ms = code 0x8388 (exp 0, mant 0x388: 0x1388 << 3).
    Frame m = encode_one(Query{Family::v6, 2, IpAddr{}, 40000ms, false, 2, 0s, {}}, params());
    EXPECT_EQ(m[66], 0x83);
    EXPECT_EQ(m[67], 0x88);
}

// The queries of an older-version querier (RFC 3376 §7.3.1, RFC 3810 §8.3.1), octet for
// octet: the messages scapy builds (IGMP(type=0x11, mrcode=100), ICMPv6MLQuery(mrd=10000)
// with the same addresses), checksums included; no v3 field follows them.
TEST(Encode, OlderQueriesAreTheirVersionsExactOctets) {
    struct Row {
        const char* what;
        Query query;
        std::size_t frame_size, message_at;
        Bytes message;
    };
    const Row rows[] = {
        {"IGMPv2 general, 10 s = 100 tenths",
         Query{Family::v4, 2, IpAddr::v4(0), 10s, false, 2, 125s, {}},
         14 + 24 + 8,
         38,
         {0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0}},
        {"IGMPv2 group-specific, 1 s",
         Query{Family::v4, 2, ip("239.1.1.1"), 1s, false, 0, 0s, {}},
         14 + 24 + 8,
         38,
         {0x11, 0x0a, 0xfe, 0xf2, 239, 1, 1, 1}},
        {"IGMPv1 general: code 0, no Router Alert",
         Query{Family::v4, 1, IpAddr::v4(0), 10s, false, 0, 0s, {}},
         14 + 20 + 8,
         34,
         {0x11, 0x00, 0xee, 0xff, 0, 0, 0, 0}},
        {"MLDv1 general, 10000 ms",
         Query{Family::v6, 1, IpAddr{}, 10s, false, 2, 125s, {}},
         14 + 40 + 8 + 24,
         62,
         {130, 0, 0xf1, 0x7e, 0x27, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
        {"MLDv1 multicast-address-specific, 1000 ms",
         Query{Family::v6, 1, ip("ff05::1:3"), 1s, false, 0, 0s, {}},
         14 + 40 + 8 + 24,
         62,
         {130,  0,    0x15, 0x97, 0x03, 0xe8, 0, 0, // type, code, checksum, 1000 ms, reserved
          0xff, 0x05, 0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0x03}}, // ff05::1:3
    };
    for (const Row& r : rows) {
        SCOPED_TRACE(r.what);
        const Frame f = encode_one(r.query, params());
        ASSERT_EQ(f.size(), r.frame_size);
        EXPECT_EQ(Bytes(f.begin() + long(r.message_at), f.end()), r.message);
        expect_checksums_valid(f);
        // And back: the version the length and code tell (RFC 3376 §7.1, RFC 3810 §8.1).
        auto d = test::decode_ok(f);
        ASSERT_TRUE(d);
        const auto* q = std::get_if<Query>(&d->message);
        ASSERT_NE(q, nullptr);
        EXPECT_EQ(q->version, r.query.version);
        EXPECT_EQ(q->group, r.query.group.is_unspecified() && r.query.family == Family::v4
                                ? IpAddr::v4(0)
                                : r.query.group);
        EXPECT_EQ(q->max_response, r.query.max_response);
        EXPECT_EQ(q->qrv, 0); // the QRV / QQI given are not sent in an older query
    }
}

TEST(Encode, RejectsWhatCannotBeSent) {
    std::vector<Frame> out;
    FrameParams no_ll = params();
    no_ll.ipv6_src = ip("2001:db8::1");
    EXPECT_EQ(encode(Leave{Family::v6, ip("ff05::2")}, no_ll, out), errc::invalid);
    FrameParams unspecified = params();
    unspecified.ipv6_src = IpAddr{};
    EXPECT_EQ(encode(Leave{Family::v6, ip("ff05::2")}, unspecified, out), errc::invalid);
    EXPECT_EQ(encode(Leave{Family::v4, ip("10.0.0.1")}, params(), out), errc::invalid);
    EXPECT_EQ(encode(Leave{Family::v4, ip("ff05::2")}, params(), out), errc::invalid);
    EXPECT_EQ(encode(LegacyReport{Family::v4, 3, ip("239.0.0.1")}, params(), out), errc::invalid);
    EXPECT_EQ(encode(LegacyReport{Family::v6, 2, ip("ff05::1")}, params(), out), errc::invalid);
    EXPECT_EQ(
        encode(Query{Family::v4, 2, IpAddr::v4(0), 1s, false, 0, 0s, v4_sources(1)}, params(), out),
        errc::invalid);
    EXPECT_EQ(encode(Query{Family::v6, 3, IpAddr{}, 1s, false, 0, 0s, {}}, params(), out),
              errc::invalid);
    EXPECT_EQ(encode(Query{Family::v4, 3, ip("10.1.1.1"), 1s, false, 0, 0s, {}}, params(), out),
              errc::invalid);
    EXPECT_EQ(encode(Report{Family::v4, {{RecordType(7), ip("239.1.1.1"), {}}}}, params(), out),
              errc::invalid);
    EXPECT_EQ(
        encode(Report{Family::v4,
                      {{RecordType::allow_new_sources, ip("239.1.1.1"), {ip("2001:db8::1")}}}},
               params(), out),
        errc::invalid);
    FrameParams bad_vlan = params(4096);
    EXPECT_EQ(encode(Leave{Family::v4, ip("239.0.0.5")}, bad_vlan, out), errc::invalid);
    FrameParams small = params();
    small.mtu = 1279;
    EXPECT_EQ(encode(Leave{Family::v6, ip("ff05::2")}, small, out), errc::invalid);
    EXPECT_TRUE(out.empty());
}

TEST(Encode, EmptyReportProducesNoFrame) {
    std::vector<Frame> out;
    EXPECT_EQ(encode(Report{Family::v4, {}}, params(), out), errc::ok);
    EXPECT_TRUE(out.empty());
}

// --- RFC 3376 §4.2.16 / RFC 3810 §5.2.15 splitting ---

std::vector<Report> decode_reports(const std::vector<Frame>& frames, uint16_t mtu) {
    std::vector<Report> reps;
    for (const Frame& f : frames) {
        EXPECT_LE(f.size(), 14u + mtu);
        auto d = test::decode_ok(f);
        if (!d)
            return {};
        reps.push_back(std::get<Report>(d->message));
    }
    return reps;
}

TEST(ReportSplit, ManyRecordsArePackedInOrderWithoutStraddling) {
    // MTU 1500 - 24 (IP + Router Alert) - 8 (report header) = 1468 = 183 records of 8.
    Report r{Family::v4, {}};
    for (uint32_t i = 0; i < 400; ++i)
        r.records.push_back({RecordType::mode_is_exclude, IpAddr::v4(0xe8000000 + i + 1), {}});
    std::vector<Frame> out;
    ASSERT_EQ(encode_report(r, params(), out), errc::ok);
    auto reps = decode_reports(out, 1500);
    ASSERT_EQ(reps.size(), 3u);
    EXPECT_EQ(reps[0].records.size(), 183u);
    EXPECT_EQ(reps[1].records.size(), 183u);
    EXPECT_EQ(reps[2].records.size(), 34u);
    std::vector<GroupRecord> joined;
    for (auto& rep : reps)
        joined.insert(joined.end(), rep.records.begin(), rep.records.end());
    EXPECT_EQ(joined, r.records);
}

TEST(ReportSplit, HugeAllowRecordIsSplitIntoFullRecordsOfTheSameTypeAndGroup) {
    // (1468 - 8) / 4 = 365 sources per IGMPv3 record at MTU 1500.
    const auto sources = v4_sources(5000);
    Report r{Family::v4,
             {{RecordType::mode_is_include, ip("239.0.0.1"), v4_sources(2, 0xc0000200)},
              {RecordType::allow_new_sources, ip("232.1.1.1"), sources},
              {RecordType::block_old_sources, ip("232.2.2.2"), v4_sources(3, 0xc0000300)}}};
    std::vector<Frame> out;
    ASSERT_EQ(encode_report(r, params(), out), errc::ok);
    auto reps = decode_reports(out, 1500);
    // [IS_IN] [ALLOW 365] x13 [ALLOW 255, BLOCK]
    ASSERT_EQ(reps.size(), 15u);
    EXPECT_EQ(reps[0].records, std::vector<GroupRecord>{r.records[0]});
    std::vector<IpAddr> seen;
    for (std::size_t i = 1; i < 15; ++i) {
        const GroupRecord& g = reps[i].records[0];
        EXPECT_EQ(g.type, RecordType::allow_new_sources);
        EXPECT_EQ(g.group, ip("232.1.1.1"));
        EXPECT_EQ(g.sources.size(), i < 14 ? 365u : 255u);
        seen.insert(seen.end(), g.sources.begin(), g.sources.end());
        EXPECT_EQ(out[i].size(), i < 14 ? 14u + 1500 : 14u + 24 + 8 + 8 + 255 * 4 + 8 + 12);
    }
    EXPECT_EQ(seen, sources);
    ASSERT_EQ(reps[14].records.size(), 2u);
    EXPECT_EQ(reps[14].records[1], r.records[2]);
}

TEST(ReportSplit, HugeExcludeRecordSendsTheFirstSourcesThatFitAndDropsTheRest) {
    for (RecordType t : {RecordType::mode_is_exclude, RecordType::change_to_exclude}) {
        SCOPED_TRACE(record_type_name(t));
        const auto sources = v4_sources(3000);
        Report r{Family::v4,
                 {{t, ip("239.9.9.9"), sources},
                  {RecordType::allow_new_sources, ip("239.1.1.1"), v4_sources(1)}}};
        std::vector<Frame> out;
        ASSERT_EQ(encode_report(r, params(), out), errc::ok);
        auto reps = decode_reports(out, 1500);
        ASSERT_EQ(reps.size(), 2u);
        ASSERT_EQ(reps[0].records.size(), 1u);
        EXPECT_EQ(reps[0].records[0].type, t);
        EXPECT_EQ(reps[0].records[0].sources,
                  std::vector<IpAddr>(sources.begin(), sources.begin() + 365));
        EXPECT_EQ(reps[1].records, std::vector<GroupRecord>{r.records[1]});
    }
}

TEST(ReportSplit, MldRecordsSplitAt89SourcesPerRecordAtMtu1500) {
    // 1500 - 48 (IPv6 + Hop-by-Hop) - 8 - 20 = 1424 = 89 sources of 16.
    const auto sources = v6_sources(1000);
    Report r{Family::v6, {{RecordType::change_to_include, ip("ff3e::9"), sources}}};
    std::vector<Frame> out;
    ASSERT_EQ(encode_report(r, params(), out), errc::ok);
    auto reps = decode_reports(out, 1500);
    ASSERT_EQ(reps.size(), 12u); // 11 x 89 + 21
    std::vector<IpAddr> seen;
    for (std::size_t i = 0; i < reps.size(); ++i) {
        ASSERT_EQ(reps[i].records.size(), 1u);
        EXPECT_EQ(reps[i].records[0].type, RecordType::change_to_include);
        EXPECT_EQ(reps[i].records[0].sources.size(), i < 11 ? 89u : 21u);
        if (i < 11) {
            EXPECT_EQ(out[i].size(), 14u + 1500);
        }
        seen.insert(seen.end(), reps[i].records[0].sources.begin(),
                    reps[i].records[0].sources.end());
    }
    EXPECT_EQ(seen, sources);
    // TO_EX keeps the first 89 only.
    r.records[0].type = RecordType::change_to_exclude;
    out.clear();
    ASSERT_EQ(encode_report(r, params(), out), errc::ok);
    reps = decode_reports(out, 1500);
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].records[0].sources,
              std::vector<IpAddr>(sources.begin(), sources.begin() + 89));
}

TEST(ReportSplit, SmallMtuStillCarriesAtLeastOneSourcePerRecord) {
    FrameParams p = params();
    p.mtu = 68; // (68 - 24 - 8 - 8) / 4 = 7 sources
    Report r{Family::v4, {{RecordType::allow_new_sources, ip("239.1.1.1"), v4_sources(15)}}};
    std::vector<Frame> out;
    ASSERT_EQ(encode_report(r, p, out), errc::ok);
    auto reps = decode_reports(out, 68);
    ASSERT_EQ(reps.size(), 3u);
    EXPECT_EQ(reps[2].records[0].sources.size(), 1u);
}

} // namespace
} // namespace mcfwd::wire
