// next_deadline() comes from the engine's timer::DeadlineIndex (issue 14); here it is checked
// against a scan of every timer the snapshot shows — what next_deadline() computed before —
// after every step of random joins, leaves, queries of every version, legacy reports,
// address changes and spaced shutdowns, including steps that leave timers overdue.
#include "host/host_engine.hpp"

#include "base/random.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mcfwd::host {
namespace {

using namespace std::chrono_literals;

time_point scanned_deadline(const HostEngine& e) {
    const HostSnapshot s = e.snapshot();
    time_point t = std::min({s.v1_querier_until, s.v2_querier_until, s.interface_timer});
    for (const GroupSnapshot& g : s.groups)
        t = std::min({t, g.group_timer, g.retransmit_at, g.legacy_timer});
    return t;
}

struct CountingSink final : ReportSink {
    void send(const wire::Message&) override { ++sent; }
    uint64_t sent = 0;
};

class DeadlineIndexed : public ::testing::TestWithParam<Family> {};

TEST_P(DeadlineIndexed, NextDeadlineIsTheEarliestTimerOfAnyGroup) {
    const Family family = GetParam();
    const bool v4 = family == Family::v4;
    SplitMix rng(5);
    CountingSink sink;
    HostEngine e(family, HostConfig{}, rng, sink);
    time_point now{};
    e.set_address_ready(now, true);
    auto addr = [&](const char* v4_prefix, const char* v6_prefix, uint64_t k) {
        return *IpAddr::parse((v4 ? v4_prefix : v6_prefix) + std::to_string(k));
    };
    for (int step = 0; step < 6000; ++step) {
        SCOPED_TRACE(::testing::Message() << "step " << step);
        const IpAddr group = addr("239.2.0.", "ff0e::", 1 + rng.below(12));
        const uint64_t what = rng.below(100);
        if (what < 35) {
            FilterState f = FilterState::none();
            if (rng.below(4) != 0) {
                SourceSet sources;
                for (uint64_t i = 0; i < 3; ++i)
                    if (rng.below(2) != 0)
                        sources.insert(addr("10.0.0.", "2001:db8::", 1 + i));
                f = FilterState{rng.below(2) != 0 ? FilterMode::include : FilterMode::exclude,
                                sources};
            }
            e.on_state_change(now, group, FilterState::none(), f);
        } else if (what < 50) {
            wire::Query q;
            q.family = family;
            // Mostly the newest version; sometimes an older querier (compatibility modes).
            const uint64_t old = rng.below(10);
            q.version = uint8_t(old == 0 ? 1 : old == 1 && v4 ? 2 : v4 ? 3 : 2);
            q.group = rng.below(3) == 0 ? group : (v4 ? IpAddr::v4(0) : IpAddr{});
            q.max_response = std::chrono::milliseconds(1 + rng.below(10000));
            if (rng.below(2) != 0 && !q.group.is_unspecified())
                q.sources = {addr("10.0.0.", "2001:db8::", 1 + rng.below(3))};
            e.on_query(now, q);
        } else if (what < 55) {
            e.on_legacy_report(now, {family, uint8_t(v4 ? 2 : 1), group});
        } else if (what < 57) {
            e.set_address_ready(now, rng.below(3) != 0);
        } else if (what < 58) {
            e.leave_all(now, HostEngine::Spacing::spaced);
        } else if (what < 85) {
            // The control loop: time passes to a deadline or a little beyond, then on_timer.
            const time_point d = e.next_deadline();
            now = std::max(now, d == time_never ? now + 1s
                                                : d + std::chrono::milliseconds(rng.below(3)));
            e.on_timer(now);
        } else {
            // Time passes without on_timer: the due timers stay (overdue) until it runs.
            now = now + std::chrono::milliseconds(rng.below(3000));
        }
        ASSERT_EQ(e.next_deadline(), scanned_deadline(e));
    }
    EXPECT_GT(sink.sent, 1000u);
}

INSTANTIATE_TEST_SUITE_P(Families, DeadlineIndexed, ::testing::Values(Family::v4, Family::v6),
                         [](const auto& info) {
                             return std::string(info.param == Family::v4 ? "IGMP" : "MLD");
                         });

} // namespace
} // namespace mcfwd::host
