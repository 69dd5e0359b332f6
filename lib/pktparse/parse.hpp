// mcfwd::pktparse — the forwarding lcores' L2/L3 parser: one Ethernet frame in,
// either the (source, group) the tables are looked up with, or the reason the
// frame is dropped. Pure C++ (no DPDK), header-inline because it runs once per
// received packet.
//
// What is accepted (RFC 894 Ethernet II framing):
//   Ethernet [802.1Q tag] IPv4 (RFC 791) or IPv6 (RFC 8200) to a multicast group
//   whose scope is wider than the link.
// IGMP (IPv4 protocol 2, RFC 3376 §4) and MLD (ICMPv6 types 130/131/132/143,
// RFC 3810 §5, RFC 2710 §3) are accepted with control = true: the data path
// punts them to the control lcore and does not forward them. They are
// recognised before the link-local-scope check because IGMP/MLD live in that
// scope (224.0.0.1/.22, ff02::1/::16) and IGMPv2/MLDv1 reports go to the group
// itself.
//
// Decisions, and why:
//  - No checksum verification. The IPv4 header checksum protects a header this
//    parser reads only to choose a destination; the NIC and the Ethernet FCS
//    already discarded corrupted frames, mcfwd never rewrites or routes by TTL,
//    and receivers (and the control plane for IGMP/MLD, RFC 3376 §4 "checksum")
//    verify what they consume. RFC 1812 §5.2.2 requires routers to verify it;
//    mcfwd delivers frames untouched as a bridge-like fan-out, so a corrupted
//    header at worst reaches a receiver that would have dropped it anyway.
//    IPv6 has no header checksum (RFC 8200 §8.1 discusses why).
//  - Fragments are forwarded like any packet. mcfwd selects by (source, group)
//    only, and every fragment repeats both (RFC 791 §3.2 copies the IP header
//    into each fragment; RFC 8200 §4.5 repeats the unfragmentable part). So
//    source filtering of a non-first fragment is exactly as safe as of the first;
//    no reassembly is needed and none is done. IGMP fragments (protocol 2 is in
//    every fragment's header) are punted; the control plane's decoder drops what
//    it cannot read. An IPv6 non-first fragment carrying ICMPv6 cannot be told
//    apart from other ICMPv6: it is forwarded as data if its group is forwardable
//    (MLDv2 reports go to ff02::16 and are dropped as link-local anyway).
//  - One 802.1Q tag (TPID 0x8100). A second tag, or an 802.1ad S-tag (0x88a8) or
//    the legacy 0x9100 as outer TPID, is QinQ: dropped as double_vlan.
//  - The IPv6 extension chain is walked over Hop-by-Hop (0), Routing (43),
//    Fragment (44) and Destination Options (60), at most max_ipv6_ext headers,
//    each entirely inside the IPv6 payload; Hop-by-Hop only first (RFC 8200
//    §4.1). Other next-header values end the walk (upper layer, ESP, AH, No Next
//    Header); only ICMPv6 is looked into, to find MLD. Jumbograms (payload length
//    0, RFC 2675) cannot occur on Ethernet and are dropped as bad_ipv6_header.
//  - A multicast source address is dropped (RFC 1122 §3.2.1.3 (c), RFC 4291
//    §2.7: a multicast address must not be a source), and so is an IPv6 source in
//    ::ffff:0:0/96, which would alias an IPv4 source in the tables.
//  - Frames longer than the IP packet (Ethernet padding to 60 bytes) are fine;
//    frames shorter than the IP length field are truncated.
//
// Two forms of the result. parse_meta() is the data path's: it writes a 32-byte
// Meta in place (IPv4 addresses as the packet's 4-byte values, IPv6 as a pointer
// into the frame), so nothing is copied after parsing; the tables take those as
// keys. parse() builds a self-contained ParseResult with IpAddr addresses from
// it, for the control plane and tests. (Returning a 56-byte ParseResult by value
// per packet cost the forwarding loop about 60 % of its cycles at 15 groups in
// stack copies and store-forwarding stalls: issue 11's profile.)
//
// Thread-safety: pure functions of their arguments. Errors are values; nothing
// throws, allocates or reads outside [frame, frame + len).
#pragma once

#include "addr/ip_addr.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace mcfwd::pktparse {

using addr::Family;
using addr::IpAddr;

