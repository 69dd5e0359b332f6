// TableMemory: the slab behind a PortTable's entries — size classes and
// alignment, reuse of freed objects, what is counted, and the lifetime rule
// (an orphaned memory lives until its last retired object is freed).
#include "table/table_memory.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace {

using namespace mcfwd::table;

/// Counts what it hands out, on the heap.
class CountingAllocator final : public Allocator {
public:
    void* allocate(size_t bytes, size_t align) noexcept override {
        ++live;
        return heap_allocator().allocate(bytes, align);
    }
    void deallocate(void* p) noexcept override {
        if (p != nullptr)
            --live;
        heap_allocator().deallocate(p);
    }
    int live = 0;
};

TEST(TableMemory, SizesRoundTo32And64AndLinesAndNeverStraddleALine) {
    EXPECT_EQ(TableMemory::rounded(1), 32u);
    EXPECT_EQ(TableMemory::rounded(32), 32u);
    EXPECT_EQ(TableMemory::rounded(33), 64u);
    EXPECT_EQ(TableMemory::rounded(65), 128u);
    CountingAllocator a;
    TableMemory m(a, false);
    std::vector<void*> small, line;
    for (int i = 0; i < 5000; ++i) { // several chunks' worth
        small.push_back(m.allocate(28));
        line.push_back(m.allocate(60));
        ASSERT_NE(small.back(), nullptr);
        ASSERT_NE(line.back(), nullptr);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(small.back()) % 32, 0u);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(line.back()) % 64, 0u);
    }
    EXPECT_EQ(m.used_bytes(), 5000u * (32 + 64));
    EXPECT_EQ(m.reserved_bytes() % TableMemory::chunk_bytes, 0u);
    EXPECT_LE(m.reserved_bytes(), (5000u * 96 / TableMemory::chunk_bytes + 2) * TableMemory::chunk_bytes);
    std::set<void*> distinct(small.begin(), small.end());
    distinct.insert(line.begin(), line.end());
    EXPECT_EQ(distinct.size(), 10000u);
    void* big = m.allocate(1000);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % 64, 0u);
    const int chunks_and_big = a.live;
    m.free(big, 1000);
    EXPECT_EQ(a.live, chunks_and_big - 1); // a large object goes back at once
    for (void* p : small)
        m.free(p, 28);
    for (void* p : line)
        m.free(p, 60);
    EXPECT_EQ(m.used_bytes(), 0u);
}

TEST(TableMemory, FreedObjectsAreReusedBeforeNewChunks) {
    CountingAllocator a;
    TableMemory m(a, true); // poisoning on: the freed bytes read 0xdb
    void* p = m.allocate(32);
    const size_t reserved = m.reserved_bytes();
    m.free(p, 32);
    void* q = m.allocate(20);
    EXPECT_EQ(q, p);
    EXPECT_EQ(m.reserved_bytes(), reserved);
    m.free(q, 20);
}

TEST(TableMemory, AnOrphanLivesUntilItsLastRetiredObjectIsFreed) {
    CountingAllocator a;
    auto* m = new TableMemory(a, false);
    void* p = m->allocate(32);
    void* big = m->allocate(4096);
    m->retain();
    m->retain();
    m->orphan(); // the table is gone; two objects still wait for a grace period
    EXPECT_GT(a.live, 0);
    m->retired_free(p, 32);
    EXPECT_GT(a.live, 0);
    m->retired_free(big, 4096); // the last one: the memory and its chunks go
    EXPECT_EQ(a.live, 0);
}

#ifdef TEST_ASAN
// Only in AddressSanitizer builds (build-san): a freed slab object is poisoned
// until it is handed out again, so a read after a too-early free is reported.
TEST(TableMemory, FreedSlabObjectsArePoisonedForAddressSanitizer) {
    TableMemory m(heap_allocator(), false);
    void* p = m.allocate(32);
    EXPECT_FALSE(__asan_address_is_poisoned(p));
    m.free(p, 32);
    EXPECT_TRUE(__asan_address_is_poisoned(p));
    EXPECT_TRUE(__asan_address_is_poisoned(static_cast<char*>(p) + 31));
    EXPECT_EQ(m.allocate(32), p);
    EXPECT_FALSE(__asan_address_is_poisoned(static_cast<char*>(p) + 31));
    m.free(p, 32);
}
#endif

} // namespace
