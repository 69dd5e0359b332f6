#include "table/group_entry.hpp"

#include "table/table_memory.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <new>

namespace mcfwd::table {

namespace {

/// Walks the union of the outlets' sorted source lists in ascending order and
/// calls visit(source, mask of the outlet ids listing it) once per distinct
/// source: a k-way merge over a heap of at most 64 cursors, so no allocation and
/// O(total × log k).
template <class Visit>
void merge_sources(std::span<const OutletFilter> outlets, Visit&& visit) {
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
        uint64_t mask = 0;
        while (k > 0 && current(heap[0]) == s) {
            std::pop_heap(heap.begin(), heap.begin() + k, later);
            const uint8_t o = heap[--k];
            mask |= uint64_t{1} << outlets[o].outlet;
            if (++pos[o] < outlets[o].filter->sources.size()) {
                heap[k++] = o;
                std::push_heap(heap.begin(), heap.begin() + k, later);
            }
        }
        visit(s, mask);
    }
}

bool is_empty_include(const OutletFilter& o) {
    return o.filter->mode == filter::FilterMode::include && o.filter->sources.empty();
}

} // namespace

/// Builds entries: validates, sizes, then writes one allocation.
struct EntryBuilder {
    using Slot = GroupEntry::Slot;
    using HashedTail = GroupEntry::HashedTail;

    const IpAddr& group;
    std::span<const OutletFilter> outlets;
    bool v4 = group.is_v4();
    uint64_t include = 0, exclude = 0;
    size_t distinct = 0;
    bool uniform = true;
    uint64_t uniform_mask = 0;
    size_t capacity = 0; // hashed: slots
    size_t bytes = 0;

    errc validate() noexcept {
        if (!group.is_multicast())
            return errc::invalid;
        uint64_t seen = 0;
        for (const OutletFilter& o : outlets) {
            if (o.filter == nullptr || o.outlet >= max_outlets)
                return errc::invalid;
            const uint64_t bit = uint64_t{1} << o.outlet;
            if (seen & bit)
                return errc::invalid;
            seen |= bit;
            for (const IpAddr& s : o.filter->sources.as_vector())
                if (s.is_multicast() || s.is_v4() != v4)
                    return errc::invalid;
            if (is_empty_include(o))
                continue; // accepts nothing: not a member
            (o.filter->mode == filter::FilterMode::include ? include : exclude) |= bit;
        }
        merge_sources(outlets, [&](const IpAddr&, uint64_t mask) {
            if (distinct++ == 0)
                uniform_mask = mask;
            else if (mask != uniform_mask)
                uniform = false;
        });
        // 64 outlets × 65,536 sources stays far below 2^30; refuse anything beyond.
        if (distinct > (uint64_t{1} << 30))
            return errc::no_buffer_space;
        if (distinct > (v4 ? GroupEntry::max_inline_v4 : GroupEntry::max_inline_v6))
            uniform = false;
        const size_t base = v4 ? GroupEntry::header_size : GroupEntry::v6_inline_offset;
        if (uniform) {
            bytes = base + distinct * (v4 ? 4 : 16);
        } else {
            capacity = distinct + distinct / 3 + 1; // load at most 0.75
            bytes = base + sizeof(HashedTail) + capacity * sizeof(Slot);
        }
        if (bytes > UINT32_MAX)
            return errc::no_buffer_space;
        return errc::ok;
    }

