// EthdevDriver over real ports: net_ring has no multicast filter list (so
// NicFilter falls back to allmulticast), net_tap programs the kernel's list,
// which `ip maddr` shows.
#include "eal_env.hpp"
#include "ethdev/ethdev_driver.hpp"
#include "ethdev/port.hpp"
#include "nicfilter/nic_filter.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <set>
#include <sstream>
#include <thread>

namespace {

using namespace mcfwd;
using namespace mcfwd::ethdev;
using addr::IpAddr;
using addr::MacAddr;

rte_mempool* pool() {
    static rte_mempool* p =
        rte_pktmbuf_pool_create("drv_pool", 2047, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    return p;
}

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}
MacAddr mac(const char* s) {
    return *MacAddr::parse(s);
}

TEST(DriverErrc, MapsDpdkReturnCodes) {
    const struct {
        int rc;
        errc want;
    } rows[] = {{0, errc::ok},
                {-ENOTSUP, errc::not_supported},
                {-ENOSPC, errc::no_space},
                {-EINVAL, errc::invalid},
                {-EIO, errc::io},
                {-ENODEV, errc::io},
                {-ENOMEM, errc::io}};
    for (const auto& r : rows)
        EXPECT_EQ(driver_errc(r.rc), r.want) << r.rc;
}

// One port for the suite: closing net_ring0 (from --vdev) releases it for good.
class NetRing : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!mcfwd::testing::EalEnvironment::up() || pool() == nullptr)
            return;
        auto p = open_port({.name = "r", .device = "net_ring0"}, pool(), &why_);
        if (p.ok())
            port_.emplace(std::move(p).value());
    }
    static void TearDownTestSuite() { port_.reset(); }
    void SetUp() override {
        mcfwd::testing::EalEnvironment::require();
        ASSERT_TRUE(port_.has_value()) << why_;
        ASSERT_EQ(rte_eth_allmulticast_disable(id()), 0);
    }
    static uint16_t id() { return port_->port_id(); }
    static inline std::optional<EthdevPort> port_;
    static inline std::string why_;
};

TEST_F(NetRing, McAddrListIsNotSupported) {
    EthdevDriver d(id());
    const MacAddr m[] = {mac("01:00:5e:01:02:03")};
    EXPECT_EQ(d.set_mc_addr_list(m), errc::not_supported);
    EXPECT_EQ(d.last_mc_list_rc(), -ENOTSUP);
    EXPECT_EQ(d.set_mc_addr_list({}), errc::not_supported) << "the empty list too";
    EXPECT_EQ(d.mc_list_calls(), 2u);
}

TEST_F(NetRing, AllmulticastEnableAndDisableReachTheDevice) {
    EthdevDriver d(id());
    EXPECT_EQ(rte_eth_allmulticast_get(id()), 0);
    EXPECT_EQ(d.set_allmulticast(true), errc::ok);
    EXPECT_EQ(rte_eth_allmulticast_get(id()), 1);
    EXPECT_EQ(d.set_allmulticast(false), errc::ok);
    EXPECT_EQ(rte_eth_allmulticast_get(id()), 0);
    EXPECT_EQ(d.allmulti_calls(), 2u);
    EXPECT_EQ(d.last_allmulti_rc(), 0);
}

TEST_F(NetRing, NicFilterFallsBackToAllmulticastAndLeavesItWhenEmpty) {
    EthdevDriver d(id());
    nicfilter::NicFilter f(d);
    ASSERT_EQ(f.add_group(ip("239.1.2.3")), errc::ok);
    EXPECT_TRUE(f.allmulti());
    EXPECT_EQ(f.reason(), nicfilter::AllmultiReason::not_supported);
    EXPECT_EQ(rte_eth_allmulticast_get(id()), 1);
    ASSERT_EQ(f.add_group(ip("ff0e::1:2")), errc::ok);
    EXPECT_EQ(d.mc_list_calls(), 1u) << "not asked again after ENOTSUP";
    ASSERT_EQ(f.remove_group(ip("239.1.2.3")), errc::ok);
    EXPECT_EQ(rte_eth_allmulticast_get(id()), 1) << "one group still needs multicast";
    ASSERT_EQ(f.remove_group(ip("ff0e::1:2")), errc::ok);
    EXPECT_FALSE(f.allmulti());
    EXPECT_EQ(f.reason(), nicfilter::AllmultiReason::none);
    EXPECT_EQ(rte_eth_allmulticast_get(id()), 0);
}

