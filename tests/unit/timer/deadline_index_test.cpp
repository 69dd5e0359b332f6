// DeadlineIndex against a brute-force model: a map of key -> deadline scanned in full,
// which is what the engines did before the index (issue 14).
#include "timer/deadline_index.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace {

using mcfwd::duration;
using mcfwd::time_never;
using mcfwd::time_point;
using mcfwd::timer::DeadlineIndex;

time_point at(int64_t ns) {
    return time_point{duration(ns)};
}

TEST(DeadlineIndex, EmptyHasNoDeadline) {
    DeadlineIndex<int> index;
    EXPECT_EQ(index.earliest(), time_never);
    EXPECT_TRUE(index.take_due(at(1000)).empty());
}

TEST(DeadlineIndex, RescheduleMovesTheKey) {
    DeadlineIndex<int> index;
    index.reschedule(7, time_never, at(50));
    index.reschedule(3, time_never, at(20));
    EXPECT_EQ(index.earliest(), at(20));
    index.reschedule(3, at(20), at(80));
    EXPECT_EQ(index.earliest(), at(50));
    index.reschedule(7, at(50), time_never);
    EXPECT_EQ(index.earliest(), at(80));
    EXPECT_EQ(index.size(), 1u);
}

TEST(DeadlineIndex, TakeDueReturnsDueKeysInKeyOrderAndLeavesTheRest) {
    DeadlineIndex<int> index;
    index.reschedule(9, time_never, at(10));
    index.reschedule(2, time_never, at(30));
    index.reschedule(5, time_never, at(30));
    index.reschedule(1, time_never, at(31));
    EXPECT_EQ(index.take_due(at(30)), (std::vector<int>{2, 5, 9}));
    EXPECT_EQ(index.earliest(), at(31));
    EXPECT_EQ(index.size(), 1u);
}

// Random reschedules, removals and take_due against a full scan of a map: the earliest
// deadline and the due keys (and their order) must agree after every step.
TEST(DeadlineIndex, AgreesWithBruteForceScan) {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        DeadlineIndex<int> index;
        std::map<int, time_point> model; // keys with a running deadline
        int64_t now = 0;
        for (int step = 0; step < 4000; ++step) {
            const int key = int(rng() % 200);
            const auto found = model.find(key);
            const time_point from = found == model.end() ? time_never : found->second;
            switch (rng() % 4) {
            case 0:
            case 1: { // (re)arm, possibly at a deadline another key has
                const time_point to = at(now + int64_t(rng() % 100));
                index.reschedule(key, from, to);
                model[key] = to;
                break;
            }
            case 2: // stop
                index.reschedule(key, from, time_never);
                model.erase(key);
                break;
            case 3: { // time passes; the due keys fire
                now += int64_t(rng() % 30);
                std::vector<int> expected;
                for (auto it = model.begin(); it != model.end();) {
                    if (it->second <= at(now)) {
                        expected.push_back(it->first);
                        it = model.erase(it);
                    } else {
                        ++it;
                    }
                }
                ASSERT_EQ(index.take_due(at(now)), expected) << "seed " << seed;
                break;
            }
            }
            time_point earliest = time_never;
            for (const auto& [k, t] : model)
                earliest = std::min(earliest, t);
            ASSERT_EQ(index.earliest(), earliest) << "seed " << seed << " step " << step;
            ASSERT_EQ(index.size(), model.size());
        }
    }
}

} // namespace
