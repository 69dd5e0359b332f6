// Every way the control side drops or ignores a punted frame moves one named
// counter of /mcfwd/stats, and only that one: the decoder's hostile corpus
// (tests/unit/wire/hostile_frames.hpp, one frame or more per DropReason) and the
// control plane's and router engines' own reasons, each fed as one frame.
#include "command_rig.hpp"
#include "control/control_plane.hpp"
#include "hostile_frames.hpp"
#include "proxy_rig.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace mcfwd::control {
namespace {

using testing::ip;
using wire::RecordType;
using Bytes = std::vector<uint8_t>;
using Counts = std::map<std::string, uint64_t>; // "control.frames" -> value

constexpr PortId uplink = 0, down = 5, v4_only = 6, no_port = 9;

// The command rig (uplink 0, side 3), a downstream port and a port without MLD.
struct DropRig : testing::Rig {
    DropRig() {
        EXPECT_EQ(cp.add_port(testing::downstream_setup(down, [](std::span<const uint8_t>) {})),
                  errc::ok);
        PortSetup s;
        s.id = v4_only;
        s.name = "v4only";
        s.mld = false;
        s.frame.src_mac = *addr::MacAddr::parse("02:00:00:00:00:16");
        s.frame.ipv4_src = ip("192.0.2.16");
        s.transmit = [](std::span<const uint8_t>) {};
        EXPECT_EQ(cp.add_port(s), errc::ok);
        ctx.ports.push_back({"down5", down});
        ctx.ports.push_back({"v4only", v4_only});
    }
    // The control and router sections of /mcfwd/stats, flattened.
    Counts counts() {
        Counts out;
        const Value v = run("stats");
        for (const char* section : {"control", "router"}) {
            const Value* s = v.find(section);
            EXPECT_NE(s, nullptr) << section;
            if (s == nullptr)
                continue;
            for (size_t i = 0; i < s->size(); ++i)
                out[std::string(section) + "." + s->keys()[i]] = s->items()[i].as_uint();
        }
        return out;
    }
    // Feeds one frame and returns the counters that moved, with how much.
    Counts feed(PortId port, std::span<const uint8_t> frame) {
        const Counts before = counts();
        cp.on_control_frame(port, frame);
        Counts moved;
        for (const auto& [name, value] : counts())
            if (value != before.at(name))
                moved[name] = value - before.at(name);
        return moved;
    }
};

// A frame from another host on the link (its own MAC and addresses).
Bytes host_frame(const wire::Message& m, std::optional<uint16_t> vlan = {},
                 const char* mac = "02:00:00:00:aa:01") {
    wire::FrameParams host;
    host.src_mac = *addr::MacAddr::parse(mac);
    host.ipv4_src = ip("198.51.100.100");
    host.ipv6_src = ip("fe80::aa:1");
    host.vlan = vlan;
    std::vector<wire::Frame> frames;
    EXPECT_EQ(wire::encode(m, host, frames), errc::ok);
    return frames.at(0);
}
wire::Message v3_report(RecordType type, const char* group, std::vector<IpAddr> sources = {}) {
    wire::Report r;
    r.family = ip(group).family();
    r.records.push_back({type, ip(group), std::move(sources)});
    return r;
}

TEST(DropCounters, EachHostileFrameMovesItsDecodeReasonByOne) {
    DropRig rig;
    for (const wire::test::ReasonCase& c : wire::test::reason_cases()) {
        SCOPED_TRACE(c.name);
        const std::string counter =
            "control.decode_" + std::string(wire::drop_reason_name(c.reason));
        const Bytes f = c.frame();
        EXPECT_EQ(rig.feed(uplink, f), (Counts{{"control.frames", 1}, {counter, 1}}));
        // The same on a downstream port: dropped before the router sees it.
        EXPECT_EQ(rig.feed(down, f), (Counts{{"control.frames", 1}, {counter, 1}}));
    }
}

TEST(DropCounters, EveryDecodeReasonIsShownByName) {
    DropRig rig;
    const Counts c = rig.counts();
    for (size_t i = 0; i < wire::drop_reason_count; ++i)
        EXPECT_TRUE(
            c.count("control.decode_" + std::string(wire::drop_reason_name(wire::DropReason(i)))))
            << wire::drop_reason_name(wire::DropReason(i));
}

TEST(DropCounters, EachControlPlaneReasonMovesItsCounterByOne) {
    DropRig rig;
    const wire::Message leave = wire::Leave{addr::Family::v4, ip("239.1.1.1")};
    const wire::Message report =
        v3_report(RecordType::allow_new_sources, "239.1.1.1", {ip("10.0.0.1")});
    EXPECT_EQ(rig.feed(no_port, host_frame(report)),
              (Counts{{"control.frames", 1}, {"control.unknown_port", 1}}));
    EXPECT_EQ(rig.feed(uplink, host_frame(report, 7)),
              (Counts{{"control.frames", 1}, {"control.wrong_vlan", 1}}));
    EXPECT_EQ(rig.feed(uplink, host_frame(report, {}, "02:00:00:00:00:10")),
              (Counts{{"control.frames", 1}, {"control.looped_back", 1}}));
    EXPECT_EQ(rig.feed(v4_only, host_frame(wire::Leave{addr::Family::v6, ip("ff05::2")})),
              (Counts{{"control.frames", 1}, {"control.protocol_disabled", 1}}));
    // Upstream, other hosts' v3 reports and leaves are for routers.
    EXPECT_EQ(rig.feed(uplink, host_frame(report)),
              (Counts{{"control.frames", 1}, {"control.reports_heard", 1}}));
    EXPECT_EQ(rig.feed(uplink, host_frame(leave)),
              (Counts{{"control.frames", 1}, {"control.leaves_heard", 1}}));
}

TEST(DropCounters, RecordsOfUnknownTypeAreCountedAndTheRestIsUsed) {
    namespace w = wire::test;
    DropRig rig;
    // Types 0 and 7 (RFC 3376 §4.2.12 defines 1..6) around an ALLOW of 239.1.1.1.
    Bytes records = w::v3_record(0, 0, 1, 0xef010101, 1);
    w::append(records, w::v3_record(5, 0, 1, 0xef010101, 1));
    w::append(records, w::v3_record(7, 0, 0, 0xef010101, 0));
    const Bytes f = w::v4_frame(w::v3_report(3, records));
    EXPECT_EQ(rig.feed(down, f), (Counts{{"control.frames", 1},
                                         {"control.unknown_records", 2},
                                         {"control.router_messages", 1},
                                         {"control.proxy_set_filter", 1},
                                         {"router.reports", 1},
                                         {"router.records", 1}}));
}

TEST(DropCounters, EachRouterReasonMovesItsCounterByOne) {
    DropRig rig;
    const Counts to_router{{"control.frames", 1}, {"control.router_messages", 1}};
    auto with = [&](Counts more) {
        Counts c = to_router;
        c.insert(more.begin(), more.end());
        return c;
    };
    // RFC 4604 §2.2.2: any-source requests for SSM groups.
    EXPECT_EQ(rig.feed(down, host_frame(v3_report(RecordType::change_to_exclude, "232.7.7.7"))),
              with({{"router.reports", 1}, {"router.ssm_ignored", 1}}));
    EXPECT_EQ(rig.feed(down, host_frame(v3_report(RecordType::mode_is_exclude, "ff3e::7"))),
              with({{"router.reports", 1}, {"router.ssm_ignored", 1}}));
    EXPECT_EQ(rig.feed(down, host_frame(wire::LegacyReport{addr::Family::v4, 2, ip("232.7.7.7")})),
              with({{"router.legacy_reports", 1}, {"router.ssm_ignored", 1}}));
    EXPECT_EQ(rig.feed(down, host_frame(wire::LegacyReport{addr::Family::v6, 1, ip("ff3e::7")})),
              with({{"router.legacy_reports", 1}, {"router.ssm_ignored", 1}}));
    EXPECT_EQ(rig.feed(down, host_frame(wire::Leave{addr::Family::v4, ip("232.7.7.7")})),
              with({{"router.leaves", 1}, {"router.ssm_ignored", 1}}));
    // The all-systems group is never reported (RFC 3376 §5).
    EXPECT_EQ(rig.feed(down, host_frame(v3_report(RecordType::mode_is_exclude, "224.0.0.1"))),
              with({{"router.reports", 1}, {"router.records_ignored", 1}}));
    EXPECT_EQ(rig.feed(down, host_frame(wire::LegacyReport{addr::Family::v4, 2, ip("224.0.0.1")})),
              with({{"router.legacy_reports", 1}, {"router.legacy_ignored", 1}}));
    EXPECT_EQ(rig.feed(down, host_frame(wire::Leave{addr::Family::v4, ip("224.0.0.1")})),
              with({{"router.leaves", 1}, {"router.legacy_ignored", 1}}));
    // A multicast source in a record: the record is used without it.
    EXPECT_EQ(rig.feed(down, host_frame(v3_report(RecordType::allow_new_sources, "239.5.5.5",
                                                  {ip("10.0.0.1"), ip("239.9.9.9")}))),
              with({{"router.reports", 1},
                    {"router.records", 1},
                    {"router.sources_ignored", 1},
                    {"control.proxy_set_filter", 1}}));
    // Our own query, looped back from another MAC.
    wire::FrameParams self;
    self.src_mac = *addr::MacAddr::parse("02:00:00:00:aa:05");
    self.ipv4_src = ip("198.51.100.5");
    wire::Query q;
    q.max_response = std::chrono::seconds(10);
    std::vector<wire::Frame> frames;
    ASSERT_EQ(wire::encode_query(q, self, frames), errc::ok);
    EXPECT_EQ(rig.feed(down, frames.at(0)), with({{"router.own_queries", 1}}));
}

TEST(DropCounters, EveryCounterHasOneUniqueNameAndADescription) {
    std::set<std::string> names;
    size_t n = 0;
    for_each_counter(ControlCounters{},
                     [&](std::string_view name, std::string_view desc, uint64_t) {
                         names.insert(std::string(name));
                         EXPECT_FALSE(desc.empty()) << name;
                         ++n;
                     });
    router::for_each_counter(router::RouterCounters{},
                             [&](std::string_view name, std::string_view desc, uint64_t) {
                                 names.insert("router." + std::string(name));
                                 EXPECT_FALSE(desc.empty()) << name;
                                 ++n;
                             });
    EXPECT_EQ(names.size(), n);
}

} // namespace
} // namespace mcfwd::control
