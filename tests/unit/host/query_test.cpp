// RFC 3376 §5.2 / RFC 3810 §6.2: query reception and current-state reports; QRV / QQI.
#include "host_test_support.hpp"

namespace mcfwd::host::test {
namespace {

class QueryResponse : public HostFixture {
protected:
    void SetUp() override {
        make(Family::v4);
        settle("232.1.1.1", include({"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
        settle("232.1.1.2", exclude({"10.0.0.1"}));
    }
};

TEST_F(QueryResponse, GeneralQueryReportsEveryGroupAfterTheSelectedDelay) {
    settle("224.0.0.251", exclude({})); // link-local scope: not reported
    rnd.closed(3s);
    hear(query(3, nullptr, 10s));
    EXPECT_EQ(rnd.bounds, (std::vector<uint64_t>{10'000'000'001})); // [0, Max Resp Time]
    EXPECT_EQ(engine().snapshot().interface_timer, at(3s));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "3000ms REPORT IS_IN(232.1.1.1 {10.0.0.1,10.0.0.2,10.0.0.3}) "
                               "IS_EX(232.1.1.2 {10.0.0.1})",
                           }));
}

TEST_F(QueryResponse, GeneralQueryWithoutStateToReportSchedulesNothing) {
    make(Family::v4);
    hear(query(3, nullptr, 10s));
    EXPECT_TRUE(rnd.bounds.empty());
    EXPECT_EQ(engine().next_deadline(), time_never);
}

// Rule 1: a pending general response due sooner than the new delay stands.
TEST_F(QueryResponse, PendingSoonerGeneralResponseIsKept) {
    rnd.closed(2s);
    hear(query(3, nullptr, 10s));
    clock.set(at(1s));
    rnd.closed(5s); // would be at 6 s
    hear(query(3, nullptr, 10s));
    EXPECT_EQ(engine().snapshot().interface_timer, at(2s));
    run_for(60s);
    EXPECT_EQ(sink.take().size(), 1u);
}

// Rule 2: a general query with a shorter delay reschedules the interface timer.
TEST_F(QueryResponse, LaterGeneralQueryWithShorterDelayReschedules) {
    rnd.closed(8s);
    hear(query(3, nullptr, 10s));
    clock.set(at(1s));
    rnd.closed(2s);
    hear(query(3, nullptr, 10s));
    run_for(60s);
    const auto log = sink.take();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].substr(0, 7), "3000ms ");
}

TEST_F(QueryResponse, GroupSpecificQueryReportsThatGroupOnly) {
    rnd.closed(1500ms);
    hear(query(3, "232.1.1.2", 2s));
    EXPECT_EQ(engine().group_snapshot(ip("232.1.1.2"))->group_timer, at(1500ms));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"1500ms REPORT IS_EX(232.1.1.2 {10.0.0.1})"}));
}

TEST_F(QueryResponse, QueriesForGroupsWeAreNotInAreIgnored) {
    hear(query(3, "232.9.9.9", 2s));
    hear(query(3, "232.9.9.9", 2s, {"10.0.0.1"}));
    EXPECT_TRUE(rnd.bounds.empty());
    EXPECT_EQ(engine().next_deadline(), time_never);
    EXPECT_FALSE(engine().group_snapshot(ip("232.9.9.9")));
}

TEST_F(QueryResponse, GroupQueryCoveredByPendingGeneralResponseIsNotScheduled) {
    rnd.closed(1s);
    hear(query(3, nullptr, 10s));
    rnd.closed(5s);
    hear(query(3, "232.1.1.2", 10s));
    EXPECT_EQ(engine().group_snapshot(ip("232.1.1.2"))->group_timer, time_never);
    run_for(60s);
    EXPECT_EQ(sink.take().size(), 1u);
}

TEST_F(QueryResponse, GroupQueryDueWithPendingGeneralResponseIsNotScheduled) {
    rnd.closed(2s);
    hear(query(3, nullptr, 10s));
    rnd.closed(2s); // the same moment: the general response already carries the group
    hear(query(3, "232.1.1.2", 10s));
    EXPECT_EQ(engine().group_snapshot(ip("232.1.1.2"))->group_timer, time_never);
}

// Rules 3 and 5, response rule 3: INCLUDE(B) answers IS_IN(A*B).
TEST_F(QueryResponse, SourceSpecificQueriesAccumulateAndIncludeAnswersIntersection) {
    rnd.closed(5s);
    hear(query(3, "232.1.1.1", 10s, {"10.0.0.1", "10.0.0.9"}));
    clock.set(at(1s));
    rnd.closed(7s); // at 8 s: the earlier 5 s stands
    hear(query(3, "232.1.1.1", 10s, {"10.0.0.2", "10.0.0.8"}));
    auto g = engine().group_snapshot(ip("232.1.1.1"));
    EXPECT_EQ(g->query_sources, srcs({"10.0.0.1", "10.0.0.2", "10.0.0.8", "10.0.0.9"}));
    EXPECT_EQ(g->group_timer, at(5s));
    run_for(60s);
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"5000ms REPORT IS_IN(232.1.1.1 {10.0.0.1,10.0.0.2})"}));
    EXPECT_TRUE(engine().group_snapshot(ip("232.1.1.1"))->query_sources.empty());
}