// The link-layer multicast addresses the kernel holds for iface.
std::set<std::string> kernel_maddrs(const std::string& iface) {
    std::set<std::string> out;
    const std::string cmd = "ip maddr show dev " + iface + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr)
        return out;
    char line[512];
    while (fgets(line, sizeof line, p)) {
        std::istringstream in(line);
        std::string kind, addr;
        if (in >> kind >> addr && kind == "link")
            out.insert(addr);
    }
    pclose(p);
    return out;
}

// The interface's allmulticast count (`ip -d link`: "allmulti N"); a packet
// socket's PACKET_MR_ALLMULTI raises the count without the ALLMULTI flag.
bool kernel_allmulti(const std::string& iface) {
    const std::string cmd = "ip -d link show dev " + iface + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p)
        return false;
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p))
        out += buf;
    pclose(p);
    const auto at = out.find(" allmulti ");
    return at != std::string::npos && std::atoi(out.c_str() + at + 10) > 0;
}

std::set<std::string> with(std::set<std::string> s, std::initializer_list<const char*> more) {
    s.insert(more.begin(), more.end());
    return s;
}

// Kernel-backed ports: the filter that decides what they receive is the kernel
// interface's list (`ip maddr show dev IF`), which EthdevDriver programs through
// KernelMcList once attach_kernel() is called. DPDK 22.11's net_tap accepts a
// list and tells the kernel nothing (its op only returns 0): without the
// mirror, the kernel's list would not change at all (checked first).
class KernelBacked : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "net_tap / net_af_packet need root (euid " << geteuid() << ")";
        mcfwd::testing::EalEnvironment::require();
        ASSERT_NE(pool(), nullptr);
    }
    // Let the kernel finish its own joins on link up (all-nodes, solicited-node)
    // before taking the baseline.
    std::set<std::string> baseline(const std::string& iface) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return kernel_maddrs(iface);
    }
    // Joins three groups (two share a MAC) through NicFilter, checks the kernel
    // list, the reprogram after a reset, and the removal.
    void exercise(EthdevDriver& d, const std::string& iface, const std::set<std::string>& base) {
        nicfilter::NicFilter f(d);
        ASSERT_EQ(f.add_group(ip("239.1.2.3")), errc::ok);
        ASSERT_EQ(f.add_group(ip("225.129.2.3")), errc::ok) << "same MAC as 239.1.2.3";
        ASSERT_EQ(f.add_group(ip("ff0e::1:2")), errc::ok);
        EXPECT_FALSE(f.allmulti()) << allmulti_reason_name(f.reason());
        EXPECT_EQ(f.programmed(),
                  (std::vector<MacAddr>{mac("01:00:5e:01:02:03"), mac("33:33:00:01:00:02")}));
        EXPECT_EQ(kernel_maddrs(iface), with(base, {"01:00:5e:01:02:03", "33:33:00:01:00:02"}));

        EXPECT_EQ(f.reprogram(), errc::ok);
        EXPECT_EQ(kernel_maddrs(iface), with(base, {"01:00:5e:01:02:03", "33:33:00:01:00:02"}))
            << "the same list again adds nothing twice";

        ASSERT_EQ(f.remove_group(ip("239.1.2.3")), errc::ok);
        EXPECT_EQ(kernel_maddrs(iface), with(base, {"01:00:5e:01:02:03", "33:33:00:01:00:02"}))
            << "225.129.2.3 still uses the MAC";
        ASSERT_EQ(f.remove_group(ip("225.129.2.3")), errc::ok);
        EXPECT_EQ(kernel_maddrs(iface), with(base, {"33:33:00:01:00:02"}));
        ASSERT_EQ(f.remove_group(ip("ff0e::1:2")), errc::ok);
        EXPECT_TRUE(f.programmed().empty());
        EXPECT_EQ(kernel_maddrs(iface), base);

        // A forced allmulticast (join-all) reaches the kernel interface too.
        EXPECT_FALSE(kernel_allmulti(iface));
        f.force_allmulticast(true);
        EXPECT_TRUE(f.allmulti());
        EXPECT_TRUE(kernel_allmulti(iface));
        f.force_allmulticast(false);
        EXPECT_FALSE(kernel_allmulti(iface));
    }
};

