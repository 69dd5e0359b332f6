// Encoding of IGMP/MLD messages into frames (see codec.hpp for the contract).
#include "wire/checksum.hpp"
#include "wire/codec.hpp"
#include "wire/time_code.hpp"
#include "wire/wire_format.hpp"

#include <algorithm>
#include <limits>

namespace mcfwd::wire {

namespace {

using namespace fmt;

const IpAddr all_systems_v4 = IpAddr::v4(0xe0000001); // 224.0.0.1
const IpAddr all_routers_v4 = IpAddr::v4(0xe0000002); // 224.0.0.2
const IpAddr igmpv3_routers = IpAddr::v4(0xe0000016); // 224.0.0.22, RFC 3376 §4.2.14
const IpAddr all_nodes_v6 = *IpAddr::parse("ff02::1");
const IpAddr all_routers_v6 = *IpAddr::parse("ff02::2");
const IpAddr mldv2_routers = *IpAddr::parse("ff02::16"); // RFC 3810 §5.2.14

bool is_group_of(Family f, const IpAddr& a) {
    return a.is_multicast() && a.is_v4() == (f == Family::v4);
}

/// A query's group: multicast, or unspecified for a general query. For IGMP the
/// default-constructed "::" is taken as 0.0.0.0 so callers need not spell it.
bool is_query_group_of(Family f, const IpAddr& a) {
    if (a.is_unspecified())
        return f == Family::v4 || !a.is_v4();
    return is_group_of(f, a);
}

errc check_params(Family f, const FrameParams& p) {
    if (p.vlan && *p.vlan > 0x0fff)
        return errc::invalid;
    if (p.vlan_pcp > 7)
        return errc::invalid;
    if (f == Family::v4)
        return p.ipv4_src.is_v4() && p.mtu >= ipv4_min_mtu ? errc::ok : errc::invalid;
    // RFC 3810 §5: MLD messages are sent from a link-local address.
    return p.ipv6_src.is_v6_link_local_unicast() && p.mtu >= ipv6_min_mtu ? errc::ok
                                                                          : errc::invalid;
}

/// Octets of IP header (with Router Alert / Hop-by-Hop) in front of the message.
std::size_t ip_overhead(Family f, bool router_alert) {
    if (f == Family::v4)
        return ipv4_header_len + (router_alert ? 4 : 0);
    return ipv6_header_len + 8;
}

void put16(Frame& f, uint16_t v) {
    f.push_back(uint8_t(v >> 8));
    f.push_back(uint8_t(v));
}

void put_addr(std::vector<uint8_t>& m, Family f, const IpAddr& a) {
    if (f == Family::v4)
        m.insert(m.end(), a.v4_bytes(), a.v4_bytes() + 4);
    else
        m.insert(m.end(), a.bytes().begin(), a.bytes().end());
}

uint32_t to_units(duration d, duration unit) {
    if (d.count() <= 0)
        return 0;
    auto n = d / unit;
    return n > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                    : static_cast<uint32_t>(n);
}

/// Wraps an IGMP or ICMPv6 message (checksum field at offset 2, zero) into a
/// frame and fills in both checksums.
Frame build_frame(const FrameParams& p, Family f, const IpAddr& dst, bool router_alert,
                  const std::vector<uint8_t>& msg) {
    Frame fr;
    fr.reserve(eth_header_len + vlan_tag_len + ip_overhead(f, router_alert) + msg.size());
    const MacAddr dst_mac = dst.multicast_mac();
    fr.insert(fr.end(), dst_mac.bytes.begin(), dst_mac.bytes.end());
    fr.insert(fr.end(), p.src_mac.bytes.begin(), p.src_mac.bytes.end());
    if (p.vlan) {
        put16(fr, ethertype_vlan);
        put16(fr, uint16_t(p.vlan_pcp << 13 | (*p.vlan & 0x0fff)));
    }
    put16(fr, f == Family::v4 ? ethertype_ipv4 : ethertype_ipv6);
    const std::size_t ip_at = fr.size();
    const std::size_t hdr_len = ip_overhead(f, router_alert);
    if (f == Family::v4) {
        fr.push_back(uint8_t(0x40 | hdr_len / 4));
        fr.push_back(igmp_tos);
        put16(fr, uint16_t(hdr_len + msg.size()));
        // Identification 0 with DF set: an atomic datagram (RFC 6864 §4), as Linux
        // sends IGMP; the packet is never fragmented anyway (TTL 1, fits the MTU).
        put16(fr, 0);
        put16(fr, ipv4_flag_df);
        fr.push_back(1); // TTL 1: RFC 3376 §4, RFC 2236 §2
        fr.push_back(ipproto_igmp);
        put16(fr, 0);
        fr.insert(fr.end(), p.ipv4_src.v4_bytes(), p.ipv4_src.v4_bytes() + 4);
        fr.insert(fr.end(), dst.v4_bytes(), dst.v4_bytes() + 4);
        if (router_alert) {
            fr.push_back(ipv4_opt_router_alert);
            fr.push_back(4);
            put16(fr, 0); // "every router examines the packet", RFC 2113 §2.1
        }
        store16(&fr[ip_at + 10], internet_checksum({fr.data() + ip_at, hdr_len}));
    } else {
        put16(fr, 0x6000); // version 6, traffic class 0, flow label 0
        put16(fr, 0);
        put16(fr, uint16_t(8 + msg.size()));
        fr.push_back(ipproto_hopopts);
        fr.push_back(1); // hop limit 1: RFC 3810 §5
        fr.insert(fr.end(), p.ipv6_src.bytes().begin(), p.ipv6_src.bytes().end());
        fr.insert(fr.end(), dst.bytes().begin(), dst.bytes().end());
        // Hop-by-Hop: Router Alert "MLD" (RFC 2711 §2.1, RFC 3810 §5) and PadN(0)
        // to the 8-octet boundary.
        const uint8_t hbh[8] = {
            ipproto_icmpv6,        0,       // next header; length 0 = 8 octets
            ipv6_opt_router_alert, 2, 0, 0, // Router Alert, value 0 = MLD
            ipv6_opt_padn,         0,       // PadN without data
        };
        fr.insert(fr.end(), hbh, hbh + 8);
    }
    const std::size_t msg_at = fr.size();
    fr.insert(fr.end(), msg.begin(), msg.end());
    uint64_t sum = 0;
    if (f == Family::v6)
        sum = ipv6_pseudo_header_sum(p.ipv6_src, dst, uint32_t(msg.size()), ipproto_icmpv6);
    sum = checksum_add(sum, {fr.data() + msg_at, msg.size()});
    store16(&fr[msg_at + 2], checksum_finish(sum));
    return fr;
}

bool valid_record_type(RecordType t) {
    auto v = static_cast<uint8_t>(t);
    return v >= 1 && v <= 6;
}

} // namespace

errc encode_report(const Report& report, const FrameParams& p, std::vector<Frame>& out) {
    const Family f = report.family;
    if (auto e = check_params(f, p); e != errc::ok)
        return e;
    for (const GroupRecord& r : report.records) {
        if (!valid_record_type(r.type) || !is_group_of(f, r.group))
            return errc::invalid;
        if (f == Family::v4)
            for (const IpAddr& s : r.sources)
                if (!s.is_v4())
                    return errc::invalid;
    }
    if (report.records.empty())
        return errc::ok;

    const bool v4 = f == Family::v4;
    const std::size_t addr_len = v4 ? 4 : 16;
    const std::size_t header_len = v4 ? igmp_v3_report_header_len : mld_v2_report_header_len;
    const std::size_t record_header_len = v4 ? igmp_v3_record_header_len : mld_v2_record_header_len;
    const std::size_t limit = p.mtu - ip_overhead(f, true); // largest message
    const std::size_t max_sources = (limit - header_len - record_header_len) / addr_len;
    const IpAddr& dst = v4 ? igmpv3_routers : mldv2_routers;

    std::vector<Frame> frames;
    std::vector<uint8_t> msg;
    uint16_t records = 0;
    auto start = [&] {
        msg.assign(header_len, 0);
        msg[0] = v4 ? igmp_v3_report : mld_v2_report;
        records = 0;
    };
    auto flush = [&] {
        if (records != 0) {
            store16(&msg[6], records);
            frames.push_back(build_frame(p, f, dst, true, msg));
        }
        start();
    };
    auto append = [&](const GroupRecord& r, std::size_t first, std::size_t count) {
        msg.push_back(static_cast<uint8_t>(r.type));
        msg.push_back(0); // no auxiliary data (RFC 3376 §4.2.6: 0 in IGMPv3)
        msg.push_back(uint8_t(count >> 8));
        msg.push_back(uint8_t(count));
        put_addr(msg, f, r.group);
        for (std::size_t i = first; i < first + count; ++i)
            put_addr(msg, f, r.sources[i]);
        ++records;
    };

    start();
    for (const GroupRecord& r : report.records) {
        const std::size_t size = record_header_len + r.sources.size() * addr_len;
        if (msg.size() + size <= limit) {
            append(r, 0, r.sources.size());
            continue;
        }
        flush();
        if (header_len + size <= limit) {
            append(r, 0, r.sources.size());
            continue;
        }
        // RFC 3376 §4.2.16 / RFC 3810 §5.2.15: a record that fits no single report.
        if (r.type == RecordType::mode_is_exclude || r.type == RecordType::change_to_exclude) {
            // "a single Group Record is sent, containing as many source addresses
            // as can fit, and the remaining source addresses are not reported".
            append(r, 0, max_sources);
            flush();
            continue;
        }
        // Otherwise "split into multiple Group Records, each containing a different
        // subset of the source addresses and each sent in a separate Report
        // message". The last chunk leaves room that later records may use.
        for (std::size_t first = 0; first < r.sources.size(); first += max_sources) {
            if (first != 0)
                flush();
            append(r, first, std::min(max_sources, r.sources.size() - first));
        }
    }
    flush();
    out.insert(out.end(), std::make_move_iterator(frames.begin()),
               std::make_move_iterator(frames.end()));
    return errc::ok;
}

errc encode_legacy_report(const LegacyReport& report, const FrameParams& p,
                          std::vector<Frame>& out) {
    const Family f = report.family;
    if (auto e = check_params(f, p); e != errc::ok)
        return e;
    if (!is_group_of(f, report.group))
        return errc::invalid;
    std::vector<uint8_t> msg;
    if (f == Family::v4) {
        if (report.version != 1 && report.version != 2)
            return errc::invalid;
        msg = {report.version == 1 ? igmp_v1_report : igmp_v2_report, 0, 0, 0};
        put_addr(msg, f, report.group);
        // RFC 1112 predates Router Alert; RFC 2236 §2 adds it from version 2 on.
        out.push_back(build_frame(p, f, report.group, report.version == 2, msg));
        return errc::ok;
    }
    if (report.version != 1)
        return errc::invalid;
    msg.assign(8, 0);
    msg[0] = mld_v1_report;
    put_addr(msg, f, report.group);
    out.push_back(build_frame(p, f, report.group, true, msg));
    return errc::ok;
}

errc encode_leave(const Leave& leave, const FrameParams& p, std::vector<Frame>& out) {
    const Family f = leave.family;
    if (auto e = check_params(f, p); e != errc::ok)
        return e;
    if (!is_group_of(f, leave.group))
        return errc::invalid;
    std::vector<uint8_t> msg;
    if (f == Family::v4) {
        msg = {igmp_v2_leave, 0, 0, 0};
        put_addr(msg, f, leave.group);
        out.push_back(build_frame(p, f, all_routers_v4, true, msg));
    } else {
        msg.assign(8, 0);
        msg[0] = mld_v1_done;
        put_addr(msg, f, leave.group);
        out.push_back(build_frame(p, f, all_routers_v6, true, msg));
    }
    return errc::ok;
}

errc encode_query(const Query& q, const FrameParams& p, std::vector<Frame>& out) {
    const Family f = q.family;
    if (auto e = check_params(f, p); e != errc::ok)
        return e;
    if (!is_query_group_of(f, q.group))
        return errc::invalid;
    const bool v4 = f == Family::v4;
    const bool latest = q.version == (v4 ? 3 : 2);
    if (q.version < 1 || q.version > (v4 ? 3 : 2))
        return errc::invalid;
    if (!latest && !q.sources.empty())
        return errc::invalid;
    if (q.sources.size() > 0xffff)
        return errc::invalid;
    if (v4)
        for (const IpAddr& s : q.sources)
            if (!s.is_v4())
                return errc::invalid;
    const std::size_t len =
        v4 ? (latest ? igmp_v3_query_min_len + 4 * q.sources.size() : 8)
           : (latest ? mld_v2_query_min_len + 16 * q.sources.size() : mld_v1_len);
    // IGMPv1 queries carry no Router Alert (RFC 1112); all others do.
    const bool router_alert = !(v4 && q.version == 1);
    if (ip_overhead(f, router_alert) + len > p.mtu)
        return errc::invalid; // RFC 3376 §4.1.8: N is limited by the MTU
    const IpAddr group = q.group.is_unspecified() && v4 ? IpAddr::v4(0) : q.group;
    const IpAddr& dst = group.is_unspecified() ? (v4 ? all_systems_v4 : all_nodes_v6) : group;
    // RFC 3376 §4.1.6: a Robustness Variable above 7 is sent as QRV 0.
    const uint8_t flags =
        uint8_t((q.suppress_router_processing ? 0x08 : 0) | (q.qrv > 7 ? 0 : q.qrv));
    const uint8_t qqic = encode_code8(to_units(q.qqi, std::chrono::seconds(1)));

    std::vector<uint8_t> msg;
    msg.reserve(len);
    if (v4) {
        const uint32_t tenths = to_units(q.max_response, std::chrono::milliseconds(100));
        uint8_t code = 0;
        if (q.version == 2)
            code = uint8_t(std::clamp<uint32_t>(tenths, 1, 255));
        else if (q.version == 3)
            code = encode_code8(tenths);
        msg = {igmp_query, code, 0, 0};
        put_addr(msg, f, group);
        if (latest) {
            msg.push_back(flags);
            msg.push_back(qqic);
            put16(msg, uint16_t(q.sources.size()));
        }
    } else {
        const uint32_t ms = to_units(q.max_response, std::chrono::milliseconds(1));
        msg = {mld_query, 0, 0, 0};
        put16(msg, latest ? encode_code16(ms) : uint16_t(std::min<uint32_t>(ms, 0xffff)));
        put16(msg, 0);
        put_addr(msg, f, group);
        if (latest) {
            msg.push_back(flags);
            msg.push_back(qqic);
            put16(msg, uint16_t(q.sources.size()));
        }
    }
    for (const IpAddr& s : q.sources)
        put_addr(msg, f, s);
    out.push_back(build_frame(p, f, dst, router_alert, msg));
    return errc::ok;
}

errc encode(const Message& m, const FrameParams& p, std::vector<Frame>& out) {
    return std::visit(
        [&](const auto& msg) -> errc {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, Query>)
                return encode_query(msg, p, out);
            else if constexpr (std::is_same_v<T, Report>)
                return encode_report(msg, p, out);
            else if constexpr (std::is_same_v<T, LegacyReport>)
                return encode_legacy_report(msg, p, out);
            else
                return encode_leave(msg, p, out);
        },
        m);
}

} // namespace mcfwd::wire
