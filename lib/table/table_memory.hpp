// mcfwd::table::TableMemory — the memory of one PortTable: its index arrays and
// its group entries, carved from an Allocator (table/allocator.hpp).
//
// Why a slab: most entries are one cache line or half of one (a group joined
// any-source, or INCLUDE a few IPv4 sources: 32 or 64 bytes). A general-purpose
// allocator spends a header of its own on each (rte_malloc: a 64-byte element
// header), doubling or tripling the memory per (S,G) and spreading the entries
// over more pages. So objects of 32 and 64 bytes come from 64 KiB chunks, one
// free list per size, 32 and 64 bytes aligned so an object never straddles two
// cache lines; larger objects come from the Allocator itself, cache-line aligned.
// Chunks go back to the Allocator only when the TableMemory goes: the tables
// churn, and a chunk freed and taken again costs more than it saves.
//
// Lifetime: a PortTable owns one; objects retired to the Reclaimer refer to it
// (the free callbacks take it as context), so when the table is destroyed with
// objects still waiting for their grace period, the TableMemory stays alive
// until the last of them is freed (orphan()).
//
// Thread-safety: writer thread only (the control lcore), like the Allocator.
#pragma once

#include "table/allocator.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mcfwd::table {

class TableMemory {
public:
    /// Bytes of one slab chunk.
    static constexpr size_t chunk_bytes = 64 * 1024;

    TableMemory(Allocator& allocator, bool poison) noexcept
        : allocator_(&allocator), poison_(poison) {}
    ~TableMemory();
    TableMemory(const TableMemory&) = delete;
    TableMemory& operator=(const TableMemory&) = delete;

    /// The size an object of bytes occupies: 32, 64, or a multiple of 64.
    static size_t rounded(size_t bytes) noexcept {
        return bytes <= 32 ? 32 : (bytes + 63) & ~size_t{63};
    }
    /// rounded(bytes) bytes, aligned to 32 (to 64 when rounded(bytes) >= 64), or null.
    void* allocate(size_t bytes) noexcept;
    /// Frees an object of bytes (the size given to allocate()); poisons it first
    /// (0xdb) when the table asked for poisoning, so a reader that touches it
    /// after a too-early free sees garbage.
    void free(void* p, size_t bytes) noexcept;

    /// One more object retired and not yet freed through retired_free().
    void retain() noexcept { ++retired_; }
    /// Frees a retired object and, when the owner has gone and it was the last
    /// one, the TableMemory itself.
    void retired_free(void* p, size_t bytes) noexcept;
    /// The owner is gone: delete this now if nothing is retired, else when the
    /// last retired object is freed. The caller must not use this afterwards.
    void orphan() noexcept;

    /// Bytes taken from the Allocator (chunks and large objects).
    size_t reserved_bytes() const noexcept { return reserved_; }
    /// Bytes of live objects (rounded sizes).
    size_t used_bytes() const noexcept { return used_; }

private:
    struct FreeObject {
        FreeObject* next;
    };
    struct Slab {
        size_t size;
        FreeObject* free = nullptr;
        char* bump = nullptr; // the rest of the newest chunk
        char* end = nullptr;
    };
    void* slab_allocate(Slab& s) noexcept;

    Allocator* allocator_;
    bool poison_;
    bool orphaned_ = false;
    size_t retired_ = 0;
    size_t reserved_ = 0;
    size_t used_ = 0;
    Slab small_{32};
    Slab line_{64};
    std::vector<void*> chunks_;
};

} // namespace mcfwd::table
