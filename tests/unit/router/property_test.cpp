// Random sequences of reports, legacy messages, queries and time steps, with the invariants
// that must hold after every step whatever the RFC row: the forwarding events tell the whole
// story (replaying them gives engine.forwarding()), records are well formed (§6.2: INCLUDE
// has only running source timers and no group timer; EXCLUDE has a running group timer),
// no timer is due and unprocessed, limits hold, and the §6.3 consequences of the records
// (a source just allowed is forwarded; IS_EX / TO_EX leave the group in EXCLUDE mode).
#include "router_test_support.hpp"

#include "base/random.hpp"

#include <map>

namespace mcfwd::router::test {
namespace {

using enum FilterMode;

struct PropertyCase {
    const Names* names;
    uint64_t seed;
    size_t max_groups;
    size_t max_sources;
};

void PrintTo(const PropertyCase& c, std::ostream* os) {
    *os << c.names->name << " seed " << c.seed << " limits " << c.max_groups << "/"
        << c.max_sources;
}

class RandomSequences : public ::testing::TestWithParam<PropertyCase> {};

TEST_P(RandomSequences, InvariantsHoldAfterEveryStep) {
    const PropertyCase& pc = GetParam();
    const Names& n = *pc.names;
    RouterConfig c = default_config(n);
    c.max_groups = pc.max_groups;
    c.max_sources = pc.max_sources;
    RouterHarness h(n, c);
    SplitMix rng(pc.seed);
    h.engine.start(h.now());
    const IpAddr groups[3] = {ip(n.group), ip(n.other_group),
                              ip(n.family == Family::v4 ? "239.1.1.3" : "ff0e::3")};
    const RecordType types[6] = {RecordType::mode_is_include,   RecordType::mode_is_exclude,
                                 RecordType::change_to_include, RecordType::change_to_exclude,
                                 RecordType::allow_new_sources, RecordType::block_old_sources};
    const uint8_t newest = n.family == Family::v4 ? 3 : 2;

    for (int step = 0; step < 3000; ++step) {
        SCOPED_TRACE(::testing::Message() << "step " << step);
        const IpAddr& group = groups[rng.below(3)];
        const size_t refused_before =
            h.engine.counters().sources_refused + h.engine.counters().groups_refused;
        const auto before = h.engine.group_snapshot(group);
        const uint8_t compat = before ? before->compat_version : newest;
        SourceSet sources;
        for (char ch = 'a'; ch <= 'e'; ++ch)
            if (rng.below(2) != 0)
                sources.insert(letter(n, ch));
        const uint64_t what = rng.below(100);
        RecordType type = types[rng.below(6)];
        bool was_record = false;
        if (what < 55) {
            wire::Report r{n.family, {{type, group, sources.as_vector()}}};
            h.engine.on_report(h.now(), r);
            was_record = true;
        } else if (what < 62) {
            const uint8_t version = n.family == Family::v4 ? uint8_t(1 + rng.below(2)) : uint8_t(1);
            h.engine.on_legacy_report(h.now(), {n.family, version, group});
        } else if (what < 68) {
            h.engine.on_leave(h.now(), {n.family, group});
        } else if (what < 72) {
            wire::Query q = h.group_query("", rng.below(2) != 0);
            q.group = group;
            q.sources = rng.below(2) != 0 ? sources.as_vector() : std::vector<IpAddr>{};
            h.engine.on_query(h.now(), q, ip(rng.below(2) != 0 ? n.lower : n.higher));
        } else {
            h.run_for(std::chrono::milliseconds(rng.below(rng.below(4) == 0 ? 300000 : 3000)));
        }
        const time_point now = h.now();
        h.engine.on_timer(now);

        // §6.3 consequences of the record just applied (when nothing was refused).
        const bool refused =
            h.engine.counters().sources_refused + h.engine.counters().groups_refused !=
            refused_before;
        if (was_record && !refused && compat == newest) {
            if (type == RecordType::mode_is_include || type == RecordType::allow_new_sources ||
                type == RecordType::change_to_include) {
                for (const IpAddr& s : sources)
                    EXPECT_TRUE(h.engine.forwards(s, group)) << s.to_string();
            }
            if (type == RecordType::mode_is_exclude || type == RecordType::change_to_exclude) {
                ASSERT_TRUE(h.engine.group_snapshot(group).has_value());
                EXPECT_EQ(h.engine.group_snapshot(group)->mode, exclude);
            }
        }

        // Replaying the events gives the engine's forwarding state.
        std::map<IpAddr, FilterState> replay;
        for (const auto& ch : h.sink.changes) {
            EXPECT_EQ(replay.count(ch.group) ? replay[ch.group] : FilterState::none(),
                      ch.old_state);
            replay[ch.group] = ch.new_state;
        }
        for (const IpAddr& g : groups)
            EXPECT_EQ(replay.count(g) ? replay[g] : FilterState::none(), h.engine.forwarding(g));

        // Records are well formed; limits hold; nothing due is left undone.
        size_t sources_seen = 0;
        for (const GroupSnapshot& g : h.engine.groups()) {
            sources_seen += g.sources.size();
            if (g.mode == include) {
                EXPECT_FALSE(g.sources.empty());
                EXPECT_EQ(g.group_timer, time_never);
            } else {
                EXPECT_GT(g.group_timer, now);
                EXPECT_LE(g.group_timer, now + 260s);
            }
            for (const SourceSnapshot& s : g.sources) {
                if (g.mode == include) {
                    EXPECT_TRUE(s.timer.has_value());
                }
                if (s.timer) {
                    EXPECT_GT(*s.timer, now);
                    EXPECT_LE(*s.timer, now + 260s);
                }
            }
        }
        EXPECT_EQ(sources_seen, h.engine.source_count());
        EXPECT_LE(h.engine.source_count(), pc.max_sources);
        EXPECT_LE(h.engine.group_count(), pc.max_groups);
        EXPECT_GT(h.engine.next_deadline(), now);
        for (size_t i = 0; i < h.sink.queries.size(); ++i) {
            EXPECT_LE(h.sink.due_times[i], now);
            EXPECT_EQ(h.sink.queries[i].family, n.family);
        }
        if (testing::Test::HasFailure())
            return;
    }
    EXPECT_GT(h.engine.counters().records, 1000u);
    EXPECT_GT(h.engine.counters().source_queries_sent + h.engine.counters().group_queries_sent, 0u);
}

std::vector<PropertyCase> property_cases() {
    std::vector<PropertyCase> out;
    for (const Names* n : {&v4_names, &v6_names})
        for (uint64_t seed : {1u, 2u, 3u}) {
            out.push_back({n, seed, 4096, 65536});
            out.push_back({n, seed, 2, 4});
        }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomSequences, ::testing::ValuesIn(property_cases()),
                         [](const auto& info) {
                             return std::string(info.param.names->name) + "_seed" +
                                    std::to_string(info.param.seed) +
                                    (info.param.max_sources < 10 ? "_limited" : "");
                         });

} // namespace
} // namespace mcfwd::router::test
