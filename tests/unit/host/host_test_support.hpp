// Test harness for HostEngine: a scripted Random, a sink that records what was sent and
// when (as text, so a failing test prints a readable transcript), and a fixture that runs
// the engine on a VirtualClock deadline by deadline.
#pragma once

#include "host/host_engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <variant>
#include <vector>

namespace mcfwd::host::test {

using namespace std::chrono_literals;
using wire::RecordType;

inline IpAddr ip(const char* s) {
    auto a = IpAddr::parse(s);
    EXPECT_TRUE(a.has_value()) << s;
    return a.value_or(IpAddr{});
}

inline SourceSet srcs(std::initializer_list<const char*> list) {
    std::vector<IpAddr> v;
    for (const char* s : list)
        v.push_back(ip(s));
    return SourceSet::from_unsorted(std::move(v));
}

inline FilterState include(std::initializer_list<const char*> list) {
    return {FilterMode::include, srcs(list)};
}
inline FilterState exclude(std::initializer_list<const char*> list) {
    return {FilterMode::exclude, srcs(list)};
}

/// Returns scripted values in order; every draw must have been scripted and must be below
/// its bound. The engine draws (0, d] as 1 ns + below(d) and [0, d] as below(d + 1), so
/// open(x) / closed(x) script a delay of exactly x.
class ScriptedRandom final : public Random {
public:
    void open(duration d) { values_.push_back(static_cast<uint64_t>(d.count() - 1)); }
    void closed(duration d) { values_.push_back(static_cast<uint64_t>(d.count())); }
    uint64_t below(uint64_t bound) override {
        bounds.push_back(bound);
        if (values_.empty()) {
            ADD_FAILURE() << "unscripted random draw, bound " << bound;
            return 0;
        }
        uint64_t v = values_.front();
        values_.pop_front();
        EXPECT_LT(v, bound) << "scripted value out of range";
        return v;
    }
    size_t left() const { return values_.size(); }
    std::vector<uint64_t> bounds; // every bound asked for, in order

private:
    std::deque<uint64_t> values_;
};

inline std::string time_text(time_point t) {
    const auto ns = t.since_origin.count();
    if (ns % 1'000'000 == 0)
        return std::to_string(ns / 1'000'000) + "ms";
    return std::to_string(ns) + "ns";
}

inline std::string record_text(const wire::GroupRecord& r) {
    std::string s = std::string(wire::record_type_name(r.type)) + "(" + r.group.to_string() + " {";
    for (size_t i = 0; i < r.sources.size(); ++i)
        s += (i ? "," : "") + r.sources[i].to_string();
    return s + "})";
}

inline std::string message_text(const wire::Message& m) {
    if (const auto* r = std::get_if<wire::Report>(&m)) {
        std::string s = "REPORT";
        for (const auto& rec : r->records)
            s += " " + record_text(rec);
        return s;
    }
    if (const auto* r = std::get_if<wire::LegacyReport>(&m))
        return "V" + std::to_string(r->version) + "REPORT " + r->group.to_string();
    if (const auto* r = std::get_if<wire::Leave>(&m))
        return "LEAVE " + r->group.to_string();
    return "QUERY";
}

/// Records "<time> <message>" for every message, at the clock's current time.
class RecordingSink final : public ReportSink {
public:
    explicit RecordingSink(const VirtualClock& clock) : clock_(clock) {}
    void send(const wire::Message& msg) override {
        messages.push_back(msg);
        log.push_back(time_text(clock_.now()) + " " + message_text(msg));
    }
    std::vector<std::string> take() { return std::exchange(log, {}); }
    std::vector<wire::Message> messages;
    std::vector<std::string> log;

private:
    const VirtualClock& clock_;
};

inline time_point at(duration d) {
    return time_point{d};
}

class HostFixture : public ::testing::Test {
protected:
    void make(Family family, HostConfig config = {}) {
        engine_.emplace(family, config, rnd, sink);
        family_ = family;
    }
    HostEngine& engine() { return *engine_; }
    time_point now() const { return clock.now(); }

    /// Runs every deadline up to and including t, then leaves the clock at t.
    void run_until(time_point t) {
        for (int guard = 0; guard < 10000; ++guard) {
            const time_point d = engine_->next_deadline();
            if (d > t)
                break;
            clock.set(std::max(d, clock.now()));
            engine_->on_timer(clock.now());
        }
        clock.set(t);
    }
    void run_for(duration d) { run_until(clock.now() + d); }

    void change(const char* group, const FilterState& old_state, const FilterState& new_state) {
        engine_->on_state_change(clock.now(), ip(group), old_state, new_state);
    }

    wire::Query query(uint8_t version, const char* group, duration max_response,
                      std::initializer_list<const char*> sources = {}) {
        wire::Query q;
        q.family = family_;
        q.version = version;
        q.group = group ? ip(group) : (family_ == Family::v4 ? IpAddr::v4(0) : IpAddr{});
        q.max_response = max_response;
        for (const char* s : sources)
            q.sources.push_back(ip(s));
        return q;
    }
    void hear(const wire::Query& q) { engine_->on_query(clock.now(), q); }

    /// Brings a group to `state` with nothing pending: the reports and all retransmissions
    /// are drained (scripting the retransmission delays), the transcript cleared and the
    /// clock put back to 0. Use before any query (no querier timer may be running).
    void settle(const char* group, const FilterState& state) {
        const auto before = engine_->group_snapshot(ip(group));
        const FilterState old_state = before ? before->filter : FilterState::none();
        for (int i = 0; i < 8; ++i)
            rnd.open(100ms);
        change(group, old_state, state);
        run_for(10s);
        EXPECT_EQ(engine_->next_deadline(), time_never);
        sink.take();
        sink.messages.clear();
        while (rnd.left() > 0)
            rnd.below(~uint64_t{0}); // drop unused script
        rnd.bounds.clear();
        clock.set(at(0s));
    }

    VirtualClock clock;
    ScriptedRandom rnd;
    RecordingSink sink{clock};
    Family family_ = Family::v4;

private:
    std::optional<HostEngine> engine_;
};

} // namespace mcfwd::host::test
