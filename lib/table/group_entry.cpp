#include "table/group_entry.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <new>

namespace mcfwd::table {

namespace {

/// Walks the union of the outlets' sorted source lists in ascending order and
/// calls visit(source, mask of the outlets listing it) once per distinct source:
/// a k-way merge over a heap of at most 64 cursors, so no allocation and
/// O(total × log k). Returns false (stopping early) if a source is multicast.
template <class Visit>
bool merge_sources(std::span<const OutletFilter> outlets, Visit&& visit) {
    std::array<size_t, max_outlets> pos{};
    std::array<uint8_t, max_outlets> heap{};
    size_t k = 0;
    auto current = [&](uint8_t o) -> const IpAddr& {
        return outlets[o].filter->sources.as_vector()[pos[o]];
    };
    // std::*_heap keep the largest on top; order by "greater" to get the least.
    auto later = [&](uint8_t a, uint8_t b) { return current(b) < current(a); };
    for (size_t o = 0; o < outlets.size(); ++o)
        if (!outlets[o].filter->sources.empty())
            heap[k++] = static_cast<uint8_t>(o);
    std::make_heap(heap.begin(), heap.begin() + k, later);
    while (k > 0) {
        const IpAddr s = current(heap[0]);
        if (s.is_multicast())
            return false;
        uint64_t mask = 0;
        while (k > 0 && current(heap[0]) == s) {
            std::pop_heap(heap.begin(), heap.begin() + k, later);
            const uint8_t o = heap[--k];
            mask |= uint64_t{1} << o;
            if (++pos[o] < outlets[o].filter->sources.size()) {
                heap[k++] = o;
                std::push_heap(heap.begin(), heap.begin() + k, later);
            }
        }
        visit(s, mask);
    }
    return true;
}

} // namespace

errc GroupEntry::create(const IpAddr& group, std::span<const OutletFilter> outlets,
                        GroupEntry*& out) noexcept {
    static_assert(offsetof(GroupEntry, n_outlets_) + sizeof(uint32_t) == header_size);
    static_assert(sizeof(Slot) == 24);
    out = nullptr;
    if (!group.is_multicast())
        return errc::invalid;
    if (outlets.size() > max_outlets)
        return errc::no_buffer_space;
    for (size_t i = 0; i < outlets.size(); ++i) {
        if (outlets[i].filter == nullptr)
            return errc::invalid;
        for (size_t j = 0; j < i; ++j)
            if (outlets[j].outlet == outlets[i].outlet)
                return errc::invalid;
    }

    size_t distinct = 0;
    if (!merge_sources(outlets, [&](const IpAddr&, uint64_t) { ++distinct; }))
        return errc::invalid;
    // 64 outlets × 65,536 sources stays far below 2^32; refuse anything beyond.
    if (distinct > (uint64_t{1} << 30))
        return errc::no_buffer_space;

    // Load at most 0.75: about 32 bytes of table per listed source.
    const size_t capacity = distinct == 0 ? 0 : distinct + distinct / 3 + 1;
    const size_t slots_offset = (header_size + outlets.size() * sizeof(OutletId) + 7) & ~size_t{7};
    const size_t bytes = allocation_size(slots_offset, capacity);
    void* mem = ::operator new (bytes, std::align_val_t{64}, std::nothrow);
    if (mem == nullptr)
        return errc::no_buffer_space;

    auto* e = new (mem) GroupEntry();
    e->group_ = group;
    e->capacity_ = static_cast<uint32_t>(capacity);
    e->slots_offset_ = static_cast<uint32_t>(slots_offset);
    e->n_sources_ = static_cast<uint32_t>(distinct);
    e->n_outlets_ = static_cast<uint32_t>(outlets.size());
    auto* ids = reinterpret_cast<OutletId*>(static_cast<char*>(mem) + header_size);
    for (size_t i = 0; i < outlets.size(); ++i) {
        ids[i] = outlets[i].outlet;
        const uint64_t bit = uint64_t{1} << i;
        if (outlets[i].filter->mode == filter::FilterMode::include)
            e->include_mask_ |= bit;
        else
            e->exclude_mask_ |= bit;
    }
    auto* slots = reinterpret_cast<Slot*>(static_cast<char*>(mem) + slots_offset);
    for (size_t i = 0; i < capacity; ++i)
        new (&slots[i]) Slot{empty_half, empty_half, 0};
    merge_sources(outlets, [&](const IpAddr& s, uint64_t mask) {
        uint64_t hi, lo;
        detail::split(s, hi, lo);
        size_t i = detail::reduce(detail::hash(hi, lo), e->capacity_);
        while ((slots[i].hi & slots[i].lo) != empty_half)
            if (++i == capacity)
                i = 0;
        slots[i] = Slot{hi, lo, mask};
    });
    out = e;
    return errc::ok;
}

void GroupEntry::destroy(void* entry) noexcept {
    ::operator delete (entry, std::align_val_t{64});
}

void GroupEntry::destroy_poisoned(void* entry) noexcept {
    const size_t bytes = static_cast<GroupEntry*>(entry)->memory_bytes();
    std::memset(entry, 0xdb, bytes);
    ::operator delete (entry, std::align_val_t{64});
}

} // namespace mcfwd::table
