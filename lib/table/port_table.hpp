// mcfwd::table::PortTable — one port's multicast forwarding table: group ->
// const GroupEntry*, read lock-free by the forwarding lcores and written by the
// control lcore.
//
// Structure: an open-addressing hash table (linear probing, power-of-two
// capacity) of 24-byte slots {group (16 bytes), entry pointer}, in one
// cache-line-aligned allocation that a single atomic pointer publishes.
//
// Updates are copy-on-write per group: set_group() builds a new GroupEntry,
// publishes its pointer in the group's slot with a release store and retires the
// old entry through the Reclaimer. The slot table itself is copied only to grow
// (or to purge tombstones): a new table is built, published with one release
// store of the table pointer, and the old table retired (not the entries, which
// the new table shares). A reader therefore sees, per group, either the old or
// the new entry, never a mix, and never waits.
//
// Deletion leaves a tombstone: the slot keeps its group and its pointer becomes
// null. Why not backward-shift deletion: it moves live groups between slots, and
// a reader probing concurrently could miss a group that is being moved behind
// it, i.e. report a present group as absent. Tombstones never move a key, so
// every probe chain stays valid while readers walk it. A tombstone is reused if
// the same group comes back (the common churn: leave then join again); a new
// group only ever fills an empty slot, and a key, once written into a slot,
// never changes for that table's lifetime. When groups plus tombstones would
// exceed 3/4 of the slots the writer rebuilds the table (growing, or at the same
// size when tombstones are the cause), which bounds probe lengths as for any
// linear-probing table at load 0.75.
//
// Why the per-slot fields are atomics: a new group is written into an empty slot
// while readers may probe that slot. Readers load the entry pointer (acquire)
// before the key; the writer stores the key before the pointer (release). A
// non-null pointer therefore comes with a complete key. A half-written key may
// be read alongside a null pointer: it is then either taken for a tombstone
// (the probe goes on) or, in the worst case, matches the wanted group with a
// null pointer; either way the answer "absent" is right, because an empty slot
// being filled lies beyond the end of every existing probe chain. On x86 and
// ARMv8 these relaxed/acquire loads are plain loads.
//
// Reader contract (forwarding lcores): lookup() and everything reachable from
// its result stay valid until the reader's next quiescent state (Qsbr::quiescent
// or rte_rcu_qsbr_quiescent); a reader must not hold entry pointers across one.
// Readers never write shared memory, never lock, allocate or make system calls.
// Writer contract (the control lcore): set_group(), remove_group() and the
// introspection functions must be called from one thread at a time; the
// Reclaimer's reclaim() should be called regularly by the same thread.
#pragma once

#include "addr/ip_addr.hpp"
#include "base/errc.hpp"
#include "table/group_entry.hpp"
#include "table/reclaimer.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mcfwd::table {

struct PortTableOptions {
    /// Groups the first table holds without growing.
    size_t initial_groups = 16;
    /// Overwrite retired entries and tables with garbage before freeing them
    /// (tests: makes a too-early free visible to readers at once).
    bool poison_retired = false;
};

class alignas(64) PortTable {
public:
    /// Retired memory goes to reclaimer, which must outlive the last retire().
    explicit PortTable(Reclaimer& reclaimer, PortTableOptions options = {});
    /// Frees the current table and entries directly. Precondition: no reader
    /// can access this table any more (readers stopped, or a grace period passed
    /// since the table became unreachable to them).
    ~PortTable();
    PortTable(const PortTable&) = delete;
    PortTable& operator=(const PortTable&) = delete;

    /// Writer: makes outlets the group's outlets (bit i = outlets[i]), replacing
    /// any previous entry as a whole. Errors (the table is then unchanged):
    /// errc::invalid (group not multicast, outlet id repeated, null filter,
    /// multicast source), errc::no_buffer_space (more than max_outlets outlets,
    /// out of memory).
    errc set_group(const IpAddr& group, std::span<const OutletFilter> outlets) noexcept;
    /// Writer: removes the group. errc::addr_not_avail if it has no entry.
    errc remove_group(const IpAddr& group) noexcept;