// Why a frame is not forwarded by the parser. X(name, description): the data
// path counts them, telemetry names them, docs are generated from this list.
#define MCFWD_PKTPARSE_DROP_REASONS(X)                                                             \
    X(truncated, "frame shorter than the headers it announces")                                    \
    X(double_vlan, "more than one VLAN tag (QinQ / 802.1ad), not supported")                       \
    X(not_ip, "EtherType is neither IPv4 nor IPv6 (ARP, LLDP, ...)")                               \
    X(bad_ipv4_header, "IPv4 version, IHL or total length inconsistent")                           \
    X(bad_ipv6_header, "IPv6 version wrong or jumbogram (payload length 0)")                       \
    X(ipv6_ext_chain, "IPv6 extension header chain too long, misplaced or truncated")              \
    X(not_multicast, "destination is not a multicast group")                                       \
    X(bad_source, "source address is multicast (or IPv4-mapped in IPv6)")                          \
    X(link_local_group, "group of link-local scope (224.0.0.0/24, ff01::/16, ff02::/16)")

enum class DropReason : uint8_t {
#define MCFWD_PKTPARSE_X(name, desc) name,
    MCFWD_PKTPARSE_DROP_REASONS(MCFWD_PKTPARSE_X)
#undef MCFWD_PKTPARSE_X
};

inline constexpr size_t drop_reason_count = 0
#define MCFWD_PKTPARSE_X(name, desc) +1
    MCFWD_PKTPARSE_DROP_REASONS(MCFWD_PKTPARSE_X)
#undef MCFWD_PKTPARSE_X
    ;

/// "truncated", "not_ip", ... (the X-macro name).
constexpr std::string_view drop_reason_name(DropReason r) noexcept {
    switch (r) {
#define MCFWD_PKTPARSE_X(name, desc)                                                               \
    case DropReason::name:                                                                         \
        return #name;
        MCFWD_PKTPARSE_DROP_REASONS(MCFWD_PKTPARSE_X)
#undef MCFWD_PKTPARSE_X
    }
    return "?";
}

constexpr std::string_view drop_reason_description(DropReason r) noexcept {
    switch (r) {
#define MCFWD_PKTPARSE_X(name, desc)                                                               \
    case DropReason::name:                                                                         \
        return desc;
        MCFWD_PKTPARSE_DROP_REASONS(MCFWD_PKTPARSE_X)
#undef MCFWD_PKTPARSE_X
    }
    return "?";
}

/// At most this many IPv6 extension headers before the upper layer.
inline constexpr unsigned max_ipv6_ext = 8;

/// What the data path keeps of a frame: written once by parse_meta(), read in
/// place (a per-burst array of these; nothing is copied after parsing). 32 bytes.
/// IPv4 addresses stay 4 bytes as the packet carries them (network order, loaded
/// as a uint32: the tables' IPv4 keys); IPv6 addresses are not copied at all, the
/// frame's own bytes are the key (ip6 points at the IPv6 header in the frame).
struct Meta {
    uint32_t src4;      // IPv4 source, network order (IPv6: 0)
    uint32_t group4;    // IPv4 group, network order (IPv6: 0)
    const uint8_t* ip6; // IPv6: the frame's IPv6 header (source at +8, group at +24); IPv4: null
    /// Offset of the upper-layer header (after IPv4 options / IPv6 extensions);
    /// l3_offset < l4_offset <= l3_offset + ip_length. For IPv6 non-first fragments,
    /// the offset after the Fragment header.
    uint32_t l4_offset;
    /// The IP packet's length from its header (IPv4 total length, IPv6 40 + payload
    /// length); l3_offset + ip_length <= len.
    uint32_t ip_length;
    /// Offset of the IP header in the frame (14, or 18 behind a VLAN tag).
    uint16_t l3_offset;
    /// The 802.1Q TCI (PCP, DEI, VID) when tagged(), else 0.
    uint16_t vlan_tci;
    /// IPv4 TTL or IPv6 hop limit.
    uint8_t hop_limit;
    uint8_t flags;
    /// Why the frame is dropped, when parse_meta() returned false.
    DropReason drop;

    static constexpr uint8_t flag_v6 = 1;
    static constexpr uint8_t flag_control = 2; // IGMP or MLD: punt, do not forward
    static constexpr uint8_t flag_tagged = 4;  // one 802.1Q tag
    bool v6() const noexcept { return flags & flag_v6; }
    bool control() const noexcept { return flags & flag_control; }
    bool tagged() const noexcept { return flags & flag_tagged; }
    Family family() const noexcept { return v6() ? Family::v6 : Family::v4; }
};
static_assert(sizeof(Meta) == 32);

/// A frame the data path may forward (or punt, when control): parse()'s
/// self-contained form of a Meta, for the control plane and tests.
struct Packet {
    IpAddr src;
    IpAddr dst; // the group
    Family family;
    /// IGMP or MLD: punt to the control lcore, do not forward.
    bool control;
    /// IPv4 TTL or IPv6 hop limit.
    uint8_t hop_limit;
    /// Offset of the IP header in the frame (14, or 18 behind a VLAN tag); < len.
    uint16_t l3_offset;
    /// As Meta::l4_offset.
    uint32_t l4_offset;
    /// As Meta::ip_length.
    uint32_t ip_length;
    /// The 802.1Q TCI (PCP, DEI, VID) when the frame carried one tag.
    std::optional<uint16_t> vlan_tci;
};

