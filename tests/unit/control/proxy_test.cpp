// The control plane as an RFC 4605 proxy: downstream ports run router engines whose
// forwarding states merge, with local receivers, into the upstream port's membership.
#include "control/control_plane.hpp"
#include "proxy_rig.hpp"
#include "simnic/sim_nic.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

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

const IpAddr G = ip("233.1.1.1");
const IpAddr S1 = ip("10.0.0.1");
const IpAddr S2 = ip("10.0.0.2");
const IpAddr S3 = ip("10.0.0.3");

constexpr PortId up = 0;

struct ProxyRig {
    ProxyRig() : reclaimer(qsbr), table(reclaimer), cp(membership::Limits{}, clock, rng) {
        EXPECT_EQ(cp.add_port(testing::upstream_setup(&nic, &table, recorder(up))), errc::ok);
        for (PortId id : {PortId(1), PortId(2)})
            EXPECT_EQ(cp.add_port(downstream_setup(id)), errc::ok);
    }
    EncodingSink::Transmit recorder(PortId id) {
        return
            [this, id](std::span<const uint8_t> f) { sent[id].emplace_back(f.begin(), f.end()); };
    }
    PortSetup downstream_setup(PortId id) { return testing::downstream_setup(id, recorder(id)); }
    std::vector<wire::DecodedFrame> take(PortId port) {
        std::vector<wire::DecodedFrame> out;
        for (auto& f : sent[port])
            out.push_back(std::get<wire::DecodedFrame>(wire::decode(f)));
        sent[port].clear();
        return out;
    }
    // The group records the upstream port sent since the last take.
    std::vector<wire::GroupRecord> upstream_records() {
        std::vector<wire::GroupRecord> recs;
        for (auto& d : take(up))
            if (auto* r = std::get_if<wire::Report>(&d.message))
                recs.insert(recs.end(), r->records.begin(), r->records.end());
        return recs;
    }
    // A listener on a downstream link sends an IGMPv3 report.
    void host_report(PortId port, RecordType type, std::vector<IpAddr> sources,
                     const IpAddr& group = G) {
        for (auto& f : testing::host_report(type, group, std::move(sources)))
            cp.on_control_frame(port, f);
    }
    wire::Frame router_query(const char* from) { return testing::router_query(from); }
    // Gives downstream port id its outlet (id too), as the application does.
    void bind_outlet(PortId id) {
        cp.publisher().bind_receiver(*cp.downstream_receiver(id), table::OutletId(id));
    }
    // The outlets the upstream table sends (source, group) to.
    std::set<table::OutletId> delivered(const IpAddr& source, const IpAddr& group = G) const {
        std::set<table::OutletId> out;
        if (const table::GroupEntry* e = table.lookup(group))
            for (uint64_t mask = e->accept(source); mask != 0; mask &= mask - 1)
                out.insert(table::OutletId(__builtin_ctzll(mask))); // bit = outlet id
        return out;
    }
    FilterState upstream_filter(const IpAddr& group = G) const {
        return cp.engine().port_filter(up, group);
    }
    // Runs every timer up to t, in order.
    void run_until(time_point t) {
        for (int i = 0; i < 10000; ++i) {
            const time_point next = cp.poll();
            if (next > t)
                break;
            clock.set(std::max(clock.now(), next));
        }
        clock.set(std::max(clock.now(), t));
        cp.poll();
    }

    VirtualClock clock;
    SplitMix rng{5};
    simnic::SimNic nic{16};
    table::Qsbr qsbr{1};
    table::QsbrReclaimer reclaimer;
    table::PortTable table;
    ControlPlane cp;
    std::map<PortId, std::vector<wire::Frame>> sent;
};

FilterState include(std::vector<IpAddr> s) {
    return {FilterMode::include, SourceSet::from_unsorted(std::move(s))};
}

