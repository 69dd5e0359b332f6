// GroupEntry: the accept mask must equal, bit for bit, what each outlet's own
// FilterState::accepts() says (the brute-force model), for every shape of filter
// and both layouts (sources inline, or hashed).
#include "table/group_entry.hpp"

#include "base/random.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::table;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

IpAddr v4(uint32_t a) {
    return IpAddr::v4(a);
}
IpAddr group4(uint32_t i) {
    return v4(0xe8000000u + i);
} // 232.0.0.0 + i
IpAddr src4(uint32_t i) {
    return v4(0x0a000000u + i);
} // 10.0.0.0 + i
IpAddr src6(uint32_t i) {
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
    b[12] = uint8_t(i >> 24), b[13] = uint8_t(i >> 16), b[14] = uint8_t(i >> 8), b[15] = uint8_t(i);
    return IpAddr::from_v6_bytes(b);
}

struct EntryDeleter {
    void operator()(GroupEntry* e) const { GroupEntry::destroy(e); }
};
using EntryPtr = std::unique_ptr<GroupEntry, EntryDeleter>;

/// Owns the filters an OutletFilter span points to.
struct Outlets {
    std::vector<FilterState> filters;
    std::vector<OutletId> ids;
    void add(OutletId id, FilterState f) {
        ids.push_back(id);
        filters.push_back(std::move(f));
    }
    std::vector<OutletFilter> view() const {
        std::vector<OutletFilter> v;
        for (size_t i = 0; i < ids.size(); ++i)
            v.push_back({ids[i], &filters[i]});
        return v;
    }
    /// The brute-force model: ask every outlet's filter (mask bit = outlet id).
    uint64_t model_accept(const IpAddr& s) const {
        uint64_t m = 0;
        for (size_t i = 0; i < filters.size(); ++i)
            if (filters[i].accepts(s))
                m |= uint64_t{1} << ids[i];
        return m;
    }
    EntryPtr build(const IpAddr& g = group4(1)) const {
        GroupEntry* e = nullptr;
        const auto v = view();
        EXPECT_EQ(GroupEntry::create(g, v, e), errc::ok);
        return EntryPtr(e);
    }
};

FilterState make(FilterMode m, std::vector<IpAddr> s) {
    return FilterState{m, SourceSet::from_unsorted(std::move(s))};
}

TEST(GroupEntry, AnySourceOutletsAcceptEverySourceWithoutAHashTable) {
    Outlets o;
    o.add(7, FilterState::any_source());
    o.add(9, FilterState::any_source());
    auto e = o.build();
    EXPECT_EQ(e->source_capacity(), 0u);
    EXPECT_EQ(e->source_count(), 0u);
    EXPECT_TRUE(e->inline_sources());
    EXPECT_EQ(e->memory_bytes(), 32u); // half a cache line
    EXPECT_EQ(e->accept(src4(1)), 0b1010000000u);
    EXPECT_EQ(e->accept(src6(1)), 0b1010000000u);
    EXPECT_EQ(e->present_mask(), 0b1010000000u);
    EXPECT_EQ(e->outlet(0), 7u);
    EXPECT_EQ(e->outlet(1), 9u);
    EXPECT_EQ(e->outlets(), (std::vector<OutletId>{7, 9}));
}

// One row per (outlet filter, source) combination of RFC 3376 §3.2's two modes.
TEST(GroupEntry, EachOutletAcceptsPerItsOwnModeAndList) {
    const IpAddr s1 = src4(1), s2 = src4(2), s3 = src4(3);
    Outlets o;
    o.add(0, make(FilterMode::include, {s1, s2})); // bit 0
    o.add(1, make(FilterMode::exclude, {s1}));     // bit 1
    o.add(2, FilterState::any_source());           // bit 2
    o.add(3, FilterState::none());                 // bit 3: INCLUDE {} accepts nothing
    o.add(4, make(FilterMode::exclude, {s1, s3})); // bit 4
    auto e = o.build();
    struct Row {
        IpAddr source;
        uint64_t accept;
    } rows[] = {
        {s1, 0b00101},
        {s2, 0b10111},
        {s3, 0b00110},
        {src4(4), 0b10110},
    };
    for (const Row& r : rows)
        EXPECT_EQ(e->accept(r.source), r.accept) << r.source.to_string();
    EXPECT_EQ(e->source_count(), 3u);
    EXPECT_FALSE(e->inline_sources()); // the outlets list different sources
    // INCLUDE {} is no reception state (RFC 3376 §3.2): not a member at all.
    EXPECT_EQ(e->include_mask(), 0b00001u);
    EXPECT_EQ(e->exclude_mask(), 0b10110u);
    EXPECT_EQ(e->outlet_count(), 4u);
    EXPECT_EQ(e->listed(s1), 0b10011u);
    EXPECT_EQ(e->listed(s3), 0b10000u);
    EXPECT_EQ(e->listed(src4(4)), 0u);
}

