// Random membership operations checked against a brute-force oracle; shared by
// the membership engine's test and the controller's (which adds NIC checks).
#pragma once

#include "engine_fixture.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>

namespace mcfwd::membership::testing {

constexpr size_t k_max_filter = 4;
constexpr size_t k_max_merged = 5;
constexpr int k_ports = 3; // ports 0..2 may exist; port 3 never does

inline Limits random_ops_limits() {
    return Limits{k_max_filter, k_max_merged};
}

struct OracleMembership {
    FilterMode mode;
    std::set<IpAddr> sources;
};

struct OraclePort {
    bool present = true;
    bool up = true;
    int allmulti = 0;
    std::map<IpAddr, int> unfiltered;
};

// The receivers' wishes and the ports' states; nothing derived is stored.
class Oracle {
public:
    std::map<ReceiverId, std::string> receivers;
    std::map<std::tuple<ReceiverId, PortId, IpAddr>, OracleMembership> members;
    std::map<PortId, OraclePort> ports;

    bool port_ok(PortId p) const {
        auto it = ports.find(p);
        return it != ports.end() && it->second.present;
    }
    OracleMembership* find(ReceiverId r, PortId p, const IpAddr& g) {
        auto it = members.find({r, p, g});
        return it == members.end() ? nullptr : &it->second;
    }
    static bool bad_source(const IpAddr& g, const IpAddr& s) {
        return s.is_multicast() || s.is_unspecified() || s.is_v4() != g.is_v4();
    }

    /// RFC 3376 §3.2 merge from scratch, with std::set.
    FilterState merged(PortId p, const IpAddr& g) const {
        auto pit = ports.find(p);
        if (pit == ports.end() || !pit->second.present || !pit->second.up)
            return {};
        bool unfiltered = pit->second.unfiltered.count(g) > 0;
        std::set<IpAddr> inc, exc;
        int n_inc = 0, n_exc = 0;
        for (auto& [key, m] : members) {
            if (std::get<1>(key) != p || std::get<2>(key) != g)
                continue;
            if (m.mode == FilterMode::include) {
                ++n_inc;
                inc.insert(m.sources.begin(), m.sources.end());
            } else if (n_exc++ == 0) {
                exc = m.sources;
            } else {
                std::set<IpAddr> both;
                for (auto& s : exc)
                    if (m.sources.count(s))
                        both.insert(s);
                exc = both;
            }
        }
        if (unfiltered || inc.size() > k_max_merged)
            return FilterState::any_source();
        if (n_inc == 0 && n_exc == 0)
            return {};
        if (n_exc == 0)
            return {FilterMode::include, SourceSet::from_unsorted({inc.begin(), inc.end()})};
        std::vector<IpAddr> diff;
        for (auto& s : exc)
            if (!inc.count(s))
                diff.push_back(s);
        return {FilterMode::exclude, SourceSet::from_unsorted(diff)};
    }

    uint32_t attached(PortId p, const IpAddr& g) const {
        auto pit = ports.find(p);
        if (pit == ports.end() || !pit->second.present || !pit->second.up)
            return 0;
        uint32_t n = 0;
        for (auto& [key, m] : members)
            n += std::get<1>(key) == p && std::get<2>(key) == g;
        return n;
    }
};

class RandomOps {
public:
    /// engine must have been built with random_ops_limits() and report to rec.
    RandomOps(Engine& e, Recorder& r) : rec(r), engine(e) {
        for (PortId p = 0; p < k_ports; ++p) {
            EXPECT_EQ(engine.add_port(p), errc::ok);
            oracle.ports[p];
        }
        for (int i = 0; i < 6; ++i) {
            groups.push_back(IpAddr::v4(0xe8000001u + i));
            groups.push_back(*IpAddr::parse("ff3e::" + std::to_string(i + 1)));
        }
        // Two more groups sharing a MAC with groups above (RFC 1112 §6.4 keeps 23
        // bits, RFC 2464 §7 32 bits), so that NIC reference counting is exercised.
        groups.push_back(IpAddr::v4(0xe9800001u));   // 233.128.0.1 ~ 232.0.0.1
        groups.push_back(*IpAddr::parse("ff05::1")); // ~ ff3e::1
        for (int i = 0; i < 6; ++i) {
            v4_sources.push_back(IpAddr::v4(0x0a000001u + i));
            v6_sources.push_back(*IpAddr::parse("2001:db8::" + std::to_string(i + 1)));
        }
        for (const char* n : {"r0", "r1", "r2", "r3"})
            open(n);
    }

    void open(const std::string& name) {
        auto r = engine.open_receiver(name);
        ASSERT_TRUE(r);
        oracle.receivers[*r] = name;
    }

