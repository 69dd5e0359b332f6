// The controller wires membership to each port's NIC filter. Besides the
// direct cases, the membership engine's randomized oracle test runs again
// through the controller over simulated NICs, and after every step the NICs
// must hold exactly the MACs of the groups their port is a member of — or be in
// allmulticast when that list does not fit — and each MAC must have been added
// to a device at most once more than it was removed.
#include "control/controller.hpp"
#include "random_ops.hpp"
#include "simnic/sim_nic.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mcfwd::control {
namespace {

using addr::MacAddr;
using membership::testing::RandomOps;
using membership::testing::Recorder;
using simnic::SimNic;

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

TEST(Controller, JoinProgramsTheMacOnceAndLeaveRemovesIt) {
    Controller c;
    SimNic nic(8);
    ASSERT_EQ(c.attach_device(0, nic), errc::ok);
    ASSERT_EQ(c.engine().add_port(0), errc::ok);
    auto& e = c.engine();
    auto a = *e.open_receiver("a"), b = *e.open_receiver("b");
    // 232.1.2.3 and 233.129.2.3 share 01:00:5e:01:02:03.
    ASSERT_EQ(e.join(a, 0, ip("232.1.2.3")), errc::ok);
    ASSERT_EQ(e.join(b, 0, ip("232.1.2.3")), errc::ok);
    ASSERT_EQ(e.join_source(a, 0, ip("233.129.2.3"), ip("10.0.0.1")), errc::ok);
    const MacAddr mac = ip("232.1.2.3").multicast_mac();
    EXPECT_EQ(nic.table(), std::set<MacAddr>{mac});
    EXPECT_EQ(nic.added(mac), 1u);
    ASSERT_EQ(e.close_receiver(a), errc::ok);
    EXPECT_EQ(nic.table(), std::set<MacAddr>{mac}); // b still joined 232.1.2.3
    ASSERT_EQ(e.leave(b, 0, ip("232.1.2.3")), errc::ok);
    EXPECT_TRUE(nic.table().empty());
    EXPECT_EQ(nic.removed(mac), 1u);
}

TEST(Controller, TableOverflowFallsBackToAllmulticastAndBack) {
    Controller c;
    SimNic nic(2);
    ASSERT_EQ(c.attach_device(0, nic), errc::ok);
    ASSERT_EQ(c.engine().add_port(0), errc::ok);
    auto r = *c.engine().open_receiver("r");
    for (const char* g : {"232.0.0.1", "232.0.0.2", "ff3e::3"})
        ASSERT_EQ(c.engine().join(r, 0, ip(g)), errc::ok);
    EXPECT_TRUE(nic.allmulticast());
    EXPECT_EQ(c.nic_filter(0)->reason(), nicfilter::AllmultiReason::table_full);
    ASSERT_EQ(c.engine().leave(r, 0, ip("ff3e::3")), errc::ok);
    EXPECT_FALSE(nic.allmulticast());
    EXPECT_EQ(nic.table().size(), 2u);
}

TEST(Controller, JoinAllForcesAllmulticastAndPortRemovalPurgesIt) {
    Controller c;
    SimNic nic(8);
    ASSERT_EQ(c.attach_device(0, nic), errc::ok);
    ASSERT_EQ(c.engine().add_port(0), errc::ok);
    ASSERT_EQ(c.engine().join_all(0), errc::ok);
    EXPECT_TRUE(nic.allmulticast());
    EXPECT_EQ(c.nic_filter(0)->reason(), nicfilter::AllmultiReason::forced);
    ASSERT_EQ(c.engine().remove_port(0), errc::ok);
    EXPECT_FALSE(nic.allmulticast());
}

TEST(Controller, OtherListenersSeeEveryEventAfterTheNic) {
    Controller c;
    Recorder rec;
    c.add_listener(rec);
    ASSERT_EQ(c.engine().add_port(3), errc::ok); // no device: nothing to program
    auto r = *c.engine().open_receiver("r");
    ASSERT_EQ(c.engine().join(r, 3, ip("ff3e::1")), errc::ok);
    ASSERT_EQ(rec.events.size(), 1u);
    EXPECT_EQ(rec.events[0].port, 3);
    EXPECT_EQ(c.nic_filter(3), nullptr);
    SimNic nic(1);
    EXPECT_EQ(c.attach_device(0, nic), errc::ok);
    EXPECT_EQ(c.attach_device(0, nic), errc::addr_in_use);
}

TEST(ControllerRandom, NicsHoldExactlyTheMembersMacsThroughHundredThousandOperations) {
    Controller c(membership::testing::random_ops_limits());
    Recorder rec;
    c.add_listener(rec);
    // Capacities: one device with room for every MAC of the test, one that
    // overflows now and then, one with no filter at all.
    SimNic nics[3] = {SimNic(64), SimNic(5), SimNic(0)};
    for (PortId p = 0; p < 3; ++p)
        ASSERT_EQ(c.attach_device(p, nics[p]), errc::ok);
    RandomOps t(c.engine(), rec);
    size_t overflowed = 0, fit = 0;
    for (int i = 0; i < 100000; ++i) {
        std::string what = "step " + std::to_string(i) + " " + t.step();
        t.check(what);
        for (PortId p = 0; p < 3; ++p) {
            std::set<MacAddr> want;
            for (const IpAddr& g : t.groups)
                if (c.engine().port_filter(p, g).is_member())
                    want.insert(g.multicast_mac());
            const SimNic& nic = nics[p];
            const bool forced = c.engine().port(p)->allmulti_count > 0;
            if (want.size() <= nic.capacity() && nic.capacity() > 0) {
                ++fit;
                ASSERT_EQ(nic.table(), want) << what << " port " << p;
                ASSERT_EQ(nic.allmulticast(), forced) << what << " port " << p;
            } else if (!want.empty()) {
                ++overflowed;
                ASSERT_TRUE(nic.allmulticast()) << what << " port " << p;
            } else {
                ASSERT_EQ(nic.allmulticast(), forced) << what << " port " << p;
            }
            for (const MacAddr& m : nic.ever_seen()) {
                auto diff = nic.added(m) - nic.removed(m);
                ASSERT_TRUE(diff == 0 || diff == 1) << what << " " << m.to_string();
            }
        }
        if (::testing::Test::HasFailure())
            return;
    }
    EXPECT_GT(overflowed, 1000u);
    EXPECT_GT(fit, 1000u);
}

} // namespace
} // namespace mcfwd::control
