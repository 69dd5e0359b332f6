// open_port() brings net_ring, net_null and net_pcap ports up (configured,
// started, MAC read) and EthdevPort takes them down again; link state and
// events on a device that can change its link.
#include "eal_env.hpp"
#include "ethdev/port.hpp"
#include "pcapfile/pcap_file.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

using namespace mcfwd;
using namespace mcfwd::ethdev;

rte_mempool* pool() {
    static rte_mempool* p = rte_pktmbuf_pool_create("port_pool", 4095, 128, 0,
                                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    return p;
}

// Whether the port runs. DPDK 22.11 has no query for it and these PMDs lack
// rxq_info_get; rte_eth_dev_configure() refuses a started port with -EBUSY
// and changes nothing then (on a stopped port it would reconfigure: the test
// has failed anyway in that case).
bool started(uint16_t port) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0)
        return false;
    rte_eth_conf conf{};
    return rte_eth_dev_configure(port, info.nb_rx_queues, info.nb_tx_queues, &conf) == -EBUSY;
}

void expect_open_then_closed(const PortSpec& spec, uint16_t want_rxq = 1) {
    mcfwd::testing::EalEnvironment::require();
    ASSERT_NE(pool(), nullptr);
    const std::string name = ethdev_name(spec.device);
    uint16_t id = RTE_MAX_ETHPORTS;
    {
        std::string why;
        auto port = open_port(spec, pool(), &why);
        ASSERT_TRUE(port.ok()) << errc_name(port.error()) << ": " << why;
        id = port->port_id();
        uint16_t by_name = RTE_MAX_ETHPORTS;
        ASSERT_EQ(rte_eth_dev_get_port_by_name(name.c_str(), &by_name), 0);
        EXPECT_EQ(by_name, id);
        EXPECT_EQ(port->name(), spec.name);
        EXPECT_TRUE(started(id)) << name;
        rte_eth_dev_info info{};
        ASSERT_EQ(rte_eth_dev_info_get(id, &info), 0);
        EXPECT_EQ(info.nb_rx_queues, want_rxq);
        rte_ether_addr mac{};
        ASSERT_EQ(rte_eth_macaddr_get(id, &mac), 0);
        EXPECT_EQ(std::memcmp(mac.addr_bytes, port->mac().bytes.data(), 6), 0);
        EXPECT_FALSE(port->mac().is_multicast());
    }
    // Destroyed: stopped and closed, so the name no longer resolves.
    uint16_t after = 0;
    EXPECT_NE(rte_eth_dev_get_port_by_name(name.c_str(), &after), 0) << name << " still exists";
    EXPECT_FALSE(rte_eth_dev_is_valid_port(id));
}

TEST(OpenPort, NetRingFromVdevArgument) {
    expect_open_then_closed({.name = "ring", .device = "net_ring0"});
}

TEST(OpenPort, NetNullProbedByOpenPort) {
    expect_open_then_closed({.name = "null",
                             .device = "net_null1,no-rx=1",
                             .rx_queues = 2,
                             .tx_queues = 2,
                             .rx_desc = 256,
                             .tx_desc = 256},
                            2);
}

TEST(OpenPort, NetNullCanBeOpenedAgainAfterClose) {
    // The vdev open_port() probed is removed again with the port.
    expect_open_then_closed({.name = "null", .device = "net_null2,no-rx=1"});
    expect_open_then_closed({.name = "null", .device = "net_null2,no-rx=1"});
}

// A classic pcap file (microsecond timestamps, Ethernet) with one IGMPv2 report.
void write_pcap(const std::filesystem::path& path) {
    const uint8_t frame[] = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                             0x08, 0x00, 0x46, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
                             0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0xef, 0x01, 0x02, 0x03, 0x94, 0x04,
                             0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03};
    mcfwd::pcapfile::Writer w;
    ASSERT_TRUE(w.open(path.string()));
    ASSERT_TRUE(w.write(mcfwd::time_point{std::chrono::seconds(1)}, frame));
}

TEST(OpenPort, NetPcapWithRxAndTxFiles) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("mcfwd-pcap-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    write_pcap(dir / "in.pcap");
    const std::string dev = "net_pcap0,rx_pcap=" + (dir / "in.pcap").string() +
                            ",tx_pcap=" + (dir / "out.pcap").string();
    expect_open_then_closed({.name = "pcap", .device = dev, .rx_desc = 64, .tx_desc = 64});
    EXPECT_TRUE(std::filesystem::exists(dir / "out.pcap")) << "tx_pcap is created at start";
    std::filesystem::remove_all(dir);
}

TEST(OpenPort, UnknownDeviceIsNoDeviceWithTheReason) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    auto p = open_port({.name = "x", .device = "0000:77:00.0"}, pool(), &why);
    EXPECT_EQ(p.error(), errc::no_device);
    EXPECT_NE(why.find("0000:77:00.0"), std::string::npos) << why;
    auto v = open_port({.name = "x", .device = "net_nosuchpmd0"}, pool(), &why);
    EXPECT_EQ(v.error(), errc::no_device);
    // In words, not rte_dev_probe's -EFAULT read as an errno ("Bad address").
    EXPECT_EQ(why, "DPDK cannot parse the device string (no bus or driver takes the name "
                   "net_nosuchpmd0)");
}

