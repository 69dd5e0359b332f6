// mcfwd::wire::DropReason — why the decoder refused a frame.
//
// The list is declared once, as an X-macro, so that the decoder, the per-reason
// counters of telemetry and the documentation are all generated from the same
// names. Each entry is X(name, "one-line description"). Append new reasons at
// the end: telemetry indexes counters by the enum value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#define MCFWD_WIRE_DROP_REASONS(X)                                                                 \
    X(eth_truncated, "frame shorter than its Ethernet header or 802.1Q tag")                       \
    X(not_ip, "EtherType is neither IPv4 nor IPv6 (after at most one 802.1Q tag)")                 \
    X(ip_truncated, "frame shorter than the IP header or the IP length it declares")               \
    X(bad_ip_version, "IP version field does not match the EtherType")                             \
    X(bad_ip_length,                                                                               \
      "IPv4 header length < 5 words or total length < header; IPv6 payload length 0")              \
    X(bad_ip_checksum, "IPv4 header checksum wrong")                                               \
    X(bad_ip_options, "IPv4 option list malformed")                                                \
    X(ip_fragment, "IP fragment (IPv4 MF/offset, IPv6 Fragment header): never reassembled")        \
    X(bad_extension_header, "IPv6 extension header truncated, misplaced or malformed")             \
    X(too_many_extension_headers, "IPv6 extension header chain longer than the decoder walks")     \
    X(not_igmp_mld, "not IGMP/MLD: other protocol, or an IGMP/ICMPv6 type that is not one")        \
    X(bad_ttl, "TTL / hop limit is not 1 (RFC 3376 §4, RFC 3810 §5)")                              \
    X(mld_source_not_link_local, "MLD from a source that is not fe80::/10 (RFC 3810 §5)")          \
    X(message_truncated, "IGMP/MLD message shorter than its type requires")                        \
    X(bad_query_length, "query length fits no version (RFC 3376 §7.1, RFC 3810 §8.1)")             \
    X(bad_checksum, "IGMP or ICMPv6 checksum wrong")                                               \
    X(query_sources_overrun, "query's Number of Sources runs past the message")                    \
    X(record_overrun, "report's group records or their sources run past the message")              \
    X(aux_data_overrun, "group record's auxiliary data runs past the message")                     \
    X(bad_group, "group address not multicast (query: neither unspecified nor multicast)")

namespace mcfwd::wire {

enum class DropReason : uint8_t {
#define MCFWD_WIRE_X_ENUM(name, desc) name,
    MCFWD_WIRE_DROP_REASONS(MCFWD_WIRE_X_ENUM)
#undef MCFWD_WIRE_X_ENUM
};

/// Number of drop reasons; DropReason values are 0 .. drop_reason_count - 1.
inline constexpr std::size_t drop_reason_count = 0
#define MCFWD_WIRE_X_COUNT(name, desc) +1
    MCFWD_WIRE_DROP_REASONS(MCFWD_WIRE_X_COUNT)
#undef MCFWD_WIRE_X_COUNT
    ;

/// The reason's identifier as text ("bad_checksum"); "?" for a value out of range.
constexpr std::string_view drop_reason_name(DropReason r) noexcept {
    constexpr std::array<std::string_view, drop_reason_count> names{
#define MCFWD_WIRE_X_NAME(name, desc) #name,
        MCFWD_WIRE_DROP_REASONS(MCFWD_WIRE_X_NAME)
#undef MCFWD_WIRE_X_NAME
    };
    auto i = static_cast<std::size_t>(r);
    return i < names.size() ? names[i] : std::string_view{"?"};
}

/// The reason's one-line description; "?" for a value out of range.
constexpr std::string_view drop_reason_description(DropReason r) noexcept {
    constexpr std::array<std::string_view, drop_reason_count> descriptions{
#define MCFWD_WIRE_X_DESC(name, desc) desc,
        MCFWD_WIRE_DROP_REASONS(MCFWD_WIRE_X_DESC)
#undef MCFWD_WIRE_X_DESC
    };
    auto i = static_cast<std::size_t>(r);
    return i < descriptions.size() ? descriptions[i] : std::string_view{"?"};
}

} // namespace mcfwd::wire
