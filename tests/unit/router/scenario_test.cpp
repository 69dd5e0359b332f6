// The scenarios of the Linux kernel's bridge selftests
// (tools/testing/selftests/net/forwarding/bridge_igmp.sh and bridge_mld.sh): the same reports
// in the same order, with the bridge's per-source state after each step — filter mode, which
// sources are listed, which have a zero timer ("blocked"), and which traffic is forwarded.
// The bridge there is the querier (mcast_querier 1), as this engine is by default.
#include "router_test_support.hpp"

#include <memory>

namespace mcfwd::router::test {
namespace {

using enum FilterMode;

// Selftest addresses: IGMP 239.10.10.10 with sources 192.0.2.N; MLD ff02::cc with sources
// 2001:db8:1::N (the scripts write N in the same digits for both).
const Names selftest_v4{
    Family::v4,     "239.10.10.10",
    "239.10.10.11", {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"},
    "192.0.2.254",  "192.0.2.250",
    "192.0.2.255",  "IGMP"};
const Names selftest_v6{
    Family::v6,
    "ff02::cc",
    "ff02::cd",
    {"2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3", "2001:db8:1::4", "2001:db8:1::5"},
    "fe80::100",
    "fe80::50",
    "fe80::200",
    "MLD"};

class BridgeSelftest : public ::testing::TestWithParam<const Names*> {
protected:
    BridgeSelftest() { make(default_config(n())); }
    const Names& n() const { return *GetParam(); }
    void make(const RouterConfig& c) {
        h = std::make_unique<RouterHarness>(n(), c);
        h->engine.start(h->now());
    }
    IpAddr src(int i) const {
        const std::string s = n().family == Family::v4 ? "192.0.2." + std::to_string(i)
                                                       : "2001:db8:1::" + std::to_string(i);
        return ip(s.c_str());
    }
    void send(RecordType type, std::initializer_list<int> sources) {
        wire::Report r;
        r.family = n().family;
        wire::GroupRecord rec{type, ip(n().group), {}};
        for (int i : sources)
            rec.sources.push_back(src(i));
        r.records.push_back(rec);
        h->engine.on_report(h->now(), r);
        h->run_for(1s); // the scripts' "sleep 1"
    }
    // check_sg_entries / check_sg_state / check_sg_fwding of the scripts.
    void expect(FilterMode mode, std::initializer_list<int> running,
                std::initializer_list<int> blocked, std::initializer_list<int> absent) {
        SCOPED_TRACE(::testing::Message() << "at " << RouterHarness::seconds(h->now()) << " s");
        auto g = h->engine.group_snapshot(ip(n().group));
        ASSERT_TRUE(g.has_value());
        EXPECT_EQ(g->mode, mode);
        auto timer_of = [&](int i) -> const SourceSnapshot* {
            for (const SourceSnapshot& s : g->sources)
                if (s.source == src(i))
                    return &s;
            return nullptr;
        };
        for (int i : running) {
            const SourceSnapshot* s = timer_of(i);
            ASSERT_NE(s, nullptr) << "missing " << i;
            EXPECT_TRUE(s->timer.has_value()) << i << " has a zero timer";
            EXPECT_TRUE(h->engine.forwards(src(i), ip(n().group))) << i;
        }
        for (int i : blocked) {
            const SourceSnapshot* s = timer_of(i);
            ASSERT_NE(s, nullptr) << "missing " << i;
            EXPECT_FALSE(s->timer.has_value()) << i << " is not blocked";
            EXPECT_FALSE(h->engine.forwards(src(i), ip(n().group))) << i;
        }
        for (int i : absent)
            EXPECT_EQ(timer_of(i), nullptr) << i << " still listed";
        // 192.0.2.100: unlisted, forwarded only in EXCLUDE mode.
        EXPECT_EQ(h->engine.forwards(src(100), ip(n().group)), mode == exclude);
    }
    void include_prepare() {
        send(RecordType::mode_is_include, {1, 2, 3});
        expect(include, {1, 2, 3}, {}, {});
    }
    void exclude_prepare() {
        include_prepare();
        send(RecordType::mode_is_exclude, {1, 2, 20, 21});
        expect(exclude, {1, 2}, {20, 21}, {3});
    }
    void set_lmqi_5s() { // "mcast_last_member_interval 500"
        RouterConfig c = default_config(n());
        c.last_member_query_interval = 5s;
        make(c);
    }

    std::unique_ptr<RouterHarness> h;
};

TEST_P(BridgeSelftest, OlderReportThenLeave) { // v2reportleave_test / MLDv1 equivalent
    h->engine.on_legacy_report(
        h->now(), {n().family, uint8_t(n().family == Family::v4 ? 2 : 1), ip(n().group)});
    EXPECT_TRUE(h->engine.forwards(src(1), ip(n().group)));
    h->engine.on_leave(h->now(), {n().family, ip(n().group)});
    h->run_for(5s);
    EXPECT_FALSE(h->has_group());
    EXPECT_FALSE(h->engine.forwards(src(1), ip(n().group)));
}

TEST_P(BridgeSelftest, Include) {
    include_prepare();
} // v3include_test

TEST_P(BridgeSelftest, IncludeAllow) { // v3inc_allow_test
    include_prepare();
    send(RecordType::allow_new_sources, {10, 11, 12});
    expect(include, {1, 2, 3, 10, 11, 12}, {}, {});
}

TEST_P(BridgeSelftest, IncludeIsInclude) { // v3inc_is_include_test
    include_prepare();
    send(RecordType::mode_is_include, {10, 11, 12});
    expect(include, {1, 2, 3, 10, 11, 12}, {}, {});
}

TEST_P(BridgeSelftest, IncludeIsExclude) {
    exclude_prepare();
} // v3inc_is_exclude_test

TEST_P(BridgeSelftest, IncludeToExclude) { // v3inc_to_exclude_test
    set_lmqi_5s();
    include_prepare();
    send(RecordType::change_to_exclude, {1, 20, 30});
    expect(exclude, {1}, {20, 30}, {2, 3, 21});
}

TEST_P(BridgeSelftest, ExcludeAllow) { // v3exc_allow_test
    exclude_prepare();
    send(RecordType::allow_new_sources, {20, 30});
    expect(exclude, {1, 2, 20, 30}, {21}, {3});
}

TEST_P(BridgeSelftest, ExcludeIsInclude) { // v3exc_is_include_test
    exclude_prepare();
    send(RecordType::mode_is_include, {20, 30});
    expect(exclude, {1, 2, 20, 30}, {21}, {3});
}

TEST_P(BridgeSelftest, ExcludeIsExclude) { // v3exc_is_exclude_test
    exclude_prepare();
    send(RecordType::mode_is_exclude, {20, 30});
    expect(exclude, {30}, {20}, {1, 2, 3, 21});
}

TEST_P(BridgeSelftest, ExcludeToExclude) { // v3exc_to_exclude_test
    set_lmqi_5s();
    exclude_prepare();
    send(RecordType::change_to_exclude, {1, 20, 30});
    expect(exclude, {1, 30}, {20}, {2, 3, 21});
}

TEST_P(BridgeSelftest, IncludeBlock) { // v3inc_block_test: lowered timer gone after 3 s
    include_prepare();
    send(RecordType::block_old_sources, {1, 20, 30});
    h->run_for(2s);
    expect(include, {2, 3}, {}, {1, 20, 30});
}

TEST_P(BridgeSelftest, ExcludeBlock) { // v3exc_block_test
    set_lmqi_5s();
    exclude_prepare();
    send(RecordType::block_old_sources, {1, 20, 30});
    expect(exclude, {1, 2, 30}, {20, 21}, {3});
}

// v3exc_timeout_test sets GMI to 3 s for the preparation and to 15 s before ALLOW(20, 30),
// so the group timer runs out while 20 and 30 still run. With one configuration (GMI 3 s:
// [Query Interval] 1.25 s, [Query Response Interval] 0.5 s) the same order of expiries
// happens when the ALLOW comes 1 s after IS_EX: 1 and 2 at 3 s, the group at 4 s, 20 and 30
// at 5 s.
TEST_P(BridgeSelftest, ExcludeTimeout) {
    RouterConfig c = default_config(n());
    c.query_interval = 1250ms;
    c.query_response_interval = 500ms;
    make(c);
    ASSERT_EQ(h->engine.querier().group_membership_interval, 3s);
    exclude_prepare();
    send(RecordType::allow_new_sources, {20, 30});
    h->run_until(at(4500ms));
    expect(include, {20, 30}, {}, {1, 2, 3, 21});
}

INSTANTIATE_TEST_SUITE_P(LinuxBridge, BridgeSelftest, ::testing::Values(&selftest_v4, &selftest_v6),
                         [](const auto& info) { return std::string(info.param->name); });

} // namespace
} // namespace mcfwd::router::test
