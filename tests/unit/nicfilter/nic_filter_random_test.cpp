// NicFilter against a brute-force oracle: random joins, leaves, forced allmulticast and
// device resets over ~300 groups whose MACs collide, on a 32-entry table.
#include "nicfilter/nic_filter.hpp"
#include "simnic/sim_nic.hpp"

#include "base/random.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <set>
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

TEST(NicFilterRandom, MatchesOracleOverHundredThousandOps) {
    constexpr size_t capacity = 32;
    constexpr int ops = 100'000;
    const std::vector<IpAddr> pool = group_pool();
    ASSERT_EQ(pool.size(), 300u);

    SimNic nic(capacity);
    NicFilter filter(nic);
    SplitMix rnd(0x6d63667764ULL);

    std::map<IpAddr, uint32_t> held; // oracle: group -> references
    bool forced = false;
    auto wanted = [&] {
        std::set<MacAddr> w;
        for (const auto& [g, refs] : held)
            w.insert(g.multicast_mac());
        return w;
    };

    std::set<MacAddr> before = wanted();
    int crossings = 0;
    for (int step = 0; step < ops; ++step) {
        const uint64_t calls = nic.calls();
        const uint64_t list_calls = nic.list_calls();
        const uint64_t r = rnd.below(1000);
        bool membership_op = false;
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
            const bool joining = wanted().size() < target;
            if (rnd.below(100) < (joining ? 80u : 20u)) {
                const IpAddr g = pool[rnd.below(pool.size())];
                ASSERT_EQ(filter.add_group(g), errc::ok);
                ++held[g];
            } else {
                IpAddr g = pool[rnd.below(pool.size())];
                if (!held.empty() && rnd.below(10) != 0) {
                    auto it = held.begin();
                    std::advance(it, rnd.below(held.size()));
                    g = it->first;
                }
                auto it = held.find(g);
                if (it == held.end()) {
                    ASSERT_EQ(filter.remove_group(g), errc::addr_not_avail) << step;
                } else {
                    ASSERT_EQ(filter.remove_group(g), errc::ok) << step;
                    if (--it->second == 0)
                        held.erase(it);
                }
            }
        }

        const std::set<MacAddr> w = wanted();
        const bool fits = w.size() <= capacity;
        if (fits != (before.size() <= capacity))
            ++crossings;

        if (fits) {
            ASSERT_EQ(nic.table(), w) << "step " << step;
            ASSERT_EQ(filter.programmed(), std::vector<MacAddr>(w.begin(), w.end()));
        }
        ASSERT_EQ(nic.allmulticast(), forced || !fits) << "step " << step;
        ASSERT_EQ(filter.allmulti(), nic.allmulticast());
        ASSERT_EQ(filter.reason(), forced  ? AllmultiReason::forced
                                   : !fits ? AllmultiReason::table_full
                                           : AllmultiReason::none);
        ASSERT_EQ(filter.wanted_mac_count(), w.size());
        if (membership_op) {
            if (w == before)
                ASSERT_EQ(nic.calls(), calls) << "MAC set unchanged: no device call, step " << step;
            else if (fits)
                ASSERT_EQ(nic.list_calls(), list_calls + 1) << "step " << step;
            else
                ASSERT_LE(nic.list_calls(), list_calls + 1) << "step " << step;
        }
        // mc_multicst(9E): each MAC added once and removed once, never twice in a row.
        for (const MacAddr& m : nic.ever_seen()) {
            const uint64_t a = nic.added(m);
            const uint64_t d = nic.removed(m);
            ASSERT_TRUE(a == d || a == d + 1) << m.to_string() << " step " << step;
            ASSERT_EQ(a == d + 1, nic.table().contains(m));
        }
        before = w;
    }
    // The workload really exercised the fallback both ways, and the refusal memory.
    EXPECT_GT(crossings, 20);
    EXPECT_GT(filter.counters().list_failures, 0u);
    EXPECT_GT(filter.counters().allmulti_enables, 20u);
    EXPECT_LT(filter.counters().list_failures, filter.counters().list_programs);
}

} // namespace
