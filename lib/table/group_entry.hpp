// mcfwd::table::GroupEntry — one (port, group)'s forwarding state as the
// forwarding lcores read it: which outlets accept which sources.
//
// Each outlet (a local receiver's sink or a downstream port) has an RFC 3376
// §3.2 / RFC 3810 §4.2 filter (mode, sources). An outlet accepts source s iff
// "s is listed" == "mode is INCLUDE". Outlet ids are the bits of 64-bit masks
// (id < max_outlets: the data path's OutletSet index, so a mask bit names the
// outlet with no table in between). For a source s listed by the outlets L(s),
//     accept(s) = (L(s) & include-mode outlets) | (~L(s) & exclude-mode outlets)
// and a source nobody lists is accepted by exactly the exclude-mode outlets.
// accept(s) == 0 means the port-level filter (the RFC 3376 §3.2 merge of the
// outlets' filters) rejects s. An outlet in INCLUDE {} accepts nothing and is
// not a member (RFC 3376 §3.2: that is "no reception state"); it is left out.
//
// Two layouts, chosen when the entry is built:
//  - uniform: every listed source is listed by the same outlets (one outlet; or
//    several with the same list; or none listed: any-source). The accepts are
//    then two masks, "listed" and "unlisted", and the sources sit inline after a
//    24-byte header: an IPv4 entry with up to 10 sources is ONE cache line (32
//    bytes with at most two sources), so a lookup costs that line only; IPv6
//    holds up to 8 sources inline in three lines, fetched together.
//  - hashed: anything else (outlets with different lists, or more sources than
//    fit inline). After the header, an open-addressing table (linear probing,
//    load <= 0.75) of 24-byte slots {source, L(s)}: a second line per lookup.
//
// Layout (offsets in bytes; the hot path reads only the first line):
//    0  unlisted_     accept mask of a source nobody lists (= exclude-mode outlets)
//    8  second_       uniform: accept mask of a listed source; hashed: include-mode outlets
//   16  key4_         IPv4: the group as the packet carries it (network order); IPv6: 0
//   20  format_, family_, n_inline_, spare
//   24  IPv4 uniform: n_inline_ sources, 4 bytes each, as the packet carries them
//   24  IPv4 hashed:  HashedTail, then the slots
//   32  IPv6: the group (16 bytes); uniform: 48 + 16 i: source i; hashed: 48: HashedTail, slots
// Memory is TableMemory's (sizes 32, 64, multiples of 64; cache-line aligned
// from 64 up) or, through create()/destroy(), the heap.
//
// Thread-safety: immutable once built. Any number of readers may call the
// const functions concurrently; the writer (PortTable) creates, publishes and
// retires whole entries, never modifies one.
#pragma once

#include "addr/ip_addr.hpp"
#include "base/errc.hpp"
#include "filter/filter_state.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace mcfwd::table {

using addr::IpAddr;

/// Identifies an outlet to the fan-out: the data path's OutletSet index, < max_outlets.
using OutletId = uint32_t;

/// The most outlets one group entry can hold: the width of the accept mask.
inline constexpr size_t max_outlets = 64;

/// One outlet of a group as the writer hands it over: its id and its filter.
/// filter must be non-null and stay valid for the duration of the call.
struct OutletFilter {
    OutletId outlet;
    const filter::FilterState* filter;
};

class TableMemory;

namespace detail {

inline void split(const IpAddr& a, uint64_t& hi, uint64_t& lo) noexcept {
    std::memcpy(&hi, a.bytes().data(), 8);
    std::memcpy(&lo, a.bytes().data() + 8, 8);
}

/// The low word of IpAddr's v4-mapped form (::ffff:a.b.c.d) of an IPv4 address
/// given as the packet carries it (4 bytes, network order, loaded as a uint32).
inline uint64_t v4_mapped_lo(uint32_t v4_net) noexcept {
    return uint64_t{v4_net} << 32 | 0xffff0000u; // bytes 8..11 = 00 00 ff ff (little-endian)
}
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "v4_mapped_lo assumes little-endian");

/// A 64-bit hash of a 128-bit address; both the low bits (power-of-two tables)
/// and the high bits (multiply-shift range reduction) are well mixed.
inline uint64_t hash(uint64_t hi, uint64_t lo) noexcept {
    uint64_t h = (hi * 0x9e3779b97f4a7c15ULL) ^ lo;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

/// Maps h uniformly onto [0, n) without a division (Lemire's multiply-shift).
inline size_t reduce(uint64_t h, uint32_t n) noexcept {
    return static_cast<size_t>(((h >> 32) * n) >> 32);
}

} // namespace detail

