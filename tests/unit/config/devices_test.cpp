// Device strings checked before the EAL: the driver table, devargs as rte_kvargs splits
// them, PCI addresses, and what check_host() finds on this machine.
#include "config/config.hpp"
#include "config/devices.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace mcfwd::config {
namespace {

using devices::Arg;

TEST(Devices, DevargsSplitLikeRteKvargs) {
    const auto args = devices::split_devargs("net_null0,size=64,,no-rx=1,copy,list=[1,3-5],x=");
    ASSERT_EQ(args.size(), 5u);
    EXPECT_EQ(args[0].key, "size");
    EXPECT_EQ(args[0].value, "64");
    EXPECT_EQ(args[1].key, "no-rx") << "an empty pair is skipped";
    EXPECT_EQ(args[2].key, "copy");
    EXPECT_FALSE(args[2].has_value);
    EXPECT_EQ(args[3].key, "list");
    EXPECT_EQ(args[3].value, "[1,3-5]") << "commas inside [...] belong to the value";
    EXPECT_EQ(args[4].key, "x");
    EXPECT_TRUE(args[4].has_value);
    EXPECT_EQ(args[4].value, "");
    EXPECT_TRUE(devices::split_devargs("net_null0").empty());
}

TEST(Devices, DriverIsFoundByPrefixAsTheVdevBusDoes) {
    ASSERT_NE(devices::find_driver("net_pcap0"), nullptr);
    EXPECT_EQ(devices::find_driver("net_pcap0")->name, "net_pcap");
    EXPECT_EQ(devices::find_driver("net_pcap_uplink")->name, "net_pcap");
    EXPECT_EQ(devices::find_driver("net_af_packet12")->name, "net_af_packet");
    EXPECT_EQ(devices::find_driver("net_tun0"), nullptr) << "no Ethernet header";
    EXPECT_EQ(devices::find_driver("eth_pcap0"), nullptr) << "the app probes net_* names only";
}

TEST(Devices, KnownDevicesPass) {
    for (const char* d :
         {"net_null0", "net_null0,no-rx=1", "net_ring0", "net_ring_a,nodeaction=r:0:CREATE",
          "net_tap0,iface=mc0,persist", "net_af_packet0,iface=eth0,qpairs=2",
          "net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap,infinite_rx=1",
          "net_pcap0,iface=eth0,phy_mac=1"})
        EXPECT_EQ(devices::check_device(d), std::nullopt) << d;
    // The longest name DPDK takes (63 characters).
    EXPECT_EQ(devices::check_device("net_null_" + std::string(54, '1')), std::nullopt);
}

TEST(Devices, PciAddressesInBothFormsAreCanonical) {
    EXPECT_EQ(devices::canonical_pci("0000:AF:1f.7"), "0000:af:1f.7");
    EXPECT_EQ(devices::canonical_pci("01:00.0"), "0000:01:00.0") << "DPDK's short form";
    EXPECT_EQ(devices::canonical_pci("0000:01:00.8"), std::nullopt);
    EXPECT_EQ(devices::canonical_pci("0000:01:20.0"), std::nullopt);
    EXPECT_EQ(devices::canonical_pci("net_null0"), std::nullopt);
}

TEST(Config, ShortPciAddressIsDomainZero) {
    const Config c = load_string("ports: [{ name: a, pci: \"01:00.1\" }]\n", "t.yaml");
    EXPECT_EQ(c.ports[0].device, "0000:01:00.1");
}

/// A directory of its own under /tmp, removed at the end.
class CheckHost : public testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/mcfwd-check-host.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        std::ofstream(dir_ + "/in.pcap") << "x";
        std::filesystem::create_directory(dir_ + "/sub");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// check_host on a file of one other port then the port with this device: the error
    /// names ports[1].device at its line and column.
    std::string error_of(const std::string& device) {
        const Config c = load_string("ports:\n"
                                     "  - { name: a, device: net_null0 }\n"
                                     "  - name: b\n"
                                     "    device: \"" +
                                         device + "\"\n",
                                     "host.yaml");
        try {
            check_host(c);
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.path(), "ports[1].device");
            EXPECT_EQ(e.where(), (Location{4, 13}));
            return e.message();
        }
        return "";
    }
    std::string dir_;
};

TEST_F(CheckHost, ExistingCaptureAndDirectoryPass) {
    EXPECT_EQ(error_of("net_pcap0,rx_pcap=" + dir_ + "/in.pcap,tx_pcap=" + dir_ + "/out.pcap"), "");
    EXPECT_EQ(error_of("net_pcap0,tx_pcap=" + dir_ + "/sub/new.pcap"), "");
    EXPECT_EQ(error_of("net_pcap0,iface=lo"), "") << "lo exists on every Linux host";
    EXPECT_EQ(error_of("net_tap0,iface=doesnotexist0"), "") << "net_tap creates its interface";
}

TEST_F(CheckHost, MissingCaptureFileIsNamed) {
    EXPECT_EQ(error_of("net_pcap0,rx_pcap=" + dir_ + "/nope.pcap"),
              "rx_pcap \"" + dir_ + "/nope.pcap\": No such file or directory");
}

TEST_F(CheckHost, CaptureFileThatIsADirectory) {
    EXPECT_EQ(error_of("net_pcap0,rx_pcap=" + dir_ + "/sub"),
              "rx_pcap \"" + dir_ + "/sub\": Is a directory");
    EXPECT_EQ(error_of("net_pcap0,tx_pcap=" + dir_ + "/sub"),
              "tx_pcap \"" + dir_ + "/sub\": Is a directory");
}

TEST_F(CheckHost, TxCaptureInAMissingDirectory) {
    EXPECT_EQ(error_of("net_pcap0,tx_pcap=" + dir_ + "/none/out.pcap"),
              "tx_pcap \"" + dir_ + "/none/out.pcap\": directory \"" + dir_ +
                  "/none\": No such file or directory");
    EXPECT_EQ(error_of("net_pcap0,tx_pcap=" + dir_ + "/in.pcap/out.pcap"),
              "tx_pcap \"" + dir_ + "/in.pcap/out.pcap\": directory \"" + dir_ +
                  "/in.pcap\": Not a directory");
}

TEST_F(CheckHost, MissingInterfaceIsNamed) {
    EXPECT_EQ(error_of("net_af_packet0,iface=mcfwdnone0"),
              "iface \"mcfwdnone0\": no such network interface on this host");
    EXPECT_EQ(error_of("net_pcap0,rx_iface=mcfwdnone0"),
              "rx_iface \"mcfwdnone0\": no such network interface on this host");
    EXPECT_EQ(error_of("net_tap0,remote=mcfwdnone0"),
              "remote \"mcfwdnone0\": no such network interface on this host");
}

TEST_F(CheckHost, LongPathIsCut) {
    const std::string path = dir_ + "/" + std::string(300, 'p') + ".pcap";
    const std::string why = error_of("net_pcap0,rx_pcap=" + path);
    EXPECT_NE(why.find("…\" (" + std::to_string(path.size()) + " bytes)"), std::string::npos)
        << why;
    EXPECT_LT(why.size(), 160u) << why;
}

} // namespace
} // namespace mcfwd::config
