// PortTable: lookups against a std::map model through growth, deletion,
// tombstones and reinsertion; what is retired, and when it may be freed.
#include "table/port_table.hpp"

#include "base/random.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::table;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

IpAddr group4(uint32_t i) {
    return IpAddr::v4(0xe8000000u + i);
}
IpAddr group6(uint32_t i) {
    uint8_t b[16] = {0xff, 0x3e};
    b[12] = uint8_t(i >> 24), b[13] = uint8_t(i >> 16), b[14] = uint8_t(i >> 8), b[15] = uint8_t(i);
    return IpAddr::from_v6_bytes(b);
}
IpAddr src4(uint32_t i) {
    return IpAddr::v4(0x0a000000u + i);
}
IpAddr src6(uint32_t i) {
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
    b[12] = uint8_t(i >> 24), b[13] = uint8_t(i >> 16), b[14] = uint8_t(i >> 8), b[15] = uint8_t(i);
    return IpAddr::from_v6_bytes(b);
}

/// Records retirements instead of freeing, and checks the writer's side of the
/// contract: what is retired is already unreachable for new lookups.
class FakeReclaimer final : public Reclaimer {
public:
    struct Item {
        void* p;
        FreeCtxFn fn;
        void* ctx;
    };
    const PortTable* table = nullptr;
    std::vector<IpAddr> watched; // groups whose entries must not be retired while published
    std::vector<Item> items;

    using Reclaimer::retire;
    void retire(void* p, FreeCtxFn fn, void* ctx) noexcept override {
        if (table != nullptr) {
            for (const IpAddr& g : watched) {
                EXPECT_NE(static_cast<const void*>(table->lookup(g)), p)
                    << "retired while still published: " << g.to_string();
            }
        }
        items.push_back({p, fn, ctx});
    }
    size_t reclaim() noexcept override { return 0; } // the test decides when
    void synchronize() noexcept override { free_all(); }
    void free_all() {
        for (const Item& i : items)
            i.fn(i.ctx, i.p);
        items.clear();
    }
    ~FakeReclaimer() override { free_all(); }
};

struct Filters {
    FilterState inc = {FilterMode::include, {src4(1), src4(2)}};
    FilterState exc = {FilterMode::exclude, {src4(2)}};
    FilterState any = FilterState::any_source();
};

TEST(PortTable, LookupOfUnknownGroupIsNull) {
    FakeReclaimer r;
    PortTable t(r);
    EXPECT_EQ(t.lookup(group4(1)), nullptr);
    EXPECT_EQ(t.lookup(group6(1)), nullptr);
    EXPECT_EQ(t.group_count(), 0u);
}

TEST(PortTable, SetGroupPublishesEntryWithItsOutlets) {
    FakeReclaimer r;
    PortTable t(r);
    Filters f;
    const OutletFilter o[] = {{10, &f.inc}, {11, &f.exc}};
    ASSERT_EQ(t.set_group(group4(1), o), errc::ok);
    const GroupEntry* e = t.lookup(group4(1));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->group(), group4(1));
    EXPECT_EQ(e->outlet(0), 10u);
    EXPECT_EQ(e->outlet(1), 11u);
    EXPECT_EQ(e->accept(src4(1)), 0b11u << 10); // mask bit = outlet id
    EXPECT_EQ(e->accept(src4(2)), 0b01u << 10);
    EXPECT_EQ(e->accept(src4(3)), 0b10u << 10);
    EXPECT_EQ(t.lookup(group4(2)), nullptr);
    EXPECT_TRUE(r.items.empty());
}

TEST(PortTable, ReplacingAGroupRetiresTheOldEntryAfterUnpublishingIt) {
    FakeReclaimer r;
    PortTable t(r);
    r.table = &t;
    r.watched = {group4(1)};
    Filters f;
    const OutletFilter a[] = {{1, &f.inc}};
    const OutletFilter b[] = {{2, &f.any}};
    ASSERT_EQ(t.set_group(group4(1), a), errc::ok);
    const GroupEntry* old = t.lookup(group4(1));
    ASSERT_EQ(t.set_group(group4(1), b), errc::ok);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].p, old);
    EXPECT_EQ(t.lookup(group4(1))->outlet(0), 2u);
    // Not freed yet: the old entry still reads as it was (a reader may hold it).
    EXPECT_EQ(old->outlet(0), 1u);
    EXPECT_EQ(old->accept(src4(3)), 0u);
}

