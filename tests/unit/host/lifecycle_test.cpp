// Which groups are reported (RFC 3376 §5, RFC 3810 §6), MLD's wait for a link-local
// address, shutdown, and what telemetry sees.
#include "host_test_support.hpp"

namespace mcfwd::host::test {
namespace {

struct ScopeRow {
    const char* group;
    bool reported_by_default;
    bool reported_with_link_local;
};

class Scope : public HostFixture, public ::testing::WithParamInterface<ScopeRow> {};

TEST_P(Scope, ReportsOnlyTheGroupsTheRfcsAndConfigAllow) {
    const ScopeRow& row = GetParam();
    const Family family = ip(row.group).family();
    for (bool link_local : {false, true}) {
        make(family, HostConfig{.report_link_local_groups = link_local});
        engine().set_address_ready(now(), true);
        rnd.open(100ms);
        change(row.group, FilterState::none(), exclude({}));
        const bool expected = link_local ? row.reported_with_link_local : row.reported_by_default;
        EXPECT_EQ(sink.take().size(), expected ? 1u : 0u) << row.group << " ll=" << link_local;
        ASSERT_TRUE(engine().group_snapshot(ip(row.group)));
        EXPECT_EQ(engine().group_snapshot(ip(row.group))->reportable, expected);
        // Nor does a general query make it appear.
        if (!expected) {
            hear(query(family == Family::v4 ? 3 : 2, nullptr, 10s));
            EXPECT_EQ(engine().next_deadline(), time_never);
        }
        while (rnd.left() > 0)
            rnd.below(~uint64_t{0});
    }
}

INSTANTIATE_TEST_SUITE_P(
    Rfc3376And3810, Scope,
    ::testing::Values(ScopeRow{"224.0.0.1", false, false}, ScopeRow{"224.0.0.251", false, true},
                      ScopeRow{"224.0.1.1", true, true}, ScopeRow{"239.1.1.1", true, true},
                      ScopeRow{"ff02::1", false, false}, ScopeRow{"ff02::fb", false, true},
                      ScopeRow{"ff01::5", false, false}, ScopeRow{"ff00::5", false, false},
                      ScopeRow{"ff05::1:3", true, true}, ScopeRow{"ff3e::8000:1", true, true}));

class Mld : public HostFixture {
protected:
    void SetUp() override { make(Family::v6); }
};

TEST_F(Mld, SilentUntilAddressReadyThenReportsCurrentMemberships) {
    EXPECT_FALSE(engine().snapshot().address_ready);
    change("ff3e::1", FilterState::none(), exclude({"2001:db8::1"}));
    change("ff3e::2", FilterState::none(), include({"2001:db8::2"}));
    hear(query(2, nullptr, 10s));
    hear(query(2, "ff3e::1", 10s));
    EXPECT_TRUE(sink.take().empty());
    EXPECT_TRUE(rnd.bounds.empty());
    EXPECT_EQ(engine().next_deadline(), time_never);
    EXPECT_EQ(engine().group_snapshot(ip("ff3e::1"))->filter, exclude({"2001:db8::1"}));

    clock.set(at(3s));
    rnd.open(400ms);
    rnd.open(400ms);
    engine().set_address_ready(now(), true);
    run_for(10s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "3000ms REPORT TO_EX(ff3e::1 {2001:db8::1}) "
                               "ALLOW(ff3e::2 {2001:db8::2})",
                               "3400ms REPORT TO_EX(ff3e::1 {2001:db8::1}) "
                               "ALLOW(ff3e::2 {2001:db8::2})",
                           }));
}

TEST_F(Mld, LosingTheAddressDropsPendingWork) {
    engine().set_address_ready(now(), true);
    rnd.open(400ms);
    change("ff3e::1", FilterState::none(), exclude({}));
    engine().set_address_ready(now(), false);
    EXPECT_EQ(engine().next_deadline(), time_never);
    run_for(10s);
    EXPECT_EQ(sink.take().size(), 1u);
}

TEST_F(Mld, OlderQuerierHeardBeforeReadyChoosesMldV1Announcements) {
    change("ff3e::1", FilterState::none(), exclude({}));
    hear(query(1, nullptr, 10s));
    EXPECT_EQ(engine().compat_version(), 1);
    rnd.open(2s);
    engine().set_address_ready(now(), true);
    run_for(5s);
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"0ms V1REPORT ff3e::1", "2000ms V1REPORT ff3e::1"}));
}

class Shutdown : public HostFixture {
protected:
    void SetUp() override { make(Family::v4); }
};

TEST_F(Shutdown, LeaveAllSendsRobustnessReportsAtOnceAndForgetsEverything) {
    settle("232.1.1.1", exclude({}));
    settle("232.1.1.2", include({"10.0.0.1"}));
    settle("224.0.0.251", exclude({})); // never reported, so never left
    clock.set(at(7s));
    engine().leave_all(now());
    const std::string r = "7000ms REPORT TO_IN(232.1.1.1 {}) BLOCK(232.1.1.2 {10.0.0.1})";
    EXPECT_EQ(sink.take(), (std::vector<std::string>{r, r}));
    EXPECT_TRUE(rnd.bounds.empty());
    EXPECT_EQ(engine().next_deadline(), time_never);
    EXPECT_TRUE(engine().snapshot().groups.empty());
}

