// mcfwd::table::PortTable — one port's multicast forwarding table: group ->
// const GroupEntry*, read lock-free by the forwarding lcores and written by the
// control lcore.
//
// Structure: per address family an index, an open-addressing hash table (linear
// probing, power-of-two capacity) of 8-byte slots, each one atomic word
//     bits 63..48: tag = 1 (bit 15) | 13 bits of the group's hash | hot lines - 1
//     bits 47..0:  the GroupEntry's address
// 0 is an empty slot and 1 a tombstone (its tag lacks bit 15, so it never
// matches). The key lives in the entry, not in the slot: an index holds eight
// slots a cache line, so the index of 100k groups is 2 MB and mostly stays in
// cache, and a lookup's one expected miss is the entry's first line, which
// holds the key, the accept masks and (uniform layout) the sources
// (group_entry.hpp). The tag lets a probe skip other groups' slots without
// touching their entries and says how many lines to prefetch. The data path
// looks up in three stages over a burst so the misses overlap:
//     h = hash_v4(g); prefetch_v4(h)    the index line
//     p = probe_v4(h)                   the first slot with g's tag; its entry's lines prefetched
//     e = resolve_v4(g, p)              the entry, its key checked (a tag collision probes on)
// IPv4 keys are the 4 bytes as the packet carries them; IPv6 keys 16 bytes.
// Memory (index and entries) comes from the Allocator in PortTableOptions,
// hugepages in the application (table_memory.hpp).
//
// Updates are copy-on-write per group: set_group() builds a new GroupEntry,
// publishes it by one release store of its slot and retires the old entry
// through the Reclaimer. The index is copied only to grow (or to purge
// tombstones): a new index is built, published with one release store of the
// index pointer, and the old one retired (not the entries, which the new index
// shares). A reader therefore sees, per group, either the old or the new entry,
// never a mix, and never waits.
//
// Deletion leaves a tombstone; a later insertion of any group may take it. Why
// that is safe for a concurrent reader: each slot is one atomic word holding a
// complete (tag, entry) pair, entries are immutable, and the slot stays non-empty
// through remove and reuse, so every probe chain stays unbroken; a reader sees
// either state of each slot it reads. (Backward-shift deletion would move live
// groups between slots, and a reader probing concurrently could miss a group
// moved behind it.) When used slots (live + tombstones) would exceed 3/4 of the
// index the writer rebuilds it (growing, or at the same size when tombstones are
// the cause), which bounds probe lengths as for any linear-probing table.
//
// Reader contract (forwarding lcores): lookup() and everything reachable from
// its result stay valid until the reader's next quiescent state (Qsbr::quiescent
// or rte_rcu_qsbr_quiescent); a reader must not hold entry pointers (or a
// Probe) across one. Readers never write shared memory, never lock, allocate or
// make system calls.
// Writer contract (the control lcore): set_group(), remove_group() and the
// introspection functions must be called from one thread at a time; the
// Reclaimer's reclaim() should be called regularly by the same thread.
#pragma once

#include "addr/ip_addr.hpp"
#include "base/errc.hpp"
#include "table/allocator.hpp"
#include "table/group_entry.hpp"
#include "table/reclaimer.hpp"
#include "table/table_memory.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mcfwd::table {

struct PortTableOptions {
    /// Groups (per family) the first index holds without growing.
    size_t initial_groups = 16;
    /// Overwrite retired entries and indexes with garbage before freeing them
    /// (tests: makes a too-early free visible to readers at once).
    bool poison_retired = false;
    /// Where the index and entries live; null: the process heap. Must outlive
    /// the table and everything it retired.
    Allocator* allocator = nullptr;
};

class alignas(64) PortTable {
    struct Index;

public:
    /// A candidate slot found by probe_v4/probe_v6, for resolve_v4/resolve_v6.
    struct Probe {
        const Index* index;
        size_t pos;
        uint64_t slot; // 0: the group is absent
    };

    /// Retired memory goes to reclaimer, which must outlive the last retire().
    explicit PortTable(Reclaimer& reclaimer, PortTableOptions options = {});
    /// Frees the current indexes and entries directly. Precondition: no reader
    /// can access this table any more (readers stopped, or a grace period passed
    /// since the table became unreachable to them).
    ~PortTable();
    PortTable(const PortTable&) = delete;
    PortTable& operator=(const PortTable&) = delete;

