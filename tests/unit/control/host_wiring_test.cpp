// Membership changes reach the wire: engine -> controller -> host engine ->
// codec -> frames, checked by decoding the frames again.
#include "control/controller.hpp"
#include "control/encoding_sink.hpp"
#include "control/host_dispatch.hpp"

#include <gtest/gtest.h>

namespace mcfwd::control {
namespace {

using wire::RecordType;

IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

struct Wired {
    Wired()
        : v4_sink(params(),
                  [this](std::span<const uint8_t> f) { frames.emplace_back(f.begin(), f.end()); }),
          v6_sink(params(),
                  [this](std::span<const uint8_t> f) { frames.emplace_back(f.begin(), f.end()); }),
          v4(addr::Family::v4, {}, rng, v4_sink), v6(addr::Family::v6, {}, rng, v6_sink),
          hosts(clock) {
        v6.set_address_ready(clock.now(), true);
        hosts.bind(0, addr::Family::v4, v4);
        hosts.bind(0, addr::Family::v6, v6);
        c.add_listener(hosts);
        EXPECT_EQ(c.engine().add_port(0), errc::ok);
        r = *c.engine().open_receiver("r");
    }
    static wire::FrameParams params() {
        wire::FrameParams p;
        p.src_mac = *addr::MacAddr::parse("02:00:00:00:00:01");
        p.ipv4_src = ip("192.0.2.1");
        p.ipv6_src = ip("fe80::1");
        return p;
    }
    /// Decodes every frame sent so far and forgets them.
    std::vector<wire::DecodedFrame> sent() {
        std::vector<wire::DecodedFrame> out;
        for (auto& f : frames) {
            auto d = wire::decode(f);
            EXPECT_TRUE(std::holds_alternative<wire::DecodedFrame>(d));
            if (auto* df = std::get_if<wire::DecodedFrame>(&d))
                out.push_back(*df);
        }
        frames.clear();
        return out;
    }

    VirtualClock clock;
    SplitMix rng{1};
    std::vector<wire::Frame> frames;
    EncodingSink v4_sink, v6_sink;
    host::HostEngine v4, v6;
    HostDispatch hosts;
    Controller c;
    membership::ReceiverId r{};
};

TEST(HostWiring, SourceJoinSendsAllowRecordOnTheWire) {
    Wired w;
    ASSERT_EQ(w.c.engine().join_source(w.r, 0, ip("232.1.1.1"), ip("10.0.0.1")), errc::ok);
    auto out = w.sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].ip_dst, ip("224.0.0.22"));
    EXPECT_EQ(out[0].ip_src, ip("192.0.2.1"));
    EXPECT_TRUE(out[0].router_alert);
    auto& rep = std::get<wire::Report>(out[0].message);
    ASSERT_EQ(rep.records.size(), 1u);
    // RFC 3376 §5.1: INCLUDE {} -> INCLUDE {S} is ALLOW(S).
    EXPECT_EQ(rep.records[0].type, RecordType::allow_new_sources);
    EXPECT_EQ(rep.records[0].sources, std::vector<IpAddr>{ip("10.0.0.1")});
}

TEST(HostWiring, RetransmissionsFollowOnTimers) {
    Wired w;
    ASSERT_EQ(w.c.engine().join(w.r, 0, ip("ff3e::8000:1")), errc::ok);
    auto first = w.sent();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].ip_dst, ip("ff02::16"));
    EXPECT_EQ(std::get<wire::Report>(first[0].message).records.at(0).type,
              RecordType::change_to_exclude);
    // Robustness 2: one more copy within the Unsolicited Report Interval (1 s).
    w.clock.advance(std::chrono::seconds(1));
    w.hosts.run_timers();
    auto again = w.sent();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(std::get<wire::Report>(again[0].message).records.at(0).type,
              RecordType::change_to_exclude);
    w.clock.advance(std::chrono::seconds(5));
    w.hosts.run_timers();
    EXPECT_TRUE(w.sent().empty());
    EXPECT_EQ(w.hosts.next_deadline(), time_never);
}

TEST(HostWiring, LeaveAllSendsToIncludeNothing) {
    Wired w;
    ASSERT_EQ(w.c.engine().join(w.r, 0, ip("239.1.1.1")), errc::ok);
    w.clock.advance(std::chrono::seconds(5));
    w.hosts.run_timers();
    w.sent();
    w.hosts.leave_all(host::HostEngine::Spacing::at_once);
    auto out = w.sent();
    ASSERT_FALSE(out.empty());
    auto& rec = std::get<wire::Report>(out[0].message).records.at(0);
    EXPECT_EQ(rec.type, RecordType::change_to_include);
    EXPECT_TRUE(rec.sources.empty());
    EXPECT_EQ(w.v4_sink.counters().encode_errors, 0u);
}

} // namespace
} // namespace mcfwd::control