TEST(PortTable, FailedSetLeavesThePublishedEntryUntouched) {
    FakeReclaimer r;
    PortTable t(r);
    Filters f;
    const OutletFilter a[] = {{1, &f.inc}};
    ASSERT_EQ(t.set_group(group4(1), a), errc::ok);
    const GroupEntry* before = t.lookup(group4(1));
    std::vector<OutletFilter> many;
    for (OutletId i = 0; i < 65; ++i)
        many.push_back({i, &f.any});
    EXPECT_EQ(t.set_group(group4(1), many), errc::invalid); // id 64 has no mask bit
    EXPECT_EQ(t.set_group(src4(9), a), errc::invalid);
    EXPECT_EQ(t.lookup(group4(1)), before);
    EXPECT_EQ(t.lookup(src4(9)), nullptr);
    EXPECT_TRUE(r.items.empty());
    EXPECT_EQ(t.group_count(), 1u);
}

TEST(PortTable, RemoveLeavesATombstoneThatTheSameGroupReuses) {
    FakeReclaimer r;
    PortTable t(r);
    Filters f;
    const OutletFilter a[] = {{1, &f.any}};
    for (uint32_t i = 0; i < 5; ++i)
        ASSERT_EQ(t.set_group(group4(i), a), errc::ok);
    const size_t cap = t.capacity();
    ASSERT_EQ(t.remove_group(group4(2)), errc::ok);
    EXPECT_EQ(t.lookup(group4(2)), nullptr);
    EXPECT_EQ(t.tombstone_count(), 1u);
    EXPECT_EQ(t.group_count(), 4u);
    EXPECT_EQ(r.items.size(), 1u);
    for (uint32_t i : {0u, 1u, 3u, 4u}) {
        EXPECT_NE(t.lookup(group4(i)), nullptr) << i;
    }
    EXPECT_EQ(t.remove_group(group4(2)), errc::addr_not_avail);
    ASSERT_EQ(t.set_group(group4(2), a), errc::ok);
    EXPECT_EQ(t.tombstone_count(), 0u);
    EXPECT_EQ(t.capacity(), cap);
    EXPECT_NE(t.lookup(group4(2)), nullptr);
}

/// Hands out at most budget bytes, then refuses: out of memory on demand.
class BudgetAllocator final : public Allocator {
public:
    explicit BudgetAllocator(size_t budget) : budget_(budget) {}
    void* allocate(size_t bytes, size_t align) noexcept override {
        if (bytes > budget_)
            return nullptr;
        budget_ -= bytes;
        ++live_;
        return heap_allocator().allocate(bytes, align);
    }
    void deallocate(void* p) noexcept override {
        if (p != nullptr)
            --live_;
        heap_allocator().deallocate(p);
    }
    size_t live() const { return live_; }

private:
    size_t budget_;
    size_t live_ = 0;
};

// Out of memory while building an entry or growing the index: no_buffer_space,
// the published state exactly as before, nothing leaked.
TEST(PortTable, OutOfMemoryIsNoBufferSpaceAndChangesNothing) {
    BudgetAllocator alloc(2 * (64 + 16 * 8) + TableMemory::chunk_bytes);
    {
        FakeReclaimer r;
        PortTable t(r, {.initial_groups = 8, .allocator = &alloc});
        Filters f;
        const OutletFilter a[] = {{1, &f.any}};
        uint32_t added = 0;
        errc last = errc::ok;
        for (; added < 1000 && (last = t.set_group(group4(added), a)) == errc::ok; ++added) {
        }
        EXPECT_EQ(last, errc::no_buffer_space); // the index could not grow
        EXPECT_EQ(t.group_count(), added);
        for (uint32_t i = 0; i < added; ++i)
            ASSERT_NE(t.lookup(group4(i)), nullptr) << i;
        EXPECT_EQ(t.lookup(group4(added)), nullptr);
        // A large (hashed) entry needs memory beyond the slab: refused, the old
        // entry stays published.
        const GroupEntry* before = t.lookup(group4(0));
        std::vector<IpAddr> many;
        for (uint32_t i = 0; i < 1000; ++i)
            many.push_back(src4(i + 1));
        const FilterState big{FilterMode::include, SourceSet::from_unsorted(many)};
        const FilterState other{FilterMode::exclude, {src4(5000)}};
        const OutletFilter b[] = {{1, &big}, {2, &other}};
        EXPECT_EQ(t.set_group(group4(0), b), errc::no_buffer_space);
        EXPECT_EQ(t.lookup(group4(0)), before);
        EXPECT_TRUE(r.items.empty());
    }
    EXPECT_EQ(alloc.live(), 0u);
}