TEST(OpenPort, DeviceThatDoesNotProbeSaysSoInWords) {
    mcfwd::testing::EalEnvironment::require();
    const auto dir = std::filesystem::temp_directory_path() / "mcfwd-port-test-garbage";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "in.pcap") << "not a capture";
    std::string why;
    auto p = open_port({.name = "x", .device = "net_pcap9,rx_pcap=" + (dir / "in.pcap").string()},
                       pool(), &why);
    EXPECT_EQ(p.error(), errc::no_device);
    // The PMD's probe returns -1, which read as an errno is "Operation not permitted".
    EXPECT_EQ(why, "the driver did not probe net_pcap9 (rte_dev_probe returned -1; DPDK's log "
                   "above says why)");
    std::filesystem::remove_all(dir);
}

TEST(OpenPort, MoreQueuesThanTheDeviceHasIsInvalidAndLeavesNothingProbed) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    // net_ring allows at most RTE_PMD_RING_MAX_RX_RINGS (16) queues.
    auto p = open_port({.name = "r", .device = "net_ring5", .rx_queues = 64}, pool(), &why);
    EXPECT_EQ(p.error(), errc::invalid) << why;
    EXPECT_NE(why.find("rte_eth_dev_configure"), std::string::npos) << why;
    uint16_t id = 0;
    EXPECT_NE(rte_eth_dev_get_port_by_name("net_ring5", &id), 0);
}

// No virtual device here accepts rte_flow (net_tap would, but only with the
// kernel's multiq qdisc, which this kernel lacks): the refusal paths.
TEST(OpenPort, SteeringAutomaticFallsBackToTheDataQueuesWhenRulesAreRefused) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    auto p = open_port({.name = "n",
                        .device = "net_null6,no-rx=1",
                        .rx_queues = 2,
                        .rx_desc = 256,
                        .tx_desc = 256,
                        .steering = Steering::automatic},
                       pool(), &why);
    ASSERT_TRUE(p.ok()) << why;
    EXPECT_FALSE(p->control_queue().has_value());
    EXPECT_NE(p->steering_note().find("validate igmp"), std::string::npos) << p->steering_note();
    EXPECT_TRUE(started(p->port_id()));
    rte_eth_dev_info info{};
    ASSERT_EQ(rte_eth_dev_info_get(p->port_id(), &info), 0);
    EXPECT_EQ(info.nb_rx_queues, 2) << "the extra control queue is configured away again";
}

TEST(OpenPort, SteeringRequiredFailsWithTheRefusalAndLeavesNothingProbed) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    auto p = open_port({.name = "n", .device = "net_null7,no-rx=1", .steering = Steering::required},
                       pool(), &why);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error(), errc::ok);
    EXPECT_NE(why.find("flow_steering is on"), std::string::npos) << why;
    EXPECT_NE(why.find("validate igmp"), std::string::npos) << why;
    uint16_t id = 0;
    EXPECT_NE(rte_eth_dev_get_port_by_name("net_null7", &id), 0);
    expect_open_then_closed({.name = "n", .device = "net_null7,no-rx=1"});
}

TEST(OpenPort, SteeringOffHasNoControlQueue) {
    mcfwd::testing::EalEnvironment::require();
    auto p = open_port({.name = "n", .device = "net_null8,no-rx=1"}, pool());
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->control_queue().has_value());
    EXPECT_EQ(p->steering_note(), "off");
}

// net_af_packet over a fresh veth pair NAME / NAMEp, NAME up (root only). The
// ports a test opens close at the end of its body, before TearDown deletes the
// veth; a failed ASSERT deletes it too.
class OpenPortOnVeth : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "a veth and net_af_packet need root (euid " << geteuid() << ")";
        mcfwd::testing::EalEnvironment::require();
        ASSERT_EQ(std::system(("ip link add " + iface + " type veth peer name " + iface +
                               "p && ip link set " + iface + " up")
                                  .c_str()),
                  0);
        made_ = true;
    }
    void TearDown() override {
        if (made_)
            std::system(("ip link del " + iface + " 2>/dev/null").c_str());
    }
    const std::string iface = "mcfwdq" + std::to_string(getpid() % 100000);

private:
    bool made_ = false;
};

// net_af_packet spreads what it receives over all its qpairs' sockets: fewer RX
// queues than qpairs would lose frames silently, so open_port refuses it.
TEST_F(OpenPortOnVeth, NetAfPacketWithFewerRxQueuesThanQpairsIsRefusedWithTheFix) {
    std::string why;
    auto p = open_port(
        {.name = "afp", .device = "net_af_packet9,iface=" + iface + ",qpairs=2", .tx_queues = 2},
        pool(), &why);
    EXPECT_EQ(p.error(), errc::invalid);
    EXPECT_NE(why.find("set rx_queues to 2"), std::string::npos) << why;
    auto ok = open_port({.name = "afp",
                         .device = "net_af_packet10,iface=" + iface + ",qpairs=2",
                         .rx_queues = 2,
                         .tx_queues = 2},
                        pool(), &why);
    EXPECT_TRUE(ok.ok()) << why;
}

