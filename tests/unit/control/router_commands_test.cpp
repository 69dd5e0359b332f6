// /mcfwd/router: a downstream port's router state as telemetry shows it — group
// records with their sources and timers (RFC 3376 §6.2), the querier (§6.6.2),
// counters including the limits' refusals, paging and the error answers.
#include "control/commands.hpp"
#include "proxy_rig.hpp"
#include "simnic/sim_nic.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

namespace mcfwd::control {
namespace {

using wire::RecordType;

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

const IpAddr G1 = ip("233.1.1.1");
const IpAddr G2 = ip("239.2.2.2");
const IpAddr S1 = ip("10.0.0.1");
const IpAddr S2 = ip("10.0.0.2");
const IpAddr S3 = ip("10.0.0.3");

// RFC 3376 §8.4 Group Membership Interval with the defaults: 2 * 125 s + 10 s.
constexpr uint64_t gmi_ms = 260000;

struct RouterRig {
    explicit RouterRig(size_t max_groups = 4096, uint8_t igmp_version = 0,
                       duration query_response_interval = std::chrono::seconds(10))
        : reclaimer(qsbr), table(reclaimer), cp(membership::Limits{}, clock, rng) {
        EXPECT_EQ(
            cp.add_port(testing::upstream_setup(&nic, &table, [](std::span<const uint8_t>) {})),
            errc::ok);
        PortSetup down = testing::downstream_setup(1, [](std::span<const uint8_t>) {});
        down.igmp_router.max_groups = max_groups;
        down.igmp_router.version = igmp_version;
        down.igmp_router.query_response_interval = query_response_interval;
        EXPECT_EQ(cp.add_port(down), errc::ok);
        ctx.cp = &cp;
        ctx.clock = &clock;
        ctx.ports = {{"uplink", 0}, {"down1", 1}};
    }
    // A listener on the downstream link sends an IGMPv3 report with one record.
    void report(RecordType type, const IpAddr& group, std::vector<IpAddr> sources) {
        for (auto& f : testing::host_report(type, group, std::move(sources)))
            cp.on_control_frame(1, f);
    }
    void query_from(const char* from) { cp.on_control_frame(1, testing::router_query(from)); }
    Value run(std::string_view params = "") { return execute(ctx, "router", params); }

