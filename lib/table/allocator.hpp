// mcfwd::table::Allocator — where the forwarding tables' memory comes from.
//
// The tables are read at random by the forwarding lcores, one or two cache lines
// per packet spread over tens or hundreds of MB: on 4 KiB pages nearly every
// lookup also walks the page tables (docs/PERFORMANCE.md, issue 11's profile).
// DPDK keeps its own memory on hugepages, NUMA-local to the lcores that use it;
// lib/ includes no DPDK, so the tables take this interface and drivers/
// implements it with rte_malloc_socket (drivers/ethdev/rte_allocator.hpp). The
// process heap (heap_allocator()) serves unit tests and builds without DPDK.
//
// Contract: allocate() returns memory aligned to align (a power of two, at most
// 64: a cache line) or null; it is called on the writer's thread only (the control lcore),
// and so is deallocate(), including from a Reclaimer's free callback (which runs
// on the writer's thread by the Reclaimer contract). Implementations need not be
// thread-safe.
#pragma once

#include <cstddef>

namespace mcfwd::table {

class Allocator {
public:
    virtual ~Allocator() = default;
    /// bytes (> 0) aligned to align, or null when memory runs out. Writer thread.
    virtual void* allocate(size_t bytes, size_t align) noexcept = 0;
    /// Frees what allocate() returned (null is ignored). Writer thread.
    virtual void deallocate(void* p) noexcept = 0;
};

/// The process heap (aligned operator new); a process-wide instance, stateless.
Allocator& heap_allocator() noexcept;

} // namespace mcfwd::table
