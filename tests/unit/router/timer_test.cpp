// RFC 3376 §6.5 / §6.6 (RFC 3810 §7.5 / §7.6) on a virtual clock: source and group timer
// expiry, the §6.6.3 lowered timers with their [Last Member Query Count] retransmissions and
// the S-flag split, §6.6.1 timer updates from received queries, general and startup queries.
#include "router_test_support.hpp"

namespace mcfwd::router::test {
namespace {

using enum FilterMode;

class Timers : public ::testing::TestWithParam<const Names*> {
protected:
    Timers() : h(*GetParam(), default_config(*GetParam())) {
        h.engine.start(h.now());
        h.sink.clear();
    }
    FilterState inc(std::string_view s) const { return {include, letters(*GetParam(), s)}; }
    FilterState exc(std::string_view s) const { return {exclude, letters(*GetParam(), s)}; }
    RouterHarness h;
};

TEST_P(Timers, IncludeSourceExpiresAtGmiAndLastOneDeletesTheGroup) {
    h.report(RecordType::mode_is_include, "ab");
    h.run_until(at(100s));
    h.report(RecordType::allow_new_sources, "b");
    h.sink.clear();
    h.run_until(at(260s)); // a: GMI after 0 s
    EXPECT_EQ(h.timers(), "b:360");
    ASSERT_EQ(h.sink.changes.size(), 1u);
    EXPECT_EQ(h.sink.changes[0].new_state, inc("b"));
    h.run_until(at(360s));
    EXPECT_FALSE(h.has_group());
    ASSERT_EQ(h.sink.changes.size(), 2u);
    EXPECT_EQ(h.sink.changes[1].new_state, FilterState::none());
    EXPECT_EQ(h.engine.counters().groups_expired, 1u);
    EXPECT_EQ(h.engine.source_count(), 0u);
}

TEST_P(Timers, ExcludeSourceExpiryBlocksTheSource) {
    h.report(RecordType::allow_new_sources, "a"); // a: 260
    h.run_until(at(10s));
    h.report(RecordType::mode_is_exclude, "ac"); // EXCLUDE({a},{c}), group timer 270
    EXPECT_EQ(h.fwd(), exc("c"));
    h.sink.clear();
    h.run_until(at(260s));
    EXPECT_EQ(h.timers(), "a:0 c:0");
    EXPECT_FALSE(h.forwards('a'));
    EXPECT_EQ(h.sink.fwd, strs({"FWD G exclude{c} -> exclude{ac}"}));
    // §6.5: at group timer expiry no source runs, so the record is deleted.
    h.run_until(at(270s));
    EXPECT_FALSE(h.has_group());
    EXPECT_EQ(h.sink.fwd.back(), "FWD G exclude{ac} -> include{}");
}

TEST_P(Timers, GroupTimerExpirySwitchesToIncludeOfRunningSources) {
    h.report(RecordType::mode_is_exclude, "c"); // group timer 260, c zero
    h.run_until(at(5s));
    h.report(RecordType::allow_new_sources, "a"); // a: 265
    h.sink.clear();
    h.run_until(at(260s));
    EXPECT_EQ(h.group().mode, include);
    EXPECT_EQ(h.timers(), "a:265"); // c (zero timer) deleted
    EXPECT_EQ(h.group().group_timer, time_never);
    EXPECT_EQ(h.sink.fwd, strs({"FWD G exclude{c} -> include{a}"}));
    EXPECT_EQ(h.engine.source_count(), 1u);
    h.run_until(at(265s));
    EXPECT_FALSE(h.has_group());
}

TEST_P(Timers, BlockedSourceIsQueriedLmqcTimesThenExpires) {
    h.report(RecordType::mode_is_include, "ab");
    h.run_until(at(10s));
    h.report(RecordType::block_old_sources, "a");
    EXPECT_EQ(h.sink.sent, strs({"Q(G,a) S=0"}));
    EXPECT_EQ(h.group().sources[0].retransmissions, 1); // [LMQC] - 1 left
    EXPECT_EQ(RouterHarness::seconds(h.group().next_query), "11");
    h.run_until(at(11s));
    EXPECT_EQ(h.sink.sent, strs({"Q(G,a) S=0", "Q(G,a) S=0"}));
    EXPECT_EQ(h.group().next_query, time_never);
    EXPECT_EQ(h.sink.due_times[1], at(11s));
    h.run_until(at(12s)); // LMQT after the BLOCK
    EXPECT_EQ(h.timers(), "b:260");
    EXPECT_EQ(h.sink.fwd,
              strs({"FWD G include{} -> include{ab}", "FWD G include{ab} -> include{b}"}));
    EXPECT_EQ(h.engine.counters().source_queries_sent, 2u);
}

TEST_P(Timers, ReportDuringRetransmissionsMovesSourceToTheSFlagQuery) {
    h.report(RecordType::mode_is_include, "ab");
    h.run_until(at(10s));
    h.report(RecordType::block_old_sources, "ab");
    EXPECT_EQ(h.sink.sent, strs({"Q(G,ab) S=0"}));
    h.run_until(at(10500ms));
    h.report(RecordType::mode_is_include, "a"); // a member answers: a back to GMI
    h.run_until(at(11s));
    // §6.6.3.2: S set for sources whose timer is above LMQT, clear for the others.
    EXPECT_EQ(h.sink.sent, strs({"Q(G,ab) S=0", "Q(G,a) S=1", "Q(G,b) S=0"}));
    h.run_until(at(12s));
    EXPECT_EQ(h.timers(), "a:270.5");
}

TEST_P(Timers, ToIncludeInExcludeQueriesTheGroupAndLowersItsTimer) {
    h.report(RecordType::mode_is_exclude, "");
    h.run_until(at(10s));
    h.report(RecordType::change_to_include, "");
    EXPECT_EQ(h.sink.sent, strs({"Q(G) S=0"}));
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "12");
    EXPECT_EQ(h.group().group_retransmissions, 1);
    h.run_until(at(11s));
    EXPECT_EQ(h.sink.sent, strs({"Q(G) S=0", "Q(G) S=0"}));
    h.run_until(at(12s));
    EXPECT_FALSE(h.has_group());
    EXPECT_EQ(h.sink.fwd, strs({"FWD G include{} -> exclude{}", "FWD G exclude{} -> include{}"}));
    EXPECT_EQ(h.engine.counters().group_queries_sent, 2u);
}

TEST_P(Timers, GroupQueryRetransmissionSetsSFlagOnceAMemberAnswered) {
    h.report(RecordType::mode_is_exclude, "");
    h.run_until(at(10s));
    h.report(RecordType::change_to_include, "");
    h.run_until(at(10200ms));
    h.report(RecordType::mode_is_exclude, ""); // group timer back to GMI
    h.run_until(at(11s));
    // §6.6.3.1: the group timer is above LMQT, so S is set.
    EXPECT_EQ(h.sink.sent, strs({"Q(G) S=0", "Q(G) S=1"}));
    h.run_until(at(20s));
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "270.2");
}

