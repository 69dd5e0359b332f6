// mcfwd::table::GroupEntry — one (port, group)'s forwarding state as the
// forwarding lcores read it: the outlets and, per source, which outlets list it.
//
// Each outlet (a local receiver's sink or a downstream port) has an RFC 3376
// §3.2 / RFC 3810 §4.2 filter (mode, sources). An outlet accepts source s iff
// "s is listed" == "mode is INCLUDE". The entry keeps, for every source listed by
// at least one outlet, the 64-bit mask listed(s) of the outlets that list it, so
//     accept(s) = (listed(s) & include_mask) | (~listed(s) & exclude_mask)
// (exclude_mask holds only present outlets). That is one hash probe per packet
// whatever the number of outlets; accept(s) == 0 means the port-level filter
// (the RFC 3376 §3.2 merge of the outlets' filters) rejects s. Entries whose
// outlets list no source at all (e.g. every outlet EXCLUDE {}) skip the probe.
//
// Limits: at most max_outlets (64) outlets per entry, bit i of a mask being
// outlets()[i]; the writer refuses more with errc::no_buffer_space.
//
// Layout: one cache-line-aligned allocation: a 48-byte header, the outlet ids,
// then an open-addressing (linear probing) table of 24-byte slots
// {source (16 bytes), listed mask (8 bytes)} sized for a load of at most 0.75,
// i.e. about 32 bytes per distinct listed source. The empty slot holds the
// all-ones address; sources must be unicast (checked at build), so no listed
// source collides with it, and a lookup of a multicast "source" ends on an empty
// slot whose mask is 0 — the right answer ("not listed").
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

namespace mcfwd::table {

using addr::IpAddr;

/// Identifies an outlet to the fan-out (a sink index or a port id); opaque here.
using OutletId = uint32_t;

/// The most outlets one group entry can hold: the width of the accept mask.
inline constexpr size_t max_outlets = 64;

/// One outlet of a group as the writer hands it over: its id and its filter.
/// filter must be non-null and stay valid for the duration of the call.
struct OutletFilter {
    OutletId outlet;
    const filter::FilterState* filter;
};

namespace detail {

inline void split(const IpAddr& a, uint64_t& hi, uint64_t& lo) noexcept {
    std::memcpy(&hi, a.bytes().data(), 8);
    std::memcpy(&lo, a.bytes().data() + 8, 8);
}

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

class alignas(64) GroupEntry {
public:
    GroupEntry(const GroupEntry&) = delete;
    GroupEntry& operator=(const GroupEntry&) = delete;

    /// Builds an entry for group with the given outlets (bit i = outlets[i]).
    /// Errors: errc::invalid if group is not multicast, an outlet id repeats, a
    /// filter is null or lists a multicast source; errc::no_buffer_space if there
    /// are more than max_outlets outlets or memory runs out. Writer only; O(total
    /// sources × log(outlets)); allocates exactly once.
    static errc create(const IpAddr& group, std::span<const OutletFilter> outlets,
                       GroupEntry*& out) noexcept;
    /// Frees an entry made by create(); matches Reclaimer::FreeFn.
    static void destroy(void* entry) noexcept;
    /// As destroy(), overwriting the whole allocation with 0xdb bytes first, so a
    /// reader that touches it after a (buggy) early free sees garbage at once.
    static void destroy_poisoned(void* entry) noexcept;

    const IpAddr& group() const noexcept { return group_; }
    size_t outlet_count() const noexcept { return n_outlets_; }
    /// The outlet of mask bit i, i < outlet_count().
    OutletId outlet(size_t i) const noexcept { return outlet_ids()[i]; }
    std::span<const OutletId> outlets() const noexcept { return {outlet_ids(), n_outlets_}; }
    uint64_t include_mask() const noexcept { return include_mask_; }
    uint64_t exclude_mask() const noexcept { return exclude_mask_; }
    uint64_t present_mask() const noexcept { return include_mask_ | exclude_mask_; }
    /// Distinct sources listed by at least one outlet.
    size_t source_count() const noexcept { return n_sources_; }
    /// Slots of the source hash table (0 when no source is listed).
    size_t source_capacity() const noexcept { return capacity_; }
    /// Bytes of the entry's single allocation.
    size_t memory_bytes() const noexcept { return allocation_size(slots_offset_, capacity_); }

    /// The outlets whose filter lists source. Reader hot path: at most one probe
    /// sequence, no writes, no allocation.
    uint64_t listed(const IpAddr& source) const noexcept {
        if (capacity_ == 0)
            return 0;
        uint64_t hi, lo;
        detail::split(source, hi, lo);
        const Slot* s = slots();
        size_t i = detail::reduce(detail::hash(hi, lo), capacity_);
        for (;;) {
            if (s[i].hi == hi && s[i].lo == lo)
                return s[i].mask;
            if ((s[i].hi & s[i].lo) == empty_half)
                return 0;
            if (++i == capacity_)
                i = 0;
        }
    }
    /// Starts loading the slot where listed(source) begins (reads the header,
    /// so prefetch the entry itself one stage earlier in a burst). A hint only.
    void prefetch_source(const IpAddr& source) const noexcept {
        if (capacity_ == 0)
            return;
        uint64_t hi, lo;
        detail::split(source, hi, lo);
        __builtin_prefetch(&slots()[detail::reduce(detail::hash(hi, lo), capacity_)]);
    }
    /// The outlets whose filter accepts source; 0 = filtered at the port level.
    uint64_t accept(const IpAddr& source) const noexcept {
        const uint64_t l = listed(source);
        return (l & include_mask_) | (~l & exclude_mask_);
    }

private:
    struct Slot {
        uint64_t hi;
        uint64_t lo;
        uint64_t mask;
    };
    static constexpr uint64_t empty_half = ~uint64_t{0};
    static constexpr size_t header_size = 48;

    GroupEntry() = default;

    static size_t allocation_size(size_t slots_offset, size_t capacity) noexcept {
        return (slots_offset + capacity * sizeof(Slot) + 63) & ~size_t{63};
    }
    const OutletId* outlet_ids() const noexcept {
        return reinterpret_cast<const OutletId*>(reinterpret_cast<const char*>(this) + header_size);
    }
    const Slot* slots() const noexcept {
        return reinterpret_cast<const Slot*>(reinterpret_cast<const char*>(this) + slots_offset_);
    }

    // Header: the first 48 bytes of the first cache line; the hot path reads
    // group-independent fields only (capacity, offset, masks).
    IpAddr group_;
    uint64_t include_mask_ = 0;
    uint64_t exclude_mask_ = 0;
    uint32_t capacity_ = 0;
    uint32_t slots_offset_ = 0;
    uint32_t n_sources_ = 0;
    uint32_t n_outlets_ = 0;
};

static_assert(sizeof(IpAddr) == 16);

} // namespace mcfwd::table
