// RFC 3376 §5.1 / RFC 3810 §6.1: state-change reports, their retransmissions and the
// merging of later changes into pending ones.
#include "host_test_support.hpp"

namespace mcfwd::host::test {
namespace {

struct Names {
    Family family;
    const char* group;
    const char* a;
    const char* b;
    const char* c;
};

constexpr Names v4_names{Family::v4, "232.1.1.1", "10.0.0.1", "10.0.0.2", "10.0.0.3"};
constexpr Names v6_names{Family::v6, "ff3e::1", "2001:db8::1", "2001:db8::2", "2001:db8::3"};

// "ab" -> {a, b} in the family's addresses.
SourceSet letters(const Names& n, std::string_view which) {
    SourceSet s;
    for (char ch : which)
        s.insert(ip(ch == 'a' ? n.a : ch == 'b' ? n.b : n.c));
    return s;
}

struct Rec {
    RecordType type;
    std::string_view sources;
};

std::string records_text(const Names& n, const std::vector<Rec>& recs) {
    std::string s = "REPORT";
    for (const Rec& r : recs)
        s += " " + record_text({r.type, ip(n.group), letters(n, r.sources).as_vector()});
    return s;
}

struct TransitionRow {
    const char* name;
    FilterMode old_mode;
    std::string_view old_sources;
    FilterMode new_mode;
    std::string_view new_sources;
    std::vector<Rec> expected;
};

using enum FilterMode;

// RFC 3376 §5.1 / RFC 3810 §6.1 table, plus the "non-existent state is INCLUDE({})" rule
// for joins and leaves, and the omission of empty ALLOW / BLOCK records.
const std::vector<TransitionRow> transition_rows = {
    {"IncludeToInclude",
     include,
     "ab",
     include,
     "bc",
     {{RecordType::allow_new_sources, "c"}, {RecordType::block_old_sources, "a"}}},
    {"ExcludeToExclude",
     exclude,
     "ab",
     exclude,
     "bc",
     {{RecordType::allow_new_sources, "a"}, {RecordType::block_old_sources, "c"}}},
    {"IncludeToExclude", include, "ab", exclude, "bc", {{RecordType::change_to_exclude, "bc"}}},
    {"ExcludeToInclude", exclude, "ab", include, "bc", {{RecordType::change_to_include, "bc"}}},
    {"JoinInclude", include, "", include, "ab", {{RecordType::allow_new_sources, "ab"}}},
    {"JoinAnySource", include, "", exclude, "", {{RecordType::change_to_exclude, ""}}},
    {"LeaveExclude", exclude, "a", include, "", {{RecordType::change_to_include, ""}}},
    {"LeaveInclude", include, "ab", include, "", {{RecordType::block_old_sources, "ab"}}},
    {"IncludeAddOnlyOmitsEmptyBlock",
     include,
     "a",
     include,
     "ab",
     {{RecordType::allow_new_sources, "b"}}},
    {"ExcludeUnblockOnlyOmitsEmptyBlock",
     exclude,
     "ab",
     exclude,
     "a",
     {{RecordType::allow_new_sources, "b"}}},
};

class TransitionTable : public HostFixture,
                        public ::testing::WithParamInterface<std::tuple<Names, TransitionRow>> {};

TEST_P(TransitionTable, SendsTheRowsRecordsNowAndRetransmitsThemOnce) {
    const auto& [n, row] = GetParam();
    make(n.family);
    engine().set_address_ready(now(), true);
    const FilterState old_state{row.old_mode, letters(n, row.old_sources)};
    const FilterState new_state{row.new_mode, letters(n, row.new_sources)};
    if (old_state.is_member())
        settle(n.group, old_state);

    clock.set(at(5s));
    rnd.open(700ms);
    change(n.group, old_state, new_state);
    run_for(60s);

    const std::string expected = records_text(n, row.expected);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"5000ms " + expected, "5700ms " + expected}));
    // The retransmission delay was drawn from (0, 1 s], the IGMPv3 / MLDv2 default URI.
    EXPECT_EQ(rnd.bounds, (std::vector<uint64_t>{1'000'000'000}));
    EXPECT_EQ(engine().next_deadline(), time_never);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc3376And3810, TransitionTable,
    ::testing::Combine(::testing::Values(v4_names, v6_names), ::testing::ValuesIn(transition_rows)),
    [](const auto& info) {
        return std::string(std::get<0>(info.param).family == Family::v4 ? "Igmp_" : "Mld_") +
               std::get<1>(info.param).name;
    });

class StateChange : public HostFixture {
protected:
    const Names& n = v4_names;
    void SetUp() override { make(Family::v4); }
    std::string rep(const std::vector<Rec>& recs) { return records_text(n, recs); }
    FilterState in(std::string_view s) { return {include, letters(n, s)}; }
    FilterState ex(std::string_view s) { return {exclude, letters(n, s)}; }
};

TEST_F(StateChange, RobustnessThreeSendsThreeTimesAtRandomIntervals) {
    make(Family::v4, HostConfig{.robustness = 3});
    rnd.open(300ms);
    rnd.open(1s);
    change(n.group, FilterState::none(), ex(""));
    run_for(60s);
    const std::string r = rep({{RecordType::change_to_exclude, ""}});
    EXPECT_EQ(sink.take(), (std::vector<std::string>{"0ms " + r, "300ms " + r, "1300ms " + r}));
}

TEST_F(StateChange, ConfiguredUnsolicitedReportIntervalBoundsTheDelay) {
    make(Family::v4, HostConfig{.unsolicited_report_interval = 5s});
    rnd.open(4500ms);
    change(n.group, FilterState::none(), ex(""));
    run_for(60s);
    EXPECT_EQ(rnd.bounds, (std::vector<uint64_t>{5'000'000'000}));
    EXPECT_EQ(sink.take().back(), "4500ms " + rep({{RecordType::change_to_exclude, ""}}));
}

TEST_F(StateChange, NoChangeSendsNothing) {
    settle(n.group, in("a"));
    change(n.group, in("a"), in("a"));
    EXPECT_TRUE(sink.take().empty());
    EXPECT_EQ(engine().next_deadline(), time_never);
}

// RFC 3810 §6.1: the Filter Mode Retransmission Counter is not reset by a source change,
// each report decrements it and the new source's own counter; once it is spent the source
// still pending goes out as a source-list-change record.
TEST_F(StateChange, ModeChangePendingThenSourceChange) {
    rnd.open(700ms);
    change(n.group, FilterState::none(), ex("a"));
    clock.set(at(300ms));
    rnd.open(400ms);
    change(n.group, ex("a"), ex("ab"));
    auto g = engine().group_snapshot(ip(n.group));
    ASSERT_TRUE(g);
    EXPECT_EQ(g->mode_retransmissions, 0);
    EXPECT_EQ(g->pending_block, letters(n, "b"));
    EXPECT_EQ(g->retransmit_at, at(700ms));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms " + rep({{RecordType::change_to_exclude, "a"}}),
                               "300ms " + rep({{RecordType::change_to_exclude, "ab"}}),
                               "700ms " + rep({{RecordType::block_old_sources, "b"}}),
                           }));
}

// The merged report terminates the pending retransmission of the earlier one and starts
// its own; b keeps its older count, c gets a fresh one.
TEST_F(StateChange, SourceChangePendingThenAnotherSourceChange) {
    settle(n.group, in("a"));
    rnd.open(900ms);
    change(n.group, in("a"), in("ab"));
    clock.set(at(200ms));
    rnd.open(500ms);
    change(n.group, in("ab"), in("abc"));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms " + rep({{RecordType::allow_new_sources, "b"}}),
                               "200ms " + rep({{RecordType::allow_new_sources, "bc"}}),
                               "700ms " + rep({{RecordType::allow_new_sources, "c"}}),
                           }));
}

