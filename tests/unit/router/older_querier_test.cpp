// RFC 3376 §7.3.1 / RFC 3810 §8.3.1: a querier administratively set to an older version —
// IGMPv1, IGMPv2 or MLDv1. Its queries are that version's, every group is treated as in that
// compatibility mode (§7.3.2 / §8.3.2), and queries of other versions are counted (the RFCs'
// rate-limited warning).
#include "router_test_support.hpp"

#include "wire/codec.hpp"

namespace mcfwd::router::test {
namespace {

using enum FilterMode;

RouterConfig older_config(const Names& n, uint8_t version) {
    RouterConfig c = default_config(n);
    c.version = version;
    return c;
}

/// One harness per (family, version) case, started at 0.
struct OlderCase {
    const Names* names;
    uint8_t version;
    const char* name;
};

const OlderCase igmpv1{&v4_names, 1, "IGMPv1"};
const OlderCase igmpv2{&v4_names, 2, "IGMPv2"};
const OlderCase mldv1{&v6_names, 1, "MLDv1"};

class Older : public ::testing::TestWithParam<const OlderCase*> {
protected:
    Older() : h(names(), older_config(names(), GetParam()->version)) { h.engine.start(h.now()); }
    const Names& names() const { return *GetParam()->names; }
    uint8_t version() const { return GetParam()->version; }
    bool igmpv1_mode() const { return names().family == Family::v4 && version() == 1; }
    RouterHarness h;
};
// The modes with group-specific queries and leaves: IGMPv2 and MLDv1.
class OlderWithLeaves : public Older {};
// IGMPv1 mode only.
class Igmpv1Mode : public Older {};

// The general query: version, no v3 fields, and the Max Response time the version carries.
TEST_P(Older, GeneralQueriesAreOfTheConfiguredVersion) {
    ASSERT_EQ(h.sink.queries.size(), 1u);
    const wire::Query q = h.sink.queries[0]; // a copy: the sink grows
    EXPECT_EQ(q.version, version());
    EXPECT_TRUE(q.group.is_unspecified());
    EXPECT_EQ(q.max_response, duration(10s)); // IGMPv1: 0 on the wire, which means 10 s
    EXPECT_EQ(q.qrv, 0);
    EXPECT_EQ(q.qqi, duration(0s));
    EXPECT_FALSE(q.suppress_router_processing);
    EXPECT_EQ(h.engine.counters().general_queries_sent, 1u);
    // Startup queries 31.25 s apart, then every 125 s, all of the same version.
    h.run_until(at(156250ms));
    ASSERT_EQ(h.sink.due_times.size(), 3u);
    EXPECT_EQ(h.sink.due_times[1], at(31250ms));
    EXPECT_EQ(h.sink.due_times[2], at(156250ms));
    for (const wire::Query& later : h.sink.queries)
        EXPECT_EQ(later, q);
    const QuerierSnapshot s = h.engine.querier();
    EXPECT_EQ(s.version, version());
    EXPECT_EQ(s.query_response_interval, duration(10s));
    EXPECT_EQ(s.group_membership_interval, duration(260s));
}

// What the engine emits encodes to the exact sizes of the older messages and decodes back.
TEST_P(Older, EmittedQueriesEncodeAsTheOlderMessages) {
    h.legacy_report(names().family == Family::v4 ? 2 : 1);
    h.run_until(at(1s));
    h.leave();
    h.run_until(at(3s));
    wire::FrameParams p;
    p.src_mac = addr::MacAddr{{0x02, 0, 0, 0, 0, 1}};
    p.ipv4_src = names().family == Family::v4 ? ip(names().self) : IpAddr::v4(0);
    p.ipv6_src = names().family == Family::v6 ? ip(names().self) : IpAddr{};
    ASSERT_GE(h.sink.queries.size(), 1u);
    for (const wire::Query& q : h.sink.queries) {
        std::vector<wire::Frame> frames;
        ASSERT_EQ(wire::encode_query(q, p, frames), errc::ok);
        ASSERT_EQ(frames.size(), 1u);
        const std::vector<uint8_t>& f = frames[0];
        // Ethernet 14 + IPv4 24 (Router Alert; IGMPv1: 20) + 8, or IPv6 40 + HbH 8 + 24.
        const std::size_t want = names().family == Family::v6
                                     ? 14 + 40 + 8 + 24
                                     : (version() == 1 ? 14 + 20 + 8 : 14 + 24 + 8);
        EXPECT_EQ(f.size(), want);
        const wire::DecodeResult d = wire::decode(f);
        ASSERT_TRUE(std::holds_alternative<wire::DecodedFrame>(d));
        EXPECT_EQ(std::get<wire::Query>(std::get<wire::DecodedFrame>(d).message), q);
    }
}

// §7.3.1 IGMPv2 / MLDv1: the last member leaves with [LMQC] group-specific queries of the
// older version, LMQI apart, and the group goes at LMQT.
TEST_P(OlderWithLeaves, LeaveOrDoneSendsOlderGroupQueriesAndTheGroupGoesAtLmqt) {
    h.legacy_report(version());
    EXPECT_EQ(h.group().compat_version, version());
    h.run_until(at(10s));
    h.sink.clear();
    h.leave();
    ASSERT_EQ(h.sink.specific(), strs({"Q(G) S=0"}));
    const wire::Query q = h.sink.queries[0]; // a copy: the sink grows
    EXPECT_EQ(q.version, version());
    EXPECT_EQ(q.group, ip(names().group));
    EXPECT_EQ(q.max_response, duration(1s)); // [Last Member Query Interval]
    EXPECT_EQ(q.qrv, 0);
    EXPECT_EQ(h.sink.due_times[0], at(10s));
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "12");
    h.run_until(at(11s));
    ASSERT_EQ(h.sink.specific(), strs({"Q(G) S=0", "Q(G) S=0"}));
    EXPECT_EQ(h.sink.due_times[1], at(11s));
    EXPECT_EQ(h.sink.queries[1], q);
    EXPECT_TRUE(h.has_group());
    h.run_until(at(12s));
    EXPECT_FALSE(h.has_group());
    EXPECT_EQ(h.sink.specific().size(), 2u); // [LMQC] = 2
    EXPECT_EQ(h.engine.counters().group_queries_sent, 2u);
    EXPECT_EQ(h.engine.counters().groups_expired, 1u);
}

// §7.3.1 / §7.3.2: in IGMPv1 mode leaves are ignored and the last member goes by timeout.
TEST_P(Igmpv1Mode, LeaveIsIgnoredAndTheLastMemberGoesAtGmi) {
    h.legacy_report(2); // a v2 host: still v1 mode, as the querier is
    EXPECT_EQ(h.group().compat_version, 1);
    h.run_until(at(10s));
    h.sink.clear();
    h.leave();
    EXPECT_TRUE(h.sink.specific().empty());
    EXPECT_EQ(h.engine.counters().leaves_ignored, 1u);
    // The record lasts until GMI (2 x 125 + 10 s, the 10 s of an IGMPv1 query) after the report.
    h.run_until(at(259999ms));
    EXPECT_TRUE(h.has_group());
    EXPECT_EQ(h.fwd(), FilterState::any_source());
    h.run_until(at(260s));
    EXPECT_FALSE(h.has_group());
    EXPECT_TRUE(h.sink.specific().empty());
    EXPECT_EQ(h.sink.fwd.back(), "FWD G exclude{} -> include{}");
}

// v3 reports that still arrive follow the compatibility rules of the querier's version:
// BLOCK ignored, TO_EX without its sources; TO_IN in IGMPv1 mode ignored; no source query.
TEST_P(Older, NewestVersionReportsFollowTheOlderCompatibilityRules) {
    h.sink.clear();
    h.report(RecordType::change_to_exclude, "ab"); // as TO_EX({})
    EXPECT_EQ(h.group().mode, exclude);
    EXPECT_TRUE(h.group().sources.empty());
    EXPECT_EQ(h.group().compat_version, version());
    EXPECT_EQ(h.fwd(), FilterState::any_source());
    h.report(RecordType::block_old_sources, "a");
    EXPECT_EQ(h.engine.counters().records_ignored, 1u);
    h.report(RecordType::change_to_include, "");
    if (igmpv1_mode()) {
        EXPECT_EQ(h.engine.counters().records_ignored, 2u);
        EXPECT_TRUE(h.sink.specific().empty());
    } else {
        EXPECT_EQ(h.sink.specific(), strs({"Q(G) S=0"}));
    }
    EXPECT_EQ(h.engine.counters().source_queries_sent, 0u);
}

// In INCLUDE mode a TO_IN that drops sources would send Q(G,A-B), which no older version has:
// nothing is sent and the dropped sources run out at GMI.
TEST_P(OlderWithLeaves, NoGroupAndSourceSpecificQueryIsSent) {
    h.sink.clear();
    h.report(RecordType::mode_is_include, "ab");
    h.run_until(at(10s));
    h.report(RecordType::change_to_include, "a");
    EXPECT_TRUE(h.sink.specific().empty());
    EXPECT_EQ(h.timers(), "a:270 b:260");
    h.run_until(at(260s));
    EXPECT_EQ(h.timers(), "a:270");
    EXPECT_EQ(h.engine.counters().source_queries_sent, 0u);
}

// §7.3.1: "SHOULD log a warning" on a newer version's query; counted. An older one (only
// IGMPv1 below IGMPv2) counts as older. The election still runs by lowest address.
TEST_P(Older, OtherVersionsQueriesAreCountedAndTheLowestAddressStillWins) {
    wire::Query newest = h.general_query();
    h.query_from(names().higher, newest);
    EXPECT_EQ(h.engine.counters().newer_queries, 1u);
    EXPECT_EQ(h.engine.counters().older_queries, 0u);
    EXPECT_TRUE(h.engine.querier().querier);
    wire::Query same = newest;
    same.version = version();
    same.qrv = 0;
    same.qqi = 0s;
    h.query_from(names().lower, same);
    EXPECT_EQ(h.engine.counters().newer_queries, 1u);
    EXPECT_EQ(h.engine.counters().older_queries, 0u);
    EXPECT_FALSE(h.engine.querier().querier);
    EXPECT_EQ(h.engine.querier().querier_address, ip(names().lower));
    // Other Querier Present Interval: 2 x 125 + 10 / 2.
    EXPECT_EQ(h.engine.querier().other_querier_until, at(255s));
    if (version() == 2) {
        wire::Query v1 = same;
        v1.version = 1;
        h.query_from(names().higher, v1);
        EXPECT_EQ(h.engine.counters().older_queries, 1u);
    }
    EXPECT_EQ(h.engine.counters().queries_received, version() == 2 ? 3u : 2u);
}

// A non-querier in an older mode lowers its timer on the querier's older Q(G) (§6.6.1: no S
// flag in older queries, so never suppressed).
TEST_P(OlderWithLeaves, NonQuerierLowersItsTimerOnTheQueriersOlderGroupQuery) {
    h.legacy_report(version());
    wire::Query q;
    q.version = version();
    q.group = ip(names().group);
    q.max_response = 1s;
    h.run_until(at(5s));
    h.query_from(names().lower, q);
    EXPECT_FALSE(h.engine.querier().querier);
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "7");
}

