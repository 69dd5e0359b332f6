// mcfwd names — the rules for what an operator may call things, shared by the
// configuration (lib/config) and the run-time commands (lib/control), so a name
// valid in one is valid in the other.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mcfwd {

/// Ports and receivers: 1..32 of [a-z0-9_-] (the proxy's internal receivers,
/// "downstream:PORT", are outside this set on purpose).
inline constexpr size_t object_name_max = 32;
/// rte_ring names: RTE_RING_NAMESIZE is 29 bytes with the NUL (the ring's memzone
/// is "RG_" + name in RTE_MEMZONE_NAMESIZE, 32); rte_ring_create refuses a 29-byte
/// name (ENAMETOOLONG; tests/eal/dataplane/outlet_registry_test.cpp).
inline constexpr size_t ring_name_max = 28;
/// Ring sink sizes: powers of two in this range.
inline constexpr uint32_t ring_size_min = 32, ring_size_max = 16777216;

constexpr bool is_object_name(std::string_view s) noexcept {
    return !s.empty() && s.size() <= object_name_max &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
           });
}

constexpr bool is_ring_name(std::string_view s) noexcept {
    return !s.empty() && s.size() <= ring_name_max && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
    });
}

constexpr bool is_ring_size(uint64_t n) noexcept {
    return n >= ring_size_min && n <= ring_size_max && (n & (n - 1)) == 0;
}

} // namespace mcfwd
