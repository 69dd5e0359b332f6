// Every YAML file shipped under config/ must load: the default the demo uses and the
// examples the reference points to cannot rot unnoticed.
#include "base/random.hpp"
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mcfwd::config {
namespace {

std::vector<std::filesystem::path> shipped_configs() {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(MCFWD_CONFIG_DIR))
        if (e.is_regular_file() &&
            (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(ShippedConfigs, EveryFileUnderConfigLoads) {
    const auto files = shipped_configs();
    // default.yaml, mcfwd.yaml and at least the three examples the reference documents.
    EXPECT_GE(files.size(), 5u);
    for (const auto& f : files) {
        SCOPED_TRACE(f.string());
        try {
            const Config c = load_file(f.string());
            EXPECT_FALSE(c.ports.empty());
        } catch (const ConfigError& e) {
            ADD_FAILURE() << e.what();
        }
    }
}

TEST(ShippedConfigs, DefaultNeedsNoHardware) {
    const Config c = load_file(std::string(MCFWD_CONFIG_DIR) + "/default.yaml");
    EXPECT_NE(std::find(c.eal.begin(), c.eal.end(), "--no-huge"), c.eal.end());
    EXPECT_NE(std::find(c.eal.begin(), c.eal.end(), "--no-pci"), c.eal.end());
    for (const Port& p : c.ports)
        EXPECT_EQ(p.kind, DeviceKind::vdev) << p.name;
    EXPECT_FALSE(c.receivers.empty());
}

// The configuration meson install puts in /etc and mcfwd.service runs: safe on any
// machine (no NIC, nothing sent anywhere), on hugepages so consumers and
// dpdk-dumpcap can attach, with the default file prefix the tools assume.
TEST(ShippedConfigs, InstalledConfigTouchesNoHardwareAndRunsOnHugepages) {
    const Config c = load_file(std::string(MCFWD_CONFIG_DIR) + "/mcfwd.yaml");
    EXPECT_NE(std::find(c.eal.begin(), c.eal.end(), "--no-pci"), c.eal.end());
    EXPECT_EQ(std::find(c.eal.begin(), c.eal.end(), "--no-huge"), c.eal.end());
    for (const std::string& a : c.eal)
        EXPECT_FALSE(a.starts_with("--file-prefix")) << a;
    ASSERT_FALSE(c.ports.empty());
    for (const Port& p : c.ports) {
        EXPECT_EQ(p.kind, DeviceKind::vdev) << p.name;
        EXPECT_TRUE(p.device.starts_with("net_null")) << p.device;
    }
    EXPECT_TRUE(c.receivers.empty());
}

TEST(ShippedConfigs, ProxyExampleHasAnUpstreamAndTwoDownstreamPortsWithQueriers) {
    const Config c = load_file(std::string(MCFWD_CONFIG_DIR) + "/examples/proxy.yaml");
    ASSERT_EQ(c.ports.size(), 3u);
    EXPECT_EQ(c.ports[0].role, PortRole::upstream);
    EXPECT_EQ(c.ports[1].role, PortRole::downstream);
    EXPECT_EQ(c.ports[2].role, PortRole::downstream);
    // Queriers need an address of their own for the election (RFC 3376 §6.6.2).
    EXPECT_TRUE(c.ports[1].ipv4_address.has_value());
    EXPECT_TRUE(c.ports[2].ipv4_address.has_value());
    EXPECT_EQ(c.ports[1].querier.query_interval_ms, 60000u);
    EXPECT_LT(c.ports[1].querier.query_response_interval_ms, c.ports[1].querier.query_interval_ms);
    EXPECT_EQ(c.ports[2].querier.query_interval_ms, 125000u) << "querier: {} is the defaults";
    for (const Port& p : c.ports)
        EXPECT_EQ(p.kind, DeviceKind::vdev) << p.name;
    EXPECT_NE(std::find(c.eal.begin(), c.eal.end(), "--no-huge"), c.eal.end());
    ASSERT_EQ(c.receivers.size(), 1u);
    EXPECT_EQ(c.receivers[0].joins[0].port, "uplink");
}

std::string read_default() {
    std::ifstream in(std::string(MCFWD_CONFIG_DIR) + "/default.yaml");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Loads text; true if it loaded, false on ConfigError. Any other exception fails the test,
/// because main() catches ConfigError only.
bool loads_or_config_error(const std::string& text) {
    try {
        (void)load_string(text, "mutant.yaml");
        return true;
    } catch (const ConfigError& e) {
        EXPECT_GT(e.where().line, 0) << e.what();
        return false;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not a ConfigError: " << e.what() << "\n" << text;
        return false;
    }
}

TEST(ConfigRobustness, EveryTruncationOfTheDefaultLoadsOrGivesAConfigError) {
    const std::string text = read_default();
    ASSERT_FALSE(text.empty());
    size_t loaded = 0;
    for (size_t n = 0; n <= text.size(); ++n)
        loaded += loads_or_config_error(text.substr(0, n)) ? 1 : 0;
    // The whole file loads; cutting the receivers off still leaves a valid configuration.
    EXPECT_GE(loaded, 1u);
}

TEST(ConfigRobustness, RandomByteEditsOfTheDefaultLoadOrGiveAConfigError) {
    const std::string text = read_default();
    ASSERT_FALSE(text.empty());
    SplitMix rng(0x6d636677);
    const char alphabet[] = " :-,[]{}\"'#&*!|>\n\t0123456789abcxyz.%@";
    for (int i = 0; i < 3000; ++i) {
        std::string t = text;
        const int edits = 1 + static_cast<int>(rng.below(3));
        for (int e = 0; e < edits; ++e) {
            const size_t at = rng.below(t.size());
            const char c = alphabet[rng.below(sizeof alphabet - 1)];
            switch (rng.below(3)) {
            case 0:
                t[at] = c;
                break;
            case 1:
                t.insert(t.begin() + static_cast<std::ptrdiff_t>(at), c);
                break;
            default:
                t.erase(at, 1);
                break;
            }
        }
        (void)loads_or_config_error(t);
    }
}

} // namespace
} // namespace mcfwd::config