class alignas(32) GroupEntry {
public:
    GroupEntry(const GroupEntry&) = delete;
    GroupEntry& operator=(const GroupEntry&) = delete;

    /// IPv4 sources held inline (uniform layout) in one cache line.
    static constexpr size_t max_inline_v4 = 10;
    /// IPv6 sources held inline (uniform layout), in three cache lines.
    static constexpr size_t max_inline_v6 = 8;

    /// Builds an entry for group with the given outlets on the heap.
    /// Errors: errc::invalid if group is not multicast, an outlet id repeats or
    /// is >= max_outlets, a filter is null or lists a multicast source or a
    /// source of the other family; errc::no_buffer_space if memory runs out.
    /// Writer only; O(total sources × log(outlets)); allocates exactly once.
    static errc create(const IpAddr& group, std::span<const OutletFilter> outlets,
                       GroupEntry*& out) noexcept;
    /// As create(), the memory from mem (a PortTable's).
    static errc create(const IpAddr& group, std::span<const OutletFilter> outlets,
                       TableMemory& mem, GroupEntry*& out) noexcept;
    /// Frees an entry made by create() on the heap.
    static void destroy(void* entry) noexcept;

    IpAddr group() const noexcept {
        return family_ == 4 ? IpAddr::from_v4_bytes(reinterpret_cast<const uint8_t*>(&key4_))
                            : IpAddr::from_v6_bytes(bytes() + v6_group_offset);
    }
    /// Outlets present (mask bit = outlet id): include-mode | exclude-mode.
    uint64_t present_mask() const noexcept { return include_mask() | exclude_mask(); }
    uint64_t include_mask() const noexcept {
        return format_ == format_hashed ? second_ : second_ & ~unlisted_;
    }
    uint64_t exclude_mask() const noexcept { return unlisted_; }
    size_t outlet_count() const noexcept { return size_t(__builtin_popcountll(present_mask())); }
    /// The present outlets' ids, ascending (introspection; allocates).
    std::vector<OutletId> outlets() const;
    /// The i-th present outlet's id in ascending order, i < outlet_count().
    OutletId outlet(size_t i) const noexcept {
        uint64_t bits = present_mask();
        for (; i > 0; --i)
            bits &= bits - 1;
        return OutletId(__builtin_ctzll(bits));
    }
    /// Distinct sources listed by at least one outlet.
    size_t source_count() const noexcept {
        return format_ == format_hashed ? tail()->n_sources : n_inline_;
    }
    /// Slots of the source hash table (0 with the uniform layout).
    size_t source_capacity() const noexcept {
        return format_ == format_hashed ? tail()->capacity : 0;
    }
    /// true: the sources are inline (uniform layout); false: hashed.
    bool inline_sources() const noexcept { return format_ != format_hashed; }
    /// Bytes of the entry's single allocation (as TableMemory rounds it).
    size_t memory_bytes() const noexcept;
    /// Cache lines the hot path reads of an entry with the uniform layout (the
    /// first line only for the hashed one): what a lookup should prefetch.
    unsigned hot_lines() const noexcept;

    /// The outlets whose filter lists source. Introspection and tests.
    uint64_t listed(const IpAddr& source) const noexcept;
    /// The outlets whose filter accepts source; 0 = filtered at the port level.
    uint64_t accept(const IpAddr& source) const noexcept {
        if (source.is_v4() != (family_ == 4))
            return unlisted_;
        if (family_ == 4)
            return accept_v4(load_u32(source.v4_bytes()));
        return accept_v6(source.bytes().data());
    }

