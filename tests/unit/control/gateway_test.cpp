// The telemetry side of the commands (control/gateway.hpp): every request runs
// exactly as sent or is refused whole. Requests go through a model of DPDK
// 22.11's client_handler (read of at most 1023 bytes, NUL ends the string,
// strtok on "," then "\0"), so every cut a client can suffer is tried; long
// filters are staged and committed in one step.
#include "command_rig.hpp"
#include "control/gateway.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace mcfwd::control {
namespace {

using namespace testing;

// A control plane, its control lcore draining the mailbox, and a gateway in
// front of it with a virtual clock for stage expiry.
struct GatewayRig {
    explicit GatewayRig(membership::Limits limits = {}, GatewaySetup setup = {})
        : rig(limits), gateway(mailbox, clock, with_sources(setup, limits)) {
        control = std::thread([this] {
            while (!stop.load())
                if (mailbox.drain([this](std::string_view n, std::string_view p,
                                         const std::vector<IpAddr>* staged) {
                        return execute(rig.ctx, n, p, staged);
                    }) == 0)
                    std::this_thread::sleep_for(std::chrono::microseconds(50));
        });
    }
    ~GatewayRig() {
        stop.store(true);
        control.join();
    }
    static GatewaySetup with_sources(GatewaySetup s, const membership::Limits& l) {
        s.staging.max_sources = l.max_filter_sources;
        s.timeout = std::chrono::seconds(10);
        return s;
    }

    // What DPDK 22.11's client_handler does with the bytes one send() carried
    // (lib/telemetry/telemetry.c), then mcfwd's handler (app/mcfwd/telemetry.cpp).
    Value send(std::string_view wire) {
        char buffer[1024];
        const size_t n = std::min(wire.size(), sizeof(buffer) - 1);
        std::memcpy(buffer, wire.data(), n);
        buffer[n] = 0;
        char* save = nullptr;
        const char* cmd = strtok_r(buffer, ",", &save);
        const char* param = strtok_r(nullptr, "", &save);
        if (!cmd)
            return error_value("EINVAL", "DPDK: no command");
        std::string_view name(cmd);
        if (name.substr(0, 7) != "/mcfwd/")
            return error_value("EINVAL", "DPDK: unknown command");
        name.remove_prefix(7);
        return gateway.handle(name, param ? param : "", telemetry_wire_length(cmd, param));
    }

    std::string state() { return rig.state(); }