    VirtualClock clock;
    SplitMix rng{7};
    simnic::SimNic nic{16};
    table::Qsbr qsbr{1};
    table::QsbrReclaimer reclaimer;
    table::PortTable table;
    ControlPlane cp;
    CommandContext ctx;
};

std::string err(const Value& v) {
    const Value* e = v.find("error");
    return e ? e->as_string() : "";
}
std::string str(const Value& v, std::string_view key) {
    const Value* e = v.find(key);
    return e && e->kind() == Value::Kind::string ? e->as_string() : "<missing>";
}
uint64_t num(const Value& v, std::string_view key) {
    const Value* e = v.find(key);
    return e && e->kind() == Value::Kind::uint ? e->as_uint() : ~uint64_t(0);
}
std::vector<std::string> strings(const Value& v, std::string_view key) {
    std::vector<std::string> out;
    if (const Value* l = v.find(key))
        for (const Value& i : l->items())
            out.push_back(i.as_string());
    return out;
}
std::vector<uint64_t> numbers(const Value& v, std::string_view key) {
    std::vector<uint64_t> out;
    if (const Value* l = v.find(key))
        for (const Value& i : l->items())
            out.push_back(i.as_uint());
    return out;
}
const Value& records(const Value& v) {
    static const Value none = Value::list();
    const Value* g = v.find("groups");
    return g ? *g : none;
}

TEST(RouterCommand, ListsIncludeAndExcludeRecordsWithSourceAndGroupTimers) {
    RouterRig rig;
    rig.report(RecordType::mode_is_include, G1, {S1, S2});
    rig.report(RecordType::mode_is_exclude, G2, {S3});
    rig.clock.advance(std::chrono::milliseconds(1500));
    rig.report(RecordType::allow_new_sources, G1, {S2}); // S2's timer back to GMI

    const Value v = rig.run();
    ASSERT_FALSE(is_error(v)) << v.to_json();
    EXPECT_EQ(num(v, "total"), 2u);
    EXPECT_EQ(v.find("next"), nullptr);
    ASSERT_EQ(records(v).size(), 2u);

    const Value& inc = records(v).items()[0];
    EXPECT_EQ(str(inc, "port"), "down1");
    EXPECT_EQ(str(inc, "protocol"), "igmp");
    EXPECT_EQ(str(inc, "group"), "233.1.1.1");
    EXPECT_EQ(str(inc, "mode"), "include");
    EXPECT_EQ(strings(inc, "sources"), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    // Milliseconds remaining, relative to the clock's now (§6.4.1: IS_IN sets GMI).
    EXPECT_EQ(numbers(inc, "source_timers_ms"), (std::vector<uint64_t>{gmi_ms - 1500, gmi_ms}));
    EXPECT_TRUE(strings(inc, "blocked").empty());
    EXPECT_EQ(inc.find("group_timer_ms"), nullptr); // no group timer in INCLUDE mode
    EXPECT_EQ(num(inc, "compat_version"), 3u);
    EXPECT_EQ(str(inc, "forwarding_mode"), "include");
    EXPECT_EQ(strings(inc, "forwarding_sources"), strings(inc, "sources"));

    // §6.4.1: IS_EX({S3}) on no record is EXCLUDE ({}, {S3}), group timer GMI.
    const Value& exc = records(v).items()[1];
    EXPECT_EQ(str(exc, "group"), "239.2.2.2");
    EXPECT_EQ(str(exc, "mode"), "exclude");
    EXPECT_TRUE(strings(exc, "sources").empty());
    EXPECT_EQ(strings(exc, "blocked"), std::vector<std::string>{"10.0.0.3"});
    EXPECT_EQ(num(exc, "group_timer_ms"), gmi_ms - 1500);
    EXPECT_EQ(str(exc, "forwarding_mode"), "exclude");
    EXPECT_EQ(strings(exc, "forwarding_sources"), std::vector<std::string>{"10.0.0.3"});

    // The same through the port's name.
    EXPECT_EQ(rig.run("down1"), v);
}

// Naming a port that keeps no router state is a mistake worth saying, not an
// empty listing that reads as "no group learnt yet".
TEST(RouterCommand, NamedUpstreamPortIsRefusedWithTheReason) {
    RouterRig rig;
    const Value up = rig.run("uplink");
    EXPECT_EQ(err(up), "EINVAL");
    EXPECT_EQ(str(up, "message"),
              "port uplink is not downstream: router state is kept only on ports with role: "
              "downstream");
    EXPECT_LT(str(up, "message").size(), 120u); // whole under telemetry's string limit
    // All ports: the upstream one adds nothing.
    EXPECT_FALSE(is_error(rig.run()));
}

// RFC 3376 §7.3.1: a port configured as an IGMPv1 querier shows its version, the 10 s its
// hosts use as response interval (not the 5 s configured: v1 queries cannot say it), and the
// Group Membership Interval made of it.
TEST(RouterCommand, ShowsTheOlderVersionQueriedWith) {
    RouterRig rig(4096, 1, std::chrono::seconds(5));
    const Value v = rig.run("down1");
    const Value& igmp = v.find("queriers")->items()[0];
    EXPECT_EQ(num(igmp, "version"), 1u);
    EXPECT_EQ(num(igmp, "query_response_interval_ms"), 10000u);
    EXPECT_EQ(num(igmp, "group_membership_interval_ms"), gmi_ms);
    EXPECT_EQ(num(v.find("queriers")->items()[1], "version"), 2u); // MLD keeps its own
}

TEST(RouterCommand, ShowsQuerierElectionAndOtherQuerierPresentTimer) {
    RouterRig rig;
    Value v = rig.run("down1");
    const Value* qs = v.find("queriers");
    ASSERT_NE(qs, nullptr);
    ASSERT_EQ(qs->size(), 2u); // IGMP and MLD
    const Value& igmp = qs->items()[0];
    EXPECT_EQ(str(igmp, "protocol"), "igmp");
    EXPECT_EQ(str(qs->items()[1], "protocol"), "mld");
    EXPECT_EQ(str(qs->items()[1], "address"), "fe80::1:1");
    EXPECT_EQ(num(igmp, "querier"), 1u);
    EXPECT_EQ(str(igmp, "querier_address"), "198.51.100.1");
    EXPECT_EQ(num(igmp, "forwarding"), 1u);         // RFC 4605 §4.2: the querier forwards
    EXPECT_EQ(num(igmp, "forwarding_changes"), 1u); // off until the start's win
    EXPECT_EQ(igmp.find("other_querier_ms"), nullptr);
    // §8.6: the next startup query is [Query Interval] / 4 away.
    EXPECT_EQ(num(igmp, "general_query_ms"), 31250u);
    EXPECT_EQ(num(igmp, "query_interval_ms"), 125000u);
    EXPECT_EQ(num(igmp, "group_membership_interval_ms"), gmi_ms);
    EXPECT_EQ(num(igmp, "version"), 3u); // RFC 3376 §7.3.1: the newest unless configured
    EXPECT_EQ(num(qs->items()[1], "version"), 2u);
    EXPECT_EQ(num(igmp, "query_response_interval_ms"), 10000u);
    EXPECT_EQ(num(*igmp.find("counters"), "general_queries_sent"), 1u);

    // §6.6.2: a lower address takes over; Other Querier Present Interval (§8.5:
    // 2 * 125 s + 10 s / 2) then runs.
    rig.query_from("198.51.100.0");
    rig.clock.advance(std::chrono::seconds(5));
    v = rig.run("down1");
    const Value& lost = v.find("queriers")->items()[0];
    EXPECT_EQ(num(lost, "querier"), 0u);
    EXPECT_EQ(str(lost, "querier_address"), "198.51.100.0");
    EXPECT_EQ(str(lost, "address"), "198.51.100.1");
    EXPECT_EQ(num(lost, "other_querier_ms"), 255000u - 5000u);
    EXPECT_EQ(lost.find("general_query_ms"), nullptr);
    EXPECT_EQ(num(*lost.find("counters"), "querier_lost"), 1u);
    EXPECT_EQ(num(lost, "forwarding"), 0u);
    EXPECT_EQ(num(lost, "forwarding_changes"), 2u);
    EXPECT_EQ(num(v.find("queriers")->items()[1], "forwarding"), 1u); // MLD's election is its own
    EXPECT_EQ(num(*lost.find("counters"), "queries_received"), 1u);
}

TEST(RouterCommand, CountsGroupsRefusedBeyondMaxGroups) {
    RouterRig rig(/*max_groups=*/2);
    rig.report(RecordType::mode_is_include, ip("233.0.0.1"), {S1});
    rig.report(RecordType::mode_is_include, ip("233.0.0.2"), {S1});
    rig.report(RecordType::mode_is_include, ip("233.0.0.3"), {S1});
    const Value v = rig.run("down1");
    EXPECT_EQ(num(v, "total"), 2u);
    const Value& igmp = v.find("queriers")->items()[0];
    EXPECT_EQ(num(igmp, "groups"), 2u);
    EXPECT_EQ(num(igmp, "max_groups"), 2u);
    EXPECT_EQ(num(igmp, "sources"), 2u);
    EXPECT_EQ(num(*igmp.find("counters"), "groups_refused"), 1u);
    EXPECT_EQ(num(*igmp.find("counters"), "sources_refused"), 0u);
    EXPECT_EQ(num(*igmp.find("counters"), "reports"), 3u);
}

TEST(RouterCommand, PagesThroughGroupsInAddressOrder) {
    RouterRig rig;
    for (int i = 5; i >= 1; --i)
        rig.report(RecordType::mode_is_exclude, ip(("233.0.0." + std::to_string(i)).c_str()), {});
    std::vector<std::string> seen;
    size_t start = 0;
    for (int page = 0; page < 10; ++page) {
        const Value v = rig.run("start=" + std::to_string(start) + " limit=2");
        ASSERT_FALSE(is_error(v)) << v.to_json();
        EXPECT_EQ(num(v, "total"), 5u);
        EXPECT_LE(records(v).size(), 2u);
        for (const Value& g : records(v).items())
            seen.push_back(str(g, "group"));
        EXPECT_EQ(v.find("queriers")->size(), 2u); // on every page
        if (!v.find("next"))
            break;
        start = num(v, "next");
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"233.0.0.1", "233.0.0.2", "233.0.0.3", "233.0.0.4",
                                              "233.0.0.5"}));
    const Value past = rig.run("down1 start=9");
    EXPECT_EQ(records(past).size(), 0u);
    EXPECT_EQ(num(past, "total"), 5u);
}

TEST(RouterCommand, RefusesUnknownPortAndBadParameters) {
    RouterRig rig;
    EXPECT_EQ(err(rig.run("nosuch")), "ENXIO");
    EXPECT_EQ(err(rig.run("down1 uplink")), "EINVAL");
    EXPECT_EQ(err(rig.run("limit=0")), "EINVAL");
    EXPECT_EQ(err(rig.run("limit=201")), "EINVAL");
    EXPECT_EQ(err(rig.run("start=x")), "EINVAL");
    EXPECT_EQ(err(rig.run("port=down1")), "EINVAL");
    EXPECT_FALSE(find_command("router")->mutates);
    rig.ctx.read_only = true; // a read: still answered
    EXPECT_FALSE(is_error(rig.run()));
}

// The proxy's receiver of a downstream port ("downstream:down1") holds the hosts'
// groups as its filter: every change through telemetry is EPERM and changes
// nothing, so upstream never loses a group the router still holds.
TEST(InternalReceiver, EveryMutationIsEpermAndChangesNothing) {
    RouterRig rig;
    rig.report(RecordType::mode_is_include, G1, {S1});
    const Value before_r = execute(rig.ctx, "receivers", "");
    const Value before_g = execute(rig.ctx, "groups", "");
    const Value before_router = rig.run();
    std::vector<IpAddr> staged{S2};
    const std::pair<const char*, const char*> changes[] = {
        {"join", "downstream:down1 239.9.9.9 port=uplink"},
        {"leave", "downstream:down1 233.1.1.1 port=uplink"},
        {"join_source", "downstream:down1 233.1.1.1 10.0.0.2 port=uplink"},
        {"leave_source", "downstream:down1 233.1.1.1 10.0.0.1 port=uplink"},
        {"block", "downstream:down1 239.9.9.9 10.0.0.2 port=uplink"},
        {"unblock", "downstream:down1 239.9.9.9 10.0.0.2 port=uplink"},
        {"set_filter", "downstream:down1 233.1.1.1 include port=uplink"},
        {"set_filter", "downstream:down1 233.1.1.1 include stage=1 count=1 port=uplink"},
        {"close_receiver", "downstream:down1"},
    };
    for (const auto& [name, params] : changes) {
        const Value v = execute(rig.ctx, name, params, &staged);
        EXPECT_EQ(err(v), "EPERM") << name << " " << params;
        EXPECT_NE(str(v, "message").find("internal"), std::string::npos) << v.to_json();
    }
    EXPECT_EQ(execute(rig.ctx, "receivers", ""), before_r);
    EXPECT_EQ(execute(rig.ctx, "groups", "").to_json(), before_g.to_json());
    EXPECT_EQ(rig.run().to_json(), before_router.to_json());
}

TEST(InternalReceiver, ListingMarksItInternal) {
    RouterRig rig;
    const Value v = execute(rig.ctx, "receivers", "");
    ASSERT_EQ(v.find("receivers")->size(), 1u);
    const Value& r = v.find("receivers")->items()[0];
    EXPECT_EQ(str(r, "name"), "downstream:down1");
    EXPECT_EQ(num(r, "internal"), 1u);
}

} // namespace
} // namespace mcfwd::control