TEST(Proxy, DownstreamReportIsMergedAndReportedUpstream) {
    ProxyRig rig;
    rig.take(up);
    rig.host_report(1, RecordType::allow_new_sources, {S1});
    EXPECT_EQ(rig.cp.counters().router_messages, 1u);
    EXPECT_EQ(rig.upstream_filter(), include({S1}));
    auto recs = rig.upstream_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].type, RecordType::allow_new_sources);
    EXPECT_EQ(recs[0].group, G);
    EXPECT_EQ(recs[0].sources, std::vector<IpAddr>{S1});
    // The upstream NIC accepts the group and the table has an entry for it.
    EXPECT_EQ(rig.nic.table().size(), 1u);
    EXPECT_EQ(rig.cp.engine().port_group(up, G)->receivers, 1u);
}

TEST(Proxy, IncludeListsOfTwoDownstreamPortsAreUnited) {
    ProxyRig rig;
    rig.host_report(1, RecordType::allow_new_sources, {S1});
    // Past the upstream retransmissions (RFC 3376 §8.11), which would merge S1 in.
    rig.run_until(rig.clock.now() + std::chrono::seconds(5));
    rig.take(up);
    rig.host_report(2, RecordType::allow_new_sources, {S2});
    EXPECT_EQ(rig.upstream_filter(), include({S1, S2}));
    auto recs = rig.upstream_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].type, RecordType::allow_new_sources);
    EXPECT_EQ(recs[0].sources, std::vector<IpAddr>{S2});
}

TEST(Proxy, ExcludeAndIncludeOfTheSameSourceMergeToExcludeNothing) {
    ProxyRig rig;
    rig.host_report(1, RecordType::change_to_exclude, {S1}); // port 1 forwards all but S1
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->forwarding(G),
              (FilterState{FilterMode::exclude, SourceSet::from_unsorted({S1})}));
    EXPECT_EQ(rig.upstream_filter(),
              (FilterState{FilterMode::exclude, SourceSet::from_unsorted({S1})}));
    rig.run_until(rig.clock.now() + std::chrono::seconds(5)); // retransmissions done
    rig.take(up);
    rig.host_report(2, RecordType::allow_new_sources, {S1}); // port 2 wants S1
    EXPECT_EQ(rig.upstream_filter(), FilterState::any_source());
    auto recs = rig.upstream_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].type, RecordType::allow_new_sources); // EXCLUDE {S1} -> EXCLUDE {}
    EXPECT_EQ(recs[0].sources, std::vector<IpAddr>{S1});
}

TEST(Proxy, DownstreamStateMergesWithLocalReceivers) {
    ProxyRig rig;
    auto r = *rig.cp.engine().open_receiver("local");
    ASSERT_EQ(rig.cp.engine().join_source(r, up, G, S3), errc::ok);
    rig.host_report(1, RecordType::allow_new_sources, {S1});
    EXPECT_EQ(rig.upstream_filter(), include({S1, S3}));
    EXPECT_EQ(rig.cp.engine().port_group(up, G)->receivers, 2u);
    // The local receiver leaving keeps the downstream port's wish.
    ASSERT_EQ(rig.cp.engine().leave(r, up, G), errc::ok);
    EXPECT_EQ(rig.upstream_filter(), include({S1}));
}

TEST(Proxy, DownstreamGroupTimerExpiryLeavesUpstream) {
    ProxyRig rig;
    rig.host_report(1, RecordType::change_to_exclude, {});
    EXPECT_EQ(rig.upstream_filter(), FilterState::any_source());
    rig.run_until(rig.clock.now() + std::chrono::seconds(200));
    EXPECT_EQ(rig.upstream_filter(), FilterState::any_source()); // GMI not over yet
    rig.take(up);
    // RFC 3376 §8.4: GMI = 2 x 125 s + 10 s = 260 s with the defaults.
    rig.run_until(time_point{} + std::chrono::seconds(261));
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->group_count(), 0u);
    EXPECT_EQ(rig.upstream_filter(), FilterState::none());
    EXPECT_TRUE(rig.nic.table().empty());
    auto recs = rig.upstream_records();
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs[0].type, RecordType::change_to_include);
    EXPECT_TRUE(recs[0].sources.empty());
}