    // One random operation; returns a description for failure messages.
    std::string step() {
        std::vector<ReceiverId> ids;
        for (auto& [id, n] : oracle.receivers)
            ids.push_back(id);
        ReceiverId r = ids.empty() ? 12345 : ids[rng() % ids.size()];
        if (rng() % 50 == 0)
            r = 999999; // unknown receiver
        PortId p = static_cast<PortId>(rng() % (k_ports + 1));
        IpAddr g = groups[rng() % groups.size()];
        if (rng() % 40 == 0)
            g = v4_sources[0]; // not multicast
        const auto& pool = g.is_v4() ? v4_sources : v6_sources;
        IpAddr s = pool[rng() % pool.size()];
        if (rng() % 40 == 0)
            s = (rng() % 2) ? groups[0] : (g.is_v4() ? v6_sources[0] : v4_sources[0]);
        std::vector<IpAddr> list;
        for (int i = 0, n = rng() % 7; i < n; ++i)
            list.push_back(pool[rng() % pool.size()]);
        FilterMode mode = (rng() % 2) ? FilterMode::include : FilterMode::exclude;

        errc want = errc::ok, got = errc::ok;
        std::string what;
        bool has_r = oracle.receivers.count(r) > 0;
        auto* m = has_r ? oracle.find(r, p, g) : nullptr;
        const bool g_ok = g.is_multicast();
        const bool s_ok = !Oracle::bad_source(g, s);
        const bool p_ok = oracle.port_ok(p);
        auto del_err = [&] { return p_ok ? errc::addr_not_avail : errc::no_device; };

        switch (rng() % 20) {
        case 0:
        case 1:
        case 2:
            what = "join";
            want = !has_r  ? errc::not_found
                   : !g_ok ? errc::invalid
                   : !p_ok ? errc::no_device
                   : m     ? errc::addr_in_use
                           : errc::ok;
            if (want == errc::ok)
                oracle.members[{r, p, g}] = {FilterMode::exclude, {}};
            got = engine.join(r, p, g);
            break;
        case 3:
        case 4:
            what = "leave";
            want = !has_r ? errc::not_found : !g_ok ? errc::invalid : !m ? del_err() : errc::ok;
            if (want == errc::ok)
                oracle.members.erase({r, p, g});
            got = engine.leave(r, p, g);
            break;
        case 5:
        case 6:
        case 7:
            what = "join_source " + s.to_string();
            want = !has_r                              ? errc::not_found
                   : !g_ok || !s_ok                    ? errc::invalid
                   : !p_ok                             ? errc::no_device
                   : !m                                ? errc::ok
                   : m->sources.size() >= k_max_filter ? errc::no_buffer_space
                   : m->mode != FilterMode::include    ? errc::invalid
                   : m->sources.count(s)               ? errc::addr_not_avail
                                                       : errc::ok;
            if (want == errc::ok) {
                if (m)
                    m->sources.insert(s);
                else
                    oracle.members[{r, p, g}] = {FilterMode::include, {s}};
            }
            got = engine.join_source(r, p, g, s);
            break;
        case 8:
        case 9:
            what = "leave_source " + s.to_string();
            want = !has_r                           ? errc::not_found
                   : !g_ok || !s_ok                 ? errc::invalid
                   : !m                             ? del_err()
                   : m->mode != FilterMode::include ? errc::invalid
                   : !m->sources.count(s)           ? errc::addr_not_avail
                                                    : errc::ok;
            if (want == errc::ok) {
                m->sources.erase(s);
                if (m->sources.empty())
                    oracle.members.erase({r, p, g});
            }
            got = engine.leave_source(r, p, g, s);
            break;
        case 10:
        case 11:
            what = "block " + s.to_string();
            want = !has_r                              ? errc::not_found
                   : !g_ok || !s_ok                    ? errc::invalid
                   : !p_ok                             ? errc::no_device
                   : !m                                ? errc::addr_not_avail
                   : m->sources.size() >= k_max_filter ? errc::no_buffer_space
                   : m->mode != FilterMode::exclude    ? errc::invalid
                   : m->sources.count(s)               ? errc::addr_not_avail
                                                       : errc::ok;
            if (want == errc::ok)
                m->sources.insert(s);
            got = engine.block(r, p, g, s);
            break;
        case 12:
            what = "unblock " + s.to_string();
            want = !has_r                           ? errc::not_found
                   : !g_ok || !s_ok                 ? errc::invalid
                   : !m                             ? del_err()
                   : m->mode != FilterMode::exclude ? errc::invalid
                   : !m->sources.count(s)           ? errc::addr_not_avail
                                                    : errc::ok;
            if (want == errc::ok)
                m->sources.erase(s);
            got = engine.unblock(r, p, g, s);
            break;
        case 13:
        case 14: {
            bool any_bad = false;
            for (auto& x : list)
                any_bad |= Oracle::bad_source(g, x);
            std::set<IpAddr> uniq(list.begin(), list.end());
            what = "set_filter " + std::string(filter::mode_name(mode)) +
                   " n=" + std::to_string(list.size());
            want = !has_r                       ? errc::not_found
                   : !g_ok || any_bad           ? errc::invalid
                   : !p_ok                      ? errc::no_device
                   : uniq.size() > k_max_filter ? errc::no_buffer_space
                                                : errc::ok;
            if (want == errc::ok) {
                if (mode == FilterMode::include && uniq.empty())
                    oracle.members.erase({r, p, g});
                else
                    oracle.members[{r, p, g}] = {mode, uniq};
            }
            got = engine.set_filter(r, p, g, mode, list);
            break;
        }
        case 15: {
            int which = rng() % 4;
            if (which == 0) {
                what = "join_unfiltered";
                want = !g_ok ? errc::invalid : !p_ok ? errc::no_device : errc::ok;
                if (want == errc::ok)
                    ++oracle.ports[p].unfiltered[g];
                got = engine.join_unfiltered(p, g);
            } else if (which == 1) {
                what = "leave_unfiltered";
                want = !g_ok                                  ? errc::invalid
                       : !p_ok                                ? errc::no_device
                       : !oracle.ports[p].unfiltered.count(g) ? errc::addr_not_avail
                                                              : errc::ok;
                if (want == errc::ok && --oracle.ports[p].unfiltered[g] == 0)
                    oracle.ports[p].unfiltered.erase(g);
                got = engine.leave_unfiltered(p, g);
            } else {
                what = which == 2 ? "join_all" : "leave_all";
                want = p_ok ? errc::ok : errc::no_device;
                if (p_ok) {
                    int& n = oracle.ports[p].allmulti;
                    if (which == 2)
                        ++n;
                    else if (n > 0)
                        --n;
                }
                got = which == 2 ? engine.join_all(p) : engine.leave_all(p);
            }
            break;
        }
        case 16: {
            what = "get_filter";
            auto res = engine.get_filter(r, p, g);
            want = !has_r  ? errc::not_found
                   : !g_ok ? errc::invalid
                   : !p_ok ? errc::no_device
                   : !m    ? errc::addr_not_avail
                           : errc::ok;
            got = res.error();
            if (res && m) {
                EXPECT_EQ(res->mode, m->mode);
                EXPECT_EQ(res->sources.as_vector(),
                          std::vector<IpAddr>(m->sources.begin(), m->sources.end()));
            }
            break;
        }
        case 17: {
            // Port life cycle: down / up / remove / add (rarely).
            int which = rng() % 4;
            PortId q = static_cast<PortId>(rng() % k_ports);
            auto& op = oracle.ports[q];
            if (which == 0 || which == 1) {
                bool up = which == 1;
                what = up ? "port_up" : "port_down";
                want = op.present ? errc::ok : errc::no_device;
                if (op.present)
                    op.up = up;
                got = engine.set_port_up(q, up);
            } else if (which == 2 && rng() % 3 == 0) {
                what = "remove_port";
                want = op.present ? errc::ok : errc::no_device;
                if (op.present) {
                    op = OraclePort{false, false, 0, {}};
                    expected_allmulti_off = true;
                }
                got = engine.remove_port(q);
            } else {
                what = "add_port";
                want = op.present ? errc::addr_in_use : errc::ok;
                if (!op.present)
                    op = OraclePort{};
                got = engine.add_port(q, true);
            }
            p = q;
            break;
        }
        case 18: {
            if (rng() % 4 != 0 || !has_r) {
                what = "noop";
                break;
            }
            what = "close_receiver";
            want = errc::ok;
            std::string name = oracle.receivers[r];
            for (auto it = oracle.members.begin(); it != oracle.members.end();)
                it = std::get<0>(it->first) == r ? oracle.members.erase(it) : std::next(it);
            oracle.receivers.erase(r);
            got = engine.close_receiver(r);
            open(name);
            break;
        }
        default: {
            // Same filter set again: must not announce anything.
            what = "set_filter_same";
            if (!m) {
                what = "noop";
                break;
            }
            std::vector<IpAddr> same(m->sources.begin(), m->sources.end());
            want = p_ok ? errc::ok : errc::no_device;
            got = engine.set_filter(r, p, g, m->mode, same);
            break;
        }
        }
        EXPECT_EQ(got, want) << what << " r" << r << " port " << p << " " << g.to_string();
        return what + " r" + std::to_string(r) + " port " + std::to_string(p) + " " + g.to_string();
    }