TEST_F(KernelBacked, NetTapAloneLeavesTheKernelListAndTheMirrorProgramsIt) {
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
        GTEST_SKIP() << "/dev/net/tun is missing or not accessible: " << std::strerror(errno);
    const std::string iface = "mcfwdtap" + std::to_string(getpid() % 100000); // <= 15 chars
    std::string why;
    auto port = open_port(
        {.name = "tap", .device = "net_tap0,iface=" + iface, .rx_desc = 256, .tx_desc = 256},
        pool(), &why);
    ASSERT_TRUE(port.ok()) << why;
    const std::set<std::string> base = baseline(iface);
    ASSERT_FALSE(base.empty()) << "ip maddr show dev " << iface << " listed nothing";

    EthdevDriver pmd_only(port->port_id());
    const MacAddr m = mac("01:00:5e:01:02:03");
    EXPECT_EQ(pmd_only.set_mc_addr_list({&m, 1}), errc::ok);
    EXPECT_EQ(kernel_maddrs(iface), base) << "net_tap programs nothing itself (DPDK 22.11)";
    EXPECT_EQ(pmd_only.set_mc_addr_list({}), errc::ok);

    const auto ifindex = kernel_ifindex(port->port_id());
    ASSERT_TRUE(ifindex.has_value());
    auto list = KernelMcList::open(*ifindex, &why);
    ASSERT_TRUE(list.ok()) << why;
    EthdevDriver d(port->port_id());
    d.attach_kernel(std::move(list).value());
    exercise(d, iface, base);
}

TEST_F(KernelBacked, NetAfPacketGetsAFilterAndAllmulticastFromTheKernel) {
    const std::string a = "mcfwdva" + std::to_string(getpid() % 100000);
    const std::string b = "mcfwdvb" + std::to_string(getpid() % 100000);
    ASSERT_EQ(std::system(("ip link add " + a + " type veth peer name " + b + " && ip link set " +
                           a + " up && ip link set " + b + " up")
                              .c_str()),
              0);
    struct Cleanup {
        std::string a;
        ~Cleanup() { std::system(("ip link del " + a + " 2>/dev/null").c_str()); }
    } cleanup{a};
    std::string why;
    auto port = open_port(
        {.name = "afp", .device = "net_af_packet0,iface=" + a, .rx_desc = 256, .tx_desc = 256},
        pool(), &why);
    ASSERT_TRUE(port.ok()) << why;
    const std::set<std::string> base = baseline(a);

    EthdevDriver pmd_only(port->port_id());
    EXPECT_EQ(pmd_only.set_allmulticast(true), errc::not_supported) << "net_af_packet has none";
    const auto ifindex = kernel_ifindex(port->port_id());
    ASSERT_TRUE(ifindex.has_value());
    auto null = open_port({.name = "n", .device = "net_null9,no-rx=1"}, pool(), &why);
    ASSERT_TRUE(null.ok()) << why;
    EXPECT_EQ(kernel_ifindex(null->port_id()), std::nullopt) << "net_null is not kernel-backed";
    auto list = KernelMcList::open(*ifindex, &why);
    ASSERT_TRUE(list.ok()) << why;
    EthdevDriver d(port->port_id());
    d.attach_kernel(std::move(list).value());
    exercise(d, a, base);

    // Closing the socket (mcfwd exits, or crashes) drops what it held.
    {
        auto held = KernelMcList::open(*ifindex).value();
        const MacAddr m = mac("01:00:5e:07:07:07");
        ASSERT_EQ(held.set({&m, 1}), errc::ok);
        EXPECT_EQ(kernel_maddrs(a), with(base, {"01:00:5e:07:07:07"}));
    }
    EXPECT_EQ(kernel_maddrs(a), base);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({"--vdev=net_ring0"}));
    return RUN_ALL_TESTS();
}
