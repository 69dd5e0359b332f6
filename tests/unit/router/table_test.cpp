// RFC 3376 §6.4.1 / §6.4.2 and RFC 3810 §7.4.1 / §7.4.2, row by row: router state before,
// record, router state after with every timer's exact value, and the queries sent — once as
// the querier and once as a non-querier (which sends nothing and lowers nothing, §6.6.3).
#include "router_test_support.hpp"

#include <tuple>

namespace mcfwd::router::test {
namespace {

using enum FilterMode;

// Before the record (at t = 10 s; GMI 260 s, LMQT 2 s):
//   INCLUDE(A):    IS_IN(ab) at 5 s                      -> a:265 b:265
//   EXCLUDE(X,Y):  IS_EX(cd) at 0 s, ALLOW(ab) at 5 s    -> a:265 b:265 c:0 d:0, group timer 260
// so in the expectations 265 = unchanged, 270 = GMI, 260 = "Group Timer", 12 = lowered to
// LMQT, 0 = zero timer (blocked).
struct TableRow {
    const char* name;
    FilterMode before;
    RecordType type;
    std::string_view record;
    FilterMode after;
    const char* timers;      // querier
    const char* group_timer; // querier
    std::vector<std::string> queries;
    const char* listener_timers;
    const char* listener_group_timer;
};

const std::vector<TableRow> table_rows = {
    // §6.4.1 / RFC 3810 §7.4.1
    {"Inc_IsIn",
     include,
     RecordType::mode_is_include,
     "bc",
     include, // INCLUDE(A+B), (B)=GMI
     "a:265 b:270 c:270",
     "never",
     {},
     "a:265 b:270 c:270",
     "never"},
    {"Inc_IsEx",
     include,
     RecordType::mode_is_exclude,
     "bc",
     exclude, // EXCLUDE(A*B,B-A),
     "b:265 c:0",
     "270",
     {},
     "b:265 c:0",
     "270"}, // (B-A)=0, Delete(A-B), GT=GMI
    {"Exc_IsIn",
     exclude,
     RecordType::mode_is_include,
     "bce",
     exclude, // EXCLUDE(X+A,Y-A),
     "a:265 b:270 c:270 d:0 e:270",
     "260",
     {},
     "a:265 b:270 c:270 d:0 e:270",
     "260"}, // (A)=GMI
    {"Exc_IsEx",
     exclude,
     RecordType::mode_is_exclude,
     "bce",
     exclude, // EXCLUDE(A-Y,Y*A),
     "b:265 c:0 e:270",
     "270",
     {},
     "b:265 c:0 e:270",
     "270"}, // (A-X-Y)=GMI, Delete(X-A),
             // Delete(Y-A), GT=GMI
    // §6.4.2 / RFC 3810 §7.4.2
    {"Inc_Allow",
     include,
     RecordType::allow_new_sources,
     "bc",
     include, // INCLUDE(A+B),
     "a:265 b:270 c:270",
     "never",
     {},
     "a:265 b:270 c:270",
     "never"}, // (B)=GMI
    {"Inc_Block",
     include,
     RecordType::block_old_sources,
     "bc",
     include, // INCLUDE(A),
     "a:265 b:12",
     "never",
     {"Q(G,b) S=0"},
     "a:265 b:265",
     "never"}, // Send Q(G,A*B)
    {"Inc_ToEx",
     include,
     RecordType::change_to_exclude,
     "bc",
     exclude, // EXCLUDE(A*B,B-A),
     "b:12 c:0",
     "270",
     {"Q(G,b) S=0"},
     "b:265 c:0",
     "270"}, // (B-A)=0, Delete(A-B),
             // Send Q(G,A*B), GT=GMI
    {"Inc_ToIn",
     include,
     RecordType::change_to_include,
     "bc",
     include, // INCLUDE(A+B),
     "a:12 b:270 c:270",
     "never",
     {"Q(G,a) S=0"},
     "a:265 b:270 c:270",
     "never"}, // (B)=GMI,
               // Q(G,A-B)
    {"Exc_Allow",
     exclude,
     RecordType::allow_new_sources,
     "bce",
     exclude, // EXCLUDE(X+A,Y-A),
     "a:265 b:270 c:270 d:0 e:270",
     "260",
     {},
     "a:265 b:270 c:270 d:0 e:270",
     "260"}, // (A)=GMI
    {"Exc_Block",
     exclude,
     RecordType::block_old_sources,
     "bce",
     exclude, // EXCLUDE(X+(A-Y),Y)
     "a:265 b:12 c:0 d:0 e:12",
     "260",
     {"Q(G,be) S=0"}, // (A-X-Y)=Group Timer,
     "a:265 b:265 c:0 d:0 e:260",
     "260"}, // Send Q(G,A-Y)
    {"Exc_ToEx",
     exclude,
     RecordType::change_to_exclude,
     "bce",
     exclude, // EXCLUDE(A-Y,Y*A),
     "b:12 c:0 e:12",
     "270",
     {"Q(G,be) S=0"}, // (A-X-Y)=Group Timer, Delete(X-A),
     "b:265 c:0 e:260",
     "270"}, // Delete(Y-A), Send Q(G,A-Y), GT=GMI
    {"Exc_ToIn",
     exclude,
     RecordType::change_to_include,
     "bce",
     exclude, // EXCLUDE(X+A,Y-A),
     "a:12 b:270 c:270 d:0 e:270",
     "12",
     {"Q(G) S=0", "Q(G,a) S=0"}, // (A)=GMI, Q(G,X-A),
     "a:265 b:270 c:270 d:0 e:270",
     "260"}, // Q(G)
};

// The forwarding state a row's "after" implies (§6.3).
FilterState implied_forwarding(const Names& n, FilterMode mode, std::string_view timers) {
    FilterState f{mode, {}};
    while (!timers.empty()) {
        const size_t end = std::min(timers.find(' '), timers.size());
        const std::string_view token = timers.substr(0, end); // "a:265" or "c:0"
        if (mode == include || token.substr(1) == ":0")
            f.sources.insert(letter(n, token[0]));
        timers.remove_prefix(std::min(end + 1, timers.size()));
    }
    return f;
}

void PrintTo(const TableRow& row, std::ostream* os) {
    *os << row.name;
}

using Param = std::tuple<TableRow, const Names*, bool>;

class RecordTable : public ::testing::TestWithParam<Param> {};

TEST_P(RecordTable, StateTimersAndQueriesMatchTheRfcRow) {
    const auto& [row, names, querier] = GetParam();
    RouterConfig config = default_config(*names);
    config.querier = querier;
    RouterHarness h(*names, config);
    h.engine.start(h.now());
    if (row.before == include) {
        h.run_until(at(5s));
        h.report(RecordType::mode_is_include, "ab");
        ASSERT_EQ(h.timers(), "a:265 b:265");
    } else {
        h.report(RecordType::mode_is_exclude, "cd");
        h.run_until(at(5s));
        h.report(RecordType::allow_new_sources, "ab");
        ASSERT_EQ(h.timers(), "a:265 b:265 c:0 d:0");
        ASSERT_EQ(RouterHarness::seconds(h.group().group_timer), "260");
    }
    h.run_until(at(10s));
    const FilterState before = h.fwd();
    h.sink.clear();

    h.report(row.type, row.record);

    const GroupSnapshot g = h.group();
    EXPECT_EQ(g.mode, row.after);
    EXPECT_EQ(h.timers(), querier ? row.timers : row.listener_timers);
    EXPECT_EQ(RouterHarness::seconds(g.group_timer),
              querier ? row.group_timer : row.listener_group_timer);
    EXPECT_EQ(h.sink.sent, querier ? row.queries : std::vector<std::string>{});
    for (const wire::Query& q : h.sink.queries) {
        EXPECT_EQ(q.max_response, 1s); // [Last Member Query Interval]
        EXPECT_EQ(q.version, names->family == Family::v4 ? 3 : 2);
    }
    const FilterState after =
        implied_forwarding(*names, row.after, querier ? row.timers : row.listener_timers);
    EXPECT_EQ(h.fwd(), after);
    if (before == after) {
        EXPECT_TRUE(h.sink.changes.empty()) << h.sink.fwd.front();
    } else {
        ASSERT_EQ(h.sink.changes.size(), 1u);
        EXPECT_EQ(h.sink.changes[0].old_state, before);
        EXPECT_EQ(h.sink.changes[0].new_state, after);
    }
}

INSTANTIATE_TEST_SUITE_P(Rfc3376And3810, RecordTable,
                         ::testing::Combine(::testing::ValuesIn(table_rows),
                                            ::testing::Values(&v4_names, &v6_names),
                                            ::testing::Bool()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                             return std::string(std::get<0>(info.param).name) + "_" +
                                    std::get<1>(info.param)->name +
                                    (std::get<2>(info.param) ? "_Querier" : "_NonQuerier");
                         });

// The rows where the group has no record yet: the router state is INCLUDE({}).
class NoRecordYet : public ::testing::TestWithParam<const Names*> {};

TEST_P(NoRecordYet, BlockAndEmptyIncludesCreateNothing) {
    RouterHarness h(*GetParam(), default_config(*GetParam()));
    h.engine.start(h.now());
    h.sink.clear();
    h.report(RecordType::block_old_sources, "ab");
    h.report(RecordType::change_to_include, "");
    h.report(RecordType::mode_is_include, "");
    h.report(RecordType::allow_new_sources, "");
    EXPECT_FALSE(h.has_group());
    EXPECT_TRUE(h.sink.sent.empty());
    EXPECT_TRUE(h.sink.changes.empty());
    EXPECT_EQ(h.engine.counters().records, 4u);
}

TEST_P(NoRecordYet, ToExCreatesExcludeWithBlockedSources) {
    RouterHarness h(*GetParam(), default_config(*GetParam()));
    h.report(RecordType::change_to_exclude, "ab");
    EXPECT_EQ(h.group().mode, exclude);
    EXPECT_EQ(h.timers(), "a:0 b:0");
    EXPECT_EQ(RouterHarness::seconds(h.group().group_timer), "260");
    EXPECT_EQ(h.fwd(), (FilterState{exclude, letters(*GetParam(), "ab")}));
    ASSERT_EQ(h.sink.changes.size(), 1u);
    EXPECT_EQ(h.sink.changes[0].old_state, FilterState::none());
}

TEST_P(NoRecordYet, InvalidGroupsAndSourcesAreIgnoredAndCounted) {
    const Names& n = *GetParam();
    RouterHarness h(n, default_config(n));
    wire::Report r;
    r.family = n.family;
    const char* unicast = n.family == Family::v4 ? "10.1.1.1" : "2001:db8::99";
    const char* all = n.family == Family::v4 ? "224.0.0.1" : "ff02::1";
    const char* bad_source = n.family == Family::v4 ? "239.1.1.1" : "ff3e::9";
    r.records.push_back({RecordType::mode_is_exclude, ip(unicast), {}});
    r.records.push_back({RecordType::mode_is_exclude, ip(all), {}});
    r.records.push_back(
        {RecordType::mode_is_include, ip(n.group), {ip(bad_source), letter(n, 'a')}});
    h.engine.on_report(h.now(), r);
    EXPECT_EQ(h.engine.counters().records_ignored, 2u);
    EXPECT_EQ(h.engine.counters().sources_ignored, 1u);
    EXPECT_EQ(h.engine.group_count(), 1u);
    EXPECT_EQ(h.timers(), "a:260");
    // A report of the other family is not ours.
    wire::Report other;
    other.family = n.family == Family::v4 ? Family::v6 : Family::v4;
    other.records.push_back({RecordType::mode_is_exclude, ip(v4_names.group), {}});
    h.engine.on_report(h.now(), other);
    EXPECT_EQ(h.engine.counters().reports, 1u);
}

INSTANTIATE_TEST_SUITE_P(Families, NoRecordYet, ::testing::Values(&v4_names, &v6_names),
                         [](const auto& info) { return std::string(info.param->name); });

} // namespace
} // namespace mcfwd::router::test
