// RFC 3376 §7.2 / RFC 3810 §8.2 host compatibility modes, and the legacy host behaviour of
// RFC 1112, RFC 2236 and RFC 2710 they fall back to.
#include "host_test_support.hpp"

namespace mcfwd::host::test {
namespace {

constexpr const char* g1 = "239.1.1.1";
constexpr const char* g2 = "239.1.1.2";

class Compat : public HostFixture {
protected:
    void SetUp() override { make(Family::v4); }
};

TEST_F(Compat, V1QueryMakesV1ReportsAndNoLeave) {
    settle(g1, exclude({}));
    rnd.closed(4s);
    hear(query(1, nullptr, 10s));
    EXPECT_EQ(engine().compat_version(), 1);
    run_for(5s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"4000ms V1REPORT 239.1.1.1"}));
    change(g1, exclude({}), FilterState::none());
    EXPECT_TRUE(sink.take().empty());
    EXPECT_FALSE(engine().group_snapshot(ip(g1)));
}

TEST_F(Compat, JoinInV1ModeSendsV1ReportAndRepeatsIt) {
    hear(query(1, nullptr, 10s));
    clock.set(at(1s));
    rnd.open(7s);
    change(g1, FilterState::none(), include({"10.0.0.1"})); // INCLUDE with sources is a join
    EXPECT_EQ(rnd.bounds, (std::vector<uint64_t>{10'000'000'000})); // legacy URI is 10 s
    run_for(30s);
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"1000ms V1REPORT 239.1.1.1", "8000ms V1REPORT 239.1.1.1"}));
}

TEST_F(Compat, V2QueryMakesV2ReportsAndLeaveWhenLastReporter) {
    settle(g1, exclude({}));
    rnd.closed(3s);
    hear(query(2, nullptr, 10s));
    EXPECT_EQ(engine().compat_version(), 2);
    run_for(5s);
    EXPECT_TRUE(engine().group_snapshot(ip(g1))->last_reporter);
    change(g1, exclude({}), FilterState::none());
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"3000ms V2REPORT 239.1.1.1", "5000ms LEAVE 239.1.1.1"}));
}

TEST_F(Compat, AnotherHostsReportSuppressesOursAndItsLeave) {
    settle(g1, exclude({}));
    rnd.closed(3s);
    hear(query(2, nullptr, 10s));
    clock.set(at(1s));
    engine().on_legacy_report(now(), wire::LegacyReport{Family::v4, 2, ip(g1)});
    EXPECT_EQ(engine().group_snapshot(ip(g1))->legacy_timer, time_never);
    run_for(5s);
    change(g1, exclude({}), FilterState::none());
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(Compat, AnotherHostsReportCancelsOurUnsolicitedRepeat) {
    hear(query(2, nullptr, 10s));
    rnd.open(5s);
    change(g1, FilterState::none(), exclude({}));
    clock.set(at(1s));
    engine().on_legacy_report(now(), wire::LegacyReport{Family::v4, 2, ip(g1)});
    run_for(20s);
    change(g1, exclude({}), FilterState::none());
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"0ms V2REPORT 239.1.1.1"}));
}

TEST_F(Compat, ReportForAnotherGroupDoesNotSuppress) {
    settle(g1, exclude({}));
    rnd.closed(3s);
    hear(query(2, nullptr, 10s));
    engine().on_legacy_report(now(), wire::LegacyReport{Family::v4, 2, ip(g2)});
    run_for(5s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"3000ms V2REPORT 239.1.1.1"}));
}

TEST_F(Compat, V3HostsDoNotSuppress) {
    settle(g1, exclude({}));
    rnd.closed(3s);
    hear(query(3, nullptr, 10s));
    engine().on_legacy_report(now(), wire::LegacyReport{Family::v4, 2, ip(g1)});
    run_for(5s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"3000ms REPORT IS_EX(239.1.1.1 {})"}));
}

// RFC 2236 §3: a running timer is reset only if Max Resp Time is below its remaining time.
TEST_F(Compat, GroupQueryResetsRunningTimerOnlyWhenMaxRespIsShorter) {
    settle(g1, exclude({}));
    rnd.closed(8s);
    hear(query(2, nullptr, 10s));
    hear(query(2, g1, 10s)); // Max Resp 10 s >= 8 s remaining: not drawn, not reset
    EXPECT_EQ(engine().group_snapshot(ip(g1))->legacy_timer, at(8s));
    rnd.closed(500ms);
    clock.set(at(1s));
    hear(query(2, g1, 1s)); // 1 s < 7 s remaining: reset
    EXPECT_EQ(engine().group_snapshot(ip(g1))->legacy_timer, at(1500ms));
    EXPECT_EQ(rnd.bounds, (std::vector<uint64_t>{10'000'000'001, 1'000'000'001}));
}

TEST_F(Compat, SourceChangesKeepingMembershipSendNothingInOldModes) {
    settle(g1, include({"10.0.0.1"}));
    hear(query(2, "239.9.9.9", 10s));
    change(g1, include({"10.0.0.1"}), include({"10.0.0.2"}));
    change(g1, include({"10.0.0.2"}), exclude({"10.0.0.3"}));
    EXPECT_TRUE(sink.take().empty());
    EXPECT_EQ(engine().next_deadline(), engine().snapshot().v2_querier_until);
}