TEST(Proxy, StartupQueriesGoOutOnDownstreamPorts) {
    ProxyRig rig;
    auto first = rig.take(1);
    ASSERT_EQ(first.size(), 2u); // IGMP and MLD general queries at once
    size_t v4 = 0, v6 = 0;
    for (auto& d : first) {
        auto* q = std::get_if<wire::Query>(&d.message);
        ASSERT_NE(q, nullptr);
        EXPECT_TRUE(q->group.is_unspecified());
        EXPECT_EQ(q->version, q->family == addr::Family::v4 ? 3 : 2);
        (q->family == addr::Family::v4 ? v4 : v6)++;
        EXPECT_EQ(d.src_mac, *addr::MacAddr::parse("02:00:00:00:01:01"));
        EXPECT_EQ(d.ip_src, q->family == addr::Family::v4 ? ip("198.51.100.1") : ip("fe80::1:1"));
    }
    EXPECT_EQ(v4, 1u);
    EXPECT_EQ(v6, 1u);
    EXPECT_EQ(rig.take(2).size(), 2u);
    EXPECT_TRUE(rig.take(up).empty()); // the upstream port never queries
    // RFC 3376 §8.6-7: the second startup query a Startup Query Interval (125 s / 4) later.
    rig.run_until(time_point{} + std::chrono::milliseconds(31249));
    EXPECT_TRUE(rig.take(1).empty());
    rig.run_until(time_point{} + std::chrono::milliseconds(31250));
    EXPECT_EQ(rig.take(1).size(), 2u);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->counters().general_queries_sent, 2u);
    EXPECT_LE(rig.cp.poll(), time_point{} + std::chrono::milliseconds(31250 + 125000));
    EXPECT_FALSE(rig.cp.idle());
}

TEST(Proxy, RouterQueryOnDownstreamPortIsQuerierElectionInput) {
    ProxyRig rig;
    rig.cp.on_control_frame(1, rig.router_query("198.51.100.0")); // lower than ours (.1)
    EXPECT_EQ(rig.cp.counters().queries, 0u);                     // not a host query
    const router::RouterEngine* rt = rig.cp.router(1, addr::Family::v4);
    EXPECT_EQ(rt->counters().queries_received, 1u);
    EXPECT_FALSE(rt->querier().querier);
    EXPECT_EQ(rt->querier().querier_address, ip("198.51.100.0"));
    EXPECT_TRUE(rig.cp.router(2, addr::Family::v4)->querier().querier);
    // A higher address does not win.
    rig.cp.on_control_frame(2, rig.router_query("198.51.100.9"));
    EXPECT_TRUE(rig.cp.router(2, addr::Family::v4)->querier().querier);
    EXPECT_TRUE(rig.take(up).empty());
}

