// next_deadline() comes from the engine's timer::DeadlineIndex (issue 14); here it is checked
// against a scan of every timer the snapshots show — what next_deadline() computed before —
// after every step of random sequences, including steps that leave timers overdue.
#include "router_test_support.hpp"

#include "base/random.hpp"

namespace mcfwd::router::test {
namespace {

time_point scanned_deadline(const RouterEngine& e) {
    const QuerierSnapshot q = e.querier();
    // Started with config.querier: a non-querier waits for Other Querier Present.
    time_point t = q.querier ? q.next_general_query : q.other_querier_until;
    for (const GroupSnapshot& g : e.groups()) {
        t = std::min({t, g.group_timer, g.v1_host_until, g.v2_host_until, g.next_query});
        for (const SourceSnapshot& s : g.sources)
            if (s.timer)
                t = std::min(t, *s.timer);
    }
    return t;
}

class DeadlineIndexed : public ::testing::TestWithParam<const Names*> {};

TEST_P(DeadlineIndexed, NextDeadlineIsTheEarliestTimerOfAnyGroup) {
    const Names& n = *GetParam();
    RouterHarness h(n, default_config(n));
    SplitMix rng(11);
    h.engine.start(h.now());
    const RecordType types[6] = {RecordType::mode_is_include,   RecordType::mode_is_exclude,
                                 RecordType::change_to_include, RecordType::change_to_exclude,
                                 RecordType::allow_new_sources, RecordType::block_old_sources};
    for (int step = 0; step < 4000; ++step) {
        SCOPED_TRACE(::testing::Message() << "step " << step);
        // Eight groups, so that timers of different groups interleave.
        const std::string k = std::to_string(1 + rng.below(8));
        const IpAddr group = ip((n.family == Family::v4 ? "239.1.1." + k : "ff0e::" + k).c_str());
        SourceSet sources;
        for (char ch = 'a'; ch <= 'e'; ++ch)
            if (rng.below(2) != 0)
                sources.insert(letter(n, ch));
        const uint64_t what = rng.below(100);
        if (what < 50) {
            h.engine.on_report(h.now(),
                               {n.family, {{types[rng.below(6)], group, sources.as_vector()}}});
        } else if (what < 56) {
            const uint8_t version = n.family == Family::v4 ? uint8_t(1 + rng.below(2)) : 1;
            h.engine.on_legacy_report(h.now(), {n.family, version, group});
        } else if (what < 62) {
            h.engine.on_leave(h.now(), {n.family, group});
        } else if (what < 68) {
            wire::Query q = rng.below(4) == 0 ? h.general_query() : h.group_query("", false);
            if (!q.group.is_unspecified()) {
                q.group = group;
                q.sources = rng.below(2) != 0 ? sources.as_vector() : std::vector<IpAddr>{};
            }
            h.engine.on_query(h.now(), q, ip(rng.below(3) == 0 ? n.lower : n.higher));
        } else if (what < 84) {
            h.run_for(std::chrono::milliseconds(rng.below(rng.below(4) == 0 ? 300000 : 3000)));
        } else {
            // Time passes without on_timer: the due timers stay (overdue) until it runs.
            h.clock.advance(std::chrono::milliseconds(rng.below(5000)));
        }
        ASSERT_EQ(h.engine.next_deadline(), scanned_deadline(h.engine));
    }
    EXPECT_GT(h.engine.counters().groups_expired, 0u);
}

INSTANTIATE_TEST_SUITE_P(Families, DeadlineIndexed, ::testing::Values(&v4_names, &v6_names),
                         [](const auto& info) { return std::string(info.param->name); });

} // namespace
} // namespace mcfwd::router::test