auto case_name = [](const auto& info) { return std::string(info.param->name); };
INSTANTIATE_TEST_SUITE_P(Versions, Older, ::testing::Values(&igmpv1, &igmpv2, &mldv1), case_name);
INSTANTIATE_TEST_SUITE_P(Versions, OlderWithLeaves, ::testing::Values(&igmpv2, &mldv1), case_name);
INSTANTIATE_TEST_SUITE_P(Versions, Igmpv1Mode, ::testing::Values(&igmpv1), case_name);

// ---- the newest-version querier hearing older queries ----------------------------------

class NewestHearsOlder : public ::testing::TestWithParam<const Names*> {
protected:
    NewestHearsOlder() : h(*GetParam(), default_config(*GetParam())) { h.engine.start(h.now()); }
    RouterHarness h;
};

TEST_P(NewestHearsOlder, OlderQueriesAreCountedAndNewestOnesAreNot) {
    const bool v4 = GetParam()->family == Family::v4;
    EXPECT_EQ(h.engine.querier().version, v4 ? 3 : 2);
    EXPECT_EQ(h.sink.queries.at(0).version, v4 ? 3 : 2);
    h.query_from(GetParam()->higher, h.general_query());
    EXPECT_EQ(h.engine.counters().older_queries, 0u);
    wire::Query older = h.general_query(0, 0s);
    older.version = v4 ? 2 : 1;
    h.query_from(GetParam()->higher, older);
    EXPECT_EQ(h.engine.counters().older_queries, 1u);
    if (v4) {
        older.version = 1;
        h.query_from(GetParam()->higher, older);
        EXPECT_EQ(h.engine.counters().older_queries, 2u);
    }
    EXPECT_EQ(h.engine.counters().newer_queries, 0u);
    EXPECT_TRUE(h.engine.querier().querier); // higher addresses: still querier
}

