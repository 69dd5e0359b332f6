// mcfwd::ethdev::RteAllocator — table::Allocator over DPDK's heap: the forwarding
// tables live where DPDK keeps its own memory (hugepages unless EAL runs with
// --no-huge), on the NUMA socket of the lcores that read them.
//
// Each call is one rte_malloc_socket / rte_free. The tables ask for large blocks
// only (index arrays, 64 KiB slab chunks, large entries: table/table_memory.hpp),
// so rte_malloc's per-element header is a small overhead and its lock is taken
// on the control lcore only, never on a forwarding lcore.
//
// Thread-safety: rte_malloc is thread-safe; the counters are the writer's (the
// control lcore's) and read by telemetry without synchronisation (64-bit loads).
#pragma once

#include "table/allocator.hpp"

#include <cstddef>
#include <cstdint>

namespace mcfwd::ethdev {

class RteAllocator final : public table::Allocator {
public:
    /// socket: a NUMA socket id, or -1 (SOCKET_ID_ANY) for any.
    explicit RteAllocator(int socket) noexcept : socket_(socket) {}

    void* allocate(size_t bytes, size_t align) noexcept override;
    void deallocate(void* p) noexcept override;

    int socket() const noexcept { return socket_; }
    /// Bytes allocated and not yet freed (usable sizes; rte_malloc adds its headers).
    uint64_t bytes_in_use() const noexcept { return in_use_; }
    /// Allocations refused (out of DPDK memory).
    uint64_t failures() const noexcept { return failures_; }
    /// true if p lies in memory EAL manages (rte_mem_virt2memseg_list).
    static bool is_dpdk_memory(const void* p) noexcept;
    /// The page size of the memory at p (2 MiB or 1 GiB on hugepages, 4 KiB
    /// under --no-huge), or 0 if p is not DPDK memory.
    static uint64_t page_size(const void* p) noexcept;

private:
    int socket_;
    uint64_t in_use_ = 0;
    uint64_t failures_ = 0;
};

} // namespace mcfwd::ethdev