    /// Writer: makes outlets the group's outlets, replacing any previous entry
    /// as a whole. Errors (the table is then unchanged): errc::invalid (group not
    /// multicast, outlet id repeated or >= max_outlets, null filter, multicast
    /// source or one of the other family), errc::no_buffer_space (out of memory).
    errc set_group(const IpAddr& group, std::span<const OutletFilter> outlets) noexcept;
    /// Writer: removes the group. errc::addr_not_avail if it has no entry.
    errc remove_group(const IpAddr& group) noexcept;

    // --- Reader hot path (see the reader contract above) ---

    /// The index hash of an IPv4 group as the packet carries it (network order,
    /// loaded as a uint32).
    static uint64_t hash_v4(uint32_t group) noexcept {
        uint64_t h = (uint64_t{group} + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        h *= 0x94d049bb133111ebULL;
        return h ^ (h >> 29);
    }
    /// The index hash of an IPv6 group (16 bytes, network order).
    static uint64_t hash_v6(const uint8_t* group) noexcept {
        uint64_t hi, lo;
        std::memcpy(&hi, group, 8);
        std::memcpy(&lo, group + 8, 8);
        return detail::hash(hi, lo);
    }
    /// Stage 1: starts loading the index line where the lookup of hash h begins.
    void prefetch_v4(uint64_t h) const noexcept { prefetch(v4_, h); }
    void prefetch_v6(uint64_t h) const noexcept { prefetch(v6_, h); }
    /// Stage 2: the first slot carrying h's tag (or the end of the chain) and a
    /// prefetch of its entry's hot lines. Touches the index only.
    Probe probe_v4(uint64_t h) const noexcept { return probe(v4_, h); }
    Probe probe_v6(uint64_t h) const noexcept { return probe(v6_, h); }
    /// Stage 3: group's entry or null; p must come from probe_v4(hash_v4(group)).
    const GroupEntry* resolve_v4(uint32_t group, Probe p) const noexcept {
        for (;;) {
            if (p.slot == 0)
                return nullptr;
            const GroupEntry* e = entry_of(p.slot);
            if (__builtin_expect(e->key_v4() == group, 1))
                return e;
            p = next(p, hash_v4(group)); // a tag collision: rare
        }
    }
    const GroupEntry* resolve_v6(const uint8_t* group, Probe p) const noexcept {
        for (;;) {
            if (p.slot == 0)
                return nullptr;
            const GroupEntry* e = entry_of(p.slot);
            if (__builtin_expect(e->is_group_v6(group), 1))
                return e;
            p = next(p, hash_v6(group));
        }
    }
    const GroupEntry* lookup_v4(uint32_t group) const noexcept {
        return resolve_v4(group, probe_v4(hash_v4(group)));
    }
    const GroupEntry* lookup_v6(const uint8_t* group) const noexcept {
        return resolve_v6(group, probe_v6(hash_v6(group)));
    }
    /// Reader: the group's entry, or nullptr. Lock-free, wait-free: O(1) probes
    /// expected, no writes to shared memory.
    const GroupEntry* lookup(const IpAddr& group) const noexcept {
        if (group.is_v4()) {
            uint32_t g;
            std::memcpy(&g, group.v4_bytes(), 4);
            return lookup_v4(g);
        }
        return lookup_v6(group.bytes().data());
    }

    /// Writer-side introspection (same thread as the writer).
    size_t group_count() const noexcept { return w4_.live + w6_.live; }
    size_t tombstone_count() const noexcept { return w4_.used - w4_.live + w6_.used - w6_.live; }
    /// Slots of both indexes.
    size_t capacity() const noexcept { return w4_.index->mask + 1 + w6_.index->mask + 1; }
    /// Index rebuilds (growth or tombstone purge) so far.
    uint64_t rebuild_count() const noexcept { return rebuilds_; }
    /// Bytes this table holds from its Allocator: both indexes, every live entry
    /// and the slab chunks' unused room (table_memory.hpp).
    size_t memory_bytes() const noexcept { return memory_->reserved_bytes(); }
    /// Bytes of the indexes and the live entries alone (rounded object sizes).
    size_t used_bytes() const noexcept { return memory_->used_bytes(); }
    /// Calls f(const GroupEntry&) for every live group. Writer thread only.
    template <class F>
    void for_each(F&& f) const {
        for (const Writer* w : {&w4_, &w6_})
            for (size_t i = 0; i <= w->index->mask; ++i)
                if (const uint64_t v = w->index->slots()[i].load(std::memory_order_relaxed);
                    is_entry(v))
                    f(*entry_of(v));
    }

private:
    struct alignas(64) Index {
        uint64_t mask; // capacity - 1; immutable
        std::atomic<uint64_t>* slots() noexcept {
            return reinterpret_cast<std::atomic<uint64_t>*>(this + 1);
        }
        const std::atomic<uint64_t>* slots() const noexcept {
            return reinterpret_cast<const std::atomic<uint64_t>*>(this + 1);
        }
        static size_t bytes(size_t capacity) noexcept {
            return sizeof(Index) + capacity * sizeof(uint64_t);
        }
    };
    /// The writer's view of one family's index.
    struct Writer {
        Index* index = nullptr;
        size_t used = 0; // slots with an entry or a tombstone
        size_t live = 0;
    };

    static constexpr uint64_t tombstone = 1;
    static constexpr uint64_t address_mask = (uint64_t{1} << 48) - 1;

    static uint64_t tag_of(uint64_t h) noexcept {
        return (uint64_t{0x8000} | ((h >> 40) & 0x1fff) << 2) << 48;
    }
    static constexpr uint64_t tag_match_mask = uint64_t{0xfffc} << 48;
    static bool is_entry(uint64_t v) noexcept { return v > tombstone; }
    static const GroupEntry* entry_of(uint64_t v) noexcept {
        return reinterpret_cast<const GroupEntry*>(v & address_mask);
    }
    static unsigned lines_of(uint64_t v) noexcept { return unsigned(v >> 48 & 3) + 1; }

    static void prefetch(const std::atomic<const Index*>& idx, uint64_t h) noexcept {
        const Index* t = idx.load(std::memory_order_acquire);
        __builtin_prefetch(&t->slots()[h & t->mask]);
    }
    static Probe probe(const std::atomic<const Index*>& idx, uint64_t h) noexcept {
        const Index* t = idx.load(std::memory_order_acquire);
        return scan(t, h & t->mask, h);
    }
    static Probe next(const Probe& p, uint64_t h) noexcept {
        return scan(p.index, (p.pos + 1) & p.index->mask, h);
    }
    static Probe scan(const Index* t, size_t i, uint64_t h) noexcept {
        const uint64_t tag = tag_of(h);
        const std::atomic<uint64_t>* s = t->slots();
        for (;; i = (i + 1) & t->mask) {
            // Acquire: the entry's contents are visible once its address is.
            const uint64_t v = s[i].load(std::memory_order_acquire);
            if (v == 0)
                return Probe{t, i, 0};
            if ((v & tag_match_mask) == tag) {
                const char* e = reinterpret_cast<const char*>(entry_of(v));
                __builtin_prefetch(e);
                for (unsigned l = 1; l < lines_of(v); ++l)
                    __builtin_prefetch(e + 64 * l);
                return Probe{t, i, v};
            }
        }
    }

    Writer& writer_for(const IpAddr& group) noexcept { return group.is_v4() ? w4_ : w6_; }
    std::atomic<const Index*>& published(const Writer& w) noexcept {
        return &w == &w4_ ? v4_ : v6_;
    }
    static uint64_t hash_of(const IpAddr& group) noexcept;
    Index* create_index(size_t capacity) noexcept;
    /// The slot holding group's entry, else the first tombstone or empty slot of
    /// its chain (where an insertion goes); found says which.
    std::atomic<uint64_t>& find_slot(Index* t, const IpAddr& group, bool& found) noexcept;
    /// Builds an index for at least min_groups live groups and publishes it.
    errc rebuild(Writer& w, size_t min_groups) noexcept;
    void retire_entry(const GroupEntry* e) noexcept;
    static void free_entry(void* memory, void* entry) noexcept;
    static void free_index(void* memory, void* index) noexcept;

    // Read by every reader: alone on their cache line.
    std::atomic<const Index*> v4_;
    std::atomic<const Index*> v6_;

    // Writer state, on the next cache line.
    alignas(64) Writer w4_;
    Writer w6_;
    Reclaimer* reclaimer_;
    TableMemory* memory_; // owned; orphaned (not deleted) by the destructor
    uint64_t rebuilds_ = 0;
};

} // namespace mcfwd::table