    /// Reader hot path, IPv4 entries: the outlets accepting source (4 bytes as
    /// the packet carries them, loaded as a uint32). No writes, no allocation.
    uint64_t accept_v4(uint32_t source) const noexcept {
        if (__builtin_expect(format_ != format_hashed, 1))
            return inline_has_v4(source) ? second_ : unlisted_;
        return accept_hashed(0, detail::v4_mapped_lo(source));
    }
    /// Reader hot path, IPv6 entries: source is 16 bytes in network order.
    uint64_t accept_v6(const uint8_t* source) const noexcept {
        uint64_t hi, lo;
        std::memcpy(&hi, source, 8);
        std::memcpy(&lo, source + 8, 8);
        if (__builtin_expect(format_ != format_hashed, 1))
            return inline_has_v6(hi, lo) ? second_ : unlisted_;
        return accept_hashed(hi, lo);
    }
    /// IPv4 entries: the group as the packet carries it (network order).
    uint32_t key_v4() const noexcept { return key4_; }
    /// IPv6 entries: true if the group is the 16 bytes at g (network order).
    bool is_group_v6(const uint8_t* g) const noexcept {
        return std::memcmp(bytes() + v6_group_offset, g, 16) == 0;
    }
    /// Starts loading a hashed entry's source slot (after the entry's first line
    /// arrived); a no-op for inline entries. A hint only.
    void prefetch_source_v4(uint32_t source) const noexcept {
        if (format_ == format_hashed)
            __builtin_prefetch(&slots()[slot_index(0, detail::v4_mapped_lo(source))]);
    }

private:
    friend struct EntryBuilder;

    struct Slot {
        uint64_t hi;
        uint64_t lo;
        uint64_t mask; // L(s): the outlets listing s
    };
    struct HashedTail {
        uint32_t capacity;
        uint32_t n_sources;
        uint32_t bytes;
        uint32_t spare;
    };
    static constexpr uint8_t format_uniform = 0;
    static constexpr uint8_t format_hashed = 1;
    static constexpr size_t header_size = 24;
    static constexpr size_t v6_group_offset = 32;
    static constexpr size_t v6_inline_offset = 48;
    static constexpr uint64_t empty_half = ~uint64_t{0};

    GroupEntry() = default;

    static uint32_t load_u32(const uint8_t* p) noexcept {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    const uint8_t* bytes() const noexcept { return reinterpret_cast<const uint8_t*>(this); }
    const uint32_t* inline_v4() const noexcept {
        return reinterpret_cast<const uint32_t*>(bytes() + header_size);
    }
    /// Uniform layout: whether source is among the inline ones (branch-free scan).
    bool inline_has_v4(uint32_t source) const noexcept {
        const uint32_t* s = inline_v4();
        bool found = false;
        for (unsigned i = 0; i < n_inline_; ++i)
            found |= s[i] == source;
        return found;
    }
    bool inline_has_v6(uint64_t hi, uint64_t lo) const noexcept {
        const uint64_t* s = reinterpret_cast<const uint64_t*>(bytes() + v6_inline_offset);
        bool found = false;
        for (unsigned i = 0; i < n_inline_; ++i)
            found |= (s[2 * i] == hi) & (s[2 * i + 1] == lo);
        return found;
    }
    size_t tail_offset() const noexcept { return family_ == 4 ? header_size : v6_inline_offset; }
    const HashedTail* tail() const noexcept {
        return reinterpret_cast<const HashedTail*>(bytes() + tail_offset());
    }
    const Slot* slots() const noexcept {
        return reinterpret_cast<const Slot*>(bytes() + tail_offset() + sizeof(HashedTail));
    }
    size_t slot_index(uint64_t hi, uint64_t lo) const noexcept {
        return detail::reduce(detail::hash(hi, lo), tail()->capacity);
    }
    uint64_t listed_hashed(uint64_t hi, uint64_t lo) const noexcept {
        const Slot* s = slots();
        const uint32_t capacity = tail()->capacity;
        for (size_t i = slot_index(hi, lo);;) {
            if (s[i].hi == hi && s[i].lo == lo)
                return s[i].mask;
            if ((s[i].hi & s[i].lo) == empty_half)
                return 0;
            if (++i == capacity)
                i = 0;
        }
    }
    uint64_t accept_hashed(uint64_t hi, uint64_t lo) const noexcept {
        const uint64_t l = listed_hashed(hi, lo);
        return (l & second_) | (~l & unlisted_);
    }

    // The first 24 bytes: see the layout above.
    uint64_t unlisted_ = 0;
    uint64_t second_ = 0;
    uint32_t key4_ = 0;
    uint8_t format_ = format_uniform;
    uint8_t family_ = 4;
    uint8_t n_inline_ = 0;
    uint8_t spare_ = 0;
};

static_assert(sizeof(IpAddr) == 16);

} // namespace mcfwd::table
