// NicFilter against a brute-force oracle: random joins, leaves, forced allmulticast and
// device resets over ~300 groups whose MACs collide, on a 32-entry table.
#include "nicfilter/nic_filter.hpp"
#include "simnic/sim_nic.hpp"

#include "base/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

namespace {

using mcfwd::errc;
using mcfwd::SplitMix;
using mcfwd::addr::IpAddr;
using mcfwd::addr::MacAddr;
using mcfwd::nicfilter::AllmultiReason;
using mcfwd::nicfilter::NicFilter;
using mcfwd::simnic::SimNic;

// 300 groups on 180 MACs: 224.1.0.i shares its MAC with 225.129.0.i and 239.1.0.i
// (RFC 1112 keeps 23 bits), ff0e::1:i with ff05::1:i (RFC 2464 keeps 32 bits).
std::vector<IpAddr> group_pool() {
    std::vector<IpAddr> pool;
    for (uint32_t i = 0; i < 100; ++i)
        pool.push_back(IpAddr::v4(0xe0010000u + i)); // 224.1.0.i
    for (uint32_t i = 0; i < 60; ++i)
        pool.push_back(IpAddr::v4(0xe1810000u + i)); // 225.129.0.i
    for (uint32_t i = 0; i < 30; ++i)
        pool.push_back(IpAddr::v4(0xef010000u + i)); // 239.1.0.i
    auto v6 = [](uint8_t scope, uint8_t i) {
        uint8_t b[16] = {0xff, scope, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, i};
        return IpAddr::from_v6_bytes(b);
    };
    for (uint8_t i = 0; i < 80; ++i)
        pool.push_back(v6(0x0e, i));
    for (uint8_t i = 0; i < 30; ++i)
        pool.push_back(v6(0x05, i));
    return pool;
}

struct RunStats {
    int crossings = 0; // the wanted set went from fitting to not, or back
    uint64_t mac_set_changes = 0;
    uint64_t faults = 0; // injected faults the manager ran into
    uint64_t recovering_steps = 0;
    mcfwd::nicfilter::NicFilterCounters counters;
};

// Runs ops random operations on a 32-entry SimNic and checks NicFilter against the
// oracle after each. With faults, an I/O or EINVAL failure is injected now and then;
// from the step that runs into it until the next change (which must retry), only the
// invariants that hold during a failure are checked.
void run_random(uint64_t seed, int ops, bool faults, RunStats& stats) {
    constexpr size_t capacity = 32;
    const std::vector<IpAddr> pool = group_pool();
    ASSERT_EQ(pool.size(), 300u);

    SimNic nic(capacity);
    NicFilter filter(nic);
    SplitMix rnd(seed);

    // The oracle: references per group (and the held groups as a list, to pick one
    // at random in O(1)) and, derived from it, groups per MAC.
    std::unordered_map<IpAddr, uint32_t> held;
    std::vector<IpAddr> held_list;
    std::map<MacAddr, uint32_t> wanted;
    bool forced = false;
    bool recovering = false;
    auto same_keys = [](const std::set<MacAddr>& table, const std::map<MacAddr, uint32_t>& w) {
        return table.size() == w.size() &&
               std::equal(table.begin(), table.end(), w.begin(),
                          [](const MacAddr& a, const auto& b) { return a == b.first; });
    };
    const std::set<MacAddr> pool_macs = [&] {
        std::set<MacAddr> s;
        for (const IpAddr& g : pool)
            s.insert(g.multicast_mac());
        return s;
    }();

    for (int step = 0; step < ops; ++step) {
        if (faults && !nic.fault_pending() && rnd.below(100) == 0)
            nic.fail_next(rnd.below(2) == 0 ? errc::io : errc::invalid);
        const bool fault_armed = nic.fault_pending();
        const uint64_t calls = nic.calls();
        const uint64_t list_calls = nic.list_calls();
        const size_t size_before = wanted.size();
        bool mac_set_changed = false;
        bool membership_op = false;
        const uint64_t r = rnd.below(1000);
        if (r < 10) {
            forced = !forced;
            filter.force_allmulticast(forced);
        } else if (r < 13) {
            nic.reset();
            filter.reprogram();
        } else {
            membership_op = true;
            // Steer the number of wanted MACs towards a target that moves below,
            // across and around the table size, so the fallback is entered and left
            // again and again (and hovers at the boundary).
            static constexpr size_t targets[] = {8, 45, 20, 60, 31, 34, 0, 33, 32, 90};
            const size_t target = targets[(step / 1500) % std::size(targets)];
            const bool joining = wanted.size() < target;
            IpAddr g = pool[rnd.below(pool.size())];
            if (rnd.below(100) < (joining ? 80u : 20u)) {
                ASSERT_EQ(filter.add_group(g), errc::ok);
                if (held[g]++ == 0) {
                    held_list.push_back(g);
                    mac_set_changed = wanted[g.multicast_mac()]++ == 0;
                }
            } else {
                if (!held_list.empty() && rnd.below(10) != 0)
                    g = held_list[rnd.below(held_list.size())];
                auto it = held.find(g);
                if (it == held.end()) {
                    ASSERT_EQ(filter.remove_group(g), errc::addr_not_avail) << step;
                } else {
                    ASSERT_EQ(filter.remove_group(g), errc::ok) << step;
                    if (--it->second == 0) {
                        held.erase(it);
                        auto pos = std::find(held_list.begin(), held_list.end(), g);
                        *pos = held_list.back();
                        held_list.pop_back();
                        auto m = wanted.find(g.multicast_mac());
                        if (--m->second == 0) {
                            wanted.erase(m);
                            mac_set_changed = true;
                        }
                    }
                }
            }
            ASSERT_EQ(filter.group_refcount(g), held.contains(g) ? held[g] : 0u);
            ASSERT_EQ(filter.mac_refcount(g.multicast_mac()),
                      wanted.contains(g.multicast_mac()) ? wanted[g.multicast_mac()] : 0u);
        }

        const bool fits = wanted.size() <= capacity;
        if (fits != (size_before <= capacity))
            ++stats.crossings;
        stats.mac_set_changes += mac_set_changed;
        const bool change = mac_set_changed || !membership_op;
        if (fault_armed && !nic.fault_pending()) {
            ++stats.faults;
            recovering = true;
        } else if (change) {
            recovering = false; // a change without failure must have retried everything
        }
        stats.recovering_steps += recovering;

        ASSERT_EQ(filter.wanted_mac_count(), wanted.size());
        if (membership_op) {
            if (!mac_set_changed)
                ASSERT_EQ(nic.calls(), calls) << "MAC set unchanged: no device call, step " << step;
            else if (fits)
                ASSERT_EQ(nic.list_calls(), list_calls + 1) << "step " << step;
            else
                ASSERT_LE(nic.list_calls(), list_calls + 1) << "step " << step;
        }
        // mc_multicst(9E): each MAC added once and removed once, never twice in a row.
        // The counts move only when the device is called.
        if (nic.calls() != calls) {
            // Both sorted: one walk, the table is a subsequence of the churn record.
            auto t = nic.table().begin();
            for (const auto& [m, c] : nic.churn()) {
                ASSERT_TRUE(c.added == c.removed || c.added == c.removed + 1)
                    << m.to_string() << " step " << step;
                const bool in_table = t != nic.table().end() && *t == m;
                ASSERT_EQ(c.added == c.removed + 1, in_table) << m.to_string();
                if (in_table)
                    ++t;
            }
            ASSERT_TRUE(t == nic.table().end());
        }
        if (recovering)
            continue;
        if (fits) {
            ASSERT_TRUE(same_keys(nic.table(), wanted)) << "step " << step;
            ASSERT_EQ(filter.programmed().size(), wanted.size());
        }
        ASSERT_EQ(nic.allmulticast(), forced || !fits) << "step " << step;
        ASSERT_EQ(filter.allmulti(), nic.allmulticast());
        ASSERT_EQ(filter.reason(), forced  ? AllmultiReason::forced
                                   : !fits ? AllmultiReason::table_full
                                           : AllmultiReason::none);
    }
    // Every MAC of the pool was in the table at some point, and nothing else was.
    EXPECT_EQ(nic.ever_seen(), pool_macs);
    stats.counters = filter.counters();
}

TEST(NicFilterRandom, MatchesOracleOverHundredThousandOps) {
    RunStats s;
    run_random(0x6d63667764ULL, 100'000, false, s);
    if (HasFatalFailure())
        return;
    RecordProperty("crossings", s.crossings);
    RecordProperty("list_programs", static_cast<int>(s.counters.list_programs));
    RecordProperty("list_failures", static_cast<int>(s.counters.list_failures));
    // The workload really exercised the fallback both ways and the no_space memory:
    // one refusal teaches the table size, later overflows cost no device call.
    EXPECT_GT(s.crossings, 1000);
    EXPECT_GE(s.counters.list_failures, 1u);
    EXPECT_LT(s.counters.list_failures, 10u);
    EXPECT_GT(s.counters.allmulti_enables, 1000u);
    EXPECT_LT(s.counters.list_programs + s.counters.list_failures, s.mac_set_changes + 1000);
}

TEST(NicFilterRandom, RecoversFromInjectedDeviceFailuresAtTheNextChange) {
    RunStats s;
    run_random(0x5eed2ULL, 100'000, true, s);
    if (HasFatalFailure())
        return;
    RecordProperty("faults", static_cast<int>(s.faults));
    RecordProperty("recovering_steps", static_cast<int>(s.recovering_steps));
    EXPECT_GT(s.faults, 200u);
    EXPECT_GT(s.counters.allmulti_failures, 20u);
    EXPECT_GT(s.counters.list_failures, 100u);
    EXPECT_LT(s.recovering_steps, 20'000u);
}

} // namespace