// Entries and indexes come from the allocator the options name.
TEST(PortTable, MemoryComesFromTheGivenAllocator) {
    BudgetAllocator alloc(SIZE_MAX);
    {
        FakeReclaimer r;
        PortTable t(r, {.allocator = &alloc});
        EXPECT_EQ(alloc.live(), 2u); // the two indexes
        Filters f;
        const OutletFilter a[] = {{1, &f.inc}};
        ASSERT_EQ(t.set_group(group4(1), a), errc::ok);
        EXPECT_EQ(alloc.live(), 3u); // one slab chunk
        EXPECT_EQ(t.memory_bytes(), 2 * (64 + 32 * 8) + TableMemory::chunk_bytes);
        EXPECT_EQ(t.used_bytes(), 2 * (64 + 32 * 8) + 32u);
    }
    EXPECT_EQ(alloc.live(), 0u);
}

TEST(PortTable, RemovingAnUnknownGroupIsAddrNotAvail) {
    FakeReclaimer r;
    PortTable t(r);
    EXPECT_EQ(t.remove_group(group4(1)), errc::addr_not_avail);
}

TEST(PortTable, GrowthKeepsEveryGroupAndRetiresOldTables) {
    FakeReclaimer r;
    PortTable t(r);
    Filters f;
    for (uint32_t i = 0; i < 10000; ++i) {
        const OutletFilter a[] = {{i % 64, i % 2 && i % 3 ? &f.inc : &f.any}};
        ASSERT_EQ(t.set_group(i % 3 ? group4(i) : group6(i), a), errc::ok);
    }
    EXPECT_EQ(t.group_count(), 10000u);
    EXPECT_GE(t.capacity(), 10000u * 4 / 3);
    EXPECT_GT(t.rebuild_count(), 5u);
    EXPECT_EQ(r.items.size(), t.rebuild_count()); // one old table per rebuild, no entry
    for (uint32_t i = 0; i < 10000; ++i) {
        const IpAddr g = i % 3 ? group4(i) : group6(i);
        const GroupEntry* e = t.lookup(g);
        ASSERT_NE(e, nullptr) << i;
        EXPECT_EQ(e->group(), g);
        EXPECT_EQ(e->outlet(0), i % 64);
    }
    EXPECT_EQ(t.lookup(group4(10001)), nullptr);
}

TEST(PortTable, ChurnOfDistinctGroupsPurgesTombstonesWithoutGrowing) {
    FakeReclaimer r;
    PortTable t(r);
    Filters f;
    const OutletFilter a[] = {{1, &f.any}};
    for (uint32_t i = 0; i < 5000; ++i) {
        ASSERT_EQ(t.set_group(group4(i), a), errc::ok);
        if (i >= 4) {
            ASSERT_EQ(t.remove_group(group4(i - 4)), errc::ok);
        }
        ASSERT_LE(t.group_count() + t.tombstone_count(), t.capacity() * 3 / 4);
    }
    EXPECT_EQ(t.group_count(), 4u);
    EXPECT_LE(t.capacity(), 16u + 32u); // IPv4 down to 16 slots; IPv6 keeps its first 32
    EXPECT_GT(t.rebuild_count(), 10u);
    for (uint32_t i = 4996; i < 5000; ++i) {
        EXPECT_NE(t.lookup(group4(i)), nullptr);
    }
    for (uint32_t i = 0; i < 4996; ++i)
        ASSERT_EQ(t.lookup(group4(i)), nullptr) << i;
    r.free_all();
}

