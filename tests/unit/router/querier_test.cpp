// RFC 3376 §6.6.2 / RFC 3810 §7.6.2 querier election, Other Querier Present timer, adoption
// of the querier's QRV / QQI (§4.1.6-7), and the per-port limits.
#include "router_test_support.hpp"

namespace mcfwd::router::test {
namespace {

using enum FilterMode;

class Querier : public ::testing::TestWithParam<const Names*> {
protected:
    Querier() : h(*GetParam(), default_config(*GetParam())) {
        h.engine.start(h.now());
        h.sink.clear();
    }
    RouterHarness h;
};

TEST_P(Querier, StartsAsQuerier) {
    EXPECT_TRUE(h.engine.querier().querier);
    EXPECT_EQ(h.engine.querier().querier_address, ip(GetParam()->self));
}

TEST_P(Querier, LowerAddressTakesOverUntilOtherQuerierPresentExpires) {
    h.run_until(at(50s)); // second startup query at 31.25 s
    h.sink.clear();
    h.query_from(GetParam()->lower, h.general_query());
    QuerierSnapshot q = h.engine.querier();
    EXPECT_FALSE(q.querier);
    EXPECT_EQ(q.querier_address, ip(GetParam()->lower));
    // §8.5 Other Querier Present Interval: 2 x 125 + 10 / 2 = 255 s.
    EXPECT_EQ(q.other_querier_until, at(305s));
    EXPECT_EQ(h.engine.counters().querier_lost, 1u);
    h.run_until(at(200s));
    EXPECT_TRUE(h.sink.sent.empty());                   // a non-querier sends no general queries
    h.query_from(GetParam()->lower, h.general_query()); // refreshed
    h.run_until(at(454s));
    EXPECT_TRUE(h.sink.sent.empty());
    h.run_until(at(455s));
    ASSERT_EQ(h.sink.sent, strs({"Q() S=0"}));
    EXPECT_EQ(h.sink.due_times[0], at(455s));
    EXPECT_TRUE(h.engine.querier().querier);
    EXPECT_EQ(h.engine.querier().querier_address, ip(GetParam()->self));
    EXPECT_EQ(h.engine.counters().querier_won, 1u);
    h.run_until(at(580s));
    EXPECT_EQ(h.sink.due_times.back(), at(580s)); // then every [Query Interval]
}

// The sink hears each change of the election's outcome once, after querier() shows it:
// what a proxy needs to forward onto the link only while querier (RFC 4605 §4.2).
TEST_P(Querier, ElectionOutcomeChangesAreReportedOnce) {
    RouterHarness l(*GetParam(), default_config(*GetParam()));
    EXPECT_TRUE(l.sink.querier_changes.empty()); // not querier before start
    l.engine.start(at(0s));
    EXPECT_EQ(l.sink.querier_changes, std::vector<bool>{true});
    l.sink.clear();
    l.query_from(GetParam()->higher, l.general_query()); // loses nothing
    EXPECT_TRUE(l.sink.querier_changes.empty());
    l.query_from(GetParam()->lower, l.general_query());
    l.query_from(GetParam()->lower, l.general_query()); // still non-querier: no second event
    EXPECT_EQ(l.sink.querier_changes, std::vector<bool>{false});
    EXPECT_FALSE(l.engine.querier().querier);
    l.sink.clear();
    l.run_until(at(254s));
    EXPECT_TRUE(l.sink.querier_changes.empty());
    l.run_until(at(255s)); // Other Querier Present Interval after the last query
    EXPECT_EQ(l.sink.querier_changes, std::vector<bool>{true});
}

TEST_P(Querier, QuerierHeardBeforeStartKeepsUsQuiet) {
    RouterHarness l(*GetParam(), default_config(*GetParam()));
    l.query_from(GetParam()->lower, l.general_query());
    l.engine.start(at(0s));
    EXPECT_FALSE(l.engine.querier().querier);
    l.run_until(at(254s));
    EXPECT_TRUE(l.sink.sent.empty());
    l.run_until(at(255s));
    EXPECT_EQ(l.sink.sent, strs({"Q() S=0"}));
}

TEST_P(Querier, HigherAddressDoesNotWin) {
    h.query_from(GetParam()->higher, h.general_query());
    EXPECT_TRUE(h.engine.querier().querier);
    EXPECT_EQ(h.engine.counters().queries_received, 1u);
    h.query_from(GetParam()->self, h.general_query()); // our own, looped back
    EXPECT_EQ(h.engine.counters().queries_received, 1u);
}

TEST_P(Querier, NonQuerierStillLearnsFromReports) {
    h.query_from(GetParam()->lower, h.general_query());
    h.report(RecordType::mode_is_include, "a");
    EXPECT_EQ(h.timers(), "a:260");
    EXPECT_TRUE(h.forwards('a'));
    h.report(RecordType::block_old_sources, "a"); // the querier will ask, not us
    EXPECT_TRUE(h.sink.sent.empty());
    EXPECT_EQ(h.timers(), "a:260");
}

TEST_P(Querier, NonQuerierAdoptsTheQueriersRobustnessAndInterval) {
    h.query_from(GetParam()->lower, h.general_query(3, 60s));
    const QuerierSnapshot q = h.engine.querier();
    EXPECT_EQ(q.robustness, 3);
    EXPECT_EQ(q.query_interval, 60s);
    EXPECT_EQ(q.group_membership_interval, 190s); // 3 x 60 + 10
    EXPECT_EQ(q.other_querier_until, at(185s));   // 3 x 60 + 10 / 2
    h.report(RecordType::mode_is_include, "a");
    EXPECT_EQ(h.timers(), "a:190");
    // Back as querier, our own values again.
    h.run_until(at(185s));
    EXPECT_TRUE(h.engine.querier().querier);
    EXPECT_EQ(h.engine.querier().robustness, 2);
    EXPECT_EQ(h.sink.queries.back().qqi, 125s);
}

TEST_P(Querier, ConfiguredNonQuerierNeverQueries) {
    RouterConfig c = default_config(*GetParam());
    c.querier = false;
    RouterHarness l(*GetParam(), c);
    l.engine.start(at(0s));
    l.run_until(at(1000s));
    EXPECT_TRUE(l.sink.sent.empty());
    EXPECT_FALSE(l.engine.querier().querier);
    l.query_from(GetParam()->higher, l.general_query());
    EXPECT_EQ(l.engine.querier().querier_address, ip(GetParam()->higher));
    l.run_until(at(2000s));
    EXPECT_TRUE(l.sink.sent.empty());
    EXPECT_TRUE(l.sink.querier_changes.empty()); // never querier, so never a change
}

TEST_P(Querier, PendingSpecificQueriesFinishAfterLosingTheElection) {
    // RFC 2236 §3: a querier that becomes non-querier keeps sending the group-specific
    // queries it started, so the lowered timers stay fair.
    h.report(RecordType::mode_is_include, "ab");
    h.report(RecordType::block_old_sources, "a");
    h.query_from(GetParam()->lower, h.general_query());
    h.run_until(at(2s));
    EXPECT_EQ(h.sink.sent, strs({"Q(G,a) S=0", "Q(G,a) S=0"}));
    EXPECT_EQ(h.timers(), "b:260");
}

TEST_P(Querier, OnMessageDispatchesEveryKind) {
    const Names& n = *GetParam();
    RouterHarness l(n, default_config(n));
    const IpAddr host = letter(n, 'e');
    l.engine.on_message(l.now(), wire::LegacyReport{n.family, 1, ip(n.group)}, host);
    EXPECT_EQ(l.group().compat_version, 1);
    l.engine.on_message(
        l.now(), wire::Report{n.family, {{RecordType::mode_is_exclude, ip(n.other_group), {}}}},
        host);
    EXPECT_EQ(l.engine.group_count(), 2u);
    l.engine.on_message(l.now(), wire::Leave{n.family, ip(n.other_group)}, host);
    EXPECT_EQ(l.engine.counters().leaves, 1u);
    l.engine.on_message(l.now(), l.general_query(), ip(n.lower));
    EXPECT_EQ(l.engine.querier().querier_address, ip(n.lower));
}

TEST_P(Querier, ResponseIntervalNotBelowQueryIntervalIsClamped) {
    RouterConfig c = default_config(*GetParam());
    c.query_interval = 20s;
    c.query_response_interval = 20s; // §8.3: must be less than the Query Interval
    c.robustness = 0;
    RouterHarness l(*GetParam(), c);
    EXPECT_EQ(l.engine.config().query_response_interval, 10s);
    EXPECT_EQ(l.engine.config().robustness, 1);
    EXPECT_EQ(l.engine.querier().group_membership_interval, 30s); // 1 x 20 + 10
}

TEST_P(Querier, GroupLimitRefusesNewGroups) {
    RouterConfig c = default_config(*GetParam());
    c.max_groups = 1;
    RouterHarness l(*GetParam(), c);
    l.report(RecordType::mode_is_exclude, "");
    l.report(RecordType::mode_is_exclude, "", GetParam()->other_group);
    l.engine.on_legacy_report(l.now(), {GetParam()->family, 2, ip(GetParam()->other_group)});
    EXPECT_EQ(l.engine.group_count(), 1u);
    EXPECT_EQ(l.engine.counters().groups_refused, 2u);
    EXPECT_EQ(l.engine.forwarding(ip(GetParam()->other_group)), FilterState::none());
    l.report(RecordType::mode_is_include, "a"); // the existing group still takes records
    EXPECT_EQ(l.timers(), "a:260");
}

TEST_P(Querier, SourceLimitRefusesNewSourcesAcrossGroups) {
    RouterConfig c = default_config(*GetParam());
    c.max_sources = 3;
    RouterHarness l(*GetParam(), c);
    l.report(RecordType::mode_is_include, "ab");
    l.report(RecordType::mode_is_include, "cd", GetParam()->other_group);
    EXPECT_EQ(l.engine.source_count(), 3u);
    EXPECT_EQ(l.engine.counters().sources_refused, 1u);
    EXPECT_EQ(l.engine.forwarding(ip(GetParam()->other_group)),
              (FilterState{include, letters(*GetParam(), "c")}));
    // Expiry frees room.
    l.run_until(at(260s));
    EXPECT_EQ(l.engine.source_count(), 0u);
    l.report(RecordType::mode_is_include, "abc");
    EXPECT_EQ(l.engine.source_count(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Families, Querier, ::testing::Values(&v4_names, &v6_names),
                         [](const auto& info) { return std::string(info.param->name); });

} // namespace
} // namespace mcfwd::router::test