TEST_F(QueryResponse, SourceSpecificQueryOnExcludeAnswersQueriedMinusExcluded) {
    rnd.closed(1s);
    hear(query(3, "232.1.1.2", 10s, {"10.0.0.1", "10.0.0.5"}));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"1000ms REPORT IS_IN(232.1.1.2 {10.0.0.5})"}));
}

TEST_F(QueryResponse, SourceSpecificQueryWithEmptyAnswerSendsNothing) {
    rnd.closed(1s);
    hear(query(3, "232.1.1.2", 10s, {"10.0.0.1"})); // only an excluded source
    rnd.closed(1s);
    hear(query(3, "232.1.1.1", 10s, {"10.0.0.7"})); // only a source not included
    run_for(60s);
    EXPECT_TRUE(sink.take().empty());
}

// Rule 4: a group-specific query while a source-specific response is pending clears the
// recorded sources; the response goes at the earlier time.
TEST_F(QueryResponse, GroupQueryWhileSourceQueryPendingAnswersWholeGroup) {
    rnd.closed(6s);
    hear(query(3, "232.1.1.2", 10s, {"10.0.0.5"}));
    clock.set(at(1s));
    rnd.closed(2s);
    hear(query(3, "232.1.1.2", 10s));
    EXPECT_TRUE(engine().group_snapshot(ip("232.1.1.2"))->query_sources.empty());
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"3000ms REPORT IS_EX(232.1.1.2 {10.0.0.1})"}));
}

// Rule 4, other half: a source-specific query while a group response is pending (empty
// recorded list) leaves it a group response.
TEST_F(QueryResponse, SourceQueryWhileGroupQueryPendingStaysGroupResponse) {
    rnd.closed(4s);
    hear(query(3, "232.1.1.2", 10s));
    clock.set(at(1s));
    rnd.closed(1s);
    hear(query(3, "232.1.1.2", 10s, {"10.0.0.5"}));
    EXPECT_TRUE(engine().group_snapshot(ip("232.1.1.2"))->query_sources.empty());
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"2000ms REPORT IS_EX(232.1.1.2 {10.0.0.1})"}));
}

TEST_F(QueryResponse, ResponsesDueTogetherShareOneReport) {
    rnd.closed(2s);
    hear(query(3, "232.1.1.1", 10s));
    rnd.closed(2s);
    hear(query(3, "232.1.1.2", 10s));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "2000ms REPORT IS_IN(232.1.1.1 {10.0.0.1,10.0.0.2,10.0.0.3}) "
                               "IS_EX(232.1.1.2 {10.0.0.1})",
                           }));
}

TEST_F(QueryResponse, ResponseForGroupLeftMeanwhileIsNotSent) {
    rnd.closed(5s);
    hear(query(3, "232.1.1.2", 10s));
    clock.set(at(1s));
    rnd.open(500ms);
    change("232.1.1.2", exclude({"10.0.0.1"}), FilterState::none());
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"1000ms REPORT TO_IN(232.1.1.2 {})",
                                                     "1500ms REPORT TO_IN(232.1.1.2 {})"}));
}

TEST_F(QueryResponse, QueryOfTheOtherFamilyIsIgnored) {
    wire::Query q = query(2, nullptr, 10s);
    q.family = Family::v6;
    q.group = IpAddr{};
    hear(q);
    EXPECT_EQ(engine().next_deadline(), time_never);
    EXPECT_EQ(engine().compat_version(), 3);
}

// RFC 3376 §4.1.6 / §8.1: a non-zero QRV becomes our robustness for later reports; zero
// restores the configured value.
TEST_F(QueryResponse, AdoptedQrvSetsLaterRetransmissionCount) {
    wire::Query q = query(3, "232.7.7.7", 10s); // a group we are not in: nothing to answer
    q.qrv = 4;
    hear(q);
    EXPECT_EQ(engine().snapshot().robustness, 4);
    for (int i = 0; i < 3; ++i)
        rnd.open(100ms);
    change("232.1.1.3", FilterState::none(), exclude({}));
    run_for(10s);
    EXPECT_EQ(sink.take().size(), 4u);

    q.qrv = 0;
    clock.set(at(20s));
    hear(q);
    EXPECT_EQ(engine().snapshot().robustness, 2);
    rnd.open(100ms);
    change("232.1.1.4", FilterState::none(), exclude({}));
    run_for(10s);
    EXPECT_EQ(sink.take().size(), 2u);
}

// RFC 3376 §4.1.7 / §8.12: the adopted QQI enters the Older Version Querier Present Timeout.
TEST_F(QueryResponse, AdoptedQqiAndQrvSetOlderQuerierTimeout) {
    wire::Query q = query(3, "232.7.7.7", 10s);
    q.qrv = 3;
    q.qqi = 60s;
    hear(q);
    EXPECT_EQ(engine().snapshot().query_interval, 60s);
    clock.set(at(1s));
    hear(query(2, "232.7.7.7", 5s));
    EXPECT_EQ(engine().snapshot().v2_querier_until, at(1s + 3 * 60s + 5s));
}

} // namespace
} // namespace mcfwd::host::test
