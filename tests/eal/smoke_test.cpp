// The EAL comes up on virtual devices in this environment, and the ports the
// tests rely on exist with the multicast-filter behaviour docs/ claim for them.
#include "eal_env.hpp"

#include <rte_ethdev.h>

namespace {

TEST(EalSmoke, VirtualDevicesProbe) {
    mcfwd::testing::EalEnvironment::require();
    EXPECT_EQ(rte_eth_dev_count_avail(), 2u);
    uint16_t ring = 0, null = 0;
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring0", &ring), 0);
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_null0", &null), 0);
    // net_ring and net_null have no multicast filter list (docs: known traps).
    rte_ether_addr mac{{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}};
    EXPECT_EQ(rte_eth_dev_set_mc_addr_list(ring, &mac, 1), -ENOTSUP);
    EXPECT_EQ(rte_eth_dev_set_mc_addr_list(null, &mac, 1), -ENOTSUP);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(
        new mcfwd::testing::EalEnvironment({"--vdev=net_ring0", "--vdev=net_null0,no-rx=1"}));
    return RUN_ALL_TESTS();
}