    Rig rig;
    VirtualClock clock;
    Mailbox mailbox;
    Gateway gateway;
    std::atomic<bool> stop{false};
    std::thread control;
};

membership::Limits big_limits() {
    return membership::Limits{65536, 65536};
}

// n distinct unicast IPv4 sources in ascending order: first_octet.0.0.1, ...
std::vector<std::string> sources(size_t n, int first_octet = 10) {
    std::vector<std::string> out;
    for (size_t i = 1; i <= n; ++i)
        out.push_back(std::to_string(first_octet) + "." + std::to_string((i >> 16) & 0xff) + "." +
                      std::to_string((i >> 8) & 0xff) + "." + std::to_string(i & 0xff));
    return out;
}

std::string join(const std::vector<std::string>& v, size_t from, size_t to) {
    std::string out;
    for (size_t i = from; i < to && i < v.size(); ++i)
        out += (out.empty() ? "" : " ") + v[i];
    return out;
}

// The sources of a membership, read back through /mcfwd/filter page by page.
std::vector<std::string> read_back(GatewayRig& g, const std::string& who) {
    std::vector<std::string> out;
    for (uint64_t start = 0;;) {
        Value v = g.send("/mcfwd/filter," + who + " start=" + std::to_string(start) + " ;");
        EXPECT_FALSE(is_error(v)) << v.to_json();
        if (is_error(v))
            return out;
        for (const Value& s : v.find("sources")->items())
            out.push_back(s.as_string());
        const Value* next = v.find("next");
        if (!next)
            return out;
        start = next->as_uint();
    }
}

// ---- framing ----------------------------------------------------------------------------

TEST(GatewayFraming, ChangeWithoutEndMarkerIsRefusedAndChangesNothing) {
    GatewayRig g;
    const std::string before = g.state();
    Value v = g.send("/mcfwd/join,feedA 239.1.1.1 port=uplink");
    EXPECT_EQ(err(v), "EINVAL");
    EXPECT_NE(str(v, "message").find("';'"), std::string::npos) << v.to_json();
    EXPECT_EQ(g.state(), before);
}

TEST(GatewayFraming, ChangeWithEndMarkerRunsAsSent) {
    GatewayRig g;
    EXPECT_EQ(str(g.send("/mcfwd/join,feedA 239.1.1.1 port=uplink ;"), "ok"), "join");
    EXPECT_EQ(str(g.send("/mcfwd/block,feedA 239.1.1.1 10.0.0.9 port=uplink;"), "ok"), "block");
    // Blanks and commas after the marker: nothing was lost that mattered.
    EXPECT_EQ(str(g.send("/mcfwd/unblock,feedA 239.1.1.1 10.0.0.9 port=uplink ; , "), "ok"),
              "unblock");
}

TEST(GatewayFraming, ReadsRunWithOrWithoutTheMarker) {
    GatewayRig g;
    EXPECT_FALSE(is_error(g.send("/mcfwd/groups,uplink")));
    EXPECT_FALSE(is_error(g.send("/mcfwd/groups,uplink ;")));
    EXPECT_FALSE(is_error(g.send("/mcfwd/groups")));
    EXPECT_FALSE(is_error(g.send("/mcfwd/help")));
}

TEST(GatewayFraming, MarkerAnywhereButTheEndIsRefused) {
    GatewayRig g;
    const std::string before = g.state();
    EXPECT_EQ(err(g.send("/mcfwd/join,feedA 239.1.1.1 ; port=side ;")), "EINVAL");
    EXPECT_EQ(err(g.send("/mcfwd/join,feedA 239.1.1.1 port=uplink ;;")), "EINVAL");
    EXPECT_EQ(err(g.send("/mcfwd/groups,; uplink")), "EINVAL");
    EXPECT_EQ(g.state(), before);
}

TEST(GatewayFraming, RequestReachingTheReadLimitIsEmsgsize) {
    GatewayRig g(big_limits());
    const auto src = sources(151);
    // The request: 151 sources, cut by DPDK after 1023 bytes.
    const std::string wire =
        "/mcfwd/set_filter,feedA 239.4.4.4 include " + join(src, 0, 151) + " port=uplink ;";
    ASSERT_GT(wire.size(), 1023u);
    const std::string before = g.state();
    EXPECT_EQ(err(g.send(wire)), "EMSGSIZE");
    EXPECT_EQ(g.state(), before);
    // A read is refused the same way.
    EXPECT_EQ(err(g.send("/mcfwd/groups," + std::string(1100, ' '))), "EMSGSIZE");
}

TEST(GatewayFraming, ExecuteRefusesParametersOverOneReadWithEmsgsize) {
    Rig rig;
    EXPECT_EQ(err(rig.run("groups", std::string(max_params_bytes, ' '))), "EMSGSIZE");
}

// ---- every cut -----------------------------------------------------------------------------

// The longest set_filter that fits one read; every shorter delivery of it (a cut
// anywhere) is refused and changes nothing; the whole request applies exactly.
TEST(GatewayCut, EveryCutOfALongSetFilterIsRefusedAndChangesNothing) {
    GatewayRig g(big_limits());
    const auto src = sources(200);
    std::string wire;
    size_t n = 0;
    for (; n < src.size(); ++n) {
        const std::string next =
            "/mcfwd/set_filter,feedA 239.4.4.4 include " + join(src, 0, n + 1) + " port=uplink ;";
        if (next.size() >= telemetry_read_limit)
            break;
        wire = next;
    }
    ASSERT_GT(n, 60u);
    const std::string before = g.state();
    const size_t cmd_end = wire.find(',');
    for (size_t len = 0; len < wire.size(); ++len) {
        Value v = g.send(wire.substr(0, len));
        ASSERT_TRUE(is_error(v)) << "cut at " << len << ": " << v.to_json();
        ASSERT_EQ(g.state(), before) << "cut at " << len;
        if (len > cmd_end) {
            ASSERT_EQ(err(v), "EINVAL") << "cut at " << len;
        }
    }
    Value v = g.send(wire);
    ASSERT_EQ(str(v, "ok"), "set_filter") << v.to_json();
    EXPECT_EQ(num(v, "source_count"), n);
    auto want = std::vector<std::string>(src.begin(), src.begin() + long(n));
    EXPECT_EQ(read_back(g, "feedA 239.4.4.4 port=uplink"), want);
}

// A NUL byte ends the parameters (DPDK passes them as a C string): anywhere
// before the marker it removes the marker.
TEST(GatewayCut, NulByteAnywhereBeforeTheMarkerIsRefused) {
    GatewayRig g;
    const std::string wire = "/mcfwd/set_filter,feedA 239.1.1.1 include 10.0.0.1 10.0.0.2 ;";
    const std::string before = g.state();
    for (size_t i = 0; i + 1 < wire.size(); ++i) {
        for (bool replace : {false, true}) {
            std::string bad = wire;
            if (replace)
                bad[i] = '\0';
            else
                bad.insert(i, 1, '\0');
            bad += "garbage";
            Value v = g.send(bad);
            ASSERT_TRUE(is_error(v)) << "NUL at " << i << ": " << v.to_json();
            ASSERT_EQ(g.state(), before) << "NUL at " << i;
        }
    }
    // The request: a join with garbage after a NUL.
    EXPECT_EQ(err(g.send(std::string("/mcfwd/join,feedA 239.1.1.1\0garbage ;", 37))), "EINVAL");
    EXPECT_EQ(g.state(), before);
}

TEST(GatewayCut, EveryCutOfAStageAddIsRefusedAndTheStageUnchanged) {
    GatewayRig g(big_limits());
    Value open = g.send("/mcfwd/stage_open,;");
    ASSERT_EQ(str(open, "ok"), "stage_open") << open.to_json();
    const std::string id = std::to_string(num(open, "stage"));
    const std::string wire = "/mcfwd/stage_add," + id + " " + join(sources(60), 0, 60) + " ;";
    ASSERT_LT(wire.size(), telemetry_read_limit);
    for (size_t len = 0; len < wire.size(); ++len)
        ASSERT_TRUE(is_error(g.send(wire.substr(0, len)))) << "cut at " << len;
    Value v = g.send(wire);
    EXPECT_EQ(num(v, "count"), 60u) << v.to_json(); // no cut added anything
}

// ---- staging -------------------------------------------------------------------------------

// Stages a list in chunks that each fit one read, as mcfwdctl does.
std::string stage(GatewayRig& g, const std::vector<std::string>& src) {
    Value open = g.send("/mcfwd/stage_open,;");
    EXPECT_EQ(str(open, "ok"), "stage_open") << open.to_json();
    const std::string id = std::to_string(num(open, "stage"));
    size_t i = 0;
    while (i < src.size()) {
        std::string wire = "/mcfwd/stage_add," + id;
        size_t j = i;
        while (j < src.size() && wire.size() + 1 + src[j].size() + 2 < telemetry_read_limit)
            wire += " " + src[j++];
        Value v = g.send(wire + " ;");
        EXPECT_EQ(num(v, "count"), j) << v.to_json();
        i = j;
    }
    return id;
}

TEST(GatewayStaging, SixtyFiveThousandSourcesCommitInOneStepAndReadBackExactly) {
    GatewayRig g(big_limits());
    const auto src = sources(65536);
    const std::string id = stage(g, src);
    Value v = g.send("/mcfwd/set_filter,feedA 232.9.9.9 include stage=" + id +
                     " count=65536 port=uplink ;");
    ASSERT_EQ(str(v, "ok"), "set_filter") << v.to_json();
    EXPECT_EQ(num(v, "source_count"), 65536u);
    EXPECT_EQ(v.find("sources"), nullptr); // too long for one answer: /mcfwd/filter pages it
    auto want = src;
    std::sort(want.begin(), want.end(), [](const std::string& a, const std::string& b) {
        return *IpAddr::parse(a) < *IpAddr::parse(b);
    });
    EXPECT_EQ(read_back(g, "feedA 232.9.9.9"), want);
    EXPECT_EQ(g.gateway.staging().open_count(g.clock.now()), 0u); // freed on commit
}

TEST(GatewayStaging, IPv6SourcesStageAndCommit) {
    GatewayRig g(big_limits());
    std::vector<std::string> src;
    for (int i = 1; i <= 300; ++i)
        src.push_back("2001:db8:aaaa:bbbb:cccc:dddd:eeee:" + std::to_string(1000 + i));
    const std::string id = stage(g, src);
    Value v =
        g.send("/mcfwd/set_filter,feedA ff0e::1 exclude stage=" + id + " count=300 port=side ;");
    ASSERT_EQ(str(v, "ok"), "set_filter") << v.to_json();
    EXPECT_EQ(read_back(g, "feedA ff0e::1").size(), 300u);
}

TEST(GatewayStaging, CommitWithAnotherCountChangesNothingAndEndsTheStage) {
    GatewayRig g(big_limits());
    const std::string id = stage(g, sources(100));
    const std::string before = g.state();
    Value v =
        g.send("/mcfwd/set_filter,feedA 232.9.9.9 include stage=" + id + " count=99 port=uplink ;");
    EXPECT_EQ(err(v), "EINVAL") << v.to_json();
    EXPECT_EQ(g.state(), before);
    EXPECT_EQ(err(g.send("/mcfwd/set_filter,feedA 232.9.9.9 include stage=" + id +
                         " count=100 port=uplink ;")),
              "ENOENT");
}

TEST(GatewayStaging, CommitCarriesEveryCheckOfSetFilter) {
    GatewayRig g(big_limits());
    const std::string before = g.state();
    // The stage's sources are IPv4, the group IPv6.
    std::string id = stage(g, sources(3));
    EXPECT_EQ(err(g.send("/mcfwd/set_filter,feedA ff0e::1 include stage=" + id +
                         " count=3 port=uplink ;")),
              "EINVAL");
    id = stage(g, sources(3));
    EXPECT_EQ(err(g.send("/mcfwd/set_filter,nobody 232.1.1.1 include stage=" + id +
                         " count=3 port=uplink ;")),
              "ENOENT");
    id = stage(g, sources(3));
    EXPECT_EQ(err(g.send("/mcfwd/set_filter,feedA 232.1.1.1 include 10.0.0.1 stage=" + id +
                         " count=3 port=uplink ;")),
              "EINVAL");
    EXPECT_EQ(g.state(), before);
}

TEST(GatewayStaging, StageOverTheFilterLimitIsEnobufs) {
    GatewayRig g(membership::Limits{64, 64});
    Value open = g.send("/mcfwd/stage_open,;");
    const std::string id = std::to_string(num(open, "stage"));
    EXPECT_EQ(
        num(g.send("/mcfwd/stage_add," + id + " " + join(sources(64), 0, 64) + " ;"), "count"),
        64u);
    EXPECT_EQ(err(g.send("/mcfwd/stage_add," + id + " 192.0.2.1 ;")), "ENOBUFS");
}

TEST(GatewayStaging, BadSourceRefusesTheWholeChunk) {
    GatewayRig g;
    Value open = g.send("/mcfwd/stage_open,;");
    const std::string id = std::to_string(num(open, "stage"));
    EXPECT_EQ(err(g.send("/mcfwd/stage_add," + id + " 10.0.0.1 10.0. ;")), "EINVAL");
    EXPECT_EQ(err(g.send("/mcfwd/stage_add," + id + " 10.0.0.1 239.1.1.1 ;")), "EINVAL");
    EXPECT_EQ(err(g.send("/mcfwd/stage_add," + id + " 10.0.0.1 2001:db8::1 ;")), "EINVAL");
    EXPECT_EQ(num(g.send("/mcfwd/stage_add," + id + " 10.0.0.1 ;"), "count"), 1u);
}

TEST(GatewayStaging, StagesAreBoundedExpireWhenIdleAndAbortFreesThem) {
    GatewaySetup setup;
    setup.staging.max_stages = 2;
    setup.staging.idle_timeout = std::chrono::seconds(30);
    GatewayRig g({}, setup);
    const std::string a = std::to_string(num(g.send("/mcfwd/stage_open,;"), "stage"));
    g.clock.advance(std::chrono::seconds(20));
    const std::string b = std::to_string(num(g.send("/mcfwd/stage_open,;"), "stage"));
    EXPECT_NE(a, b);
    EXPECT_EQ(err(g.send("/mcfwd/stage_open,;")), "ENOSPC");
    // a idles past 30 s and goes; b was used 15 s ago and stays.
    g.clock.advance(std::chrono::seconds(5));
    EXPECT_EQ(num(g.send("/mcfwd/stage_add," + b + " 10.0.0.1 ;"), "count"), 1u);
    g.clock.advance(std::chrono::seconds(10));
    EXPECT_EQ(err(g.send("/mcfwd/stage_add," + a + " 10.0.0.1 ;")), "ENOENT");
    EXPECT_EQ(g.gateway.staging().open_count(g.clock.now()), 1u);
    EXPECT_EQ(str(g.send("/mcfwd/stage_abort," + b + " ;"), "ok"), "stage_abort");
    EXPECT_EQ(err(g.send("/mcfwd/stage_abort," + b + " ;")), "ENOENT");
    EXPECT_EQ(g.gateway.staging().open_count(g.clock.now()), 0u);
}

TEST(GatewayStaging, ReadOnlyRefusesStagesWithEperm) {
    GatewaySetup setup;
    setup.read_only = true;
    GatewayRig g({}, setup);
    EXPECT_EQ(err(g.send("/mcfwd/stage_open,;")), "EPERM");
    EXPECT_EQ(err(g.send("/mcfwd/stage_add,1 10.0.0.1 ;")), "EPERM");
    EXPECT_EQ(err(g.send("/mcfwd/set_filter,feedA 232.1.1.1 include stage=1 count=1 ;")), "EPERM");
}

TEST(GatewayStaging, ConcurrentClientsStageIndependently) {
    GatewayRig g(big_limits());
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c)
        clients.emplace_back([&, c] {
            const std::string id = stage(g, sources(2000, 10 + c));
            const std::string group = "232.0.0." + std::to_string(c + 1);
            Value v = g.send("/mcfwd/set_filter,feedA " + group + " include stage=" + id +
                             " count=2000 port=uplink ;");
            ok += str(v, "ok") == "set_filter" && num(v, "source_count") == 2000;
        });
    for (auto& t : clients)
        t.join();
    EXPECT_EQ(ok.load(), 4);
    for (int c = 0; c < 4; ++c) {
        auto got = read_back(g, "feedA 232.0.0." + std::to_string(c + 1));
        ASSERT_EQ(got.size(), 2000u);
        EXPECT_EQ(got.front().substr(0, 3), std::to_string(10 + c) + ".");
    }
}