TEST_P(Timers, GroupQueryAtTheSameMomentSuppressesTheSFlagSourceQuery) {
    // EXCLUDE({a,b},{}) and TO_IN({b}): Q(G,a) and Q(G) at once; at the retransmission the
    // group query already asks everyone, so the S-set part for b is left out (§6.6.3.2 note).
    h.report(RecordType::mode_is_exclude, "");
    h.report(RecordType::allow_new_sources, "ab");
    h.run_until(at(10s));
    h.report(RecordType::change_to_include, "b");
    EXPECT_EQ(h.sink.sent, strs({"Q(G) S=0", "Q(G,a) S=0"}));
    h.run_until(at(10500ms));
    h.report(RecordType::allow_new_sources, "a"); // a answers; group timer stays lowered
    h.run_until(at(11s));
    EXPECT_EQ(h.sink.sent, strs({"Q(G) S=0", "Q(G,a) S=0", "Q(G) S=0"}));
    h.run_until(at(12s)); // group timer expiry: INCLUDE of the running sources
    EXPECT_EQ(h.group().mode, include);
    EXPECT_EQ(h.timers(), "a:270.5 b:270");
}

TEST_P(Timers, ReceivedQueriesWithSFlagClearLowerTimers) {
    RouterConfig c = default_config(*GetParam());
    c.querier = false;
    RouterHarness l(*GetParam(), c);
    l.report(RecordType::mode_is_exclude, "");
    l.report(RecordType::allow_new_sources, "ab");
    l.run_until(at(10s));
    l.query_from(GetParam()->lower, l.group_query("", true)); // S set: no change (§6.6.1)
    l.query_from(GetParam()->lower, l.group_query("a", true));
    EXPECT_EQ(RouterHarness::seconds(l.group().group_timer), "260");
    EXPECT_EQ(l.timers(), "a:260 b:260");
    l.query_from(GetParam()->lower, l.group_query("a", false));
    EXPECT_EQ(l.timers(), "a:12 b:260");
    l.query_from(GetParam()->lower, l.group_query("", false));
    EXPECT_EQ(RouterHarness::seconds(l.group().group_timer), "12");
    l.run_until(at(12s));
    EXPECT_EQ(l.group().mode, include);
    EXPECT_EQ(l.timers(), "b:260");
    EXPECT_TRUE(l.sink.sent.empty());
}

