// SimNic: the simulated device answers like mc_multicst(9E) in DPDK's whole-list shape.
#include "simnic/sim_nic.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using mcfwd::errc;
using mcfwd::addr::MacAddr;
using mcfwd::simnic::SimNic;

MacAddr mac(const char* text) {
    return *MacAddr::parse(text);
}

const MacAddr m1 = mac("01:00:5e:00:00:01");
const MacAddr m2 = mac("01:00:5e:00:00:02");
const MacAddr m3 = mac("33:33:00:00:00:03");

TEST(SimNic, CapacityZeroHasNoFilterEvenForAnEmptyList) {
    SimNic nic(0);
    std::vector<MacAddr> none;
    std::vector<MacAddr> one{m1};
    EXPECT_EQ(nic.set_mc_addr_list(none), errc::not_supported);
    EXPECT_EQ(nic.set_mc_addr_list(one), errc::not_supported);
    EXPECT_TRUE(nic.table().empty());
    EXPECT_EQ(nic.list_calls(), 2u);
    EXPECT_EQ(nic.set_allmulticast(true), errc::ok);
    EXPECT_TRUE(nic.allmulticast());
}

TEST(SimNic, NonMulticastAddressIsInvalidAndLeavesTheTable) {
    SimNic nic(4);
    std::vector<MacAddr> first{m1};
    ASSERT_EQ(nic.set_mc_addr_list(first), errc::ok);
    std::vector<MacAddr> bad{m2, mac("00:11:22:33:44:55")};
    EXPECT_EQ(nic.set_mc_addr_list(bad), errc::invalid);
    EXPECT_EQ(nic.table(), std::set<MacAddr>{m1});
    EXPECT_EQ(nic.added(m2), 0u);
}

TEST(SimNic, MoreThanCapacityIsNoSpaceAndLeavesTheTable) {
    SimNic nic(2);
    std::vector<MacAddr> two{m1, m2};
    ASSERT_EQ(nic.set_mc_addr_list(two), errc::ok);
    std::vector<MacAddr> three{m1, m2, m3};
    EXPECT_EQ(nic.set_mc_addr_list(three), errc::no_space);
    EXPECT_EQ(nic.table(), (std::set<MacAddr>{m1, m2}));
    EXPECT_EQ(nic.added(m3), 0u);
    // Duplicates are one entry: two distinct addresses fit.
    std::vector<MacAddr> dup{m3, m3, m1};
    EXPECT_EQ(nic.set_mc_addr_list(dup), errc::ok);
    EXPECT_EQ(nic.table(), (std::set<MacAddr>{m1, m3}));
}

TEST(SimNic, ReplacingTheListCountsAddsAndRemovesByDifference) {
    SimNic nic(4);
    std::vector<MacAddr> a{m1, m2};
    std::vector<MacAddr> b{m2, m3};
    std::vector<MacAddr> none;
    ASSERT_EQ(nic.set_mc_addr_list(a), errc::ok);
    ASSERT_EQ(nic.set_mc_addr_list(b), errc::ok);
    ASSERT_EQ(nic.set_mc_addr_list(none), errc::ok);
    EXPECT_EQ(nic.added(m1), 1u);
    EXPECT_EQ(nic.removed(m1), 1u);
    EXPECT_EQ(nic.added(m2), 1u); // stayed across the second call: not re-added
    EXPECT_EQ(nic.removed(m2), 1u);
    EXPECT_EQ(nic.added(m3), 1u);
    EXPECT_EQ(nic.removed(m3), 1u);
    EXPECT_EQ(nic.ever_seen(), (std::set<MacAddr>{m1, m2, m3}));
    EXPECT_EQ(nic.list_calls(), 3u);
}

TEST(SimNic, FailNextFailsExactlyOneCallOfEitherKind) {
    SimNic nic(4);
    std::vector<MacAddr> a{m1};
    nic.fail_next(errc::io);
    EXPECT_EQ(nic.set_allmulticast(true), errc::io);
    EXPECT_FALSE(nic.allmulticast());
    EXPECT_EQ(nic.set_allmulticast(true), errc::ok);
    EXPECT_TRUE(nic.allmulticast());

    nic.fail_next(errc::invalid);
    EXPECT_EQ(nic.set_mc_addr_list(a), errc::invalid);
    EXPECT_TRUE(nic.table().empty());
    EXPECT_EQ(nic.set_mc_addr_list(a), errc::ok);
    EXPECT_EQ(nic.table(), std::set<MacAddr>{m1});

    nic.fail_next(errc::io);
    nic.fail_next(errc::ok); // cancelled
    EXPECT_EQ(nic.set_allmulticast(false), errc::ok);
    EXPECT_EQ(nic.list_calls(), 2u);
    EXPECT_EQ(nic.allmulti_calls(), 3u);
    EXPECT_EQ(nic.calls(), 5u);
}

TEST(SimNic, ResetLosesTableAndAllmulticastAndCountsTheRemovals) {
    SimNic nic(4);
    std::vector<MacAddr> a{m1, m2};
    ASSERT_EQ(nic.set_mc_addr_list(a), errc::ok);
    ASSERT_EQ(nic.set_allmulticast(true), errc::ok);
    nic.reset();
    EXPECT_TRUE(nic.table().empty());
    EXPECT_FALSE(nic.allmulticast());
    EXPECT_EQ(nic.removed(m1), 1u);
    EXPECT_EQ(nic.removed(m2), 1u);
    EXPECT_EQ(nic.calls(), 2u);
}

} // namespace