// RFC 4605 §4.2: the proxy forwards onto a downstream link only where it is the
// querier; §4.1: its subscription database still merges every downstream link.
TEST(Proxy, ForwardsOntoADownstreamLinkOnlyWhileItIsTheQuerier) {
    using addr::Family;
    using Outlets = std::set<table::OutletId>;
    ProxyRig rig;
    rig.bind_outlet(1);
    rig.bind_outlet(2);
    rig.host_report(1, RecordType::allow_new_sources, {S1});
    rig.host_report(2, RecordType::allow_new_sources, {S1});
    EXPECT_TRUE(rig.cp.forwarding(1, Family::v4));
    EXPECT_EQ(rig.cp.forwarding_changes(1, Family::v4), 1u); // the win at start
    EXPECT_EQ(rig.delivered(S1), (Outlets{1, 2}));

    const time_point lost_at = rig.clock.now();
    rig.cp.on_control_frame(1, rig.router_query("198.51.100.0")); // lower than ours (.1)
    EXPECT_FALSE(rig.cp.forwarding(1, Family::v4));
    EXPECT_EQ(rig.cp.forwarding_changes(1, Family::v4), 2u);
    EXPECT_EQ(rig.delivered(S1), Outlets{2});
    EXPECT_TRUE(rig.cp.forwarding(1, Family::v6)); // MLD's election is its own
    EXPECT_TRUE(rig.cp.forwarding(2, Family::v4));
    // The merge upstream is unchanged, and port 1's listeners still count there.
    EXPECT_EQ(rig.upstream_filter(), include({S1}));
    rig.host_report(1, RecordType::allow_new_sources, {S2});
    EXPECT_EQ(rig.upstream_filter(), include({S1, S2}));
    EXPECT_EQ(rig.delivered(S2), Outlets{});

    // §8.5 Other Querier Present Interval (2 x 125 s + 10 s / 2) without a query:
    // querier again, and port 1's groups are back in the table (GMI 260 s: S1 and S2
    // still have running timers).
    rig.run_until(lost_at + std::chrono::seconds(254));
    EXPECT_FALSE(rig.cp.forwarding(1, Family::v4));
    rig.run_until(lost_at + std::chrono::seconds(255));
    EXPECT_TRUE(rig.cp.router(1, Family::v4)->querier().querier);
    EXPECT_TRUE(rig.cp.forwarding(1, Family::v4));
    EXPECT_EQ(rig.cp.forwarding_changes(1, Family::v4), 3u);
    EXPECT_EQ(rig.delivered(S1), (Outlets{1, 2}));
    EXPECT_EQ(rig.delivered(S2), Outlets{1});

    // A link down stops the router, and its forwarding; up starts a querier again.
    rig.cp.set_link(1, false);
    EXPECT_FALSE(rig.cp.forwarding(1, Family::v4));
    EXPECT_FALSE(rig.cp.forwarding(1, Family::v6));
    rig.cp.set_link(1, true);
    EXPECT_TRUE(rig.cp.forwarding(1, Family::v4));
    EXPECT_EQ(rig.cp.forwarding_changes(1, Family::v4), 5u);
}

TEST(Proxy, ADownstreamRouterThatNeverQueriesNeverForwards) {
    ProxyRig rig;
    PortSetup s = rig.downstream_setup(3);
    s.igmp_router.querier = false;
    ASSERT_EQ(rig.cp.add_port(std::move(s)), errc::ok);
    rig.bind_outlet(3);
    rig.host_report(3, RecordType::allow_new_sources, {S1});
    EXPECT_EQ(rig.upstream_filter(), include({S1})); // merged all the same (§4.1)
    EXPECT_FALSE(rig.cp.forwarding(3, addr::Family::v4));
    EXPECT_EQ(rig.cp.forwarding_changes(3, addr::Family::v4), 0u);
    EXPECT_EQ(rig.delivered(S1), std::set<table::OutletId>{});
}

TEST(Proxy, ReportsOnTheUpstreamPortAreStillIgnored) {
    ProxyRig rig;
    rig.host_report(up, RecordType::allow_new_sources, {S1});
    EXPECT_EQ(rig.cp.counters().reports_heard, 1u);
    EXPECT_EQ(rig.cp.counters().router_messages, 0u);
    EXPECT_EQ(rig.upstream_filter(), FilterState::none());
    // And the upstream port still answers a query as a host.
    rig.cp.on_control_frame(up, rig.router_query("192.0.2.1"));
    EXPECT_EQ(rig.cp.counters().queries, 1u);
}

