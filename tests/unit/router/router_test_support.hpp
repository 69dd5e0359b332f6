// Test harness for RouterEngine: per-family names for sources "a".."e", a sink that records
// queries and forwarding changes as text (a failing test prints a readable transcript), and a
// fixture that runs the engine on a VirtualClock deadline by deadline.
#pragma once

#include "router/router_engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::router::test {

using namespace std::chrono_literals;
using wire::RecordType;

inline IpAddr ip(const char* s) {
    auto a = IpAddr::parse(s);
    EXPECT_TRUE(a.has_value()) << s;
    return a.value_or(IpAddr{});
}

/// Addresses of one family: the group G, sources a..e, our address and a lower and a higher
/// router address.
struct Names {
    Family family;
    const char* group;
    const char* other_group;
    const char* sources[5];
    const char* self;
    const char* lower;
    const char* higher;
    const char* name;
};

inline const Names v4_names{
    Family::v4,   "239.1.1.1",
    "239.1.1.2",  {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"},
    "10.0.0.100", "10.0.0.50",
    "10.0.0.200", "IGMP"};
inline const Names v6_names{
    Family::v6,  "ff0e::1",
    "ff0e::2",   {"2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4", "2001:db8::5"},
    "fe80::100", "fe80::50",
    "fe80::200", "MLD"};

inline IpAddr letter(const Names& n, char ch) {
    return ip(n.sources[ch - 'a']);
}

inline SourceSet letters(const Names& n, std::string_view which) {
    SourceSet s;
    for (char ch : which)
        s.insert(letter(n, ch));
    return s;
}

inline std::string letters_of(const Names& n, const std::vector<IpAddr>& v) {
    std::string s;
    for (const IpAddr& a : v) {
        bool found = false;
        for (int i = 0; i < 5; ++i)
            if (a == ip(n.sources[i])) {
                s += char('a' + i);
                found = true;
            }
        if (!found)
            s += "[" + a.to_string() + "]";
    }
    return s;
}

/// Records outputs as text: "Q() S=0" (general), "Q(G) S=1", "Q(G,ab) S=0",
/// "FWD G include{ab} -> exclude{}".
class RecordingSink final : public RouterSink {
public:
    explicit RecordingSink(const Names& n) : n_(n) {}

    void send_query(time_point due, const wire::Query& q) override {
        queries.push_back(q);
        due_times.push_back(due);
        std::string s = "Q(";
        if (!q.group.is_unspecified())
            s += q.group == ip(n_.group) ? "G" : q.group.to_string();
        if (!q.sources.empty())
            s += "," + letters_of(n_, q.sources);
        s += q.suppress_router_processing ? ") S=1" : ") S=0";
        sent.push_back(s);
    }
    void on_forwarding_change(const IpAddr& group, const FilterState& old_state,
                              const FilterState& new_state) override {
        changes.push_back({group, old_state, new_state});
        fwd.push_back("FWD " + std::string(group == ip(n_.group) ? "G" : group.to_string()) + " " +
                      state_text(old_state) + " -> " + state_text(new_state));
    }
    void on_querier_change(bool querier) override { querier_changes.push_back(querier); }
    std::string state_text(const FilterState& f) const {
        return std::string(filter::mode_name(f.mode)) + "{" +
               letters_of(n_, f.sources.as_vector()) + "}";
    }
    /// `sent` without the general queries.
    std::vector<std::string> specific() const {
        std::vector<std::string> out;
        for (const std::string& q : sent)
            if (q.rfind("Q() ", 0) != 0)
                out.push_back(q);
        return out;
    }
    void clear() {
        queries.clear();
        due_times.clear();
        sent.clear();
        changes.clear();
        fwd.clear();
        querier_changes.clear();
    }

    struct Change {
        IpAddr group;
        FilterState old_state, new_state;
    };
    std::vector<wire::Query> queries;
    std::vector<time_point> due_times;
    std::vector<std::string> sent;
    std::vector<Change> changes;
    std::vector<std::string> fwd;
    std::vector<bool> querier_changes; // on_querier_change, in order

private:
    const Names& n_;
};

/// RFC defaults with our address; GMI 260 s, LMQT 2 s, startup queries 31.25 s apart.
inline RouterConfig default_config(const Names& n) {
    RouterConfig c;
    c.address = ip(n.self);
    return c;
}

inline time_point at(duration d) {
    return time_point{} + d;
}

/// Runs an engine on a virtual clock.
class RouterHarness {
public:
    RouterHarness(const Names& n, RouterConfig config)
        : names(n), sink(n), engine(n.family, std::move(config), sink) {}

    /// Moves the clock to t, running every deadline on the way.
    void run_until(time_point t) {
        for (time_point d = engine.next_deadline(); d <= t; d = engine.next_deadline()) {
            clock.set(d);
            engine.on_timer(d);
        }
        clock.set(t);
    }
    void run_for(duration d) { run_until(clock.now() + d); }
    time_point now() const { return clock.now(); }

    void report(RecordType type, std::string_view sources, const char* group = nullptr) {
        wire::Report r;
        r.family = names.family;
        r.records.push_back(
            {type, ip(group ? group : names.group), letters(names, sources).as_vector()});
        engine.on_report(clock.now(), r);
    }
    void legacy_report(uint8_t version) {
        engine.on_legacy_report(clock.now(), {names.family, version, ip(names.group)});
    }
    void leave() { engine.on_leave(clock.now(), {names.family, ip(names.group)}); }
    void query_from(const char* source, wire::Query q) {
        q.family = names.family;
        engine.on_query(clock.now(), q, ip(source));
    }
    wire::Query group_query(std::string_view sources, bool s_flag) const {
        wire::Query q;
        q.family = names.family;
        q.version = names.family == Family::v4 ? 3 : 2;
        q.group = ip(names.group);
        q.max_response = 1s;
        q.suppress_router_processing = s_flag;
        q.sources = letters(names, sources).as_vector();
        return q;
    }
    wire::Query general_query(uint8_t qrv = 2, duration qqi = 125s) const {
        wire::Query q;
        q.family = names.family;
        q.version = names.family == Family::v4 ? 3 : 2;
        q.group = names.family == Family::v4 ? IpAddr::v4(0) : IpAddr{};
        q.max_response = 10s;
        q.qrv = qrv;
        q.qqi = qqi;
        return q;
    }

    GroupSnapshot group() const {
        auto g = engine.group_snapshot(ip(names.group));
        EXPECT_TRUE(g.has_value()) << "no record for G";
        return g.value_or(GroupSnapshot{});
    }
    bool has_group() const { return engine.group_snapshot(ip(names.group)).has_value(); }
    FilterState fwd() const { return engine.forwarding(ip(names.group)); }
    bool forwards(char source) const {
        return engine.forwards(letter(names, source), ip(names.group));
    }
    /// "a:265 b:0" — each source with its timer in seconds from the origin (0 = zero timer).
    std::string timers() const {
        std::string s;
        for (const SourceSnapshot& src : group().sources) {
            if (!s.empty())
                s += ' ';
            s += letters_of(names, {src.source}) + ":";
            s += src.timer ? seconds(*src.timer) : "0";
        }
        return s;
    }
    static std::string seconds(time_point t) {
        if (t == time_never)
            return "never";
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.since_origin);
        std::string s = std::to_string(ms.count() / 1000);
        if (ms.count() % 1000 != 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, ".%03d", int(ms.count() % 1000));
            std::string frac = buf;
            while (frac.back() == '0')
                frac.pop_back();
            s += frac;
        }
        return s;
    }

    const Names& names;
    VirtualClock clock;
    RecordingSink sink;
    RouterEngine engine;
};

inline std::vector<std::string> strs(std::initializer_list<const char*> l) {
    return {l.begin(), l.end()};
}

} // namespace mcfwd::router::test