// A version of 0 or above the newest is the newest (RouterConfig clamps nonsense).
TEST_P(NewestHearsOlder, OutOfRangeVersionIsTheNewest) {
    for (uint8_t v : {uint8_t(0), uint8_t(4), uint8_t(255)}) {
        RouterHarness l(*GetParam(), older_config(*GetParam(), v));
        l.engine.start(l.now());
        EXPECT_EQ(l.engine.querier().version, GetParam()->family == Family::v4 ? 3 : 2) << int(v);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, NewestHearsOlder, ::testing::Values(&v4_names, &v6_names),
                         [](const auto& info) { return std::string(info.param->name); });

// ---- timers that depend on the version ---------------------------------------------------

// IGMPv1 hosts wait up to 10 s whatever is configured, so GMI uses 10 s; IGMPv2 / MLDv1
// queries carry at most 25.5 s / 65.535 s, and the timers use what was sent.
TEST(OlderTimers, QueryResponseIntervalIsWhatTheVersionCarries) {
    struct Row {
        const Names* n;
        uint8_t version;
        duration configured, on_wire, gmi;
    };
    const Row rows[] = {
        {&v4_names, 1, 40s, 10s, 260s}, {&v4_names, 2, 40s, 25500ms, 275500ms},
        {&v4_names, 3, 40s, 40s, 290s}, {&v6_names, 1, 70s, 65535ms, 315535ms},
        {&v6_names, 2, 70s, 70s, 320s},
    };
    for (const Row& r : rows) {
        RouterConfig c = older_config(*r.n, r.version);
        c.query_response_interval = r.configured;
        RouterHarness l(*r.n, c);
        l.engine.start(l.now());
        const std::string what = std::string(r.n->name) + "v" + std::to_string(r.version);
        ASSERT_EQ(l.sink.queries.size(), 1u) << what;
        EXPECT_EQ(l.sink.queries[0].max_response, r.on_wire) << what;
        EXPECT_EQ(l.engine.querier().query_response_interval, r.on_wire) << what;
        EXPECT_EQ(l.engine.querier().group_membership_interval, r.gmi) << what;
        l.legacy_report(1);
        EXPECT_EQ(l.group().group_timer, at(r.gmi)) << what;
    }
}

} // namespace
} // namespace mcfwd::router::test
