// A proxy split over two control planes (two control lcores): the upstream port
// and downstream port 1 on A, downstream port 2 on B, B's changes reaching A
// through an UpstreamChannel pumped as a control loop would. The upstream merge,
// tables and reports must equal those of one control plane owning all three.
#include "control/control_plane.hpp"
#include "control/upstream_link.hpp"
#include "proxy_rig.hpp"
#include "simnic/sim_nic.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

namespace mcfwd::control {
namespace {

using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;
using wire::RecordType;

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

const IpAddr G1 = ip("233.1.1.1");
const IpAddr G2 = ip("233.1.1.2");
const IpAddr S1 = ip("10.0.0.1");
const IpAddr S2 = ip("10.0.0.2");
const IpAddr S3 = ip("10.0.0.3");

constexpr PortId up = 0;

struct Rig {
    /// split: port 2 on a second control plane; capacity: its channel's ring.
    explicit Rig(bool split, size_t capacity = 4096)
        : reclaimer(qsbr), table(reclaimer), a(membership::Limits{}, clock, rng),
          channel(capacity) {
        EXPECT_EQ(a.add_port(testing::upstream_setup(&nic, &table, recorder(up))), errc::ok);
        PortSetup d1 = testing::downstream_setup(1, recorder(1));
        d1.outlet = table::OutletId(1);
        EXPECT_EQ(a.add_port(std::move(d1)), errc::ok);
        PortSetup d2 = testing::downstream_setup(2, recorder(2));
        if (split) {
            b.emplace(membership::Limits{}, clock, rng_b);
            EXPECT_EQ(a.add_remote_downstream(2, d2.name, table::OutletId(2)), errc::ok);
            d2.upstream_link = &channel;
            EXPECT_EQ(b->add_port(std::move(d2)), errc::ok);
        } else {
            d2.outlet = table::OutletId(2);
            EXPECT_EQ(a.add_port(std::move(d2)), errc::ok);
        }
        pump();
    }
    EncodingSink::Transmit recorder(PortId id) {
        return
            [this, id](std::span<const uint8_t> f) { sent[id].emplace_back(f.begin(), f.end()); };
    }
    ControlPlane& owner(PortId port) { return port == 2 && b ? *b : a; }
    // What the two control loops do each round: B flushes what it held back, A
    // applies what arrived.
    void pump() {
        for (int i = 0; i < 100000; ++i) {
            channel.flush();
            if (channel.deliver(a) == 0 && channel.held() == 0)
                return;
        }
        ADD_FAILURE() << "the channel never drained";
    }
    void report(PortId port, RecordType type, const IpAddr& group, std::vector<IpAddr> sources,
                bool pumped = true) {
        for (auto& f : testing::host_report(type, group, std::move(sources)))
            owner(port).on_control_frame(port, f);
        if (pumped)
            pump();
    }
    void run_until(time_point t) {
        for (int i = 0; i < 100000; ++i) {
            const time_point next = std::min(a.poll(), b ? b->poll() : time_never);
            pump();
            if (next > t)
                break;
            clock.set(std::max(clock.now(), next));
        }
        clock.set(std::max(clock.now(), t));
        a.poll();
        if (b)
            b->poll();
        pump();
    }
    std::set<table::OutletId> delivered(const IpAddr& source, const IpAddr& group) const {
        std::set<table::OutletId> out;
        if (const table::GroupEntry* e = table.lookup(group))
            for (uint64_t mask = e->accept(source); mask != 0; mask &= mask - 1)
                out.insert(table::OutletId(__builtin_ctzll(mask)));
        return out;
    }
    FilterState upstream_filter(const IpAddr& group) const {
        return a.engine().port_filter(up, group);
    }