    // Compares engine and oracle; checks the events against the merged-state diff.
    void check(const std::string& what) {
        std::map<std::pair<PortId, IpAddr>, FilterState> now;
        for (PortId p = 0; p <= k_ports; ++p)
            for (auto& g : groups) {
                FilterState f = oracle.merged(p, g);
                ASSERT_EQ(engine.port_filter(p, g), f)
                    << what << ": port " << p << " " << g.to_string();
                auto pg = engine.port_group(p, g);
                ASSERT_EQ(pg.has_value(), f.is_member()) << what;
                if (pg) {
                    ASSERT_EQ(pg->receivers, oracle.attached(p, g)) << what;
                    auto& pp = oracle.ports[p];
                    ASSERT_EQ(pg->unfiltered, pp.unfiltered.count(g) ? pp.unfiltered[g] : 0)
                        << what;
                }
                if (f.is_member())
                    now[{p, g}] = f;
            }
        // Expected events: exactly the pairs whose merged state changed.
        std::map<std::pair<PortId, IpAddr>, std::pair<FilterState, FilterState>> want;
        for (auto& [k, f] : now) {
            auto it = last.find(k);
            FilterState old = it == last.end() ? FilterState{} : it->second;
            if (old != f)
                want[k] = {old, f};
        }
        for (auto& [k, f] : last)
            if (!now.count(k))
                want[k] = {f, FilterState{}};
        std::map<std::pair<PortId, IpAddr>, std::pair<FilterState, FilterState>> got;
        for (auto& e : rec.take()) {
            auto key = std::make_pair(e.port, e.group);
            ASSERT_FALSE(got.count(key)) << what << ": two events for one pair in one step";
            ASSERT_NE(e.old_filter, e.new_filter) << what << ": event without a change";
            got[key] = {e.old_filter, e.new_filter};
        }
        ASSERT_EQ(got, want) << what;
        last = std::move(now);
        // Members events: exactly the pairs whose attached (receiver, filter) set changed.
        std::map<std::pair<PortId, IpAddr>, std::map<ReceiverId, FilterState>> members_now;
        for (PortId p = 0; p < k_ports; ++p)
            for (auto& g : groups)
                engine.for_each_member(p, g, [&](ReceiverId r, const FilterState& f) {
                    members_now[{p, g}][r] = f;
                });
        for (auto& [key, m] : oracle.members) { // the engine's view must be the oracle's
            auto [r, p, g] = key;
            if (oracle.attached(p, g) == 0)
                continue;
            auto it = members_now.find({p, g});
            ASSERT_NE(it, members_now.end()) << what;
            ASSERT_TRUE(it->second.count(r)) << what;
            ASSERT_EQ(it->second.at(r).sources.size(), m.sources.size()) << what;
        }
        std::set<std::pair<PortId, IpAddr>> want_members, got_members;
        for (auto& [k, m] : members_now)
            if (!last_members.count(k) || last_members.at(k) != m)
                want_members.insert(k);
        for (auto& [k, m] : last_members)
            if (!members_now.count(k))
                want_members.insert(k);
        for (auto& k : std::exchange(rec.members, {}))
            ASSERT_TRUE(got_members.insert(k).second)
                << what << ": two members events for one pair";
        ASSERT_EQ(got_members, want_members) << what;
        last_members = std::move(members_now);
        // Receivers' filters.
        for (auto& [key, m] : oracle.members) {
            auto [r, p, g] = key;
            if (!oracle.port_ok(p))
                continue; // get_filter needs the port; checked via for_each below
            auto f = engine.get_filter(r, p, g);
            ASSERT_TRUE(f) << what;
            ASSERT_EQ(f->mode, m.mode) << what;
        }
        size_t engine_members = 0;
        for (auto& entry : oracle.receivers) {
            const ReceiverId id = entry.first; // clang 14 cannot capture a structured binding
            engine.for_each_membership(id, [&](const MembershipView& v) {
                ++engine_members;
                auto it = oracle.members.find({id, v.port, v.group});
                ASSERT_NE(it, oracle.members.end()) << what;
                EXPECT_EQ(v.filter.mode, it->second.mode);
                EXPECT_EQ(
                    v.filter.sources.as_vector(),
                    std::vector<IpAddr>(it->second.sources.begin(), it->second.sources.end()));
                EXPECT_EQ(v.attached, oracle.ports[v.port].present && oracle.ports[v.port].up);
            });
        }
        ASSERT_EQ(engine_members, oracle.members.size()) << what;
        for (PortId p = 0; p < k_ports; ++p)
            ASSERT_EQ(engine.port(p)->allmulti_count, uint32_t(oracle.ports[p].allmulti)) << what;
    }

    std::mt19937_64 rng{20261123};
    Recorder& rec;
    Engine& engine;
    Oracle oracle;
    std::vector<IpAddr> groups, v4_sources, v6_sources;
    std::map<std::pair<PortId, IpAddr>, FilterState> last;
    std::map<std::pair<PortId, IpAddr>, std::map<ReceiverId, FilterState>> last_members;
    bool expected_allmulti_off = false;
};

} // namespace mcfwd::membership::testing
