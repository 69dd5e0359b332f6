// RFC 3376 §7.3.2 / RFC 3810 §8.3.2: group compatibility mode, Older Version Host Present
// timers and the translation of older messages.
#include "router_test_support.hpp"

namespace mcfwd::router::test {
namespace {

using enum FilterMode;

class Compat : public ::testing::TestWithParam<const Names*> {
protected:
    Compat() : h(*GetParam(), default_config(*GetParam())) {
        h.engine.start(h.now());
        h.sink.clear();
    }
    bool v4() const { return GetParam()->family == Family::v4; }
    uint8_t newest() const { return v4() ? 3 : 2; }
    // IGMPv2 / MLDv1: the version just below the newest.
    uint8_t older() const { return v4() ? 2 : 1; }
    RouterHarness h;
};

TEST_P(Compat, OlderReportJoinsAsExcludeNothingAndSetsHostPresentTimer) {
    h.legacy_report(older());
    const GroupSnapshot g = h.group();
    EXPECT_EQ(g.mode, exclude);
    EXPECT_TRUE(g.sources.empty());
    EXPECT_EQ(RouterHarness::seconds(g.group_timer), "260");
    EXPECT_EQ(g.compat_version, older());
    // §8.13 Older Host Present Interval = 2 x 125 + 10.
    EXPECT_EQ(RouterHarness::seconds(v4() ? g.v2_host_until : g.v1_host_until), "260");
    EXPECT_EQ(h.fwd(), FilterState::any_source());
    EXPECT_EQ(h.sink.fwd, strs({"FWD G include{} -> exclude{}"}));
}

TEST_P(Compat, LeaveOrDoneIsToIncludeNothing) {
    h.legacy_report(older());
    h.run_until(at(10s));
    h.leave();
    EXPECT_EQ(h.sink.specific(), strs({"Q(G) S=0"}));
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "12");
    h.run_until(at(12s));
    EXPECT_EQ(h.sink.specific(), strs({"Q(G) S=0", "Q(G) S=0"}));
    EXPECT_FALSE(h.has_group());
    EXPECT_EQ(h.engine.counters().leaves, 1u);
}

TEST_P(Compat, InOlderModeBlockIsIgnoredAndToExLosesItsSources) {
    h.legacy_report(older());
    h.report(RecordType::allow_new_sources, "a");
    h.report(RecordType::block_old_sources, "a");
    EXPECT_EQ(h.timers(), "a:260");
    EXPECT_TRUE(h.sink.specific().empty());
    EXPECT_EQ(h.engine.counters().records_ignored, 1u);
    h.report(RecordType::change_to_exclude, "ab"); // as TO_EX({})
    EXPECT_EQ(h.group().mode, exclude);
    EXPECT_TRUE(h.group().sources.empty());
    EXPECT_EQ(h.fwd(), FilterState::any_source());
}

TEST_P(Compat, HostPresentExpiryReturnsToTheNewestMode) {
    h.legacy_report(older());
    h.run_until(at(100s));
    h.report(RecordType::mode_is_exclude, ""); // keeps the group past the host timer
    h.run_until(at(259s));
    EXPECT_EQ(h.group().compat_version, older());
    h.run_until(at(260s));
    EXPECT_EQ(h.group().compat_version, newest());
    EXPECT_EQ(h.group().v1_host_until, time_never);
    EXPECT_EQ(h.group().v2_host_until, time_never);
    // Source lists count again: TO_EX(a) in EXCLUDE({}, {}) lists a and queries it.
    h.report(RecordType::change_to_exclude, "a");
    EXPECT_EQ(h.timers(), "a:262");
    EXPECT_EQ(h.sink.specific(), strs({"Q(G,a) S=0"}));
}

TEST_P(Compat, OldReportRefreshesTheHostPresentTimer) {
    h.legacy_report(older());
    h.run_until(at(200s));
    h.legacy_report(older());
    h.run_until(at(300s));
    EXPECT_EQ(h.group().compat_version, older());
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "460");
}

TEST_P(Compat, OlderHostJoiningAnIncludeGroupForwardsEverySource) {
    h.report(RecordType::mode_is_include, "a");
    h.legacy_report(older()); // IS_EX({}) on INCLUDE({a}): EXCLUDE({}, {}), Delete(a)
    EXPECT_EQ(h.group().mode, exclude);
    EXPECT_EQ(h.timers(), "");
    EXPECT_EQ(h.fwd(), FilterState::any_source());
}

// IGMP only: MLD has a single older version.
TEST(CompatIgmp, V1ReportOverridesV2AndIgnoresLeavesAndToInclude) {
    RouterHarness h(v4_names, default_config(v4_names));
    h.engine.start(h.now());
    h.legacy_report(2);
    h.run_until(at(100s));
    h.legacy_report(1);
    EXPECT_EQ(h.group().compat_version, 1);
    h.leave();
    h.report(RecordType::change_to_include, "");
    EXPECT_TRUE(h.sink.specific().empty());
    EXPECT_EQ(h.engine.counters().leaves_ignored, 1u);
    EXPECT_EQ(h.engine.counters().records_ignored, 1u);
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "360");
    // The v2 timer (260) lapses first: still v1 until 360.
    h.run_until(at(300s));
    EXPECT_EQ(h.group().compat_version, 1);
    h.report(RecordType::mode_is_exclude, "");
    h.legacy_report(2);
    h.run_until(at(360s));
    EXPECT_EQ(h.group().compat_version, 2); // v1 lapsed, v2 (set at 300) runs
    h.leave();                              // honoured again
    EXPECT_EQ(h.sink.specific(), strs({"Q(G) S=0"}));
}

// RFC 4604 §2.2.2: for an SSM group a router ignores EXCLUDE-mode records and
// IGMPv1/v2 / MLDv1 reports (and their leaves / dones): no state, nothing proxied,
// each one counted.
TEST_P(Compat, SsmGroupIgnoresExcludeRecordsAndOlderReports) {
    const char* ssm = v4() ? "232.7.7.7" : "ff3e::7";
    h.report(RecordType::mode_is_exclude, "", ssm);
    h.report(RecordType::change_to_exclude, "a", ssm);
    h.engine.on_legacy_report(h.clock.now(), {h.names.family, older(), ip(ssm)});
    h.engine.on_leave(h.clock.now(), {h.names.family, ip(ssm)});
    EXPECT_FALSE(h.engine.group_snapshot(ip(ssm)).has_value());
    EXPECT_TRUE(h.sink.fwd.empty());
    EXPECT_EQ(h.engine.counters().ssm_ignored, 4u);
    // INCLUDE-mode records for the same group are (S,G) joins: kept.
    h.report(RecordType::allow_new_sources, "a", ssm);
    EXPECT_TRUE(h.engine.group_snapshot(ip(ssm)).has_value());
    EXPECT_EQ(h.engine.counters().ssm_ignored, 4u);
}

INSTANTIATE_TEST_SUITE_P(Families, Compat, ::testing::Values(&v4_names, &v6_names),
                         [](const auto& info) { return std::string(info.param->name); });

} // namespace
} // namespace mcfwd::router::test
