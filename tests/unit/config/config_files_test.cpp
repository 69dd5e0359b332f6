// Every YAML file shipped under config/ must load: the default the demo uses and the
// examples the reference points to cannot rot unnoticed.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
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
    // default.yaml and at least the two examples the reference documents.
    EXPECT_GE(files.size(), 3u);
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

} // namespace
} // namespace mcfwd::config