// Random set/remove over v4 and v6 groups, checked against a map of what each
// group should hold (outlet id and filter), including accept masks.
TEST(PortTable, RandomOperationsMatchModel) {
    FakeReclaimer r;
    PortTable t(r);
    SplitMix rng(42);
    std::vector<FilterState> filters; // 0..15 IPv4 sources, 16..31 IPv6
    for (uint32_t i = 0; i < 32; ++i) {
        SourceSet s;
        for (uint32_t j = 0; j < i % 16; ++j)
            s.insert(i < 16 ? src4(j * 5 + i) : src6(j * 5 + i));
        filters.push_back({i % 3 ? FilterMode::include : FilterMode::exclude, s});
    }
    std::map<IpAddr, std::vector<size_t>> model; // group -> filter indices of its outlets
    std::vector<IpAddr> pool;
    for (uint32_t i = 0; i < 600; ++i)
        pool.push_back(i % 2 ? group4(i) : group6(i));
    for (int step = 0; step < 20000; ++step) {
        const IpAddr& g = pool[rng.below(pool.size())];
        if (rng.below(3) == 0) {
            const bool present = model.erase(g) == 1;
            ASSERT_EQ(t.remove_group(g), present ? errc::ok : errc::addr_not_avail);
        } else {
            std::vector<size_t> idx;
            std::vector<OutletFilter> o;
            const size_t n = rng.below(5);
            for (size_t i = 0; i < n; ++i) {
                idx.push_back(rng.below(16) + (g.is_v4() ? 0 : 16));
                o.push_back({OutletId(i), &filters[idx.back()]});
            }
            ASSERT_EQ(t.set_group(g, o), errc::ok);
            model[g] = idx;
        }
        if (step % 64 == 0)
            r.free_all();
        const IpAddr& q = pool[rng.below(pool.size())];
        const GroupEntry* e = t.lookup(q);
        auto it = model.find(q);
        ASSERT_EQ(e != nullptr, it != model.end()) << step;
        if (e != nullptr) {
            size_t members = 0; // INCLUDE {} is no membership
            for (size_t i : it->second)
                members += filters[i].mode == FilterMode::exclude || !filters[i].sources.empty();
            ASSERT_EQ(e->outlet_count(), members);
            const uint32_t x = uint32_t(rng.below(90));
            const IpAddr s = q.is_v4() ? src4(x) : src6(x);
            uint64_t want = 0;
            for (size_t i = 0; i < it->second.size(); ++i)
                if (filters[it->second[i]].accepts(s))
                    want |= uint64_t{1} << i;
            ASSERT_EQ(e->accept(s), want) << step;
        }
    }
    EXPECT_EQ(t.group_count(), model.size());
    size_t visited = 0, entry_bytes = 0;
    t.for_each([&](const GroupEntry& e) {
        ++visited;
        entry_bytes += e.memory_bytes();
        EXPECT_EQ(model.count(e.group()), 1u);
    });
    EXPECT_EQ(visited, model.size());
    r.free_all();
    EXPECT_EQ(t.used_bytes(), entry_bytes + 2 * 64 + t.capacity() * 8);
    EXPECT_GE(t.memory_bytes(), t.used_bytes());
}

// With the real QSBR: an entry replaced while a reader holds it stays intact
// until that reader (and every other online reader) reports a quiescent state.
TEST(PortTable, RetiredEntryIsFreedOnlyAfterEveryOnlineReaderIsQuiescent) {
    Qsbr qsbr(3);
    QsbrReclaimer r(qsbr);
    PortTable t(r, {.initial_groups = 16, .poison_retired = true});
    ASSERT_EQ(qsbr.register_reader(0), errc::ok);
    ASSERT_EQ(qsbr.register_reader(1), errc::ok);
    ASSERT_EQ(qsbr.register_reader(2), errc::ok);
    qsbr.online(0);
    qsbr.online(1); // reader 2 stays offline: it must not hold anything up
    Filters f;
    const OutletFilter a[] = {{1, &f.inc}};
    const OutletFilter b[] = {{2, &f.exc}};
    ASSERT_EQ(t.set_group(group4(1), a), errc::ok);
    const GroupEntry* held = t.lookup(group4(1)); // reader 0's view
    ASSERT_EQ(t.set_group(group4(1), b), errc::ok);
    EXPECT_EQ(r.reclaim(), 0u);
    EXPECT_EQ(r.pending(), 1u);
    EXPECT_EQ(held->outlet(0), 1u);
    EXPECT_EQ(held->group(), group4(1));
    qsbr.quiescent(0);
    EXPECT_EQ(r.reclaim(), 0u) << "reader 1 has not been quiescent yet";
    EXPECT_EQ(held->accept(src4(1)), 0b10u); // outlet 1's bit
    qsbr.quiescent(1);
    EXPECT_EQ(r.reclaim(), 1u);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(t.lookup(group4(1))->outlet(0), 2u);
    qsbr.offline(0);
    qsbr.offline(1);
}

} // namespace