TEST(GroupEntry, SourceFilteredAtPortLevelGivesZero) {
    Outlets o;
    o.add(1, make(FilterMode::include, {src4(1)}));
    o.add(2, make(FilterMode::include, {src4(2)}));
    auto e = o.build();
    EXPECT_EQ(e->accept(src4(3)), 0u);
    EXPECT_EQ(e->accept(src6(3)), 0u);
}

TEST(GroupEntry, MulticastSourceQueryIsNotListed) {
    // The empty-slot marker is the all-ones address, a multicast address: a
    // packet claiming it as source must read as "not listed", not as a match.
    Outlets o;
    o.add(1, make(FilterMode::exclude, {src4(1)}));
    o.add(2, make(FilterMode::include, {src4(2)}));
    auto e = o.build();
    uint8_t ones[16];
    std::memset(ones, 0xff, 16);
    EXPECT_EQ(e->accept(IpAddr::from_v6_bytes(ones)), 0b010u);
    EXPECT_EQ(e->accept(v4(0xffffffffu)), 0b010u);
}

TEST(GroupEntry, SixtyFourOutletsFitAndAnIdBeyondTheMaskIsRefused) {
    Outlets o;
    for (OutletId i = 0; i < 64; ++i)
        o.add(i, make(i % 2 ? FilterMode::include : FilterMode::exclude, {src4(i)}));
    auto e = o.build();
    EXPECT_EQ(e->outlet_count(), 64u);
    EXPECT_EQ(e->accept(src4(63)), o.model_accept(src4(63)));
    EXPECT_EQ(e->accept(src4(0)), o.model_accept(src4(0)));

    Outlets beyond;
    beyond.add(64, FilterState::any_source()); // the 65th bit does not exist
    GroupEntry* out = reinterpret_cast<GroupEntry*>(1);
    const auto v = beyond.view();
    EXPECT_EQ(GroupEntry::create(group4(1), v, out), errc::invalid);
    EXPECT_EQ(out, nullptr);
}

TEST(GroupEntry, InvalidInputIsRefused) {
    const FilterState ok = make(FilterMode::include, {src4(1)});
    const FilterState mc_source = make(FilterMode::exclude, {group4(5)});
    GroupEntry* out = nullptr;
    const OutletFilter good[] = {{1, &ok}};
    EXPECT_EQ(GroupEntry::create(src4(1), good, out), errc::invalid); // unicast group
    const OutletFilter dup[] = {{1, &ok}, {1, &ok}};
    EXPECT_EQ(GroupEntry::create(group4(1), dup, out), errc::invalid);
    const OutletFilter null_filter[] = {{1, nullptr}};
    EXPECT_EQ(GroupEntry::create(group4(1), null_filter, out), errc::invalid);
    const OutletFilter mc[] = {{1, &ok}, {2, &mc_source}};
    EXPECT_EQ(GroupEntry::create(group4(1), mc, out), errc::invalid);
    const FilterState v6_source = make(FilterMode::include, {src6(1)});
    const OutletFilter other_family[] = {{1, &v6_source}};
    EXPECT_EQ(GroupEntry::create(group4(1), other_family, out), errc::invalid);
    EXPECT_EQ(out, nullptr);
}

TEST(GroupEntry, NoOutletsAcceptsNothing) {
    Outlets o;
    auto e = o.build();
    EXPECT_EQ(e->outlet_count(), 0u);
    EXPECT_EQ(e->accept(src4(1)), 0u);
}