TEST_F(StateChange, AllowPendingThenBlockOfTheSameSourceReportsBlockRobustnessTimes) {
    settle(n.group, in("a"));
    rnd.open(900ms);
    change(n.group, in("a"), in("ab"));
    clock.set(at(200ms));
    rnd.open(500ms);
    change(n.group, in("ab"), in("a")); // back to the original state
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms " + rep({{RecordType::allow_new_sources, "b"}}),
                               "200ms " + rep({{RecordType::block_old_sources, "b"}}),
                               "700ms " + rep({{RecordType::block_old_sources, "b"}}),
                           }));
}

TEST_F(StateChange, ExcludeSourceAddedThenRemovedWhilePending) {
    settle(n.group, ex(""));
    rnd.open(900ms);
    change(n.group, ex(""), ex("a"));
    clock.set(at(100ms));
    rnd.open(200ms);
    change(n.group, ex("a"), ex("b"));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms " + rep({{RecordType::block_old_sources, "a"}}),
                               "100ms " + rep({{RecordType::allow_new_sources, "a"},
                                               {RecordType::block_old_sources, "b"}}),
                               "300ms " + rep({{RecordType::allow_new_sources, "a"},
                                               {RecordType::block_old_sources, "b"}}),
                           }));
}

TEST_F(StateChange, JoinThenLeaveWhilePendingSendsToIncludeRobustnessTimes) {
    rnd.open(900ms);
    change(n.group, FilterState::none(), ex(""));
    clock.set(at(100ms));
    rnd.open(300ms);
    change(n.group, ex(""), FilterState::none());
    EXPECT_TRUE(engine().group_snapshot(ip(n.group))); // kept for the retransmission
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms " + rep({{RecordType::change_to_exclude, ""}}),
                               "100ms " + rep({{RecordType::change_to_include, ""}}),
                               "400ms " + rep({{RecordType::change_to_include, ""}}),
                           }));
    EXPECT_FALSE(engine().group_snapshot(ip(n.group)));
}

