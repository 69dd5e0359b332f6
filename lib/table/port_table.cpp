#include "table/port_table.hpp"

#include <bit>
#include <cstring>
#include <new>

namespace mcfwd::table {

namespace {

constexpr size_t min_capacity = 16;

/// The smallest power-of-two capacity that holds groups at load <= 1/2, so a
/// fresh table has room for as many new groups again before the next rebuild.
size_t capacity_for(size_t groups) {
    return std::max(min_capacity, std::bit_ceil(groups * 2));
}

} // namespace

PortTable::Table* PortTable::Table::create(size_t capacity) noexcept {
    void* mem = ::operator new (bytes(capacity), std::align_val_t{64}, std::nothrow);
    if (mem == nullptr)
        return nullptr;
    auto* t = new (mem) Table{capacity - 1};
    Slot* s = t->slots();
    for (size_t i = 0; i < capacity; ++i) {
        new (&s[i]) Slot{};
        s[i].entry.store(nullptr, std::memory_order_relaxed);
        s[i].hi.store(0, std::memory_order_relaxed);
        s[i].lo.store(0, std::memory_order_relaxed);
    }
    return t;
}

void PortTable::Table::destroy(void* t) noexcept {
    ::operator delete (t, std::align_val_t{64});
}

void PortTable::Table::destroy_poisoned(void* t) noexcept {
    std::memset(t, 0xdb, bytes(static_cast<Table*>(t)->mask + 1));
    ::operator delete (t, std::align_val_t{64});
}

PortTable::PortTable(Reclaimer& reclaimer, PortTableOptions options)
    : reclaimer_(&reclaimer),
      free_entry_(options.poison_retired ? &GroupEntry::destroy_poisoned : &GroupEntry::destroy),
      free_table_(options.poison_retired ? &Table::destroy_poisoned : &Table::destroy) {
    wtable_ = Table::create(capacity_for(options.initial_groups));
    if (wtable_ == nullptr)
        throw std::bad_alloc(); // construction happens at start-up, not on an lcore
    table_.store(wtable_, std::memory_order_release);
}

PortTable::~PortTable() {
    for (size_t i = 0; i <= wtable_->mask; ++i)
        if (const GroupEntry* e = wtable_->slots()[i].entry.load(std::memory_order_relaxed))
            GroupEntry::destroy(const_cast<GroupEntry*>(e));
    Table::destroy(wtable_);
}

size_t PortTable::memory_bytes() const noexcept {
    return Table::bytes(wtable_->mask + 1) + entry_bytes_;
}

PortTable::Slot& PortTable::find_slot(Table* t, uint64_t hi, uint64_t lo) noexcept {
    Slot* s = t->slots();
    for (size_t i = detail::hash(hi, lo) & t->mask;; i = (i + 1) & t->mask) {
        const uint64_t khi = s[i].hi.load(std::memory_order_relaxed);
        const uint64_t klo = s[i].lo.load(std::memory_order_relaxed);
        if ((khi == hi && klo == lo) || (khi | klo) == 0)
            return s[i];
    }
}

void PortTable::retire_entry(const GroupEntry* e) noexcept {
    entry_bytes_ -= e->memory_bytes();
    reclaimer_->retire(const_cast<GroupEntry*>(e), free_entry_);
}

errc PortTable::rebuild(size_t min_groups) noexcept {
    Table* t = Table::create(capacity_for(min_groups));
    if (t == nullptr)
        return errc::no_buffer_space;
    size_t moved = 0;
    for (size_t i = 0; i <= wtable_->mask; ++i) {
        const Slot& from = wtable_->slots()[i];
        const GroupEntry* e = from.entry.load(std::memory_order_relaxed);
        if (e == nullptr)
            continue; // empty or tombstone: dropped
        const uint64_t hi = from.hi.load(std::memory_order_relaxed);
        const uint64_t lo = from.lo.load(std::memory_order_relaxed);
        Slot& to = find_slot(t, hi, lo);
        to.hi.store(hi, std::memory_order_relaxed);
        to.lo.store(lo, std::memory_order_relaxed);
        to.entry.store(e, std::memory_order_relaxed);
        ++moved;
    }
    // Release: the slots written above are visible to whoever loads t.
    table_.store(t, std::memory_order_release);
    reclaimer_->retire(wtable_, free_table_);
    wtable_ = t;
    used_ = live_ = moved;
    ++rebuilds_;
    return errc::ok;
}

errc PortTable::set_group(const IpAddr& group, std::span<const OutletFilter> outlets) noexcept {
    GroupEntry* e = nullptr;
    if (const errc r = GroupEntry::create(group, outlets, e); r != errc::ok)
        return r;
    uint64_t hi, lo;
    detail::split(group, hi, lo);
    Slot* slot = &find_slot(wtable_, hi, lo);
    if ((slot->hi.load(std::memory_order_relaxed) | slot->lo.load(std::memory_order_relaxed)) ==
        0) {
        // A new group takes an empty slot; keep load (with tombstones) <= 3/4.
        if ((used_ + 1) * 4 > (wtable_->mask + 1) * 3) {
            if (const errc r = rebuild(live_ + 1); r != errc::ok) {
                GroupEntry::destroy(e); // never published
                return r;
            }
            slot = &find_slot(wtable_, hi, lo);
        }
        slot->hi.store(hi, std::memory_order_relaxed);
        slot->lo.store(lo, std::memory_order_relaxed);
        ++used_;
    }
    entry_bytes_ += e->memory_bytes();
    // Release: the entry's contents (and a new slot's key) are visible to every
    // reader that loads this pointer.
    const GroupEntry* old = slot->entry.exchange(e, std::memory_order_release);
    if (old != nullptr)
        retire_entry(old);
    else
        ++live_;
    return errc::ok;
}

errc PortTable::remove_group(const IpAddr& group) noexcept {
    uint64_t hi, lo;
    detail::split(group, hi, lo);
    Slot& slot = find_slot(wtable_, hi, lo);
    const GroupEntry* e = slot.entry.load(std::memory_order_relaxed);
    if (e == nullptr)
        return errc::addr_not_avail;
    // The slot keeps its key: a tombstone, so probe chains through it stay intact.
    slot.entry.store(nullptr, std::memory_order_release);
    --live_;
    retire_entry(e);
    return errc::ok;
}

} // namespace mcfwd::table