TEST_P(Timers, StartupThenGeneralQueriesEveryQueryInterval) {
    RouterHarness q(*GetParam(), default_config(*GetParam()));
    q.engine.start(at(0s));
    EXPECT_EQ(q.engine.querier().startup_left, 1);
    q.run_until(at(400s));
    ASSERT_EQ(q.sink.sent, strs({"Q() S=0", "Q() S=0", "Q() S=0", "Q() S=0"}));
    // §8.6-7: [Startup Query Count] = 2 queries [Startup Query Interval] = 31.25 s apart,
    // then one every [Query Interval].
    EXPECT_EQ(q.sink.due_times,
              (std::vector<time_point>{at(0s), at(31250ms), at(156250ms), at(281250ms)}));
    const wire::Query& g = q.sink.queries[0];
    EXPECT_TRUE(g.group.is_unspecified());
    EXPECT_EQ(g.group.family(), GetParam()->family);
    EXPECT_EQ(g.max_response, 10s);
    EXPECT_EQ(g.qrv, 2);
    EXPECT_EQ(g.qqi, 125s);
    EXPECT_EQ(g.version, GetParam()->family == Family::v4 ? 3 : 2);
    EXPECT_EQ(q.engine.counters().general_queries_sent, 4u);
}

TEST_P(Timers, ConfiguredIntervalsAndCountsAreUsed) {
    RouterConfig c = default_config(*GetParam());
    c.robustness = 3;
    c.query_interval = 60s;
    c.query_response_interval = 5s;
    c.last_member_query_interval = 500ms;
    c.last_member_query_count = 4;
    c.startup_query_count = 3;
    c.startup_query_interval = 2s;
    RouterHarness q(*GetParam(), c);
    q.engine.start(at(0s));
    q.run_until(at(70s));
    EXPECT_EQ(q.sink.due_times, (std::vector<time_point>{at(0s), at(2s), at(4s), at(64s)}));
    EXPECT_EQ(q.engine.querier().group_membership_interval, 185s); // 3 x 60 + 5
    EXPECT_EQ(q.engine.querier().last_member_query_time, 2s);      // 4 x 0.5
    q.report(RecordType::mode_is_include, "a");
    EXPECT_EQ(q.timers(), "a:255");
    q.sink.clear();
    q.report(RecordType::block_old_sources, "a");
    q.run_until(at(72s));
    EXPECT_EQ(q.sink.sent, strs({"Q(G,a) S=0", "Q(G,a) S=0", "Q(G,a) S=0", "Q(G,a) S=0"}));
    EXPECT_EQ(q.sink.queries[0].qrv, 3);
    EXPECT_EQ(q.sink.queries[0].max_response, 500ms);
    EXPECT_FALSE(q.has_group());
}

TEST_P(Timers, NextDeadlineIsTheEarliestTimer) {
    EXPECT_EQ(h.engine.next_deadline(), at(31250ms)); // startup query
    h.report(RecordType::mode_is_include, "a");
    h.report(RecordType::block_old_sources, "a");
    EXPECT_EQ(h.engine.next_deadline(), at(1s)); // retransmission
    h.run_until(at(1s));
    EXPECT_EQ(h.engine.next_deadline(), at(2s)); // source timer at LMQT
}

INSTANTIATE_TEST_SUITE_P(Families, Timers, ::testing::Values(&v4_names, &v6_names),
                         [](const auto& info) { return std::string(info.param->name); });

} // namespace
} // namespace mcfwd::router::test
