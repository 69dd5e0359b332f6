// SpscRing: order, bounds, ownership, and two threads at once (also run under
// ThreadSanitizer: scripts/test.sh TSAN_TESTS).
#include "base/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace mcfwd {
namespace {

TEST(SpscRing, CapacityIsRoundedUpToAPowerOfTwo) {
    EXPECT_EQ(SpscRing<int>(0).capacity(), 1u);
    EXPECT_EQ(SpscRing<int>(5).capacity(), 8u);
    EXPECT_EQ(SpscRing<int>(8).capacity(), 8u);
}

// The oldest value, or nullopt when the ring is empty.
template <class T>
std::optional<T> pop(SpscRing<T>& r) {
    T v{};
    if (!r.try_pop(v))
        return std::nullopt;
    return v;
}

TEST(SpscRing, ValuesComeOutInTheOrderTheyWentIn) {
    SpscRing<int> r(4);
    EXPECT_TRUE(r.empty());
    int untouched = 7;
    EXPECT_FALSE(r.try_pop(untouched));
    EXPECT_EQ(untouched, 7);
    for (int round = 0; round < 3; ++round) { // wraps the indices around
        for (int i = 0; i < 3; ++i)
            EXPECT_TRUE(r.try_push(round * 10 + i));
        for (int i = 0; i < 3; ++i)
            EXPECT_EQ(pop(r), round * 10 + i);
    }
    EXPECT_TRUE(r.empty());
}

TEST(SpscRing, AFullRingRefusesAndLeavesTheValueWithTheCaller) {
    SpscRing<std::unique_ptr<int>> r(2);
    EXPECT_TRUE(r.try_push(std::make_unique<int>(1)));
    EXPECT_TRUE(r.try_push(std::make_unique<int>(2)));
    auto third = std::make_unique<int>(3);
    EXPECT_FALSE(r.try_push(third));
    ASSERT_TRUE(third) << "a refused value is not moved from";
    std::unique_ptr<int> out;
    ASSERT_TRUE(r.try_pop(out));
    EXPECT_EQ(*out, 1);
    EXPECT_TRUE(r.try_push(third));
    EXPECT_FALSE(third);
    ASSERT_TRUE(r.try_pop(out));
    EXPECT_EQ(*out, 2);
    ASSERT_TRUE(r.try_pop(out));
    EXPECT_EQ(*out, 3);
    EXPECT_FALSE(r.try_pop(out));
}

TEST(SpscRing, TwoThreadsPassOwnedValuesInOrderWithoutLoss) {
    constexpr int n = 200000;
    SpscRing<std::vector<int>> r(64); // small: the producer often finds it full
    std::thread producer([&] {
        for (int i = 0; i < n; ++i) {
            std::vector<int> v{i, -i};
            while (!r.try_push(v))
                std::this_thread::yield();
        }
    });
    int expected = 0;
    bool in_order = true;
    std::vector<int> v;
    while (expected < n) {
        if (r.try_pop(v)) {
            in_order &= v.size() == 2 && v[0] == expected && v[1] == -expected;
            ++expected;
        } else {
            std::this_thread::yield();
        }
    }
    producer.join();
    EXPECT_TRUE(in_order);
    EXPECT_TRUE(r.empty());
}

} // namespace
} // namespace mcfwd
