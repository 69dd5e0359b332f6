#include "table/port_table.hpp"

#include <bit>
#include <cstring>
#include <new>

namespace mcfwd::table {

namespace {

constexpr size_t min_capacity = 16;

/// The smallest power-of-two capacity that holds groups at load <= 1/2, so a
/// fresh index has room for as many new groups again before the next rebuild.
size_t capacity_for(size_t groups) {
    return std::max(min_capacity, std::bit_ceil(groups * 2));
}

} // namespace

uint64_t PortTable::hash_of(const IpAddr& group) noexcept {
    if (group.is_v4()) {
        uint32_t g;
        std::memcpy(&g, group.v4_bytes(), 4);
        return hash_v4(g);
    }
    return hash_v6(group.bytes().data());
}

PortTable::Index* PortTable::create_index(size_t capacity) noexcept {
    void* mem = memory_->allocate(Index::bytes(capacity));
    if (mem == nullptr)
        return nullptr;
    auto* t = new (mem) Index{capacity - 1};
    std::atomic<uint64_t>* s = t->slots();
    for (size_t i = 0; i < capacity; ++i)
        new (&s[i]) std::atomic<uint64_t>(0);
    return t;
}

void PortTable::free_entry(void* memory, void* entry) noexcept {
    static_cast<TableMemory*>(memory)->retired_free(
        entry, static_cast<const GroupEntry*>(entry)->memory_bytes());
}

void PortTable::free_index(void* memory, void* index) noexcept {
    static_cast<TableMemory*>(memory)->retired_free(
        index, Index::bytes(static_cast<const Index*>(index)->mask + 1));
}

PortTable::PortTable(Reclaimer& reclaimer, PortTableOptions options)
    : reclaimer_(&reclaimer),
      memory_(new TableMemory(options.allocator ? *options.allocator : heap_allocator(),
                              options.poison_retired)) {
    for (Writer* w : {&w4_, &w6_}) {
        w->index = create_index(capacity_for(options.initial_groups));
        if (w->index == nullptr) {
            // Construction happens at start-up, not on an lcore.
            memory_->orphan();
            throw std::bad_alloc();
        }
        published(*w).store(w->index, std::memory_order_release);
    }
}

PortTable::~PortTable() {
    for (Writer* w : {&w4_, &w6_}) {
        for (size_t i = 0; i <= w->index->mask; ++i)
            if (const uint64_t v = w->index->slots()[i].load(std::memory_order_relaxed);
                is_entry(v))
                memory_->free(const_cast<GroupEntry*>(entry_of(v)), entry_of(v)->memory_bytes());
        memory_->free(w->index, Index::bytes(w->index->mask + 1));
    }
    memory_->orphan(); // freed now, or when the last retired object is
}

std::atomic<uint64_t>& PortTable::find_slot(Index* t, const IpAddr& group, bool& found) noexcept {
    std::atomic<uint64_t>* s = t->slots();
    std::atomic<uint64_t>* free_slot = nullptr;
    const uint64_t h = hash_of(group);
    const uint64_t tag = tag_of(h);
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const uint64_t v = s[i].load(std::memory_order_relaxed);
        if (v == 0) {
            found = false;
            return free_slot ? *free_slot : s[i];
        }
        if (v == tombstone) {
            if (free_slot == nullptr)
                free_slot = &s[i];
        } else if ((v & tag_match_mask) == tag && entry_of(v)->group() == group) {
            found = true;
            return s[i];
        }
    }
}

void PortTable::retire_entry(const GroupEntry* e) noexcept {
    memory_->retain();
    reclaimer_->retire(const_cast<GroupEntry*>(e), &PortTable::free_entry, memory_);
}

errc PortTable::rebuild(Writer& w, size_t min_groups) noexcept {
    Index* t = create_index(capacity_for(min_groups));
    if (t == nullptr)
        return errc::no_buffer_space;
    size_t moved = 0;
    for (size_t i = 0; i <= w.index->mask; ++i) {
        const uint64_t v = w.index->slots()[i].load(std::memory_order_relaxed);
        if (!is_entry(v))
            continue; // empty or tombstone: dropped
        bool found;
        find_slot(t, entry_of(v)->group(), found).store(v, std::memory_order_relaxed);
        ++moved;
    }
    // Release: the slots written above are visible to whoever loads t.
    published(w).store(t, std::memory_order_release);
    memory_->retain();
    reclaimer_->retire(w.index, &PortTable::free_index, memory_);
    w.index = t;
    w.used = w.live = moved;
    ++rebuilds_;
    return errc::ok;
}

errc PortTable::set_group(const IpAddr& group, std::span<const OutletFilter> outlets) noexcept {
    GroupEntry* e = nullptr;
    if (const errc r = GroupEntry::create(group, outlets, *memory_, e); r != errc::ok)
        return r;
    const auto address = reinterpret_cast<uintptr_t>(e);
    if ((address & ~address_mask) != 0) { // not a 48-bit user-space address
        memory_->free(e, e->memory_bytes());
        return errc::no_buffer_space;
    }
    const uint64_t lines = e->hot_lines() > 4 ? 3 : e->hot_lines() - 1;
    const uint64_t v = tag_of(hash_of(group)) | lines << 48 | address;
    Writer& w = writer_for(group);
    bool found;
    std::atomic<uint64_t>* slot = &find_slot(w.index, group, found);
    if (!found) {
        const bool reuses_tombstone = slot->load(std::memory_order_relaxed) == tombstone;
        // A new group in an empty slot: keep load (with tombstones) <= 3/4.
        if (!reuses_tombstone && (w.used + 1) * 4 > (w.index->mask + 1) * 3) {
            if (const errc r = rebuild(w, w.live + 1); r != errc::ok) {
                memory_->free(e, e->memory_bytes()); // never published
                return r;
            }
            slot = &find_slot(w.index, group, found);
        }
        if (slot->load(std::memory_order_relaxed) == 0)
            ++w.used;
        ++w.live;
    }
    // Release: the entry's contents are visible to every reader that loads v.
    const uint64_t old = slot->exchange(v, std::memory_order_release);
    if (is_entry(old))
        retire_entry(entry_of(old));
    return errc::ok;
}

errc PortTable::remove_group(const IpAddr& group) noexcept {
    Writer& w = writer_for(group);
    bool found;
    std::atomic<uint64_t>& slot = find_slot(w.index, group, found);
    if (!found)
        return errc::addr_not_avail;
    const uint64_t old = slot.load(std::memory_order_relaxed);
    // A tombstone, so probe chains through this slot stay intact.
    slot.store(tombstone, std::memory_order_release);
    --w.live;
    retire_entry(entry_of(old));
    return errc::ok;
}

} // namespace mcfwd::table