TEST(Proxy, DownstreamLinkDownWithdrawsItsStateUpstream) {
    ProxyRig rig;
    rig.host_report(1, RecordType::allow_new_sources, {S1});
    rig.host_report(2, RecordType::allow_new_sources, {S2});
    rig.cp.set_link(1, false);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4), nullptr);
    EXPECT_EQ(rig.upstream_filter(), include({S2}));
    rig.take(1);
    rig.cp.set_link(1, true); // fresh routers: startup queries, nothing learnt
    ASSERT_NE(rig.cp.router(1, addr::Family::v4), nullptr);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->group_count(), 0u);
    EXPECT_EQ(rig.take(1).size(), 2u);
}

TEST(Proxy, ADownstreamPortNeedsAnUpstreamPortFirst) {
    VirtualClock clock;
    SplitMix rng{1};
    ControlPlane cp(membership::Limits{}, clock, rng);
    PortSetup s;
    s.id = 1;
    s.name = "down";
    s.role = PortRole::downstream;
    s.mld = false;
    s.transmit = [](std::span<const uint8_t>) {};
    EXPECT_EQ(cp.add_port(s), errc::no_device);
    PortSetup u = s;
    u.id = 0;
    u.name = "up";
    u.role = PortRole::upstream;
    EXPECT_EQ(cp.add_port(u), errc::ok);
    EXPECT_EQ(cp.upstream(), PortId(0));
    EXPECT_EQ(cp.add_port(s), errc::ok);
    ASSERT_TRUE(cp.downstream_receiver(1));
    EXPECT_EQ(cp.engine().receiver_name(*cp.downstream_receiver(1)), "downstream:down");
    EXPECT_EQ(cp.host(1, addr::Family::v4), nullptr); // no host side downstream
}

TEST(Proxy, MldListenerDownstreamIsReportedUpstreamWithMld) {
    ProxyRig rig;
    rig.take(up);
    const IpAddr g6 = ip("ff3e::1234");
    const IpAddr s6 = ip("2001:db8::1");
    wire::FrameParams host;
    host.src_mac = *addr::MacAddr::parse("02:00:00:00:aa:02");
    host.ipv6_src = ip("fe80::aa:2");
    wire::Report report;
    report.family = addr::Family::v6;
    report.records.push_back({RecordType::allow_new_sources, g6, {s6}});
    std::vector<wire::Frame> frames;
    ASSERT_EQ(wire::encode(wire::Message{report}, host, frames), errc::ok);
    rig.cp.on_control_frame(2, frames.at(0));
    EXPECT_EQ(rig.cp.router(2, addr::Family::v6)->forwarding(g6), include({s6}));
    EXPECT_EQ(rig.upstream_filter(g6), include({s6}));
    auto out = rig.take(up);
    ASSERT_EQ(out.size(), 1u);
    auto& r = std::get<wire::Report>(out[0].message);
    EXPECT_EQ(r.family, addr::Family::v6);
    EXPECT_EQ(out[0].ip_src, ip("fe80::10"));
    EXPECT_EQ(r.records.at(0).group, g6);
}

TEST(Proxy, LinkLocalGroupsStayOnTheirLink) {
    ProxyRig rig;
    const IpAddr mdns = ip("224.0.0.251");
    rig.host_report(1, RecordType::change_to_exclude, {}, mdns);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->group_count(), 1u);
    EXPECT_EQ(rig.upstream_filter(mdns), FilterState::none());
    EXPECT_TRUE(rig.take(up).empty());
}

TEST(Proxy, TooManyDownstreamSourcesWidenToAnySource) {
    ProxyRig rig;
    std::vector<IpAddr> many;
    for (int i = 1; i <= 70; ++i) // Limits::max_filter_sources is 64
        many.push_back(ip(("10.1.0." + std::to_string(i)).c_str()));
    rig.host_report(1, RecordType::allow_new_sources, many);
    EXPECT_EQ(rig.cp.counters().proxy_widened, 1u);
    EXPECT_EQ(rig.upstream_filter(), FilterState::any_source());
}

