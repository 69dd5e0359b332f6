// The forwarding tables follow the receivers: after every membership call, for
// every (group, source) the table's accept mask names exactly the outlets of
// the receivers whose own filter accepts the source (FilterState::accepts), on
// the ports they joined — checked exhaustively over small random workloads.
#include "control/controller.hpp"
#include "control/table_publisher.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

#include <random>

namespace mcfwd::control {
namespace {

using membership::FilterMode;
using membership::ReceiverId;

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

struct Fixture {
    Fixture() : reclaimer(qsbr), t0(reclaimer), t1(reclaimer), pub(c.engine()) {
        c.add_listener(pub);
        EXPECT_EQ(c.engine().add_port(0), errc::ok);
        EXPECT_EQ(c.engine().add_port(1), errc::ok);
        pub.bind_port(0, t0);
        pub.bind_port(1, t1);
        for (int i = 0; i < 4; ++i) {
            r[i] = *c.engine().open_receiver("r" + std::to_string(i));
            pub.bind_receiver(r[i], table::OutletId(10 + i));
        }
    }
    /// The outlets (as ids) the table delivers (port, group, source) to.
    std::set<table::OutletId> delivered(PortId port, const IpAddr& g, const IpAddr& s) {
        const table::GroupEntry* e = (port == 0 ? t0 : t1).lookup(g);
        std::set<table::OutletId> out;
        if (!e)
            return out;
        for (uint64_t mask = e->accept(s); mask != 0; mask &= mask - 1)
            out.insert(table::OutletId(__builtin_ctzll(mask))); // mask bit = outlet id
        return out;
    }
    /// What the engine's receiver filters say.
    std::set<table::OutletId> wanted(PortId port, const IpAddr& g, const IpAddr& s) {
        std::set<table::OutletId> out;
        for (int i = 0; i < 4; ++i) {
            auto f = c.engine().get_filter(r[i], port, g);
            if (f && f->accepts(s) && c.engine().port(port)->up &&
                pub.family_forwarding(r[i], g.family()))
                out.insert(table::OutletId(10 + i));
        }
        return out;
    }

