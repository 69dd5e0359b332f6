// mcfwd::wire — on-the-wire constants shared by the encoder and the decoder.
// Internal to lib/wire and its tests; not part of the codec's contract.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mcfwd::wire::fmt {

inline constexpr uint16_t ethertype_ipv4 = 0x0800;
inline constexpr uint16_t ethertype_ipv6 = 0x86dd;
inline constexpr uint16_t ethertype_vlan = 0x8100;
inline constexpr std::size_t eth_header_len = 14;
inline constexpr std::size_t vlan_tag_len = 4;

inline constexpr uint8_t ipproto_hopopts = 0;
inline constexpr uint8_t ipproto_igmp = 2;
inline constexpr uint8_t ipproto_routing = 43;
inline constexpr uint8_t ipproto_fragment = 44;
inline constexpr uint8_t ipproto_ah = 51;
inline constexpr uint8_t ipproto_icmpv6 = 58;
inline constexpr uint8_t ipproto_dstopts = 60;

inline constexpr std::size_t ipv4_header_len = 20;
inline constexpr uint8_t ipv4_opt_eol = 0;
inline constexpr uint8_t ipv4_opt_nop = 1;
inline constexpr uint8_t ipv4_opt_router_alert = 0x94; // RFC 2113: copied, class 0, number 20
inline constexpr uint16_t ipv4_flag_df = 0x4000;
inline constexpr uint16_t ipv4_flag_mf = 0x2000;
inline constexpr uint16_t ipv4_offset_mask = 0x1fff;
/// IP precedence 6, internetwork control: RFC 3376 §4 for IGMPv3; Linux
/// (net/ipv4/igmp.c) sends IGMPv1/v2 with it too, and so do we.
inline constexpr uint8_t igmp_tos = 0xc0;

inline constexpr std::size_t ipv6_header_len = 40;
inline constexpr uint8_t ipv6_opt_pad1 = 0;
inline constexpr uint8_t ipv6_opt_padn = 1;
inline constexpr uint8_t ipv6_opt_router_alert = 5;  // RFC 2711
inline constexpr uint16_t ipv6_router_alert_mld = 0; // RFC 2711 §2.1
/// Extension headers the decoder walks before giving up.
inline constexpr int ipv6_max_extension_headers = 8;

inline constexpr uint8_t igmp_query = 0x11;
inline constexpr uint8_t igmp_v1_report = 0x12;
inline constexpr uint8_t igmp_v2_report = 0x16;
inline constexpr uint8_t igmp_v2_leave = 0x17;
inline constexpr uint8_t igmp_v3_report = 0x22;
inline constexpr std::size_t igmp_min_len = 8;
inline constexpr std::size_t igmp_v3_query_min_len = 12;
inline constexpr std::size_t igmp_v3_report_header_len = 8;
inline constexpr std::size_t igmp_v3_record_header_len = 8;

inline constexpr uint8_t mld_query = 130;
inline constexpr uint8_t mld_v1_report = 131;
inline constexpr uint8_t mld_v1_done = 132;
inline constexpr uint8_t mld_v2_report = 143;
inline constexpr std::size_t mld_v1_len = 24;
inline constexpr std::size_t mld_v2_query_min_len = 28;
inline constexpr std::size_t mld_v2_report_header_len = 8;
inline constexpr std::size_t mld_v2_record_header_len = 20;

/// Minimum link MTUs: RFC 791 (68) and RFC 8200 §5 (1280).
inline constexpr uint16_t ipv4_min_mtu = 68;
inline constexpr uint16_t ipv6_min_mtu = 1280;

inline uint16_t load16(const uint8_t* p) noexcept {
    return uint16_t(p[0] << 8 | p[1]);
}
inline void store16(uint8_t* p, uint16_t v) noexcept {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

} // namespace mcfwd::wire::fmt
