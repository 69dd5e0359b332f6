// Telemetry commands against a real control plane (two simulated ports): every
// command, every error code, bad parameters, "an error changes nothing", and the
// mailbox between telemetry threads and the control lcore.
#include "command_rig.hpp"

#include <gtest/gtest.h>

#include <set>

#include <atomic>
#include <thread>

namespace mcfwd::control {
namespace {

using namespace testing;

// ---- Value ----------------------------------------------------------------------------

TEST(CommandValue, JsonEscapesAndKeepsKeyOrder) {
    Value v;
    v.set("b", uint64_t(1));
    v.set("a", "x\"y\\z\n");
    Value l = Value::list();
    l.push(int64_t(-2));
    l.push("s");
    v.set("l", std::move(l));
    v.set("b", uint64_t(2)); // replaces in place
    EXPECT_EQ(v.to_json(), R"({"b":2,"a":"x\"y\\z\n","l":[-2,"s"]})");
}

TEST(CommandValue, ErrorMessagesStayUnderTelemetryStringLimit) {
    Value e = error_value("EINVAL", std::string(500, 'x'));
    EXPECT_TRUE(is_error(e));
    EXPECT_LT(str(e, "message").size(), 128u);
}

// ---- listing ---------------------------------------------------------------------------

TEST(Commands, HelpListsEveryCommand) {
    Rig rig;
    Value h = rig.run("help");
    for (const CommandInfo& c : command_list())
        EXPECT_NE(h.find(c.name), nullptr) << c.name;
    EXPECT_EQ(command_list().size(), 19u);
}

// DPDK 22.11 refuses to register a command whose help text (the app writes
// "HELP. Parameters: USAGE") is 128 bytes or more.
TEST(Commands, EveryHelpTextFitsTelemetryRegistration) {
    for (const CommandInfo& c : command_list()) {
        const size_t n = c.help.size() + (c.usage.empty() ? 0 : 14 + c.usage.size());
        EXPECT_LT(n, 128u) << c.name;
    }
}

TEST(Commands, PortsShowNicFilterAndHostEngines) {
    Rig rig;
    ASSERT_EQ(rig.cp.engine().join(rig.a, 0, ip("233.1.1.1")), errc::ok);
    Value v = rig.run("ports");
    ASSERT_EQ(v.find("ports")->size(), 2u);
    const Value& up = v.find("ports")->items()[0];
    EXPECT_EQ(str(up, "name"), "uplink");
    EXPECT_EQ(num(up, "groups"), 1u);
    EXPECT_EQ(num(up, "up"), 1u);
    const Value* nic = up.find("nic");
    ASSERT_NE(nic, nullptr);
    EXPECT_EQ(num(*nic, "macs_programmed"), 1u);
    EXPECT_EQ(nic->find("programmed")->items()[0].as_string(), "01:00:5e:01:01:01");
    EXPECT_EQ(num(*nic, "allmulti"), 0u);
    EXPECT_EQ(str(*nic, "allmulti_reason"), "none");
    EXPECT_EQ(num(*up.find("igmp"), "compat_version"), 3u);
    EXPECT_EQ(num(*up.find("mld"), "compat_version"), 2u);
    EXPECT_GE(num(*up.find("reports"), "frames"), 1u);

    Value one = rig.run("ports", "side");
    ASSERT_EQ(one.find("ports")->size(), 1u);
    EXPECT_EQ(str(one.find("ports")->items()[0], "name"), "side");
    EXPECT_EQ(err(rig.run("ports", "nope")), "ENXIO");
    EXPECT_EQ(err(rig.run("ports", "uplink side")), "EINVAL");
}

TEST(Commands, PortsShowAllmulticastAndWhy) {
    Rig rig;
    ASSERT_EQ(rig.cp.engine().join_all(3), errc::ok);
    Value v = rig.run("ports", "side");
    const Value& nic = *v.find("ports")->items()[0].find("nic");
    EXPECT_EQ(num(nic, "allmulti"), 1u);
    EXPECT_EQ(str(nic, "allmulti_reason"), "forced");
}

TEST(Commands, GroupsShowMergedFilterMembersAndPendingReports) {
    Rig rig;
    auto& e = rig.cp.engine();
    ASSERT_EQ(e.join_source(rig.a, 0, ip("233.1.1.1"), ip("10.0.0.1")), errc::ok);
    ASSERT_EQ(e.join_source(rig.b, 0, ip("233.1.1.1"), ip("10.0.0.2")), errc::ok);
    Value v = rig.run("groups", "uplink");
    EXPECT_EQ(num(v, "total"), 1u);
    const Value& g = v.find("groups")->items()[0];
    EXPECT_EQ(str(g, "group"), "233.1.1.1");
    EXPECT_EQ(str(g, "mode"), "include");
    EXPECT_EQ(g.find("sources")->to_json(), R"(["10.0.0.1","10.0.0.2"])");
    EXPECT_EQ(num(g, "refcount"), 2u);
    EXPECT_EQ(g.find("members")->to_json(), R"(["feedA","feedB"])");
    const Value& h = *g.find("host");
    EXPECT_EQ(str(h, "protocol"), "igmp");
    EXPECT_EQ(num(h, "compat_version"), 3u);
    // RFC 3376 §5.1: the state change is retransmitted [Robustness Variable] - 1 more times.
    EXPECT_GE(num(h, "pending_reports"), 1u);
    EXPECT_NE(h.find("retransmit_ms"), nullptr);
    // Once every retransmission went out nothing is pending and no timer is shown.
    for (int i = 0; i < 50 && !rig.cp.idle(); ++i) {
        rig.clock.set(std::max(rig.clock.now(), rig.cp.poll()));
        rig.cp.poll();
    }
    const Value settled = rig.run("groups", "uplink").find("groups")->items()[0];
    EXPECT_EQ(num(*settled.find("host"), "pending_reports"), 0u);
    EXPECT_EQ(settled.find("host")->find("retransmit_ms"), nullptr);
}

TEST(Commands, GroupsAreOrderedAndPaged) {
    Rig rig;
    for (int i = 5; i >= 1; --i) {
        std::string g = "239.0.0." + std::to_string(i);
        ASSERT_EQ(rig.cp.engine().join(rig.a, 0, ip(g.c_str())), errc::ok);
    }
    ASSERT_EQ(rig.cp.engine().join(rig.b, 3, ip("ff0e::1")), errc::ok);
    Value all = rig.run("groups");
    EXPECT_EQ(num(all, "total"), 6u);
    EXPECT_EQ(str(all.find("groups")->items()[0], "group"), "239.0.0.1");
    EXPECT_EQ(str(all.find("groups")->items()[5], "port"), "side");
    EXPECT_EQ(str(*all.find("groups")->items()[5].find("host"), "protocol"), "mld");
    EXPECT_EQ(all.find("next"), nullptr);
    Value page = rig.run("groups", "start=2,limit=2");
    ASSERT_EQ(page.find("groups")->size(), 2u);
    EXPECT_EQ(str(page.find("groups")->items()[0], "group"), "239.0.0.3");
    EXPECT_EQ(num(page, "next"), 4u);
    EXPECT_EQ(rig.run("groups", "start=99").find("groups")->size(), 0u);
    EXPECT_EQ(err(rig.run("groups", "limit=0")), "EINVAL");
    EXPECT_EQ(err(rig.run("groups", "limit=201")), "EINVAL");
    EXPECT_EQ(err(rig.run("groups", "start=-1")), "EINVAL");
    EXPECT_EQ(err(rig.run("groups", "start=1x")), "EINVAL");
    EXPECT_EQ(err(rig.run("groups", "nope")), "ENXIO");
}

TEST(Commands, ReceiversShowMembershipsAndOutletCounters) {
    Rig rig;
    ASSERT_EQ(rig.cp.engine().join(rig.a, 3, ip("239.1.1.1")), errc::ok);
    ASSERT_EQ(rig.cp.engine().block(rig.a, 3, ip("239.1.1.1"), ip("10.0.0.9")), errc::ok);
    ASSERT_EQ(rig.cp.engine().join(rig.a, 0, ip("239.1.1.2")), errc::ok);
    Value v = rig.run("receivers", "feedA");
    ASSERT_EQ(v.find("receivers")->size(), 1u);
    const Value& r = v.find("receivers")->items()[0];
    EXPECT_EQ(str(r, "name"), "feedA");
    EXPECT_EQ(num(r, "outlet"), 0u);
    EXPECT_EQ(num(r, "delivered"), 100u);
    const Value& ms = *r.find("memberships");
    ASSERT_EQ(ms.size(), 2u);
    EXPECT_EQ(str(ms.items()[0], "port"), "uplink"); // configuration order
    EXPECT_EQ(str(ms.items()[1], "mode"), "exclude");
    EXPECT_EQ(ms.items()[1].find("sources")->to_json(), R"(["10.0.0.9"])");
    EXPECT_EQ(num(ms.items()[1], "attached"), 1u);
    EXPECT_EQ(num(rig.run("receivers"), "total"), 2u);
    EXPECT_EQ(err(rig.run("receivers", "nobody")), "ENOENT");
}

TEST(Commands, StatsShowControlEngineAndTableCounters) {
    Rig rig;
    const Value s0 = rig.run("stats");
    ASSERT_EQ(rig.cp.engine().join(rig.a, 0, ip("239.1.1.1")), errc::ok);
    rig.run("leave", "feedB 239.1.1.1 port=uplink"); // fails: counted
    Value s = rig.run("stats");
    EXPECT_EQ(num(*s.find("engine"), "calls_ok"), num(*s0.find("engine"), "calls_ok") + 1);
    EXPECT_EQ(num(*s.find("engine"), "calls_failed"), num(*s0.find("engine"), "calls_failed") + 1);
    EXPECT_EQ(num(*s.find("tables"), "published"), 1u);
    EXPECT_EQ(num(*s.find("control"), "frames"), 0u);
    EXPECT_EQ(err(rig.run("stats", "x")), "EINVAL");
}

// ---- mutations ---------------------------------------------------------------------------

TEST(Commands, JoinAnswersTheNewFilterAndProgramsEverything) {
    Rig rig;
    Value v = rig.run("join", "feedA 233.1.1.1 port=uplink");
    EXPECT_EQ(v.to_json(),
              R"({"ok":"join","receiver":"feedA","port":"uplink",)"
              R"("group":"233.1.1.1","mode":"exclude","source_count":0,"sources":[]})");
    EXPECT_EQ(rig.up_nic.table().size(), 1u);
    EXPECT_NE(rig.up_table.lookup(ip("233.1.1.1")), nullptr);
    EXPECT_GE(rig.frames_sent, 1u);
}

TEST(Commands, EveryMutationWorks) {
    Rig rig;
    struct Step {
        const char* cmd;
        const char* params;
        const char* mode;
        const char* sources;
    };
    const Step steps[] = {
        {"join_source", "feedA 233.1.1.1 10.0.0.1", "include", R"(["10.0.0.1"])"},
        {"join_source", "feedA,233.1.1.1,10.0.0.2", "include", R"(["10.0.0.1","10.0.0.2"])"},
        {"leave_source", "feedA 233.1.1.1 10.0.0.1", "include", R"(["10.0.0.2"])"},
        {"set_filter", "feedA 233.1.1.1 exclude 10.0.0.3,10.0.0.4", "exclude",
         R"(["10.0.0.3","10.0.0.4"])"},
        {"unblock", "feedA 233.1.1.1 10.0.0.3", "exclude", R"(["10.0.0.4"])"},
        {"block", "feedA 233.1.1.1 10.0.0.5", "exclude", R"(["10.0.0.4","10.0.0.5"])"},
        {"leave", "feedA 233.1.1.1", "none", "[]"},
        {"join", "feedA ff0e::8000:1 port=side", "exclude", "[]"},
        {"set_filter", "feedA ff0e::8000:1 include 2001:db8::1", "include", R"(["2001:db8::1"])"},
        {"leave_source", "feedA ff0e::8000:1 2001:db8::1", "none", "[]"},
        {"set_filter", "feedA 233.1.1.1 include port=uplink", "none", "[]"},
    };
    for (const Step& s : steps) {
        // The first steps name no port: feedA has no membership and there are two
        // ports, so they need port=; give it unless the step names one.
        std::string params = s.params;
        if (params.find("port=") == std::string::npos &&
            std::string(s.params).find("ff0e") == std::string::npos)
            params += " port=uplink";
        Value v = rig.run(s.cmd, params);
        ASSERT_FALSE(is_error(v)) << s.cmd << " " << params << ": " << v.to_json();
        EXPECT_EQ(str(v, "ok"), s.cmd);
        EXPECT_EQ(str(v, "mode"), s.mode) << s.cmd << " " << params;
        EXPECT_EQ(v.find("sources")->to_json(), s.sources) << s.cmd << " " << params;
    }
    EXPECT_EQ(num(rig.run("groups"), "total"), 0u);
}

TEST(Commands, PortIsInferredFromTheReceiversMemberships) {
    Rig rig;
    // No membership, two ports: ambiguous.
    EXPECT_EQ(err(rig.run("join", "feedA 233.1.1.1")), "EINVAL");
    ASSERT_FALSE(is_error(rig.run("join", "feedA 233.1.1.1 port=side")));
    // The receiver's only port is used for a new group and for this group.
    EXPECT_EQ(str(rig.run("join", "feedA 233.1.1.2"), "port"), "side");
    EXPECT_EQ(str(rig.run("block", "feedA 233.1.1.1 10.0.0.1"), "port"), "side");
    // The same group on two ports: ambiguous again.
    ASSERT_FALSE(is_error(rig.run("join", "feedA 233.1.1.1 port=uplink")));
    EXPECT_EQ(err(rig.run("leave", "feedA 233.1.1.1")), "EINVAL");
    // Not a member anywhere.
    EXPECT_EQ(err(rig.run("leave", "feedA 232.9.9.9")), "EADDRNOTAVAIL");
    EXPECT_FALSE(is_error(rig.run("leave", "feedA 233.1.1.1 port=uplink")));
}

TEST(Commands, SinglePortNeedsNoPortOption) {
    Rig rig;
    rig.ctx.ports.pop_back();
    EXPECT_EQ(str(rig.run("join", "feedB 239.2.2.2"), "port"), "uplink");
}

TEST(Commands, CloseReceiverLeavesEverything) {
    Rig rig;
    ASSERT_FALSE(is_error(rig.run("join", "feedA 239.1.1.1 port=uplink")));
    ASSERT_FALSE(is_error(rig.run("join", "feedA 239.1.1.1 port=side")));
    Value v = rig.run("close_receiver", "feedA");
    EXPECT_EQ(str(v, "ok"), "close_receiver");
    EXPECT_EQ(num(v, "memberships_left"), 2u);
    EXPECT_EQ(num(rig.run("groups"), "total"), 0u);
    EXPECT_EQ(rig.up_table.lookup(ip("239.1.1.1")), nullptr);
    EXPECT_EQ(err(rig.run("close_receiver", "feedA")), "ENOENT");
    EXPECT_EQ(err(rig.run("close_receiver", "")), "EINVAL");
    EXPECT_EQ(err(rig.run("close_receiver", "feedB port=uplink")), "EINVAL");
}

// ---- receivers at run time: add_receiver, close_receiver --------------------------------

// The outlets (mask bits) port 0's table delivers (group, source) to.
std::set<table::OutletId> outlets_for(Rig& rig, const char* g, const char* s) {
    std::set<table::OutletId> out;
    if (const table::GroupEntry* e = rig.up_table.lookup(ip(g)))
        for (uint64_t m = e->accept(ip(s)); m != 0; m &= m - 1)
            out.insert(table::OutletId(__builtin_ctzll(m)));
    return out;
}

TEST(Commands, AddedReceiverGetsARingAndDeliversPerItsFilter) {
    Rig rig;
    Value v = rig.run("add_receiver", "feedc size=4096");
    EXPECT_EQ(str(v, "ok"), "add_receiver") << v.to_json();
    EXPECT_EQ(num(v, "outlet"), 2u); // 0 and 1 are feedA's and feedB's
    EXPECT_EQ(str(v, "sink"), "ring feedc");
    ASSERT_FALSE(is_error(rig.run("set_filter", "feedc 239.1.1.1 include 10.0.0.1 port=uplink")));
    ASSERT_FALSE(is_error(rig.run("join", "feedA 239.1.1.1 port=uplink")));
    EXPECT_EQ(outlets_for(rig, "239.1.1.1", "10.0.0.1"), (std::set<table::OutletId>{0, 2}));
    EXPECT_EQ(outlets_for(rig, "239.1.1.1", "10.0.0.2"), (std::set<table::OutletId>{0}));
    const Value r = rig.run("receivers", "feedc").find("receivers")->items()[0];
    EXPECT_EQ(num(r, "outlet"), 2u);
    EXPECT_EQ(str(r, "sink"), "ring feedc");
    EXPECT_EQ(num(r, "delivered"), 102u);
    // A named ring, and a port sink on a port that may be one.
    EXPECT_EQ(str(rig.run("add_receiver", "feedd ring=Feed.D-1"), "sink"), "ring Feed.D-1");
    EXPECT_EQ(str(rig.run("add_receiver", "feede tx_port=side"), "sink"), "port 3");
    // Stats list every outlet by id with what it delivered.
    const Value st = rig.run("stats");
    EXPECT_EQ(st.find("outlets")->to_json(), R"(["feedA","feedB","feedc","feedd","feede"])");
    EXPECT_EQ(st.find("delivered")->to_json(), "[100,101,102,103,104]");
}

TEST(Commands, ClosedReceiverGivesBackItsSinkAndItsName) {
    Rig rig;
    ASSERT_EQ(num(rig.run("add_receiver", "feedc"), "outlet"), 2u);
    ASSERT_FALSE(is_error(rig.run("join", "feedc 239.1.1.1 port=uplink")));
    Value v = rig.run("close_receiver", "feedc");
    EXPECT_EQ(str(v, "ok"), "close_receiver");
    EXPECT_EQ(str(v, "sink"), "ring feedc");
    EXPECT_EQ(num(v, "delivered"), 102u);
    // The table had no entry naming the outlet left when it was given back.
    EXPECT_EQ(rig.up_table.lookup(ip("239.1.1.1")), nullptr);
    EXPECT_EQ(rig.sinks.closed, std::vector<table::OutletId>{2});
    // The name, the ring's name and the outlet are free again.
    v = rig.run("add_receiver", "feedc");
    EXPECT_EQ(num(v, "outlet"), 2u) << v.to_json();
    // A configured receiver can be closed and made again the same way.
    ASSERT_FALSE(is_error(rig.run("close_receiver", "feedA")));
    EXPECT_EQ(rig.sinks.closed, (std::vector<table::OutletId>{2, 0}));
    EXPECT_EQ(str(rig.run("add_receiver", "feeda ring=feedA"), "ok"), "add_receiver");
}

TEST(Commands, AddReceiverRefusalsChangeNothing) {
    Rig rig;
    rig.sinks.capacity = 3; // feedA, feedB and one more
    ASSERT_FALSE(is_error(rig.run("add_receiver", "full")));
    const std::string before = rig.state();
    const auto sinks_before = rig.sinks.open_ids;
    const std::string long33(33, 'a'), long30(30, 'b');
    const std::pair<std::string, const char*> cases[] = {
        {"", "EINVAL"},
        {"Feed", "EINVAL"},                      // upper case is not a receiver name
        {long33, "EINVAL"},                      // 33 characters
        {"downstream:down1", "EINVAL"},          // the proxy's internal names are not names
        {"full", "EADDRINUSE"},                  // a receiver of that name exists
        {"new extra", "EINVAL"},                 // one name only
        {"new port=uplink", "EINVAL"},           // not an option of add_receiver
        {"new ring=a/b", "EINVAL"},              // not a ring name
        {"new ring=" + std::string(29, 'r'), "EINVAL"}, // 29: too long for a ring
        {long30.substr(0, 30), "EINVAL"},        // its name is too long for a ring: give ring=
        {"new size=31", "EINVAL"},               // not a power of two
        {"new size=16", "EINVAL"},               // below 32
        {"new size=33554432", "EINVAL"},         // above 2^24
        {"new size=x", "EINVAL"},
        {"new tx_port=nope", "ENXIO"},
        {"new tx_port=side ring=r", "EINVAL"},   // one sink
        {"new tx_port=uplink", "EINVAL"},        // no TX queues for the lcores there
        {"new ring=feedB", "EEXIST"},            // the ring exists
        {"new", "ENOBUFS"},                      // every outlet in use
    };
    for (const auto& [params, code] : cases) {
        const Value v = rig.run("add_receiver", params);
        EXPECT_EQ(err(v), code) << params << " -> " << v.to_json();
        EXPECT_NE(str(v, "message"), "<missing>");
    }
    EXPECT_EQ(rig.state(), before);
    EXPECT_EQ(rig.sinks.open_ids, sinks_before);
    EXPECT_TRUE(rig.sinks.closed.empty());
    rig.ctx.read_only = true;
    EXPECT_EQ(err(rig.run("add_receiver", "other")), "EPERM");
    rig.ctx.read_only = false;
    rig.ctx.sinks = nullptr;
    EXPECT_EQ(err(rig.run("add_receiver", "other")), "ENOTSUP");
}

// ---- errors: each code, and nothing changes ----------------------------------------------

struct BadCase {
    const char* cmd;
    const char* params;
    const char* code;
};

// Preloaded state: feedA INCLUDE {10.0.0.1} on uplink 233.1.1.1, feedB EXCLUDE {} on
// side 239.1.1.1 and uplink 239.1.1.1.
void preload(Rig& rig) {
    auto& e = rig.cp.engine();
    ASSERT_EQ(e.join_source(rig.a, 0, ip("233.1.1.1"), ip("10.0.0.1")), errc::ok);
    ASSERT_EQ(e.join(rig.b, 3, ip("239.1.1.1")), errc::ok);
    ASSERT_EQ(e.join(rig.b, 0, ip("239.1.1.1")), errc::ok);
}

const BadCase bad_cases[] = {
    // EADDRINUSE: a second any-source join.
    {"join", "feedB 239.1.1.1 port=side", "EADDRINUSE"},
    // EADDRNOTAVAIL: no membership, source present / absent.
    {"leave", "feedA 239.9.9.9 port=uplink", "EADDRNOTAVAIL"},
    {"leave", "feedA 239.9.9.9", "EADDRNOTAVAIL"},
    {"block", "feedA 239.9.9.9 10.0.0.1 port=uplink", "EADDRNOTAVAIL"},
    {"join_source", "feedA 233.1.1.1 10.0.0.1", "EADDRNOTAVAIL"},
    {"leave_source", "feedA 233.1.1.1 10.0.0.7", "EADDRNOTAVAIL"},
    {"unblock", "feedB 239.1.1.1 10.0.0.7 port=side", "EADDRNOTAVAIL"},
    // EINVAL: filter mode mismatch of a one-source call.
    {"block", "feedA 233.1.1.1 10.0.0.2", "EINVAL"},
    {"join_source", "feedB 239.1.1.1 10.0.0.2 port=side", "EINVAL"},
    // EINVAL: addresses.
    {"join", "feedA 10.0.0.1 port=uplink", "EINVAL"},
    {"join", "feedA 233.1.1.300 port=uplink", "EINVAL"},
    {"join", "feedA not-an-address port=uplink", "EINVAL"},
    {"join_source", "feedA 233.1.1.1 232.0.0.5", "EINVAL"},
    {"join_source", "feedA 233.1.1.1 0.0.0.0", "EINVAL"},
    {"join_source", "feedA 233.1.1.1 2001:db8::1", "EINVAL"},
    {"set_filter", "feedA 233.1.1.1 exclude 10.0.0.1,ff02::1", "EINVAL"},
    {"set_filter", "feedA 233.1.1.1 exclude 10.0.0.2,bogus", "EINVAL"},
    // EINVAL: mode, arity, options, syntax.
    {"set_filter", "feedA 233.1.1.1 allow 10.0.0.1", "EINVAL"},
    {"set_filter", "feedA 233.1.1.1", "EINVAL"},
    {"join", "feedA", "EINVAL"},
    {"join", "", "EINVAL"},
    {"join", "feedA 233.1.1.2 233.1.1.3 port=uplink", "EINVAL"},
    {"join_source", "feedA 233.1.1.1", "EINVAL"},
    {"join", "feedA 233.1.1.2 colour=blue", "EINVAL"},
    {"join", "feedA 233.1.1.2 port=uplink port=side", "EINVAL"},
    {"join", "feedA 233.1.1.2 port=", "EINVAL"},
    {"join", "feedA port=uplink 233.1.1.2", "EINVAL"},
    {"join", "feedA\x01 233.1.1.2", "EINVAL"},
    {"join", "feedA 233.1.1.2 port=uplink\xff", "EINVAL"},
    {"join", "feedAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 233.1.1.2",
     "EINVAL"},
    {"join", "feedB 233.1.1.2", "EINVAL"}, // ambiguous port: feedB is on both
    {"frobnicate", "feedA", "EINVAL"},
    // ENOBUFS: more sources than the filter limit (4 in this rig).
    {"set_filter", "feedA 233.1.1.1 include 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5",
     "ENOBUFS"},
    // ENXIO: unknown port.
    {"join", "feedA 233.1.1.2 port=nope", "ENXIO"},
    // ENOENT: unknown receiver (the addresses are fine).
    {"join", "nobody 233.1.1.2 port=uplink", "ENOENT"},
    {"set_filter", "nobody 233.1.1.2 include 10.0.0.1 port=uplink", "ENOENT"},
};

TEST(CommandErrors, EachBadCommandAnswersItsCodeAndChangesNothing) {
    Rig rig(membership::Limits{4, 64});
    preload(rig);
    for (const BadCase& c : bad_cases) {
        const std::string before = rig.state();
        Value v = rig.run(c.cmd, c.params);
        EXPECT_EQ(err(v), c.code) << c.cmd << " " << c.params << ": " << v.to_json();
        EXPECT_FALSE(str(v, "message").empty()) << c.cmd << " " << c.params;
        EXPECT_EQ(rig.state(), before) << c.cmd << " " << c.params;
    }
}

TEST(CommandErrors, SourceListFullIsEnobufsAndChangesNothing) {
    Rig rig(membership::Limits{2, 64});
    ASSERT_FALSE(is_error(rig.run("set_filter", "feedA 233.1.1.1 include 10.0.0.1 10.0.0.2 "
                                                "port=uplink")));
    const std::string before = rig.state();
    EXPECT_EQ(err(rig.run("join_source", "feedA 233.1.1.1 10.0.0.3")), "ENOBUFS");
    EXPECT_EQ(rig.state(), before);
}

TEST(CommandErrors, RemovedPortIsEnxio) {
    Rig rig;
    ASSERT_EQ(rig.cp.engine().remove_port(3), errc::ok);
    EXPECT_EQ(err(rig.run("join", "feedA 233.1.1.1 port=side")), "ENXIO");
}

TEST(CommandErrors, ReadOnlyRefusesEveryMutationAndStillReads) {
    Rig rig;
    preload(rig);
    rig.ctx.read_only = true;
    const std::string before = rig.state();
    for (const CommandInfo& c : command_list()) {
        Value v = rig.run(c.name, "feedA 233.1.1.1 port=uplink");
        if (c.mutates) {
            EXPECT_EQ(err(v), "EPERM") << c.name;
        } else {
            EXPECT_NE(err(v), "EPERM") << c.name;
        }
    }
    EXPECT_EQ(rig.state(), before);
    EXPECT_FALSE(is_error(rig.run("groups")));
}

TEST(CommandErrors, GarbageParametersNeverCrashNorChangeState) {
    Rig rig;
    preload(rig);
    const std::string before = rig.state();
    const std::string junk[] = {std::string(5000, 'a'),
                                ",,,,",
                                "   ",
                                "=",
                                "==",
                                "port==x",
                                "a=b=c",
                                ":::",
                                std::string("feedA\0 233.1.1.1", 16),
                                "feedA 233.1.1.1 x y z w v" + std::string(300, ','),
                                "feedA ::ffff:233.1.1.1 include 10.0.0.1 x",
                                std::string(64, 'z') + " 233.1.1.1",
                                "\xc3\xa9 233.1.1.1"};
    for (const CommandInfo& c : command_list())
        for (const std::string& j : junk) {
            Value v = rig.run(c.name, j);
            if (c.mutates) {
                EXPECT_TRUE(is_error(v)) << c.name << " '" << j << "': " << v.to_json();
            }
        }
    EXPECT_EQ(rig.state(), before);
}

TEST(Commands, V4MappedSpellingIsTheSameGroup) {
    Rig rig;
    preload(rig);
    Value v = rig.run("leave_source", "feedA ::ffff:233.1.1.1 ::ffff:10.0.0.1");
    EXPECT_EQ(str(v, "group"), "233.1.1.1");
    EXPECT_EQ(str(v, "mode"), "none");
}

TEST(Commands, FilterPagesThroughEverySourceOfOneMembership) {
    Rig rig(membership::Limits{1000, 1000});
    std::vector<IpAddr> src;
    for (int i = 1; i <= 600; ++i)
        src.push_back(
            ip(("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)).c_str()));
    ASSERT_EQ(
        rig.cp.engine().set_filter(rig.a, 3, ip("233.1.1.1"), filter::FilterMode::exclude, src),
        errc::ok);
    Value p1 = rig.run("filter", "feedA 233.1.1.1");
    EXPECT_EQ(str(p1, "port"), "side"); // the one port where feedA has the group
    EXPECT_EQ(str(p1, "mode"), "exclude");
    EXPECT_EQ(num(p1, "total"), 600u);
    EXPECT_EQ(p1.find("sources")->size(), 256u); // a page: all one answer holds
    EXPECT_EQ(num(p1, "next"), 256u);
    Value p3 = rig.run("filter", "feedA 233.1.1.1 start=512 limit=256");
    EXPECT_EQ(p3.find("sources")->size(), 88u);
    EXPECT_EQ(p3.find("next"), nullptr);
    EXPECT_EQ(p3.find("sources")->items().back().as_string(), "10.0.2.88");
    EXPECT_EQ(err(rig.run("filter", "feedA 233.1.1.1 limit=257")), "EINVAL");
    EXPECT_EQ(err(rig.run("filter", "feedA 232.9.9.9 port=side")), "EADDRNOTAVAIL");
    EXPECT_EQ(err(rig.run("filter", "nobody 233.1.1.1")), "ENOENT");
}

TEST(Commands, ChangeAnswerLeavesOutASourceListTooLongForOneAnswer) {
    Rig rig(membership::Limits{1000, 1000});
    std::string params = "feedA 233.1.1.1 include";
    for (int i = 1; i <= 65; ++i)
        params += " 10.0.0." + std::to_string(i);
    Value v = rig.run("set_filter", params + " port=uplink");
    EXPECT_EQ(str(v, "ok"), "set_filter");
    EXPECT_EQ(num(v, "source_count"), 65u);
    EXPECT_EQ(v.find("sources"), nullptr);
}

TEST(Commands, ListingsShowTheFirstSourcesAndTheCountOfALongFilter) {
    Rig rig(membership::Limits{65536, 65536});
    std::vector<IpAddr> src;
    for (uint32_t i = 1; i <= 65536; ++i)
        src.push_back(IpAddr::v4((10u << 24) | i));
    ASSERT_EQ(
        rig.cp.engine().set_filter(rig.a, 0, ip("233.1.1.1"), filter::FilterMode::include, src),
        errc::ok);
    const Value g = rig.run("groups", "uplink");
    const Value& rec = g.find("groups")->items()[0];
    EXPECT_EQ(num(rec, "source_count"), 65536u);
    EXPECT_EQ(rec.find("sources")->size(), 64u);
    EXPECT_LT(g.to_json().size(), 16000u);
    const Value r = rig.run("receivers", "feedA");
    const Value& m = r.find("receivers")->items()[0].find("memberships")->items()[0];
    EXPECT_EQ(num(m, "source_count"), 65536u);
    EXPECT_EQ(m.find("sources")->size(), 64u);
}

// RFC 4604 §2.2.1, the rule lib/config applies to YAML: no any-source
// (EXCLUDE-mode) filter on an SSM group (232/8, ff3x::/32).
TEST(Commands, AnySourceFilterOnAnSsmGroupIsEinvalAndChangesNothing) {
    Rig rig;
    const std::string before = rig.state();
    for (const char* req : {"join|feedA 232.9.9.9 port=uplink", "join|feedA ff3e::9 port=uplink",
                            "block|feedA 232.9.9.9 10.0.0.1 port=uplink",
                            "set_filter|feedA 232.6.6.6 exclude 10.0.0.1 port=uplink",
                            "set_filter|feedA ff3e::6 exclude port=uplink"}) {
        const std::string r(req);
        const Value v = rig.run(r.substr(0, r.find('|')), r.substr(r.find('|') + 1));
        EXPECT_EQ(err(v), "EINVAL") << req;
        EXPECT_NE(str(v, "message").find("source-specific"), std::string::npos) << v.to_json();
    }
    EXPECT_EQ(rig.state(), before);
    EXPECT_EQ(str(rig.run("join_source", "feedA 232.9.9.9 10.0.0.1 port=uplink"), "ok"),
              "join_source");
    EXPECT_EQ(str(rig.run("set_filter", "feedA 232.6.6.6 include 10.0.0.1 port=uplink"), "ok"),
              "set_filter");
}

TEST(Commands, SetFilterFromAStageNeedsTheStagedListAndItsCount) {
    Rig rig;
    const std::string before = rig.state();
    std::vector<IpAddr> staged{ip("10.0.0.1"), ip("10.0.0.2")};
    EXPECT_EQ(err(rig.run("set_filter", "feedA 233.1.1.1 include stage=1 count=2 port=uplink")),
              "EINVAL"); // not resolved by the telemetry side
    EXPECT_EQ(
        err(execute(rig.ctx, "set_filter", "feedA 233.1.1.1 include stage=1 port=uplink", &staged)),
        "EINVAL");
    EXPECT_EQ(err(execute(rig.ctx, "set_filter",
                          "feedA 233.1.1.1 include stage=1 count=3 port=uplink", &staged)),
              "EINVAL");
    EXPECT_EQ(err(rig.run("stage_open")), "EINVAL"); // stages live on the telemetry side
    EXPECT_EQ(rig.state(), before);
    Value v = execute(rig.ctx, "set_filter", "feedA 233.1.1.1 include stage=1 count=2 port=uplink",
                      &staged);
    EXPECT_EQ(str(v, "ok"), "set_filter");
    EXPECT_EQ(num(v, "source_count"), 2u);
}

// ---- mailbox -------------------------------------------------------------------------------

TEST(CommandMailbox, ControlLcoreRunsRequestsAndWakesTheWaiter) {
    Mailbox mb;
    auto t = mb.submit("join", "feedA 233.1.1.1");
    EXPECT_EQ(mb.pending(), 1u);
    std::thread control([&] {
        EXPECT_EQ(mb.drain([](std::string_view n, std::string_view p, const std::vector<IpAddr>*) {
            Value v;
            v.set("ok", std::string(n) + ":" + std::string(p));
            return v;
        }),
                  1u);
    });
    Value v = mb.wait(t, std::chrono::seconds(5));
    control.join();
    EXPECT_EQ(str(v, "ok"), "join:feedA 233.1.1.1");
    EXPECT_EQ(mb.pending(), 0u);
}

TEST(CommandMailbox, TimeoutWithdrawsTheRequestSoItNeverRuns) {
    Mailbox mb;
    auto t = mb.submit("join", "x");
    Value v = mb.wait(t, std::chrono::milliseconds(20));
    EXPECT_EQ(err(v), "ETIMEDOUT");
    int ran = 0;
    EXPECT_EQ(mb.drain([&](std::string_view, std::string_view, const std::vector<IpAddr>*) {
        ++ran;
        return Value();
    }),
              0u);
    EXPECT_EQ(ran, 0);
}

TEST(CommandMailbox, CloseAnswersQueuedAndLaterRequestsWithEshutdown) {
    Mailbox mb;
    auto queued = mb.submit("groups", "");
    mb.close();
    EXPECT_EQ(err(mb.wait(queued, std::chrono::milliseconds(1))), "ESHUTDOWN");
    auto later = mb.submit("groups", "");
    EXPECT_EQ(err(mb.wait(later, std::chrono::milliseconds(1))), "ESHUTDOWN");
}

TEST(CommandMailbox, ManyClientThreadsEachGetTheirOwnAnswer) {
    Rig rig;
    Mailbox mb;
    std::atomic<bool> stop{false};
    std::thread control([&] {
        while (!stop.load())
            mb.drain([&](std::string_view n, std::string_view p, const std::vector<IpAddr>*) {
                return rig.run(n, p);
            });
    });
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        clients.emplace_back([&, i] {
            for (int k = 0; k < 20; ++k) {
                std::string g = "239.0." + std::to_string(i) + "." + std::to_string(k + 1);
                auto t = mb.submit("join", "feedA " + g + " port=uplink");
                Value v = mb.wait(t, std::chrono::seconds(10));
                if (str(v, "group") == g)
                    ++ok;
            }
        });
    for (auto& c : clients)
        c.join();
    stop.store(true);
    control.join();
    EXPECT_EQ(ok.load(), 160);
    EXPECT_EQ(num(rig.run("groups"), "total"), 160u);
}

} // namespace
} // namespace mcfwd::control