// A port that needs more TX queues than net_af_packet's qpairs (a downstream port:
// one per forwarding lcore and one for IGMP/MLD) is refused naming the devarg and
// the number, not with rte_eth_dev_configure's bare EINVAL.
TEST_F(OpenPortOnVeth, NetAfPacketWithTooFewQpairsForItsTxQueuesNamesTheDevarg) {
    std::string why;
    auto p = open_port({.name = "afp", .device = "net_af_packet11,iface=" + iface, .tx_queues = 2},
                       pool(), &why);
    EXPECT_EQ(p.error(), errc::invalid);
    EXPECT_EQ(why, "net_af_packet has 1 TX queue(s), the port needs 2: add qpairs=2 to its "
                   "device string and set rx_queues: 2");
}

// A port that can do without its extra TX queues (a proxy's upstream port: one per
// forwarding lcore for the downstream senders' traffic) opens with the fallback
// count and says so; one that has them gets them.
TEST_F(OpenPortOnVeth, TxQueuesFallBackWhenTheDeviceHasTooFew) {
    std::string why;
    auto few = open_port({.name = "afp",
                          .device = "net_af_packet12,iface=" + iface,
                          .tx_queues = 2,
                          .tx_queues_fallback = 1},
                         pool(), &why);
    ASSERT_TRUE(few.ok()) << why;
    EXPECT_EQ(few->tx_queues(), 1);
    rte_eth_dev_info info{};
    ASSERT_EQ(rte_eth_dev_info_get(few->port_id(), &info), 0);
    EXPECT_EQ(info.nb_tx_queues, 1);
}

TEST(OpenPort, TxQueuesFallbackUnusedWhenTheDeviceHasEnough) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    auto port = open_port(
        {.name = "n", .device = "net_null4,no-rx=1", .tx_queues = 3, .tx_queues_fallback = 1},
        pool(), &why);
    ASSERT_TRUE(port.ok()) << why;
    EXPECT_EQ(port->tx_queues(), 3);
}

TEST(EthdevPort, LinkDownAndUpOnNetRing) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    auto port = open_port({.name = "r", .device = "net_ring1"}, pool(), &why);
    ASSERT_TRUE(port.ok()) << why;
    const uint16_t id = port->port_id();
    EXPECT_TRUE(port->link_up()) << "net_ring's link comes up with start";
    // net_ring does not advertise RTE_ETH_DEV_INTR_LSC and raises no LSC event
    // when its link is set down/up (it only flips the stored status), so the
    // change is observed by polling link_up(), as the control lcore must for
    // such devices; take_events() correctly reports nothing.
    EXPECT_FALSE(port->lsc_interrupts());
    ASSERT_EQ(rte_eth_dev_set_link_down(id), 0);
    EXPECT_FALSE(port->link_up());
    ASSERT_EQ(rte_eth_dev_set_link_up(id), 0);
    EXPECT_TRUE(port->link_up());
    const PortEvents ev = port.value().take_events();
    EXPECT_FALSE(ev.lsc_changed);
    EXPECT_FALSE(ev.reset_requested);
}

TEST(EthdevPort, RestartKeepsThePortRunningWithItsQueues) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    auto port = open_port({.name = "n",
                           .device = "net_null3,no-rx=1",
                           .rx_queues = 2,
                           .tx_queues = 2,
                           .rx_desc = 128,
                           .tx_desc = 128},
                          pool(), &why);
    ASSERT_TRUE(port.ok()) << why;
    EXPECT_EQ(port.value().restart(), errc::ok);
    EXPECT_TRUE(started(port->port_id()));
    rte_eth_dev_info info{};
    ASSERT_EQ(rte_eth_dev_info_get(port->port_id(), &info), 0);
    EXPECT_EQ(info.nb_rx_queues, 2);
    EXPECT_EQ(info.nb_tx_queues, 2);
}

TEST(EthdevPort, MovedPortIsClosedOnceAndKeepsItsEvents) {
    mcfwd::testing::EalEnvironment::require();
    std::string why;
    auto port = open_port({.name = "r", .device = "net_ring2"}, pool(), &why);
    ASSERT_TRUE(port.ok()) << why;
    const uint16_t id = port->port_id();
    {
        EthdevPort moved(std::move(port).value());
        EXPECT_EQ(moved.port_id(), id);
        EXPECT_TRUE(rte_eth_dev_is_valid_port(id));
        EXPECT_FALSE(moved.take_events().lsc_changed);
    }
    EXPECT_FALSE(rte_eth_dev_is_valid_port(id));
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({"--vdev=net_ring0"}));
    return RUN_ALL_TESTS();
}