// RFC 4604 §2.2.2: on a downstream link, any-source requests for an SSM group
// (EXCLUDE-mode records, IGMPv1/v2 and MLDv1 reports) are ignored and counted, so
// nothing reaches the upstream port; an (S,G) join of the same group is proxied.
TEST(Proxy, AnySourceRequestsForAnSsmGroupAreIgnoredAndNeverProxied) {
    ProxyRig rig;
    rig.take(up);
    const IpAddr g4 = ip("232.7.7.7"), g6 = ip("ff3e::7");
    rig.host_report(1, RecordType::change_to_exclude, {}, g4);
    rig.host_report(1, RecordType::mode_is_exclude, {S2}, g4);
    auto legacy = [&](const IpAddr& g) {
        wire::FrameParams host;
        host.src_mac = *addr::MacAddr::parse("02:00:00:00:aa:03");
        host.ipv4_src = ip("198.51.100.103");
        host.ipv6_src = ip("fe80::aa:3");
        std::vector<wire::Frame> frames;
        ASSERT_EQ(wire::encode(
                      wire::Message{wire::LegacyReport{g.family(), uint8_t(g.is_v4() ? 2 : 1), g}},
                      host, frames),
                  errc::ok);
        rig.cp.on_control_frame(1, frames.at(0));
    };
    legacy(g4);
    legacy(g6);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->counters().ssm_ignored, 3u);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v6)->counters().ssm_ignored, 1u);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->group_count(), 0u);
    EXPECT_EQ(rig.cp.router(1, addr::Family::v6)->group_count(), 0u);
    EXPECT_EQ(rig.upstream_filter(g4), FilterState::none());
    EXPECT_EQ(rig.upstream_filter(g6), FilterState::none());
    EXPECT_TRUE(rig.take(up).empty());

    rig.host_report(1, RecordType::allow_new_sources, {S1}, g4);
    EXPECT_EQ(rig.upstream_filter(g4), include({S1}));
    EXPECT_EQ(rig.cp.router(1, addr::Family::v4)->counters().ssm_ignored, 3u);
}

} // namespace
} // namespace mcfwd::control

namespace mcfwd::control {
namespace {

// One report of many groups on a downstream link changes the upstream port's NIC list
// once, not once per group: the control plane holds the devices over a control frame
// (NicFilter::hold), and programming costs O(wanted MACs) each time.
TEST(Proxy, AReportOfManyGroupsProgramsTheUpstreamNicOnce) {
    ProxyRig rig;
    wire::FrameParams host;
    host.src_mac = *addr::MacAddr::parse("02:00:00:00:aa:01");
    host.ipv4_src = *IpAddr::parse("198.51.100.100");
    wire::Report report;
    for (uint32_t i = 0; i < 12; ++i) // 12 MACs: within the SimNic's 16
        report.records.push_back({RecordType::change_to_exclude, IpAddr::v4(0xe9010100u + i), {}});
    std::vector<wire::Frame> frames;
    ASSERT_EQ(wire::encode(wire::Message{report}, host, frames), errc::ok);
    ASSERT_EQ(frames.size(), 1u);
    const uint64_t before = rig.nic.list_calls();
    rig.cp.on_control_frame(1, frames[0]);
    EXPECT_EQ(rig.nic.list_calls() - before, 1u);
    EXPECT_EQ(rig.nic.table().size(), 12u);
    EXPECT_EQ(rig.cp.engine().port_filter(up, IpAddr::v4(0xe9010100u)).mode, FilterMode::exclude);
    // Link down on the upstream port detaches all 12: one programming too.
    const uint64_t before_down = rig.nic.list_calls();
    rig.cp.set_link(up, false);
    EXPECT_EQ(rig.nic.list_calls() - before_down, 1u);
    EXPECT_TRUE(rig.nic.table().empty());
}

} // namespace
} // namespace mcfwd::control