    GroupEntry* write(void* mem) noexcept {
        std::memset(mem, 0, TableMemory::rounded(bytes));
        auto* e = new (mem) GroupEntry();
        auto* raw = static_cast<uint8_t*>(mem);
        e->family_ = v4 ? 4 : 6;
        e->unlisted_ = exclude;
        if (v4)
            std::memcpy(&e->key4_, group.v4_bytes(), 4);
        else
            std::memcpy(raw + GroupEntry::v6_group_offset, group.bytes().data(), 16);
        if (uniform) {
            e->format_ = GroupEntry::format_uniform;
            e->n_inline_ = static_cast<uint8_t>(distinct);
            // Every listed source is listed by uniform_mask's outlets.
            e->second_ = distinct == 0 ? 0 : (uniform_mask & include) | (~uniform_mask & exclude);
            uint8_t* out = raw + (v4 ? GroupEntry::header_size : GroupEntry::v6_inline_offset);
            merge_sources(outlets, [&](const IpAddr& s, uint64_t) {
                if (v4) {
                    std::memcpy(out, s.v4_bytes(), 4);
                    out += 4;
                } else {
                    std::memcpy(out, s.bytes().data(), 16);
                    out += 16;
                }
            });
            return e;
        }
        e->format_ = GroupEntry::format_hashed;
        e->second_ = include;
        auto* tail = reinterpret_cast<HashedTail*>(raw + e->tail_offset());
        tail->capacity = static_cast<uint32_t>(capacity);
        tail->n_sources = static_cast<uint32_t>(distinct);
        tail->bytes = static_cast<uint32_t>(bytes);
        auto* slots = reinterpret_cast<Slot*>(tail + 1);
        for (size_t i = 0; i < capacity; ++i)
            slots[i] = Slot{GroupEntry::empty_half, GroupEntry::empty_half, 0};
        merge_sources(outlets, [&](const IpAddr& s, uint64_t mask) {
            uint64_t hi, lo;
            detail::split(s, hi, lo);
            size_t i = e->slot_index(hi, lo);
            while ((slots[i].hi & slots[i].lo) != GroupEntry::empty_half)
                if (++i == capacity)
                    i = 0;
            slots[i] = Slot{hi, lo, mask};
        });
        return e;
    }
};

errc GroupEntry::create(const IpAddr& group, std::span<const OutletFilter> outlets,
                        GroupEntry*& out) noexcept {
    out = nullptr;
    EntryBuilder b{group, outlets};
    if (const errc r = b.validate(); r != errc::ok)
        return r;
    void* mem = ::operator new (TableMemory::rounded(b.bytes), std::align_val_t{64}, std::nothrow);
    if (mem == nullptr)
        return errc::no_buffer_space;
    out = b.write(mem);
    return errc::ok;
}

errc GroupEntry::create(const IpAddr& group, std::span<const OutletFilter> outlets,
                        TableMemory& memory, GroupEntry*& out) noexcept {
    out = nullptr;
    EntryBuilder b{group, outlets};
    if (const errc r = b.validate(); r != errc::ok)
        return r;
    void* mem = memory.allocate(b.bytes);
    if (mem == nullptr)
        return errc::no_buffer_space;
    out = b.write(mem);
    return errc::ok;
}

void GroupEntry::destroy(void* entry) noexcept {
    ::operator delete (entry, std::align_val_t{64});
}

size_t GroupEntry::memory_bytes() const noexcept {
    if (format_ == format_hashed)
        return TableMemory::rounded(tail()->bytes);
    const size_t base = family_ == 4 ? header_size : v6_inline_offset;
    return TableMemory::rounded(base + n_inline_ * (family_ == 4 ? 4 : 16));
}

unsigned GroupEntry::hot_lines() const noexcept {
    if (format_ == format_hashed)
        return 1;
    return unsigned((memory_bytes() + 63) / 64);
}

std::vector<OutletId> GroupEntry::outlets() const {
    std::vector<OutletId> ids;
    for (uint64_t bits = present_mask(); bits != 0; bits &= bits - 1)
        ids.push_back(OutletId(__builtin_ctzll(bits)));
    return ids;
}

uint64_t GroupEntry::listed(const IpAddr& source) const noexcept {
    if (source.is_v4() != (family_ == 4))
        return 0;
    uint64_t hi, lo;
    detail::split(source, hi, lo);
    if (format_ == format_hashed)
        return listed_hashed(hi, lo);
    // Uniform: a listed source is listed by the include-mode outlets (INCLUDE {}
    // ones are left out, so every one of them lists it) and by the exclude-mode
    // outlets that do not accept it.
    const bool found = family_ == 4 ? inline_has_v4(load_u32(source.v4_bytes()))
                                    : inline_has_v6(hi, lo);
    return found ? include_mask() | (exclude_mask() & ~second_) : 0;
}

} // namespace mcfwd::table
