// ethdev::Eal brings the EAL up once per process and says why a second attempt fails.
#include "ethdev/eal.hpp"

#include <rte_eal.h>
#include <rte_lcore.h>

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

namespace {

using mcfwd::ethdev::Eal;

std::vector<std::string> args() {
    return {"mcfwd-eal-test",
            "--no-huge",
            "--no-pci",
            "--file-prefix=mcfwd-eal-test-" + std::to_string(getpid()),
            "-m",
            "64",
            "--log-level=lib.eal:warning",
            "-l",
            "0",
            "--",
            "app-arg"};
}

TEST(Eal, InitialisesOnceAndRefusesASecondInitWithTheReason) {
    std::string runtime_dir;
    {
        Eal eal(args());
        // Everything after the program name up to and including "--" is the
        // EAL's; "app-arg" is the application's.
        EXPECT_EQ(eal.consumed(), static_cast<int>(args().size()) - 2);
        EXPECT_EQ(args()[eal.consumed() + 1], "app-arg");
        EXPECT_EQ(rte_lcore_count(), 1u);
        runtime_dir = rte_eal_get_runtime_dir();
        try {
            Eal again(args());
            ADD_FAILURE() << "a second rte_eal_init must fail";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("rte_eal_init failed"), std::string::npos)
                << e.what();
        }
    }
    std::error_code ignored;
    std::filesystem::remove_all(runtime_dir, ignored);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