    /// Reader: the group's entry, or nullptr. Lock-free, wait-free: O(1) probes
    /// expected, no writes to shared memory. See the reader contract above.
    const GroupEntry* lookup(const IpAddr& group) const noexcept {
        const Table* t = table_.load(std::memory_order_acquire);
        uint64_t hi, lo;
        detail::split(group, hi, lo);
        const Slot* s = t->slots();
        for (size_t i = detail::hash(hi, lo) & t->mask;; i = (i + 1) & t->mask) {
            const GroupEntry* e = s[i].entry.load(std::memory_order_acquire);
            const uint64_t khi = s[i].hi.load(std::memory_order_relaxed);
            const uint64_t klo = s[i].lo.load(std::memory_order_relaxed);
            if (khi == hi && klo == lo)
                return e;
            if ((khi | klo) == 0)
                return nullptr;
        }
    }

    /// Reader: starts loading the cache line where lookup(group) begins, so a
    /// burst can overlap its table misses (prefetch all, then look up all). A
    /// hint only: no effect on results; safe under the same contract as lookup().
    void prefetch(const IpAddr& group) const noexcept {
        const Table* t = table_.load(std::memory_order_acquire);
        uint64_t hi, lo;
        detail::split(group, hi, lo);
        __builtin_prefetch(&t->slots()[detail::hash(hi, lo) & t->mask]);
    }

    /// Writer-side introspection (same thread as the writer).
    size_t group_count() const noexcept { return live_; }
    size_t tombstone_count() const noexcept { return used_ - live_; }
    size_t capacity() const noexcept { return wtable_->mask + 1; }
    /// Rebuilds (growth or tombstone purge) so far.
    uint64_t rebuild_count() const noexcept { return rebuilds_; }
    /// Bytes of the slot table plus every live entry.
    size_t memory_bytes() const noexcept;
    /// Calls f(const GroupEntry&) for every live group. Writer thread only.
    template <class F>
    void for_each(F&& f) const {
        for (size_t i = 0; i <= wtable_->mask; ++i)
            if (const GroupEntry* e = wtable_->slots()[i].entry.load(std::memory_order_relaxed))
                f(*e);
    }

private:
    struct Slot {
        std::atomic<const GroupEntry*> entry; // null: empty (key ::) or tombstone
        std::atomic<uint64_t> hi;             // group, 0/0 (::, never a group) when empty
        std::atomic<uint64_t> lo;
    };
    struct alignas(64) Table {
        uint64_t mask; // capacity - 1; immutable
        Slot* slots() noexcept { return reinterpret_cast<Slot*>(this + 1); }
        const Slot* slots() const noexcept { return reinterpret_cast<const Slot*>(this + 1); }
        static Table* create(size_t capacity) noexcept;
        static void destroy(void* t) noexcept;
        static void destroy_poisoned(void* t) noexcept;
        static size_t bytes(size_t capacity) noexcept {
            return sizeof(Table) + capacity * sizeof(Slot);
        }
    };

    /// The slot holding group, or the empty slot where it would go.
    Slot& find_slot(Table* t, uint64_t hi, uint64_t lo) noexcept;
    /// Builds a table for at least min_groups live groups and publishes it.
    errc rebuild(size_t min_groups) noexcept;
    void retire_entry(const GroupEntry* e) noexcept;

    // Read by every reader: alone on its cache line.
    std::atomic<const Table*> table_;

    // Writer state, on the next cache line.
    alignas(64) Table* wtable_;
    Reclaimer* reclaimer_;
    Reclaimer::FreeFn free_entry_;
    Reclaimer::FreeFn free_table_;
    size_t used_ = 0; // slots with a key (live + tombstones)
    size_t live_ = 0;
    size_t entry_bytes_ = 0;
    uint64_t rebuilds_ = 0;
};

} // namespace mcfwd::table