TEST_F(Shutdown, LeaveAllMergesPendingRetransmissions) {
    settle("232.1.1.1", include({"10.0.0.1"}));
    rnd.open(900ms);
    change("232.1.1.1", include({"10.0.0.1"}), include({"10.0.0.1", "10.0.0.2"}));
    clock.set(at(100ms));
    engine().leave_all(now());
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms REPORT ALLOW(232.1.1.1 {10.0.0.2})",
                               "100ms REPORT BLOCK(232.1.1.1 {10.0.0.1,10.0.0.2})",
                               "100ms REPORT BLOCK(232.1.1.1 {10.0.0.1,10.0.0.2})",
                           }));
}

TEST_F(Shutdown, LeaveAllInV2ModeSendsLeavesForGroupsWeLastReported) {
    settle("239.1.1.1", exclude({}));
    settle("239.1.1.2", exclude({}));
    rnd.closed(1s);
    rnd.closed(1s);
    hear(query(2, nullptr, 10s));
    engine().on_legacy_report(now(), wire::LegacyReport{Family::v4, 2, ip("239.1.1.2")});
    run_for(2s);
    engine().leave_all(now());
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"1000ms V2REPORT 239.1.1.1", "2000ms LEAVE 239.1.1.1",
                                        "2000ms LEAVE 239.1.1.1"}));
    EXPECT_TRUE(engine().snapshot().groups.empty());
}

// Issue 15: a switch that drops one burst must not lose every copy of a leave.
TEST_F(Shutdown, SpacedLeaveAllSendsTheRetransmissionsAtTheUnsolicitedInterval) {
    settle("232.1.1.1", exclude({}));
    settle("232.1.1.2", include({"10.0.0.1"}));
    clock.set(at(7s));
    rnd.open(700ms);
    engine().leave_all(now(), HostEngine::Spacing::spaced);
    const std::string r = "REPORT TO_IN(232.1.1.1 {}) BLOCK(232.1.1.2 {10.0.0.1})";
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"7000ms " + r}));
    EXPECT_EQ(engine().next_deadline(), at(7700ms));
    EXPECT_TRUE(engine().reports_pending());
    EXPECT_EQ(engine().snapshot().groups.size(), 2u); // pending retransmissions only
    run_for(2s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"7700ms " + r}));
    EXPECT_FALSE(engine().reports_pending());
    EXPECT_EQ(engine().next_deadline(), time_never);
    EXPECT_TRUE(engine().snapshot().groups.empty());
}

TEST_F(Shutdown, SpacedLeaveAllInV2ModeSpacesTheLeaves) {
    settle("239.1.1.1", exclude({}));
    rnd.closed(1s);
    hear(query(2, nullptr, 10s));
    run_for(2s);
    sink.take();
    rnd.open(400ms);
    engine().leave_all(now(), HostEngine::Spacing::spaced);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"2000ms LEAVE 239.1.1.1"}));
    run_for(1s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"2400ms LEAVE 239.1.1.1"}));
    EXPECT_FALSE(engine().reports_pending()); // the v2 querier's timer still runs
    EXPECT_TRUE(engine().snapshot().groups.empty());
}

TEST_F(Shutdown, EngineIsUsableAfterLeaveAll) {
    settle("232.1.1.1", exclude({}));
    engine().leave_all(now());
    sink.take();
    rnd.open(100ms);
    // The caller's old state is stale; the engine diffs against what it recorded (none).
    change("232.1.1.1", exclude({}), exclude({"10.0.0.1"}));
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"0ms REPORT TO_EX(232.1.1.1 {10.0.0.1})"}));
}

TEST_F(Shutdown, NextDeadlineIsTheEarliestPendingTimer) {
    EXPECT_EQ(engine().next_deadline(), time_never);
    settle("232.1.1.1", exclude({}));
    settle("232.1.1.2", exclude({}));
    rnd.closed(4s);
    hear(query(3, "232.1.1.1", 10s));
    EXPECT_EQ(engine().next_deadline(), at(4s));
    rnd.open(300ms);
    change("232.1.1.2", exclude({}), exclude({"10.0.0.1"}));
    EXPECT_EQ(engine().next_deadline(), at(300ms));
    run_until(at(300ms));
    EXPECT_EQ(engine().next_deadline(), at(4s));
}

TEST(HostConfigDefaults, ZeroMaxVersionMeansNewestAndValuesAreClamped) {
    ScriptedRandom rnd;
    VirtualClock clock;
    RecordingSink sink{clock};
    HostEngine igmp(Family::v4, HostConfig{}, rnd, sink);
    HostEngine mld(Family::v6, HostConfig{.max_version = 9, .robustness = 0}, rnd, sink);
    EXPECT_EQ(igmp.compat_version(), 3);
    EXPECT_EQ(mld.compat_version(), 2);
    EXPECT_EQ(mld.snapshot().robustness, 1);
    EXPECT_TRUE(igmp.snapshot().address_ready);
    EXPECT_FALSE(mld.snapshot().address_ready);
}

} // namespace
} // namespace mcfwd::host::test
