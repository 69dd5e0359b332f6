// A GoogleTest environment that brings DPDK's EAL up once per test program with
// virtual devices only: no hugepages (unless MCFWD_TEST_HUGEPAGES=1), no PCI.
//
// Usage, in a test program's main() or at namespace scope:
//   ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment(
//       {"--vdev=net_ring0", "--vdev=net_null0,no-rx=1"}));
// Tests that need the EAL call EalEnvironment::require() first; if it did not
// come up they fail with the EAL's reason (they never pass silently).
#pragma once

#include <rte_eal.h>
#include <rte_errno.h>

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace mcfwd::testing {

class EalEnvironment : public ::testing::Environment {
public:
    /// lcores: the EAL's -l list ("0,1" for a test that launches a worker lcore).
    explicit EalEnvironment(std::vector<std::string> extra, std::string lcores = "0")
        : extra_(std::move(extra)), lcores_(std::move(lcores)) {}

    void SetUp() override {
        // --no-huge cannot be combined with --in-memory in DPDK 22.11 (it implies
        // legacy memory); a per-process file prefix keeps parallel programs apart.
        // MCFWD_TEST_HUGEPAGES=1 (set by tests/eal/hugepages.sh, which reserves
        // the pages) runs on hugepages instead, --in-memory: no files left behind.
        const char* huge = std::getenv("MCFWD_TEST_HUGEPAGES");
        const bool hugepages = huge != nullptr && std::string(huge) == "1";
        std::vector<std::string> args = {"mcfwd-test",
                                         hugepages ? "--in-memory" : "--no-huge",
                                         "--no-pci",
                                         "--file-prefix=mcfwd-test-" + std::to_string(getpid()),
                                         "-m",
                                         "256",
                                         "--log-level=lib.eal:warning",
                                         "-l",
                                         lcores_};
        args.insert(args.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        int rc = rte_eal_init(static_cast<int>(argv.size()), argv.data());
        up_ = rc >= 0;
        if (!up_)
            error_ = std::string("rte_eal_init failed: ") + rte_strerror(rte_errno);
    }
    void TearDown() override {
        if (!up_)
            return;
        const std::string runtime_dir = rte_eal_get_runtime_dir();
        rte_eal_cleanup();
        std::error_code ignored; // best effort: leave no /var/run/dpdk/<prefix> behind
        std::filesystem::remove_all(runtime_dir, ignored);
    }
    /// Fails the calling test (fatally) unless the EAL is up.
    static void require() { ASSERT_TRUE(up_) << error_; }
    static bool up() { return up_; }

private:
    std::vector<std::string> extra_;
    std::string lcores_;
    static inline bool up_ = false;
    static inline std::string error_ = "EAL not initialised";
};

} // namespace mcfwd::testing