// Random outlets (1..64), modes, overlapping lists from a shared pool (v4 and v6),
// empty lists; queries of listed and unlisted sources against the model.
// Shapes: one outlet (inline up to the limit), several with one shared list
// (inline), several with their own lists (hashed), few and many sources.
TEST(GroupEntry, RandomFiltersMatchBruteForceModel) {
    SplitMix rng(0x7ab1e);
    size_t inline_seen = 0, hashed_seen = 0;
    for (int round = 0; round < 600; ++round) {
        const bool v6 = round % 3 == 0;
        std::vector<IpAddr> pool;
        for (uint32_t i = 0; i < 200; ++i)
            pool.push_back(v6 ? src6(i * 31) : src4(i * 7919));
        Outlets o;
        const size_t n = round % 10 == 0 ? 64 : 1 + rng.below(round % 2 ? 64 : 4);
        const bool shared = rng.below(3) == 0; // every outlet lists the same sources
        std::vector<IpAddr> common;
        const size_t small = rng.below(2) == 0 ? 1 + rng.below(12) : rng.below(40);
        for (size_t j = 0; j < small; ++j)
            common.push_back(pool[rng.below(pool.size())]);
        uint64_t ids_used = 0;
        for (size_t i = 0; i < n; ++i) {
            std::vector<IpAddr> s = common;
            if (!shared) {
                s.clear();
                const size_t k = rng.below(4) == 0 ? 0 : rng.below(small + 1);
                for (size_t j = 0; j < k; ++j)
                    s.push_back(pool[rng.below(pool.size())]);
            }
            OutletId id;
            do
                id = OutletId(rng.below(64));
            while (ids_used >> id & 1);
            ids_used |= uint64_t{1} << id;
            o.add(id, make(rng.below(2) ? FilterMode::include : FilterMode::exclude, std::move(s)));
        }
        auto e = o.build(v6 ? IpAddr::parse("ff3e::1:" + std::to_string(round % 9999)).value()
                            : group4(uint32_t(round)));
        (e->inline_sources() ? inline_seen : hashed_seen)++;
        uint64_t members = 0; // INCLUDE {} outlets are not members
        for (size_t i = 0; i < n; ++i)
            if (o.filters[i].mode == FilterMode::exclude || !o.filters[i].sources.empty())
                members |= uint64_t{1} << o.ids[i];
        ASSERT_EQ(e->present_mask(), members) << "round " << round;
        for (const IpAddr& s : pool)
            ASSERT_EQ(e->accept(s), o.model_accept(s)) << "round " << round << " " << s.to_string();
        for (int q = 0; q < 50; ++q) {
            const uint32_t x = 0x00ff0000u + uint32_t(rng.below(1u << 16));
            const IpAddr s = v6 ? src6(x) : src4(x);
            ASSERT_EQ(e->accept(s), o.model_accept(s));
        }
    }
    // Both layouts were exercised, many times each.
    EXPECT_GT(inline_seen, 100u);
    EXPECT_GT(hashed_seen, 100u);
}

TEST(GroupEntry, LargeSourceListsMatchModel) {
    SplitMix rng(65536);
    Outlets o;
    std::vector<IpAddr> big;
    for (uint32_t i = 0; i < 65536; ++i)
        big.push_back(src4(0x00100000u + i * 3));
    o.add(1, make(FilterMode::exclude, big));
    std::vector<IpAddr> half(big.begin(), big.begin() + 32768);
    o.add(2, make(FilterMode::include, half));
    o.add(4, FilterState::any_source());
    auto e = o.build();
    EXPECT_EQ(e->source_count(), 65536u);
    for (const IpAddr& s : big)
        ASSERT_EQ(e->accept(s), o.model_accept(s)) << s.to_string();
    Outlets o6;
    std::vector<IpAddr> v6;
    for (uint32_t i = 0; i < 4096; ++i)
        v6.push_back(src6(i * 13));
    o6.add(3, make(FilterMode::include, v6));
    o6.add(5, make(FilterMode::exclude, std::vector<IpAddr>(v6.begin(), v6.begin() + 100)));
    auto e6 = o6.build(IpAddr::parse("ff3e::4096").value());
    EXPECT_EQ(e6->source_count(), 4096u);
    for (const IpAddr& s : v6)
        ASSERT_EQ(e6->accept(s), o6.model_accept(s)) << s.to_string();
    for (int q = 0; q < 100000; ++q) {
        const IpAddr s = src4(0x00100000u + uint32_t(rng.below(65536 * 3 + 10)));
        ASSERT_EQ(e->accept(s), o.model_accept(s)) << s.to_string();
    }
}

