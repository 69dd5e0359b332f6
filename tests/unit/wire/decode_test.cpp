// Every drop reason, each triggered by at least one frame (hostile_frames.hpp),
// and the frames the decoder must accept although they are unusual.
#include "hostile_frames.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>

namespace mcfwd::wire {
namespace {

using namespace test;

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
