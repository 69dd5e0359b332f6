// Randomized test: 100,000+ random operations over several receivers, ports,
// groups and sources, against a brute-force oracle that keeps only the
// receivers' wishes and recomputes every port's merged state from scratch
// with std::set after each step. Checked after every step: the return code,
// every receiver filter, every port's merged state and reference counts, and
// that events were announced exactly for the (port, group) pairs whose merged
// state changed, with the right old and new filters.
#include "random_ops.hpp"

#include <gtest/gtest.h>

namespace mcfwd::membership {
namespace {

using testing::RandomOps;

TEST(EngineRandom, HundredThousandOperationsMatchBruteForceOracle) {
    testing::Recorder rec;
    Engine engine(testing::random_ops_limits(), &rec);
    RandomOps t(engine, rec);
    const int steps = 120000;
    for (int i = 0; i < steps; ++i) {
        std::string what = t.step();
        t.check("step " + std::to_string(i) + " " + what);
        if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
            ADD_FAILURE() << "stopped at step " << i;
            return;
        }
    }
    // The run must have exercised the interesting paths, or it proves little.
    EXPECT_GT(t.engine.stats().ok, 30000u);
    EXPECT_GT(t.engine.stats().failed, 10000u);
    EXPECT_GT(t.engine.stats().events, 20000u);
}

} // namespace
} // namespace mcfwd::membership