// The budget: at most 64 bytes per (S,G). Two outlets with the same list are
// inline up to the limit; an INCLUDE and an EXCLUDE of different lists go to
// the hashed layout, whose source table is ~32 bytes per source at load <= 0.75.
TEST(GroupEntry, MemoryPerSourceStaysWithinBudget) {
    for (uint32_t n : {1u, 2u, 8u, 10u, 11u, 64u, 1024u, 65536u}) {
        Outlets o;
        std::vector<IpAddr> s;
        for (uint32_t i = 0; i < n; ++i)
            s.push_back(src4(i + 1));
        o.add(1, make(FilterMode::include, s));
        auto e = o.build();
        EXPECT_EQ(e->inline_sources(), n <= GroupEntry::max_inline_v4) << n;
        EXPECT_LE(double(e->memory_bytes()) / n, n == 1 ? 32.0 : 64.0) << n;
        if (n >= 1024) {
            EXPECT_LE(double(e->memory_bytes()) / n, 33.0) << n;
        }
        Outlets two;
        two.add(1, make(FilterMode::include, s));
        s.push_back(src4(0x00fffff0u));
        two.add(2, make(FilterMode::exclude, s));
        auto h = two.build();
        EXPECT_FALSE(h->inline_sources());
        EXPECT_LE(double(h->source_capacity()) * 24 / double(n + 1), 48.0) << n;
        EXPECT_LE(double(n + 1) / double(h->source_capacity()), 0.75) << n;
        if (n >= 8) {
            EXPECT_LE(double(h->memory_bytes()) / double(n + 1), 64.0) << n;
        }
    }
}

// What a lookup reads: one cache line for an IPv4 group with up to 10 sources
// (32 bytes, half a line, with at most two), three for IPv6 with 8.
TEST(GroupEntry, InlineEntriesFitTheirCacheLines) {
    for (uint32_t n : {0u, 1u, 2u, 10u}) {
        Outlets o;
        std::vector<IpAddr> s;
        for (uint32_t i = 0; i < n; ++i)
            s.push_back(src4(i + 1));
        o.add(3, n == 0 ? FilterState::any_source() : make(FilterMode::include, s));
        auto e = o.build();
        ASSERT_TRUE(e->inline_sources());
        EXPECT_EQ(e->memory_bytes(), n <= 2 ? 32u : 64u) << n;
        EXPECT_EQ(e->hot_lines(), 1u);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(e.get()) % 32, 0u);
        for (uint32_t i = 0; i < n; ++i)
            EXPECT_EQ(e->accept_v4(__builtin_bswap32(0x0a000000u + i + 1)), 0b1000u);
        EXPECT_EQ(e->accept_v4(__builtin_bswap32(0x0a0000ffu)), n == 0 ? 0b1000u : 0u);
    }
    Outlets o6;
    std::vector<IpAddr> s6;
    for (uint32_t i = 0; i < 8; ++i)
        s6.push_back(src6(i + 1));
    o6.add(0, make(FilterMode::exclude, s6));
    auto e6 = o6.build(IpAddr::parse("ff3e::8").value());
    ASSERT_TRUE(e6->inline_sources());
    EXPECT_EQ(e6->hot_lines(), 3u);
    EXPECT_EQ(e6->accept_v6(src6(3).bytes().data()), 0u);
    EXPECT_EQ(e6->accept_v6(src6(9).bytes().data()), 1u);
    EXPECT_TRUE(e6->is_group_v6(IpAddr::parse("ff3e::8").value().bytes().data()));
}

} // namespace
