// The control lcore's whole job without DPDK: punted frames in, reports out,
// NIC filters and tables following the receivers.
#include "control/control_plane.hpp"
#include "simnic/sim_nic.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

namespace mcfwd::control {
namespace {

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

struct Rig {
    Rig() : reclaimer(qsbr), table(reclaimer), cp(membership::Limits{}, clock, rng) {
        PortSetup s;
        s.id = 0;
        s.name = "uplink";
        s.driver = &nic;
        s.table = &table;
        s.frame.src_mac = *addr::MacAddr::parse("02:00:00:00:00:10");
        s.frame.ipv4_src = ip("192.0.2.10");
        s.frame.ipv6_src = ip("fe80::10");
        s.transmit = [this](std::span<const uint8_t> f) { sent.emplace_back(f.begin(), f.end()); };
        EXPECT_EQ(cp.add_port(s), errc::ok);
        r = *cp.engine().open_receiver("feed");
        cp.publisher().bind_receiver(r, 7);
    }
    std::vector<wire::DecodedFrame> take() {
        std::vector<wire::DecodedFrame> out;
        for (auto& f : sent)
            out.push_back(std::get<wire::DecodedFrame>(wire::decode(f)));
        sent.clear();
        return out;
    }
    wire::Frame router_query(uint8_t version, std::optional<uint16_t> vlan = std::nullopt) {
        wire::FrameParams router;
        router.src_mac = *addr::MacAddr::parse("02:00:00:00:00:fe");
        router.ipv4_src = ip("192.0.2.1");
        router.vlan = vlan;
        wire::Query q;
        q.version = version;
        q.max_response = std::chrono::seconds(1);
        std::vector<wire::Frame> frames;
        EXPECT_EQ(wire::encode_query(q, router, frames), errc::ok);
        return frames.at(0);
    }
    void settle() { // run every timer until nothing is pending
        for (int i = 0; i < 100 && !cp.idle(); ++i) {
            clock.set(std::max(clock.now(), cp.poll()));
            cp.poll();
        }
    }

    VirtualClock clock;
    SplitMix rng{3};
    simnic::SimNic nic{16};
    table::Qsbr qsbr{1};
    table::QsbrReclaimer reclaimer;
    table::PortTable table;
    ControlPlane cp;
    std::vector<wire::Frame> sent;
    membership::ReceiverId r{};
};

TEST(ControlPlane, AJoinProgramsNicTableAndWire) {
    Rig rig;
    ASSERT_EQ(rig.cp.engine().join_source(rig.r, 0, ip("232.1.1.1"), ip("10.0.0.1")), errc::ok);
    EXPECT_EQ(rig.nic.table().size(), 1u);
    const table::GroupEntry* e = rig.table.lookup(ip("232.1.1.1"));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->accept(ip("10.0.0.1")), uint64_t{1} << 7); // mask bit = outlet id 7
    EXPECT_EQ(e->accept(ip("10.0.0.2")), 0u);
    auto out = rig.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(std::get<wire::Report>(out[0].message).records.at(0).type,
              wire::RecordType::allow_new_sources);
}

TEST(ControlPlane, PuntedGeneralQueryIsAnsweredWithCurrentState) {
    Rig rig;
    ASSERT_EQ(rig.cp.engine().join(rig.r, 0, ip("239.1.1.1")), errc::ok);
    rig.settle();
    rig.take();
    rig.cp.on_control_frame(0, rig.router_query(3));
    EXPECT_EQ(rig.cp.counters().queries, 1u);
    rig.settle();
    auto out = rig.take();
    ASSERT_EQ(out.size(), 1u);
    auto& rec = std::get<wire::Report>(out[0].message).records.at(0);
    EXPECT_EQ(rec.type, wire::RecordType::mode_is_exclude);
    EXPECT_EQ(rec.group, ip("239.1.1.1"));
}

TEST(ControlPlane, BadOrForeignFramesAreCountedNotUsed) {
    Rig rig;
    wire::Frame q = rig.router_query(3);
    wire::Frame corrupt = q;
    corrupt.back() ^= 0xff; // breaks the IGMP checksum
    rig.cp.on_control_frame(0, corrupt);
    EXPECT_EQ(rig.cp.counters().dropped[size_t(wire::DropReason::bad_checksum)], 1u);
    rig.cp.on_control_frame(5, q);
    EXPECT_EQ(rig.cp.counters().unknown_port, 1u);
    rig.cp.on_control_frame(0, rig.router_query(3, 100)); // tagged; the port is not
    EXPECT_EQ(rig.cp.counters().wrong_vlan, 1u);
    EXPECT_EQ(rig.cp.counters().queries, 0u);
    EXPECT_EQ(rig.cp.counters().frames, 3u);
}

TEST(ControlPlane, AnIgmpV2QuerierMakesThePortSpeakV2) {
    Rig rig;
    rig.cp.on_control_frame(0, rig.router_query(2));
    // Not settle(): that would also run out the Older Version Querier Present timer.
    rig.clock.advance(std::chrono::seconds(2));
    rig.cp.poll();
    ASSERT_EQ(rig.cp.engine().join(rig.r, 0, ip("239.2.2.2")), errc::ok);
    auto out = rig.take();
    ASSERT_FALSE(out.empty());
    auto* lr = std::get_if<wire::LegacyReport>(&out[0].message);
    ASSERT_NE(lr, nullptr);
    EXPECT_EQ(lr->version, 2);
    // RFC 3376 §8.12: Robustness x Query Interval + Query Response Interval later
    // (2 x 125 s + 1 s here) the port speaks IGMPv3 again.
    rig.clock.advance(std::chrono::seconds(260));
    rig.cp.poll();
    rig.take();
    ASSERT_EQ(rig.cp.engine().leave(rig.r, 0, ip("239.2.2.2")), errc::ok);
    out = rig.take();
    ASSERT_FALSE(out.empty());
    EXPECT_TRUE(std::holds_alternative<wire::Report>(out[0].message));
}

TEST(ControlPlane, LinkDownLeavesAndLinkUpAnnouncesAgain) {
    Rig rig;
    ASSERT_EQ(rig.cp.engine().join(rig.r, 0, ip("239.3.3.3")), errc::ok);
    rig.settle();
    rig.take();
    rig.cp.set_link(0, false);
    EXPECT_EQ(rig.table.lookup(ip("239.3.3.3")), nullptr);
    EXPECT_TRUE(rig.nic.table().empty());
    rig.settle();
    rig.take();
    rig.cp.set_link(0, true);
    rig.cp.set_link(0, true); // no change: not counted
    EXPECT_EQ(rig.cp.link_changes(0), 2u);
    EXPECT_NE(rig.table.lookup(ip("239.3.3.3")), nullptr);
    auto out = rig.take();
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(std::get<wire::Report>(out[0].message).records.at(0).type,
              wire::RecordType::change_to_exclude);
}

TEST(ControlPlane, MldNeedsALinkLocalSource) {
    VirtualClock clock;
    SplitMix rng{1};
    ControlPlane cp(membership::Limits{}, clock, rng);
    PortSetup s;
    s.id = 1;
    s.frame.ipv6_src = ip("2001:db8::1");
    s.transmit = [](std::span<const uint8_t>) {};
    EXPECT_EQ(cp.add_port(s), errc::invalid);
    s.mld = false;
    EXPECT_EQ(cp.add_port(s), errc::ok);
    EXPECT_EQ(cp.add_port(s), errc::addr_in_use);
}

} // namespace
} // namespace mcfwd::control
