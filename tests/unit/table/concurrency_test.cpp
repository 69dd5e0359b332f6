// Readers hammer lookups while one writer churns set/remove (with growth and
// tombstone purges) for two seconds. Every entry a reader sees must be
// internally consistent: its contents are a function of a version number that
// the entry itself carries (in which outlet ids it has: a cyclic run of n ids
// from an offset), so a torn or early-freed entry (poisoned on free) fails the
// check. Run under ThreadSanitizer too (see the
// build-table-tsan configuration in the report / scripts/test.sh).
#include "table/port_table.hpp"

#include "base/random.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::table;
using filter::FilterMode;
using filter::FilterState;

constexpr uint32_t n_groups = 512;    // grows the table from 16, and churns tombstones
constexpr uint32_t n_shared = 8;      // sources every outlet may list
constexpr uint32_t n_extra_max = 200; // sources only outlet 0 lists
constexpr auto run_time = std::chrono::seconds(2);

IpAddr group(uint32_t i) {
    return IpAddr::v4(0xe8010000u + i);
}
IpAddr shared_source(uint32_t k) {
    return IpAddr::v4(0x0a010000u + k);
}
IpAddr extra_source(uint32_t j) {
    return IpAddr::v4(0x0a020000u + j);
}
IpAddr never_listed() {
    return IpAddr::v4(0x0a030001u);
}

// Version v's pattern, which both the writer (to build) and readers (to check)
// use. It depends on v modulo 63 × 64 only, which the entry's outlet ids carry:
// n = 1..63 outlets with the ids offset, offset + 1, ... (mod 64).
constexpr uint32_t n_patterns = 63 * 64;
size_t outlets_of(uint32_t v) {
    return 1 + v % n_patterns % 63;
}
uint32_t offset_of(uint32_t v) {
    return v % n_patterns / 63;
}
bool includes(uint32_t v, size_t i) {
    return (v + i) % 2 == 0;
}
bool lists_shared(uint32_t v, size_t i, uint32_t k) {
    // An INCLUDE outlet lists at least one source: INCLUDE {} is no membership,
    // and the entry would not show the outlet at all.
    return (v + 3 * i + k) % 4 == 0 || (includes(v, i) && k == i % n_shared);
}
uint32_t extras_of(uint32_t v) {
    return v % n_patterns % n_extra_max;
}
OutletId outlet_id(uint32_t v, size_t i) {
    return OutletId((offset_of(v) + i) % max_outlets);
}
/// The version (mod n_patterns) an entry's outlet ids say, or n_patterns if
/// they are not a cyclic run of 1..63 ids.
uint32_t version_of(uint64_t present) {
    const unsigned n = unsigned(__builtin_popcountll(present));
    if (n == 0 || n == 64)
        return n_patterns;
    for (uint32_t offset = 0; offset < 64; ++offset) {
        const uint64_t run = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
        const uint64_t rotated = offset == 0 ? run : (run << offset) | (run >> (64 - offset));
        if (rotated == present)
            return offset * 63 + (n - 1);
    }
    return n_patterns;
}

std::vector<FilterState> filters_of(uint32_t v) {
    std::vector<FilterState> f(outlets_of(v));
    for (size_t i = 0; i < f.size(); ++i) {
        f[i].mode = includes(v, i) ? FilterMode::include : FilterMode::exclude;
        for (uint32_t k = 0; k < n_shared; ++k)
            if (lists_shared(v, i, k))
                f[i].sources.insert(shared_source(k));
        if (i == 0)
            for (uint32_t j = 0; j < extras_of(v); ++j)
                f[i].sources.insert(extra_source(j));
    }
    return f;
}

uint64_t expected_accept(uint32_t v, bool (*listed)(uint32_t, size_t, uint32_t), uint32_t arg) {
    uint64_t m = 0;
    for (size_t i = 0; i < outlets_of(v); ++i)
        if (listed(v, i, arg) == includes(v, i))
            m |= uint64_t{1} << outlet_id(v, i);
    return m;
}

bool listed_extra(uint32_t v, size_t i, uint32_t j) {
    return i == 0 && j < extras_of(v);
}
bool listed_never(uint32_t, size_t, uint32_t) {
    return false;
}