/// Either a Packet (ok) or a DropReason. Plain data.
struct ParseResult {
    Packet packet; // meaningful when ok
    DropReason drop;
    bool ok;
};

namespace detail {

inline uint16_t be16(const uint8_t* p) noexcept {
    return uint16_t(p[0] << 8 | p[1]);
}

inline bool fail(Meta& m, DropReason r) noexcept {
    m.drop = r;
    return false;
}

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;
constexpr uint16_t tpid_8021q = 0x8100;
constexpr uint16_t tpid_8021ad = 0x88a8;
constexpr uint16_t tpid_qinq_legacy = 0x9100;

constexpr uint8_t proto_igmp = 2;
constexpr uint8_t nh_hop_by_hop = 0;
constexpr uint8_t nh_routing = 43;
constexpr uint8_t nh_fragment = 44;
constexpr uint8_t nh_icmpv6 = 58;
constexpr uint8_t nh_dest_opts = 60;

/// MLD message types: Query, v1 Report, v1 Done (RFC 2710 §3), v2 Report (RFC 3810 §5.2).
inline bool is_mld_type(uint8_t t) noexcept {
    return t == 130 || t == 131 || t == 132 || t == 143;
}

/// IPv4 and IPv6 multicast tests on raw bytes, so the hot path does not build an
/// IpAddr for a frame it drops.
inline bool v4_multicast(const uint8_t* a) noexcept {
    return (a[0] & 0xf0) == 0xe0;
}
inline bool v4_link_local_group(const uint8_t* a) noexcept {
    return a[0] == 224 && a[1] == 0 && a[2] == 0;
}
/// ::ffff:0:0/96. IpAddr holds IPv4 this way, so such an IPv6 source would match IPv4
/// filters; RFC 4291 §2.5.5.2 keeps these addresses off the wire, so it is dropped.
inline bool v4_mapped(const uint8_t* a) noexcept {
    static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(a, prefix, 12) == 0;
}
inline bool v6_link_local_group(const uint8_t* a) noexcept {
    return (a[1] & 0x0f) == 0x1 || (a[1] & 0x0f) == 0x2; // a[0] == 0xff checked before
}

inline bool parse_ipv4(const uint8_t* frame, size_t len, size_t l3, Meta& m) noexcept {
    const size_t avail = len - l3;
    if (avail < 20)
        return fail(m, DropReason::truncated);
    const uint8_t* ip = frame + l3;
    const unsigned ihl = (ip[0] & 0x0fu) * 4u;
    const unsigned total = be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl)
        return fail(m, DropReason::bad_ipv4_header);
    if (total > avail)
        return fail(m, DropReason::truncated);
    const uint8_t* src = ip + 12;
    const uint8_t* dst = ip + 16;
    if (!v4_multicast(dst))
        return fail(m, DropReason::not_multicast);
    if (v4_multicast(src))
        return fail(m, DropReason::bad_source);
    const bool control = ip[9] == proto_igmp;
    if (!control && v4_link_local_group(dst))
        return fail(m, DropReason::link_local_group);
    std::memcpy(&m.src4, src, 4);
    std::memcpy(&m.group4, dst, 4);
    m.ip6 = nullptr;
    m.flags |= control ? Meta::flag_control : 0;
    m.hop_limit = ip[8];
    m.l3_offset = uint16_t(l3);
    m.l4_offset = uint32_t(l3 + ihl);
    m.ip_length = total;
    return true;
}

