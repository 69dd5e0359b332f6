// The forwarding tables' memory through ethdev::RteAllocator: entries and
// indexes live in DPDK's memory (hugepages when EAL has them: run through
// tests/eal/hugepages.sh, which reserves them; --no-huge otherwise), aligned,
// counted, and all given back when the table goes, including what waited in the
// RCU defer queue.
#include "eal_env.hpp"
#include "ethdev/rcu.hpp"
#include "ethdev/rte_allocator.hpp"
#include "table/port_table.hpp"

#include <rte_memory.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::ethdev;
using namespace mcfwd::table;

bool hugepages_expected() {
    const char* h = std::getenv("MCFWD_TEST_HUGEPAGES");
    return h != nullptr && std::string(h) == "1";
}

TEST(RteAllocator, GivesAlignedDpdkMemoryAndCountsIt) {
    mcfwd::testing::EalEnvironment::require();
    RteAllocator a(SOCKET_ID_ANY);
    void* p = a.allocate(1000, 64);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    EXPECT_TRUE(RteAllocator::is_dpdk_memory(p));
    EXPECT_GE(a.bytes_in_use(), 1000u);
    void* q = a.allocate(TableMemory::chunk_bytes, 64);
    ASSERT_NE(q, nullptr);
    a.deallocate(p);
    a.deallocate(q);
    a.deallocate(nullptr);
    EXPECT_EQ(a.bytes_in_use(), 0u);
    // Far more than EAL has: refused and counted, never a crash.
    EXPECT_EQ(a.allocate(size_t{1} << 40, 64), nullptr);
    EXPECT_EQ(a.failures(), 1u);
    int on_heap = 0;
    EXPECT_FALSE(RteAllocator::is_dpdk_memory(&on_heap));
}

TEST(RteAllocator, PagesAreHugeExactlyWhenEalHasHugepages) {
    mcfwd::testing::EalEnvironment::require();
    RteAllocator a(SOCKET_ID_ANY);
    void* p = a.allocate(4096, 64);
    ASSERT_NE(p, nullptr);
    const uint64_t page = RteAllocator::page_size(p);
    if (hugepages_expected())
        EXPECT_GE(page, uint64_t{2} << 20) << "table memory is not on hugepages";
    else
        EXPECT_EQ(page, uint64_t(sysconf(_SC_PAGESIZE)));
    a.deallocate(p);
}

// A table of 20k groups (inline and hashed entries, both families) churned with
// the real RCU defer queue: every entry and index it publishes is DPDK memory,
// lookups agree with what was set, and when the table and the reclaimer are
// gone every byte is back with the allocator.
TEST(RteAllocator, PortTableLivesInDpdkMemoryAndGivesEverythingBack) {
    mcfwd::testing::EalEnvironment::require();
    RteAllocator alloc(SOCKET_ID_ANY);
    {
        auto q = DpdkQsbr::create(1);
        ASSERT_TRUE(q);
        DpdkReclaimer rec(**q, 4096);
        PortTable table(rec, {.initial_groups = 16, .poison_retired = true, .allocator = &alloc});
        const filter::FilterState any = filter::FilterState::any_source();
        std::vector<IpAddr> many;
        for (uint32_t s = 0; s < 40; ++s)
            many.push_back(IpAddr::v4(0x0a000000u + s + 1));
        const filter::FilterState inc{filter::FilterMode::include,
                                      filter::SourceSet::from_unsorted(many)};
        auto group = [](uint32_t i) {
            if (i % 4 != 3)
                return IpAddr::v4(0xe8000000u + i);
            uint8_t b[16] = {0xff, 0x3e};
            b[12] = uint8_t(i >> 24), b[13] = uint8_t(i >> 16), b[14] = uint8_t(i >> 8);
            b[15] = uint8_t(i);
            return IpAddr::from_v6_bytes(b);
        };
        for (uint32_t round = 0; round < 3; ++round) {
            for (uint32_t i = 0; i < 20000; ++i) {
                const bool big = i % 7 == 0 && group(i).is_v4();
                const OutletFilter o[] = {{OutletId((i + round) % 64), big ? &inc : &any}};
                ASSERT_EQ(table.set_group(group(i), o), errc::ok) << i;
            }
            for (uint32_t i = round; i < 20000; i += 5)
                ASSERT_EQ(table.remove_group(group(i)), errc::ok);
            rec.reclaim();
        }
        size_t live = 0;
        table.for_each([&](const GroupEntry& e) {
            ++live;
            EXPECT_TRUE(RteAllocator::is_dpdk_memory(&e));
            EXPECT_EQ(reinterpret_cast<uintptr_t>(&e) % 32, 0u);
        });
        EXPECT_EQ(live, table.group_count());
        for (uint32_t i = 0; i < 20000; ++i) {
            const bool removed = i % 5 == 2; // the last round's removals
            const GroupEntry* e = table.lookup(group(i));
            ASSERT_EQ(e == nullptr, removed) << i;
            if (e != nullptr) {
                EXPECT_EQ(e->outlet(0), OutletId((i + 2) % 64));
            }
        }
        EXPECT_GT(alloc.bytes_in_use(), table.used_bytes() / 2);
        EXPECT_GE(table.memory_bytes(), table.used_bytes());
    }
    // The table went first (its memory orphaned), then the reclaimer freed the rest.
    EXPECT_EQ(alloc.bytes_in_use(), 0u);
    EXPECT_EQ(alloc.failures(), 0u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({}));
    return RUN_ALL_TESTS();
}