    VirtualClock clock;
    SplitMix rng{5}, rng_b{7};
    simnic::SimNic nic{16};
    table::Qsbr qsbr{1};
    table::QsbrReclaimer reclaimer;
    table::PortTable table;
    ControlPlane a;
    UpstreamChannel channel;
    std::optional<ControlPlane> b;
    std::map<PortId, std::vector<wire::Frame>> sent;
};

FilterState include(std::vector<IpAddr> s) {
    return {FilterMode::include, SourceSet::from_unsorted(std::move(s))};
}

// Everything the upstream side shows: merged filters, the table, the wire.
void expect_same_upstream(const Rig& one, const Rig& two, const char* step) {
    SCOPED_TRACE(step);
    for (const IpAddr& g : {G1, G2}) {
        EXPECT_EQ(two.upstream_filter(g), one.upstream_filter(g)) << g.to_string();
        for (const IpAddr& s : {S1, S2, S3})
            EXPECT_EQ(two.delivered(s, g), one.delivered(s, g))
                << g.to_string() << " from " << s.to_string();
    }
    EXPECT_EQ(two.sent.count(up) ? two.sent.at(up) : std::vector<wire::Frame>{},
              one.sent.count(up) ? one.sent.at(up) : std::vector<wire::Frame>{})
        << "the upstream port's reports, frame for frame";
}

// The same steps on one control plane and on two whose channel holds capacity.
void merge_as_one(size_t capacity) {
    Rig one(false), two(true, capacity);
    expect_same_upstream(one, two, "start");
    auto both = [&](auto&& step) {
        step(one);
        step(two);
    };
    both([](Rig& r) { r.report(1, RecordType::allow_new_sources, G1, {S1}); });
    expect_same_upstream(one, two, "port 1 includes S1");
    both([](Rig& r) { r.report(2, RecordType::allow_new_sources, G1, {S2}); });
    expect_same_upstream(one, two, "port 2 includes S2");
    EXPECT_EQ(two.upstream_filter(G1), include({S1, S2})) << "the union of both ports (§4.1)";
    EXPECT_EQ(two.delivered(S2, G1), (std::set<table::OutletId>{2}));
    both([](Rig& r) { r.report(2, RecordType::change_to_exclude, G2, {S3}); });
    expect_same_upstream(one, two, "port 2 excludes S3 from G2");
    // Another router with a lower address wins port 2's election: its outlet stops.
    both([](Rig& r) {
        r.owner(2).on_control_frame(2, testing::router_query("198.51.100.1"));
        r.pump();
    });
    expect_same_upstream(one, two, "port 2 loses the election");
    EXPECT_TRUE(two.delivered(S2, G1).empty());
    EXPECT_FALSE(two.b->forwarding(2, addr::Family::v4));
    // Nobody answers: group timers expire on both downstream ports, upstream leaves.
    both([](Rig& r) { r.run_until(r.clock.now() + std::chrono::seconds(600)); });
    expect_same_upstream(one, two, "timers expired");
    EXPECT_EQ(two.upstream_filter(G1), FilterState::none());
    EXPECT_EQ(two.a.counters().proxy_failed, 0u);
}

TEST(SplitProxy, TwoControlPlanesMergeUpstreamAsOneDoes) {
    merge_as_one(4096);
}

TEST(SplitProxy, AChannelOfOneGivesTheSameMergeThroughHeldBackChanges) {
    merge_as_one(1);
}

TEST(SplitProxy, ChangesReachTheUpstreamPortOnlyWhenItsLcoreAppliesThem) {
    Rig two(true);
    two.report(2, RecordType::allow_new_sources, G1, {S1}, /*pumped=*/false);
    EXPECT_EQ(two.upstream_filter(G1), FilterState::none()) << "nothing shared: a message";
    EXPECT_EQ(two.channel.deliver(two.a), 1u);
    EXPECT_EQ(two.upstream_filter(G1), include({S1}));
    EXPECT_EQ(two.delivered(S1, G1), (std::set<table::OutletId>{2}));
}

TEST(SplitProxy, AFullChannelHoldsBackAndCoalescesButLosesNoState) {
    Rig two(true, /*capacity=*/2);
    // Many changes while A applies nothing: two fit, the rest wait on B's side, one
    // per key (port and group), the latest state.
    const uint64_t sent_before = two.channel.sent(); // the routers' first querier wins
    ASSERT_EQ(two.channel.held_back(), 0u);
    const std::vector<std::vector<IpAddr>> states = {{S1}, {S2}, {S1, S3}, {S2}, {S1, S2}};
    for (const auto& sources : states) {
        two.channel.send({2, FilterChange{G1, include(sources)}});
        two.channel.send({2, FilterChange{G2, include({sources.front()})}});
    }
    EXPECT_EQ(two.channel.sent() - sent_before, 10u);
    EXPECT_EQ(two.channel.held_back(), 8u);
    EXPECT_EQ(two.channel.coalesced(), 6u);
    EXPECT_EQ(two.channel.held(), 2u);
    EXPECT_EQ(two.upstream_filter(G1), FilterState::none()) << "nothing applied yet";
    two.pump();
    EXPECT_EQ(two.channel.held(), 0u);
    EXPECT_EQ(two.upstream_filter(G1), include({S1, S2})) << "the last state, none lost";
    EXPECT_EQ(two.upstream_filter(G2), include({S1}));
    EXPECT_EQ(two.delivered(S2, G1), (std::set<table::OutletId>{2}));
    EXPECT_TRUE(two.delivered(S3, G1).empty());
}

TEST(SplitProxy, RemoteDownstreamLinkDownWithdrawsItsStateUpstream) {
    Rig two(true);
    two.report(2, RecordType::allow_new_sources, G1, {S1});
    ASSERT_EQ(two.upstream_filter(G1), include({S1}));
    two.b->set_link(2, false);
    two.pump();
    EXPECT_EQ(two.upstream_filter(G1), FilterState::none());
    EXPECT_TRUE(two.delivered(S1, G1).empty());
}

TEST(SplitProxy, RemoteDownstreamReceiversAreCheckedAndNamed) {
    VirtualClock clock;
    SplitMix rng{1};
    ControlPlane a(membership::Limits{}, clock, rng);
    EXPECT_EQ(a.add_remote_downstream(2, "down2", std::nullopt), errc::no_device)
        << "an upstream port first";
    ASSERT_EQ(a.add_port(testing::upstream_setup(nullptr, nullptr, [](auto) {})), errc::ok);
    EXPECT_EQ(a.add_remote_downstream(up, "uplink", std::nullopt), errc::addr_in_use);
    ASSERT_EQ(a.add_remote_downstream(2, "down2", std::nullopt), errc::ok);
    EXPECT_EQ(a.add_remote_downstream(2, "down2", std::nullopt), errc::addr_in_use);
    EXPECT_EQ(a.add_port(testing::downstream_setup(2, [](auto) {})), errc::addr_in_use);
    const auto r = a.downstream_receiver(2);
    ASSERT_TRUE(r);
    EXPECT_EQ(a.internal_receiver_port(*r), PortId(2));
    // A change for a downstream port A has no receiver of is counted, not applied.
    a.apply({5, FilterChange{G1, include({S1})}});
    EXPECT_EQ(a.counters().proxy_failed, 1u);
    EXPECT_EQ(a.engine().port_filter(up, G1), FilterState::none());
    // B needs no upstream port of its own: its downstream port's link leads to A.
    UpstreamChannel channel;
    ControlPlane b(membership::Limits{}, clock, rng);
    PortSetup d = testing::downstream_setup(2, [](auto) {});
    d.upstream_link = &channel;
    EXPECT_EQ(b.add_port(std::move(d)), errc::ok);
    EXPECT_FALSE(b.downstream_receiver(2)) << "its receiver is A's";
    EXPECT_GT(channel.deliver(a), 0u) << "the router's first querier win";
    EXPECT_EQ(a.counters().proxy_failed, 1u);
}

} // namespace
} // namespace mcfwd::control