// ---- routing (several control lcores) ----------------------------------------------------

// Two mailboxes, each drained by its own "control lcore" that answers which one ran
// the request and what it got; the route sends port=b's requests to the second.
TEST(GatewayRoute, RequestsNamingAPortGoToItsOwnersMailboxStagedCommitsToo) {
    VirtualClock clock;
    Mailbox first, second;
    std::atomic<bool> stop{false};
    auto drainer = [&stop](Mailbox& mb, std::string who) {
        return std::thread([&stop, &mb, who] {
            while (!stop.load())
                if (mb.drain([&](std::string_view n, std::string_view p,
                                 const std::vector<IpAddr>* staged) {
                        Value v;
                        v.set("ran_on", who);
                        v.set("name", n);
                        v.set("params", p);
                        v.set("staged", uint64_t(staged ? staged->size() : 0));
                        return v;
                    }) == 0)
                    std::this_thread::sleep_for(std::chrono::microseconds(50));
        });
    };
    std::thread t1 = drainer(first, "first"), t2 = drainer(second, "second");
    GatewaySetup setup;
    setup.timeout = std::chrono::seconds(10);
    Gateway gateway(first, clock, setup, {},
                    [&](std::string_view, std::string_view body) -> Mailbox& {
                        return body.find("port=b") != std::string_view::npos ? second : first;
                    });
    auto send = [&](std::string_view name, std::string_view params) {
        return gateway.handle(name, params, name.size() + 8 + 1 + params.size());
    };
    Value v = send("join", "r 239.1.1.1 port=b ;");
    EXPECT_EQ(str(v, "ran_on"), "second") << v.to_json();
    EXPECT_EQ(str(v, "params"), "r 239.1.1.1 port=b ");
    v = send("join", "r 239.1.1.1 port=a ;");
    EXPECT_EQ(str(v, "ran_on"), "first") << v.to_json();
    v = send("help", "");
    EXPECT_EQ(str(v, "ran_on"), "first") << v.to_json();
    // A staged commit follows its port= too, with the stage's sources.
    Value open = send("stage_open", ";");
    ASSERT_EQ(str(open, "ok"), "stage_open") << open.to_json();
    const std::string id = std::to_string(num(open, "stage"));
    Value add = send("stage_add", id + " 10.0.0.1 10.0.0.2 ;");
    ASSERT_FALSE(is_error(add)) << add.to_json();
    v = send("set_filter", "r 239.1.1.1 include stage=" + id + " count=2 port=b ;");
    EXPECT_EQ(str(v, "ran_on"), "second") << v.to_json();
    EXPECT_EQ(num(v, "staged"), 2u);
    stop.store(true);
    t1.join();
    t2.join();
}

} // namespace
} // namespace mcfwd::control