TEST_F(Compat, OlderQuerierTimerExpiryRevertsToV3Records) {
    hear(query(2, "239.9.9.9", 10s));
    const time_point expiry = at(2 * 125s + 10s); // RFC 3376 §8.12 with defaults
    EXPECT_EQ(engine().snapshot().v2_querier_until, expiry);
    EXPECT_EQ(engine().next_deadline(), expiry);
    run_until(expiry - 1ns);
    EXPECT_EQ(engine().compat_version(), 2);
    run_until(expiry);
    EXPECT_EQ(engine().compat_version(), 3);
    EXPECT_EQ(engine().snapshot().v2_querier_until, time_never);
    rnd.open(1s);
    change(g1, FilterState::none(), exclude({}));
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"260000ms REPORT TO_EX(239.1.1.1 {})"}));
}

TEST_F(Compat, V1QuerierDominatesV2UntilItExpires) {
    hear(query(1, nullptr, 10s));
    clock.set(at(100s));
    hear(query(2, nullptr, 10s));
    EXPECT_EQ(engine().compat_version(), 1);
    run_until(at(260s)); // v1 timer expires, v2 still present until 360 s
    EXPECT_EQ(engine().compat_version(), 2);
    run_until(at(360s));
    EXPECT_EQ(engine().compat_version(), 3);
}

TEST_F(Compat, ConfiguredOlderQuerierTimeoutOverrides) {
    make(Family::v4, HostConfig{.older_querier_timeout = 30s});
    hear(query(1, nullptr, 10s));
    EXPECT_EQ(engine().snapshot().v1_querier_until, at(30s));
}

// RFC 3810 §8.2.1: a mode change cancels pending retransmissions and responses.
TEST_F(Compat, ModeChangeCancelsPendingV3Work) {
    rnd.open(800ms);
    change(g1, FilterState::none(), exclude({}));
    clock.set(at(100ms));
    rnd.closed(2s);
    hear(query(2, nullptr, 10s));
    run_for(5s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"0ms REPORT TO_EX(239.1.1.1 {})",
                                                     "2100ms V2REPORT 239.1.1.1"}));
}

TEST_F(Compat, MaxVersionTwoIsAnIgmpV2HostWithoutQuerierTimer) {
    make(Family::v4, HostConfig{.max_version = 2});
    EXPECT_EQ(engine().compat_version(), 2);
    rnd.open(6s);
    change(g1, FilterState::none(), exclude({}));
    rnd.closed(1s);
    run_until(at(8s));
    hear(query(3, nullptr, 10s)); // answered the IGMPv2 way
    EXPECT_EQ(engine().snapshot().v2_querier_until, time_never);
    run_for(10s);
    change(g1, exclude({}), FilterState::none());
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"0ms V2REPORT 239.1.1.1", "6000ms V2REPORT 239.1.1.1",
                                        "9000ms V2REPORT 239.1.1.1", "18000ms LEAVE 239.1.1.1"}));
}

TEST_F(Compat, MaxVersionTwoHearingV1UsesVersion1RouterPresentTimeout) {
    make(Family::v4, HostConfig{.max_version = 2});
    hear(query(1, nullptr, 10s));
    EXPECT_EQ(engine().compat_version(), 1);
    EXPECT_EQ(engine().snapshot().v1_querier_until, at(400s)); // RFC 2236 §8.11
}

TEST_F(Compat, MaxVersionOneNeverLeaves) {
    make(Family::v4, HostConfig{.max_version = 1});
    rnd.open(2s);
    change(g1, FilterState::none(), exclude({}));
    run_for(5s);
    change(g1, exclude({}), FilterState::none());
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"0ms V1REPORT 239.1.1.1", "2000ms V1REPORT 239.1.1.1"}));
}

class MldCompat : public HostFixture {
protected:
    void SetUp() override {
        make(Family::v6);
        engine().set_address_ready(now(), true);
    }
};

TEST_F(MldCompat, MldV1QueryMakesMldV1ReportAndDone) {
    settle("ff3e::1", exclude({}));
    rnd.closed(2s);
    hear(query(1, nullptr, 10s));
    EXPECT_EQ(engine().compat_version(), 1);
    run_for(3s);
    change("ff3e::1", exclude({}), FilterState::none());
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"2000ms V1REPORT ff3e::1", "3000ms LEAVE ff3e::1"}));
    ASSERT_EQ(sink.messages.size(), 2u);
    EXPECT_EQ(std::get<wire::LegacyReport>(sink.messages[0]).family, Family::v6);
}

TEST_F(MldCompat, MldV1SuppressionClearsDone) {
    settle("ff3e::1", exclude({}));
    rnd.closed(2s);
    hear(query(1, nullptr, 10s));
    engine().on_legacy_report(now(), wire::LegacyReport{Family::v6, 1, ip("ff3e::1")});
    run_for(3s);
    change("ff3e::1", exclude({}), FilterState::none());
    EXPECT_TRUE(sink.take().empty());
}

TEST_F(MldCompat, MldV1QuerierTimeoutRevertsToMldV2) {
    hear(query(1, "ff3e::9", 10s));
    run_until(at(260s));
    EXPECT_EQ(engine().compat_version(), 2);
    rnd.open(1s);
    change("ff3e::1", FilterState::none(), include({"2001:db8::1"}));
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"260000ms REPORT ALLOW(ff3e::1 {2001:db8::1})"}));
}

TEST_F(MldCompat, MaxVersionOneIsAnMldV1Host) {
    make(Family::v6, HostConfig{.max_version = 1});
    engine().set_address_ready(now(), true);
    rnd.open(3s);
    change("ff3e::1", FilterState::none(), exclude({}));
    run_for(5s);
    change("ff3e::1", exclude({}), FilterState::none());
    EXPECT_EQ(sink.take(),
              (std::vector<std::string>{"0ms V1REPORT ff3e::1", "3000ms V1REPORT ff3e::1",
                                        "5000ms LEAVE ff3e::1"}));
}

} // namespace
} // namespace mcfwd::host::test