TEST_F(StateChange, ModeChangeSupersedesPendingSourceRecords) {
    settle(n.group, in("a"));
    rnd.open(900ms);
    change(n.group, in("a"), in("ab"));
    clock.set(at(100ms));
    rnd.open(300ms);
    change(n.group, in("ab"), ex("c"));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms " + rep({{RecordType::allow_new_sources, "b"}}),
                               "100ms " + rep({{RecordType::change_to_exclude, "c"}}),
                               "400ms " + rep({{RecordType::change_to_exclude, "c"}}),
                           }));
}

// The TO_EX / TO_IN record states every source: the per-source state of earlier changes is
// dropped with a mode change rather than left to outlive it.
TEST_F(StateChange, ModeChangeDropsPendingSourceState) {
    make(Family::v4, HostConfig{.robustness = 3});
    rnd.open(900ms);
    change(n.group, FilterState::none(), in("a"));
    rnd.open(900ms);
    change(n.group, in("a"), ex("c"));
    auto g = engine().group_snapshot(ip(n.group));
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->pending_allow.empty());
    EXPECT_TRUE(g->pending_block.empty());
    EXPECT_EQ(g->mode_retransmissions, 2);
    EXPECT_EQ(g->pending_retransmissions, 2);
}

// A source change after a mode change: the source outlives the mode counter when robustness
// is 3 and the change comes after the first mode report.
TEST_F(StateChange, SourceRetransmissionsContinueAfterModeCounterIsSpent) {
    make(Family::v4, HostConfig{.robustness = 3});
    rnd.open(500ms);
    change(n.group, FilterState::none(), in("a")); // ALLOW a  (a: 3 -> 2)
    clock.set(at(100ms));
    rnd.open(500ms);
    change(n.group, in("a"), ex("")); // TO_EX {} (mode 3 -> 2)
    clock.set(at(200ms));
    rnd.open(500ms);
    rnd.open(500ms);
    change(n.group, ex(""), ex("b")); // TO_EX {b} (mode 2 -> 1, b 3 -> 2)
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms " + rep({{RecordType::allow_new_sources, "a"}}),
                               "100ms " + rep({{RecordType::change_to_exclude, ""}}),
                               "200ms " + rep({{RecordType::change_to_exclude, "b"}}),
                               "700ms " + rep({{RecordType::change_to_exclude, "b"}}),
                               "1200ms " + rep({{RecordType::block_old_sources, "b"}}),
                           }));
}

TEST_F(StateChange, RetransmissionsOfSeveralGroupsDueTogetherShareOneReport) {
    rnd.open(600ms);
    change("232.1.1.1", FilterState::none(), ex(""));
    clock.set(at(100ms));
    rnd.open(500ms);
    change("232.1.1.2", FilterState::none(), in("a"));
    run_for(60s);
    EXPECT_EQ(sink.take(), (std::vector<std::string>{
                               "0ms REPORT TO_EX(232.1.1.1 {})",
                               "100ms REPORT ALLOW(232.1.1.2 {10.0.0.1})",
                               "600ms REPORT TO_EX(232.1.1.1 {}) ALLOW(232.1.1.2 {10.0.0.1})",
                           }));
    ASSERT_EQ(sink.messages.size(), 3u);
    const auto& merged = std::get<wire::Report>(sink.messages[2]);
    EXPECT_EQ(merged.family, Family::v4);
    EXPECT_EQ(merged.records.size(), 2u);
}

TEST_F(StateChange, SnapshotShowsPendingAllowAndBlockSources) {
    settle(n.group, in("ab"));
    rnd.open(900ms);
    change(n.group, in("ab"), in("bc"));
    auto g = engine().group_snapshot(ip(n.group));
    ASSERT_TRUE(g);
    EXPECT_EQ(g->filter, in("bc"));
    EXPECT_EQ(g->pending_allow, letters(n, "c"));
    EXPECT_EQ(g->pending_block, letters(n, "a"));
    EXPECT_EQ(g->pending_retransmissions, 1);
    EXPECT_EQ(g->retransmit_at, at(900ms));
    EXPECT_EQ(engine().next_deadline(), at(900ms));
}

TEST_F(StateChange, GroupOfTheOtherFamilyIsIgnored) {
    change("ff3e::1", FilterState::none(), ex(""));
    EXPECT_TRUE(sink.take().empty());
    EXPECT_TRUE(engine().snapshot().groups.empty());
}

} // namespace
} // namespace mcfwd::host::test
