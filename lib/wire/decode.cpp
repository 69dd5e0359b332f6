// Decoding of frames into IGMP/MLD messages (see codec.hpp for the contract).
//
// Every read is preceded by a bounds check against the span it reads from; the
// spans only ever shrink (Ethernet → IP total/payload length → message).
#include "wire/checksum.hpp"
#include "wire/codec.hpp"
#include "wire/time_code.hpp"
#include "wire/wire_format.hpp"

#include <optional>

namespace mcfwd::wire {

namespace {

using namespace fmt;
using Bytes = std::span<const uint8_t>;

bool is_group_of(Family f, const IpAddr& a) {
    return a.is_multicast() && a.is_v4() == (f == Family::v4);
}
bool is_query_group_of(Family f, const IpAddr& a) {
    return (a.is_unspecified() && a.is_v4() == (f == Family::v4)) || is_group_of(f, a);
}

bool is_record_type(uint8_t t) {
    return t >= 1 && t <= 6;
}

IpAddr load_addr(Family f, const uint8_t* p) {
    return f == Family::v4 ? IpAddr::from_v4_bytes(p) : IpAddr::from_v6_bytes(p);
}

/// Group records of an IGMPv3 (RFC 3376 §4.2) or MLDv2 (RFC 3810 §5.2) report.
DecodeResult decode_v3_report(Family f, Bytes msg, DecodedFrame& d) {
    const std::size_t alen = f == Family::v4 ? 4 : 16;
    const std::size_t rec_hdr =
        f == Family::v4 ? igmp_v3_record_header_len : mld_v2_record_header_len;
    const std::size_t n_records = load16(&msg[6]);
    std::size_t off = f == Family::v4 ? igmp_v3_report_header_len : mld_v2_report_header_len;
    Report rep{f, {}};
    rep.records.reserve(std::min(n_records, msg.size() / rec_hdr));
    for (std::size_t i = 0; i < n_records; ++i) {
        if (msg.size() - off < rec_hdr)
            return DropReason::record_overrun;
        const uint8_t type = msg[off];
        const std::size_t aux_len = std::size_t(msg[off + 1]) * 4;
        const std::size_t n_sources = load16(&msg[off + 2]);
        if ((msg.size() - off - rec_hdr) / alen < n_sources)
            return DropReason::record_overrun;
        const std::size_t body = rec_hdr + n_sources * alen;
        if (msg.size() - off - body < aux_len)
            return DropReason::aux_data_overrun;
        if (!is_record_type(type)) {
            // RFC 3810 §5.2.12: records of an unrecognized type are silently
            // ignored and the rest of the report is processed; IGMPv3 alike.
            ++d.ignored_records;
            off += body + aux_len;
            continue;
        }
        GroupRecord rec;
        rec.type = static_cast<RecordType>(type);
        rec.group = load_addr(f, &msg[off + 4]);
        if (!is_group_of(f, rec.group))
            return DropReason::bad_group;
        rec.sources.reserve(n_sources);
        for (std::size_t s = 0; s < n_sources; ++s)
            rec.sources.push_back(load_addr(f, &msg[off + rec_hdr + s * alen]));
        rep.records.push_back(std::move(rec));
        off += body + aux_len;
    }
    d.message = std::move(rep);
    return std::move(d);
}

/// Flags (S, QRV), QQIC and sources of an IGMPv3 / MLDv2 query, from `at`.
std::optional<DropReason> decode_v3_query_tail(Family f, Bytes msg, std::size_t at, Query& q) {
    const std::size_t alen = f == Family::v4 ? 4 : 16;
    q.suppress_router_processing = (msg[at] & 0x08) != 0;
    q.qrv = msg[at] & 0x07;
    q.qqi = std::chrono::seconds(decode_code8(msg[at + 1]));
    const std::size_t n = load16(&msg[at + 2]);
    const std::size_t first = at + 4;
    if ((msg.size() - first) / alen < n)
        return DropReason::query_sources_overrun;
    q.sources.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        q.sources.push_back(load_addr(f, &msg[first + i * alen]));
    return std::nullopt;
}

DecodeResult decode_igmp(Bytes msg, DecodedFrame& d) {
    if (msg.empty())
        return DropReason::message_truncated;
    const uint8_t type = msg[0];
    if (type != igmp_query && type != igmp_v1_report && type != igmp_v2_report &&
        type != igmp_v2_leave && type != igmp_v3_report)
        return DropReason::not_igmp_mld;
    // RFC 3376 §4 / RFC 2236 §2: IGMP travels with TTL 1.
    if (d.ttl != 1)
        return DropReason::bad_ttl;
    if (msg.size() < igmp_min_len)
        return DropReason::message_truncated;
    // RFC 2236 §2.3: the checksum covers the whole IP payload.
    if (internet_checksum(msg) != 0)
        return DropReason::bad_checksum;
    if (type == igmp_v3_report)
        return decode_v3_report(Family::v4, msg, d);

    const IpAddr group = IpAddr::from_v4_bytes(&msg[4]);
    if (type != igmp_query) {
        if (!is_group_of(Family::v4, group))
            return DropReason::bad_group;
        if (type == igmp_v2_leave)
            d.message = Leave{Family::v4, group};
        else
            d.message = LegacyReport{Family::v4, uint8_t(type == igmp_v1_report ? 1 : 2), group};
        return std::move(d);
    }

    if (!is_query_group_of(Family::v4, group))
        return DropReason::bad_group;
    // RFC 3376 §7.1: the version of a query is told by its length and Max Resp Code.
    Query q;
    q.family = Family::v4;
    q.group = group;
    const uint8_t code = msg[1];
    if (msg.size() == igmp_min_len) {
        q.version = code == 0 ? 1 : 2;
        // RFC 2236 §4 / RFC 3376 §7.1: an IGMPv1 query means 10 s (100 tenths).
        q.max_response = code == 0 ? duration(std::chrono::seconds(10))
                                   : duration(std::chrono::milliseconds(100) * code);
    } else if (msg.size() < igmp_v3_query_min_len) {
        return DropReason::bad_query_length;
    } else {
        q.version = 3;
        q.max_response = std::chrono::milliseconds(100) * decode_code8(code);
        if (auto drop = decode_v3_query_tail(Family::v4, msg, 8, q))
            return *drop;
    }
    d.message = std::move(q);
    return std::move(d);
}

DecodeResult decode_mld(Bytes msg, DecodedFrame& d) {
    if (msg.empty())
        return DropReason::message_truncated;
    const uint8_t type = msg[0];
    if (type != mld_query && type != mld_v1_report && type != mld_v1_done && type != mld_v2_report)
        return DropReason::not_igmp_mld;
    // RFC 3810 §5 / RFC 2710 §3: hop limit 1 and a link-local source; §5.1.14 and
    // §5.2.13 have both queries and reports from elsewhere silently discarded.
    if (d.ttl != 1)
        return DropReason::bad_ttl;
    if (!d.ip_src.is_v6_link_local_unicast())
        return DropReason::mld_source_not_link_local;
    const std::size_t min_len = type == mld_v2_report ? mld_v2_report_header_len : mld_v1_len;
    if (msg.size() < min_len)
        return DropReason::message_truncated;
    uint64_t sum = ipv6_pseudo_header_sum(d.ip_src, d.ip_dst, uint32_t(msg.size()), ipproto_icmpv6);
    if (checksum_finish(checksum_add(sum, msg)) != 0)
        return DropReason::bad_checksum;
    if (type == mld_v2_report)
        return decode_v3_report(Family::v6, msg, d);

    const IpAddr group = IpAddr::from_v6_bytes(&msg[8]);
    if (type != mld_query) {
        if (!is_group_of(Family::v6, group))
            return DropReason::bad_group;
        if (type == mld_v1_done)
            d.message = Leave{Family::v6, group};
        else
            d.message = LegacyReport{Family::v6, 1, group};
        return std::move(d);
    }
    if (!is_query_group_of(Family::v6, group))
        return DropReason::bad_group;
    // RFC 3810 §8.1: 24 octets is MLDv1, 28 or more MLDv2, anything else is ignored.
    Query q;
    q.family = Family::v6;
    q.group = group;
    const uint16_t code = load16(&msg[4]);
    if (msg.size() == mld_v1_len) {
        q.version = 1;
        q.max_response = std::chrono::milliseconds(code);
    } else if (msg.size() < mld_v2_query_min_len) {
        return DropReason::bad_query_length;
    } else {
        q.version = 2;
        q.max_response = std::chrono::milliseconds(decode_code16(code));
        if (auto drop = decode_v3_query_tail(Family::v6, msg, 24, q))
            return *drop;
    }
    d.message = std::move(q);
    return std::move(d);
}

DecodeResult decode_ipv4(Bytes ip, DecodedFrame& d) {
    if (ip.size() < ipv4_header_len)
        return DropReason::ip_truncated;
    if ((ip[0] >> 4) != 4)
        return DropReason::bad_ip_version;
    const std::size_t ihl = std::size_t(ip[0] & 0x0f) * 4;
    if (ihl < ipv4_header_len)
        return DropReason::bad_ip_length;
    const std::size_t total = load16(&ip[2]);
    if (total < ihl)
        return DropReason::bad_ip_length;
    if (ihl > ip.size() || total > ip.size())
        return DropReason::ip_truncated;
    if (internet_checksum(ip.first(ihl)) != 0)
        return DropReason::bad_ip_checksum;
    const uint16_t frag = load16(&ip[6]);
    if ((frag & ipv4_flag_mf) != 0 || (frag & ipv4_offset_mask) != 0)
        return DropReason::ip_fragment;
    // RFC 791 §3.1 option list: EOL ends it, NOP is one octet, others carry a length.
    for (std::size_t i = ipv4_header_len; i < ihl;) {
        const uint8_t opt = ip[i];
        if (opt == ipv4_opt_eol)
            break;
        if (opt == ipv4_opt_nop) {
            ++i;
            continue;
        }
        if (ihl - i < 2)
            return DropReason::bad_ip_options;
        const std::size_t len = ip[i + 1];
        if (len < 2 || len > ihl - i)
            return DropReason::bad_ip_options;
        if (opt == ipv4_opt_router_alert) {
            if (len != 4) // RFC 2113 §2.1
                return DropReason::bad_ip_options;
            d.router_alert = true;
        }
        i += len;
    }
    if (ip[9] != ipproto_igmp)
        return DropReason::not_igmp_mld;
    d.ttl = ip[8];
    d.ip_src = IpAddr::from_v4_bytes(&ip[12]);
    d.ip_dst = IpAddr::from_v4_bytes(&ip[16]);
    return decode_igmp(ip.subspan(ihl, total - ihl), d);
}

/// Hop-by-Hop options (RFC 8200 §4.2): finds Router Alert (RFC 2711).
bool parse_hop_by_hop(Bytes opts, DecodedFrame& d) {
    for (std::size_t i = 0; i < opts.size();) {
        if (opts[i] == ipv6_opt_pad1) {
            ++i;
            continue;
        }
        if (opts.size() - i < 2)
            return false;
        const std::size_t len = opts[i + 1];
        if (len > opts.size() - i - 2)
            return false;
        if (opts[i] == ipv6_opt_router_alert) {
            if (len != 2)
                return false;
            if (load16(&opts[i + 2]) == ipv6_router_alert_mld)
                d.router_alert = true;
        }
        i += 2 + len;
    }
    return true;
}

DecodeResult decode_ipv6(Bytes ip, DecodedFrame& d) {
    if (ip.size() < ipv6_header_len)
        return DropReason::ip_truncated;
    if ((ip[0] >> 4) != 6)
        return DropReason::bad_ip_version;
    const std::size_t payload_len = load16(&ip[4]);
    if (payload_len == 0) // a jumbogram (RFC 2675); MLD never is one
        return DropReason::bad_ip_length;
    if (payload_len > ip.size() - ipv6_header_len)
        return DropReason::ip_truncated;
    d.ttl = ip[7];
    d.ip_src = IpAddr::from_v6_bytes(&ip[8]);
    d.ip_dst = IpAddr::from_v6_bytes(&ip[24]);
    const Bytes payload = ip.subspan(ipv6_header_len, payload_len);

    // RFC 8200 §4: walk the chain, bounded both by the payload and by a count.
    uint8_t next = ip[6];
    std::size_t off = 0;
    for (int n = 0; next != ipproto_icmpv6; ++n) {
        if (n == ipv6_max_extension_headers)
            return DropReason::too_many_extension_headers;
        if (next == ipproto_fragment)
            return DropReason::ip_fragment;
        if (next != ipproto_hopopts && next != ipproto_routing && next != ipproto_dstopts &&
            next != ipproto_ah)
            return DropReason::not_igmp_mld;
        // Hop-by-Hop only ever comes first (RFC 8200 §4.3).
        if (next == ipproto_hopopts && n != 0)
            return DropReason::bad_extension_header;
        if (payload.size() - off < 8)
            return DropReason::bad_extension_header;
        const std::size_t len = next == ipproto_ah ? (std::size_t(payload[off + 1]) + 2) * 4
                                                   : (std::size_t(payload[off + 1]) + 1) * 8;
        if (len > payload.size() - off)
            return DropReason::bad_extension_header;
        // With Segments Left > 0 the packet is not yet at its final destination, and
        // the ICMPv6 checksum would be over another address (RFC 8200 §8.1).
        if (next == ipproto_routing && payload[off + 3] != 0)
            return DropReason::bad_extension_header;
        if (next == ipproto_hopopts && !parse_hop_by_hop(payload.subspan(off + 2, len - 2), d))
            return DropReason::bad_extension_header;
        next = payload[off];
        off += len;
    }
    return decode_mld(payload.subspan(off), d);
}

} // namespace

DecodeResult decode(std::span<const uint8_t> frame) {
    DecodedFrame d;
    if (frame.size() < eth_header_len)
        return DropReason::eth_truncated;
    std::copy_n(frame.begin(), 6, d.dst_mac.bytes.begin());
    std::copy_n(frame.begin() + 6, 6, d.src_mac.bytes.begin());
    uint16_t type = load16(&frame[12]);
    std::size_t off = eth_header_len;
    if (type == ethertype_vlan) {
        if (frame.size() < eth_header_len + vlan_tag_len)
            return DropReason::eth_truncated;
        const uint16_t tci = load16(&frame[14]);
        d.vlan = tci & 0x0fff;
        d.vlan_pcp = uint8_t(tci >> 13);
        type = load16(&frame[16]);
        off += vlan_tag_len;
    }
    if (type == ethertype_ipv4)
        return decode_ipv4(frame.subspan(off), d);
    if (type == ethertype_ipv6)
        return decode_ipv6(frame.subspan(off), d);
    return DropReason::not_ip;
}

} // namespace mcfwd::wire