    table::Qsbr qsbr{1};
    table::QsbrReclaimer reclaimer;
    table::PortTable t0, t1;
    Controller c;
    TablePublisher pub;
    ReceiverId r[4]{};
};

TEST(TablePublisher, ReceiverFiltersDecideDeliveryPerOutlet) {
    Fixture f;
    auto g = ip("232.1.1.1"), s1 = ip("10.0.0.1"), s2 = ip("10.0.0.2");
    ASSERT_EQ(f.c.engine().join_source(f.r[0], 0, g, s1), errc::ok);
    ASSERT_EQ(f.c.engine().join(f.r[1], 0, g), errc::ok);
    EXPECT_EQ(f.delivered(0, g, s1), (std::set<table::OutletId>{10, 11}));
    EXPECT_EQ(f.delivered(0, g, s2), (std::set<table::OutletId>{11}));
    // B blocks s1: the merged filter does not change, delivery does.
    ASSERT_EQ(f.c.engine().block(f.r[1], 0, g, s1), errc::ok);
    EXPECT_EQ(f.delivered(0, g, s1), (std::set<table::OutletId>{10}));
    EXPECT_TRUE(f.delivered(1, g, s1).empty()); // other port untouched
    ASSERT_EQ(f.c.engine().leave(f.r[0], 0, g), errc::ok);
    ASSERT_EQ(f.c.engine().leave(f.r[1], 0, g), errc::ok);
    EXPECT_EQ(f.t0.lookup(g), nullptr);
    EXPECT_EQ(f.pub.stats().refused, 0u);
}

TEST(TablePublisher, PortDownEmptiesItsTableAndUpRefillsIt) {
    Fixture f;
    auto g = ip("ff3e::1"), s = ip("2001:db8::1");
    ASSERT_EQ(f.c.engine().join(f.r[2], 1, g), errc::ok);
    ASSERT_NE(f.t1.lookup(g), nullptr);
    ASSERT_EQ(f.c.engine().set_port_up(1, false), errc::ok);
    EXPECT_EQ(f.t1.lookup(g), nullptr);
    ASSERT_EQ(f.c.engine().set_port_up(1, true), errc::ok);
    EXPECT_EQ(f.delivered(1, g, s), (std::set<table::OutletId>{12}));
}

TEST(TablePublisher, UnboundReceiversAreCountedNotDelivered) {
    Fixture f;
    auto extra = *f.c.engine().open_receiver("late");
    auto g = ip("239.1.1.1"), s = ip("10.0.0.9");
    ASSERT_EQ(f.c.engine().join(extra, 0, g), errc::ok);
    EXPECT_EQ(f.t0.lookup(g), nullptr);
    EXPECT_GT(f.pub.stats().unbound_skipped, 0u);
    f.pub.bind_receiver(extra, 63); // binding publishes what it already joined
    EXPECT_EQ(f.delivered(0, g, s), (std::set<table::OutletId>{63}));
}

// A receiver's family switched off (a proxy's downstream port that lost that family's
// querier election, RFC 4605 §4.2) leaves its outlet out of that family's entries only;
// its memberships, and so the merged state, stay.
TEST(TablePublisher, FamilyOffLeavesTheOutletOutOfThatFamilysEntries) {
    Fixture f;
    auto g4 = ip("239.1.1.1"), s4 = ip("10.0.0.1"), g6 = ip("ff3e::1"), s6 = ip("2001:db8::1");
    for (const IpAddr& g : {g4, g6}) {
        ASSERT_EQ(f.c.engine().join(f.r[0], 0, g), errc::ok);
        ASSERT_EQ(f.c.engine().join(f.r[1], 0, g), errc::ok);
    }
    f.pub.set_family_forwarding(f.r[0], addr::Family::v4, false);
    EXPECT_FALSE(f.pub.family_forwarding(f.r[0], addr::Family::v4));
    EXPECT_EQ(f.delivered(0, g4, s4), (std::set<table::OutletId>{11}));
    EXPECT_EQ(f.delivered(0, g6, s6), (std::set<table::OutletId>{10, 11}));
    EXPECT_EQ(f.c.engine().port_group(0, g4)->receivers, 2u); // membership unchanged
    // Alone on a group, the receiver's entry goes; a join while off publishes nothing.
    ASSERT_EQ(f.c.engine().join(f.r[0], 0, ip("239.2.2.2")), errc::ok);
    EXPECT_EQ(f.t0.lookup(ip("239.2.2.2")), nullptr);
    f.pub.set_family_forwarding(f.r[0], addr::Family::v4, true);
    EXPECT_EQ(f.delivered(0, g4, s4), (std::set<table::OutletId>{10, 11}));
    EXPECT_EQ(f.delivered(0, ip("239.2.2.2"), s4), (std::set<table::OutletId>{10}));
}

TEST(TablePublisherRandom, TableMatchesReceiverFiltersAfterEveryCall) {
    Fixture f;
    std::mt19937 rng(5);
    std::vector<IpAddr> groups{ip("232.0.0.1"), ip("232.0.0.2"), ip("ff3e::1")};
    std::vector<IpAddr> v4{ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")};
    std::vector<IpAddr> v6{ip("2001:db8::1"), ip("2001:db8::2"), ip("2001:db8::3")};
    auto& e = f.c.engine();
    for (int step = 0; step < 20000; ++step) {
        ReceiverId r = f.r[rng() % 4];
        PortId p = PortId(rng() % 2);
        const IpAddr& g = groups[rng() % groups.size()];
        const auto& pool = g.is_v4() ? v4 : v6;
        const IpAddr& s = pool[rng() % pool.size()];
        switch (rng() % 9) {
        case 0:
            e.join(r, p, g);
            break;
        case 1:
            e.leave(r, p, g);
            break;
        case 2:
            e.join_source(r, p, g, s);
            break;
        case 3:
            e.leave_source(r, p, g, s);
            break;
        case 4:
            e.block(r, p, g, s);
            break;
        case 5:
            e.unblock(r, p, g, s);
            break;
        case 6:
            e.set_filter(r, p, g, rng() % 2 ? FilterMode::include : FilterMode::exclude,
                         {pool[rng() % 3], pool[rng() % 3]});
            break;
        case 7: // a proxy's querier election won or lost (RFC 4605 §4.2)
            f.pub.set_family_forwarding(r, g.family(), rng() % 2 != 0);
            break;
        default:
            e.set_port_up(p, rng() % 4 != 0);
            break;
        }
        for (PortId port = 0; port < 2; ++port)
            for (const IpAddr& grp : groups)
                for (const IpAddr& src : grp.is_v4() ? v4 : v6)
                    ASSERT_EQ(f.delivered(port, grp, src), f.wanted(port, grp, src))
                        << "step " << step << " port " << port << " " << grp.to_string() << " "
                        << src.to_string();
        f.reclaimer.reclaim(); // no reader is online: retired entries go now
    }
    EXPECT_EQ(f.pub.stats().refused, 0u);
    EXPECT_GT(f.pub.stats().published, 5000u);
}

} // namespace
} // namespace mcfwd::control
