// mcfwd::wire — the Internet checksum (RFC 1071) used by IPv4, IGMP and ICMPv6.
//
// Thread-safe, pure functions. The sum is accumulated over any number of byte
// ranges; every range but the last must have an even length (the pseudo-header
// pieces and headers all do), so 16-bit words never straddle two ranges.
#pragma once

#include "addr/ip_addr.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace mcfwd::wire {

/// Adds the big-endian 16-bit words of `bytes` to `sum` (an odd last byte is
/// padded with a zero octet, RFC 1071 §4.1).
uint64_t checksum_add(uint64_t sum, std::span<const uint8_t> bytes) noexcept;

/// Folds a sum to 16 bits and complements it: the value to store in a checksum
/// field, or, over data that includes its checksum field, 0 when that is correct.
uint16_t checksum_finish(uint64_t sum) noexcept;

/// The checksum of one byte range.
inline uint16_t internet_checksum(std::span<const uint8_t> bytes) noexcept {
    return checksum_finish(checksum_add(0, bytes));
}

/// The sum of the IPv6 pseudo-header (RFC 8200 §8.1) for an upper-layer packet
/// of `length` octets with next header `next_header`, to pass to checksum_add.
uint64_t ipv6_pseudo_header_sum(const addr::IpAddr& src, const addr::IpAddr& dst, uint32_t length,
                                uint8_t next_header) noexcept;

} // namespace mcfwd::wire