inline bool parse_ipv6(const uint8_t* frame, size_t len, size_t l3, Meta& m) noexcept {
    const size_t avail = len - l3;
    if (avail < 40)
        return fail(m, DropReason::truncated);
    const uint8_t* ip = frame + l3;
    const unsigned payload = be16(ip + 4);
    if ((ip[0] >> 4) != 6 || payload == 0)
        return fail(m, DropReason::bad_ipv6_header);
    if (40u + payload > avail)
        return fail(m, DropReason::truncated);
    const uint8_t* src = ip + 8;
    const uint8_t* dst = ip + 24;
    if (dst[0] != 0xff)
        return fail(m, DropReason::not_multicast);
    if (src[0] == 0xff || v4_mapped(src))
        return fail(m, DropReason::bad_source);

    // Walk the extension chain inside the payload: [off, end) relative to ip.
    const size_t end = 40u + payload;
    size_t off = 40;
    uint8_t nh = ip[6];
    bool control = false;
    for (unsigned n = 0;; ++n) {
        if (nh == nh_hop_by_hop || nh == nh_routing || nh == nh_dest_opts) {
            // Hop-by-Hop must come first (RFC 8200 §4.1).
            if (n >= max_ipv6_ext || (nh == nh_hop_by_hop && n != 0) || end - off < 8)
                return fail(m, DropReason::ipv6_ext_chain);
            const size_t hlen = (size_t(ip[off + 1]) + 1) * 8; // RFC 8200 §4.3: 8-octet units
            if (end - off < hlen)
                return fail(m, DropReason::ipv6_ext_chain);
            nh = ip[off];
            off += hlen;
        } else if (nh == nh_fragment) {
            if (n >= max_ipv6_ext || end - off < 8)
                return fail(m, DropReason::ipv6_ext_chain);
            const bool first = (be16(ip + off + 2) & 0xfff8u) == 0; // RFC 8200 §4.5
            nh = ip[off];
            off += 8;
            if (!first)
                break; // the upper-layer header is in the first fragment
        } else {
            if (nh == nh_icmpv6) {
                if (end - off < 1)
                    return fail(m, DropReason::truncated);
                control = is_mld_type(ip[off]);
            }
            break;
        }
    }
    if (!control && v6_link_local_group(dst))
        return fail(m, DropReason::link_local_group);
    m.src4 = m.group4 = 0;
    m.ip6 = ip;
    m.flags |= Meta::flag_v6 | (control ? Meta::flag_control : 0);
    m.hop_limit = ip[7];
    m.l3_offset = uint16_t(l3);
    m.l4_offset = uint32_t(l3 + off);
    m.ip_length = uint32_t(end);
    return true;
}

} // namespace detail

/// Parses one Ethernet frame of len bytes at frame (frame may be null when len
/// is 0) into m: true if the frame may be forwarded (or punted, m.control()),
/// false with m.drop set otherwise. Reads only [frame, frame + len); bytes past
/// the IP length are padding. The data path's parser: no IpAddr is built.
inline bool parse_meta(const uint8_t* frame, size_t len, Meta& m) noexcept {
    using namespace detail;
    m.flags = 0;
    m.vlan_tci = 0;
    if (len < 14)
        return fail(m, DropReason::truncated);
    size_t l3 = 14;
    uint16_t type = be16(frame + 12);
    if (type == tpid_8021ad || type == tpid_qinq_legacy)
        return fail(m, DropReason::double_vlan);
    if (type == tpid_8021q) {
        if (len < 18)
            return fail(m, DropReason::truncated);
        m.vlan_tci = be16(frame + 14);
        m.flags = Meta::flag_tagged;
        type = be16(frame + 16);
        l3 = 18;
        if (type == tpid_8021q || type == tpid_8021ad || type == tpid_qinq_legacy)
            return fail(m, DropReason::double_vlan);
    }
    if (type == ethertype_ipv4)
        return parse_ipv4(frame, len, l3, m);
    if (type == ethertype_ipv6)
        return parse_ipv6(frame, len, l3, m);
    return fail(m, DropReason::not_ip);
}

/// The source of a parsed frame as an IpAddr (IPv4 v4-mapped).
inline IpAddr source_of(const Meta& m) noexcept {
    return m.v6() ? IpAddr::from_v6_bytes(m.ip6 + 8)
                  : IpAddr::from_v4_bytes(reinterpret_cast<const uint8_t*>(&m.src4));
}
/// The group of a parsed frame as an IpAddr.
inline IpAddr group_of(const Meta& m) noexcept {
    return m.v6() ? IpAddr::from_v6_bytes(m.ip6 + 24)
                  : IpAddr::from_v4_bytes(reinterpret_cast<const uint8_t*>(&m.group4));
}

/// parse_meta() with the result as self-contained values (IpAddr addresses):
/// for the control plane and tests, where a copy does not matter.
inline ParseResult parse(const uint8_t* frame, size_t len) noexcept {
    Meta m;
    ParseResult res{};
    res.ok = parse_meta(frame, len, m);
    if (!res.ok) {
        res.drop = m.drop;
        return res;
    }
    Packet& p = res.packet;
    p.src = source_of(m);
    p.dst = group_of(m);
    p.family = m.family();
    p.control = m.control();
    p.hop_limit = m.hop_limit;
    p.l3_offset = m.l3_offset;
    p.l4_offset = m.l4_offset;
    p.ip_length = m.ip_length;
    if (m.tagged())
        p.vlan_tci = m.vlan_tci;
    return res;
}

} // namespace mcfwd::pktparse