/// Checks an entry against the pattern of the version it carries. Returns
/// false on any inconsistency.
bool consistent(const GroupEntry& e, const IpAddr& g, SplitMix& rng) {
    if (e.group() != g)
        return false;
    const uint32_t v = version_of(e.present_mask());
    if (v == n_patterns || e.outlet_count() != outlets_of(v))
        return false;
    for (uint32_t k = 0; k < n_shared; ++k)
        if (e.accept(shared_source(k)) != expected_accept(v, lists_shared, k))
            return false;
    const uint32_t j = uint32_t(rng.below(n_extra_max + 20));
    if (e.accept(extra_source(j)) != expected_accept(v, listed_extra, j))
        return false;
    return e.accept(never_listed()) == expected_accept(v, listed_never, 0);
}

TEST(Concurrency, ReadersSeeOnlyWholeEntriesWhileOneWriterChurns) {
    const unsigned n_readers = 2;
    Qsbr qsbr(n_readers);
    QsbrReclaimer reclaimer(qsbr);
    PortTable table(reclaimer, {.initial_groups = 16, .poison_retired = true});

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> lookups{0}, hits{0}, bad{0};
    std::vector<std::thread> readers;
    for (unsigned id = 0; id < n_readers; ++id) {
        readers.emplace_back([&, id] {
            ASSERT_EQ(qsbr.register_reader(id), errc::ok);
            qsbr.online(id);
            SplitMix rng(id + 1);
            uint64_t my_lookups = 0, my_hits = 0, my_bad = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                for (int b = 0; b < 32; ++b) {
                    const IpAddr g = group(uint32_t(rng.below(n_groups)));
                    const GroupEntry* e = table.lookup(g);
                    ++my_lookups;
                    if (e == nullptr)
                        continue;
                    ++my_hits;
                    // Check twice: the entry must stay intact for the whole
                    // critical section, not only at the moment of lookup.
                    if (!consistent(*e, g, rng))
                        ++my_bad;
                    std::this_thread::yield();
                    if (!consistent(*e, g, rng))
                        ++my_bad;
                }
                qsbr.quiescent(id);
            }
            qsbr.offline(id);
            EXPECT_EQ(qsbr.unregister_reader(id), errc::ok);
            lookups += my_lookups;
            hits += my_hits;
            bad += my_bad;
        });
    }

    // The writer: this thread, as the control lcore would.
    SplitMix rng(0xc0ffee);
    std::vector<uint32_t> version(n_groups, 0); // 0: absent
    uint32_t next_version = 1;
    uint64_t sets = 0, removes = 0;
    const auto end = std::chrono::steady_clock::now() + run_time;
    while (std::chrono::steady_clock::now() < end) {
        const uint32_t gi = uint32_t(rng.below(n_groups));
        if (version[gi] != 0 && rng.below(3) == 0) {
            ASSERT_EQ(table.remove_group(group(gi)), errc::ok);
            version[gi] = 0;
            ++removes;
        } else {
            const uint32_t v = next_version++;
            const std::vector<FilterState> f = filters_of(v);
            std::vector<OutletFilter> o;
            for (size_t i = 0; i < f.size(); ++i)
                o.push_back({outlet_id(v, i), &f[i]});
            ASSERT_EQ(table.set_group(group(gi), o), errc::ok);
            version[gi] = v;
            ++sets;
        }
        reclaimer.reclaim();
    }
    stop = true;
    for (auto& t : readers)
        t.join();
    reclaimer.synchronize();

    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(lookups.load(), 1000u);
    EXPECT_GT(hits.load(), 100u);
    EXPECT_GT(removes, 100u);
    EXPECT_GT(table.rebuild_count(), 0u);
    EXPECT_EQ(reclaimer.pending(), 0u);
    const uint64_t live = table.group_count();
    EXPECT_EQ(live, uint64_t(n_groups - std::count(version.begin(), version.end(), 0u)));
    // Every set built one entry; all but the live ones were replaced or removed.
    EXPECT_EQ(reclaimer.freed(), sets - live + table.rebuild_count())
        << "every retired entry and old table freed exactly once";
    // The writer's final view matches what it did.
    for (uint32_t gi = 0; gi < n_groups; ++gi) {
        const GroupEntry* e = table.lookup(group(gi));
        ASSERT_EQ(e != nullptr, version[gi] != 0) << gi;
        if (e != nullptr) {
            EXPECT_EQ(version_of(e->present_mask()), version[gi] % n_patterns);
        }
    }
}

} // namespace
