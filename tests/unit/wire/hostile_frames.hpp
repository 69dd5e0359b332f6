// The hostile frame corpus of the IGMP/MLD decoder: one or more frames per
// wire::DropReason (reason_cases), and the builders they use. decode_test.cpp
// checks each drops for its reason; tests/unit/control/drop_counters_test.cpp
// feeds each to the control plane and checks which named counter moved.
#pragma once

#include "wire/wire_format.hpp"
#include "wire_test_util.hpp"

#include <functional>
#include <vector>

namespace mcfwd::wire::test {

inline const IpAddr ll = *IpAddr::parse("fe80::1");
inline const IpAddr mldv2_routers = *IpAddr::parse("ff02::16");

inline Bytes v2_report(uint32_t group = 0xef000005) {
    Bytes m = {0x16, 0, 0, 0};
    append_v4(m, IpAddr::v4(group));
    return igmp_msg(m);
}
inline Bytes v4_frame(const Bytes& igmp, uint8_t ttl = 1) {
    return ethernet(0x0800, ipv4_packet(igmp, ttl));
}

/// An MLDv1 report of ff05::2 (24 octets) before its checksum.
inline Bytes mld_v1_raw(uint8_t type = 131) {
    Bytes m = {type, 0, 0, 0, 0, 0, 0, 0};
    append_v6(m, ip("ff05::2"));
    return m;
}
inline Bytes v6_frame(const Bytes& icmp, uint8_t hop = 1, IpAddr src = ll,
                      IpAddr dst = mldv2_routers) {
    return ethernet(0x86dd, ipv6_packet(hop_by_hop_ra(), 0, icmp, hop, src, dst));
}
inline Bytes mld_frame(Bytes raw, uint8_t hop = 1, IpAddr src = ll) {
    return v6_frame(icmpv6_msg(src, mldv2_routers, std::move(raw)), hop, src);
}

/// IGMPv3 report header + records (bytes given), checksummed.
inline Bytes v3_report(uint16_t n_records, const Bytes& records) {
    Bytes m = {0x22, 0, 0, 0, 0, 0};
    put16(m, n_records);
    append(m, records);
    return igmp_msg(m);
}
inline Bytes v3_record(uint8_t type, uint8_t aux, uint16_t n_src, uint32_t group,
                       std::size_t real_src) {
    Bytes r = {type, aux};
    put16(r, n_src);
    append_v4(r, IpAddr::v4(group));
    for (std::size_t i = 0; i < real_src; ++i)
        append_v4(r, IpAddr::v4(0x0a000001 + uint32_t(i)));
    return r;
}

struct ReasonCase {
    const char* name;
    DropReason reason;
    std::function<Bytes()> frame;
};

inline std::vector<ReasonCase> reason_cases() {
    std::vector<ReasonCase> c;
    c.push_back({"ten_octets", DropReason::eth_truncated, [] { return Bytes(10, 0x01); }});
    c.push_back({"vlan_tag_cut", DropReason::eth_truncated, [] {
                     Bytes f = v4_frame(v2_report());
                     f.resize(12);
                     test::put16(f, 0x8100);
                     f.push_back(0);
                     return f;
                 }});
    c.push_back({"arp", DropReason::not_ip, [] { return ethernet(0x0806, Bytes(28, 0)); }});
    c.push_back({"qinq", DropReason::not_ip, [] {
                     return ethernet(0x8100, Bytes{0, 5, 0x81, 0, 0, 6}, uint16_t(5));
                 }});
    c.push_back({"ipv4_header_cut", DropReason::ip_truncated, [] {
                     return ethernet(0x0800, Bytes{0x45, 0, 0, 28, 0, 0});
                 }});
    c.push_back({"ipv4_total_beyond_frame", DropReason::ip_truncated, [] {
                     Bytes f = v4_frame(v2_report());
                     f.pop_back();
                     return f;
                 }});
    c.push_back({"ipv4_ihl_beyond_frame", DropReason::ip_truncated, [] {
                     Bytes ip4 = ipv4_packet({}, 1, Bytes{});
                     ip4[0] = 0x4f; // IHL and total length say 60, 22 octets follow
                     ip4[3] = 60;
                     test::put16(ip4, 0);
                     return ethernet(0x0800, ip4);
                 }});
    c.push_back({"ipv6_payload_beyond_frame", DropReason::ip_truncated, [] {
                     Bytes f = mld_frame(mld_v1_raw());
                     f.resize(f.size() - 3);
                     return f;
                 }});
    c.push_back({"ipv6_header_cut", DropReason::ip_truncated,
                 [] { return ethernet(0x86dd, Bytes(39, 0x60)); }});
    c.push_back({"v6_in_v4_ethertype", DropReason::bad_ip_version,
                 [] { return ethernet(0x0800, ipv6_packet(hop_by_hop_ra(), 0, mld_v1_raw())); }});
    c.push_back({"v4_in_v6_ethertype", DropReason::bad_ip_version, [] {
                     Bytes p = ipv4_packet(v2_report());
                     p.resize(48, 0);
                     return ethernet(0x86dd, p);
                 }});
    c.push_back({"ihl_4", DropReason::bad_ip_length, [] {
                     Bytes f = v4_frame(v2_report());
                     f[14] = 0x44;
                     return f;
                 }});
    c.push_back({"total_below_ihl", DropReason::bad_ip_length, [] {
                     Bytes f = v4_frame(v2_report());
                     f[16] = 0;
                     f[17] = 20;
                     return f;
                 }});
    c.push_back({"ipv6_jumbo", DropReason::bad_ip_length, [] {
                     Bytes f = mld_frame(mld_v1_raw());
                     f[18] = f[19] = 0;
                     return f;
                 }});
    c.push_back({"ip_checksum", DropReason::bad_ip_checksum, [] {
                     Bytes f = v4_frame(v2_report());
                     f[24] ^= 0x01;
                     return f;
                 }});
    c.push_back({"option_length_1", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x07, 1, 0, 0}));
                 }});
    c.push_back({"option_runs_past_header", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {1, 1, 0x83, 7}));
                 }});
    c.push_back({"option_type_without_length", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {1, 1, 1, 0x44}));
                 }});
    c.push_back({"router_alert_length_3", DropReason::bad_ip_options, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x94, 3, 0, 0}));
                 }});
    c.push_back({"ipv4_more_fragments", DropReason::ip_fragment, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x94, 4, 0, 0}, 2,
                                                         IpAddr::v4(0x0a000001),
                                                         IpAddr::v4(0xef000005), 0x2000));
                 }});
    c.push_back({"ipv4_offset", DropReason::ip_fragment, [] {
                     return ethernet(0x0800, ipv4_packet(v2_report(), 1, {0x94, 4, 0, 0}, 2,
                                                         IpAddr::v4(0x0a000001),
                                                         IpAddr::v4(0xef000005), 0x0001));
                 }});
    c.push_back({"ipv6_fragment_header", DropReason::ip_fragment, [] {
                     Bytes ext = hop_by_hop_ra(44);
                     append(ext, Bytes{58, 0, 0, 1, 0, 0, 0, 9});
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"hop_by_hop_option_past_end", DropReason::bad_extension_header, [] {
                     Bytes ext = {58, 0, 5, 2, 0, 0, 1, 1};
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"hop_by_hop_not_first", DropReason::bad_extension_header, [] {
                     Bytes ext = {0, 0, 1, 4, 0, 0, 0, 0};
                     append(ext, hop_by_hop_ra());
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 60, m));
                 }});
    c.push_back({"header_longer_than_payload", DropReason::bad_extension_header, [] {
                     Bytes ext = {58, 9, 1, 4, 0, 0, 0, 0};
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 60, m));
                 }});
    c.push_back({"routing_with_segments_left", DropReason::bad_extension_header, [] {
                     Bytes ext = hop_by_hop_ra(43);
                     append(ext, Bytes{58, 0, 0, 1, 0, 0, 0, 0});
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"router_alert_length_4", DropReason::bad_extension_header, [] {
                     Bytes ext = {58, 0, 5, 4, 0, 0, 0, 0};
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 0, m));
                 }});
    c.push_back({"nine_destination_options", DropReason::too_many_extension_headers, [] {
                     Bytes ext;
                     for (int i = 0; i < 9; ++i)
                         append(ext, Bytes{uint8_t(i == 8 ? 58 : 60), 0, 1, 4, 0, 0, 0, 0});
                     Bytes m = icmpv6_msg(ll, mldv2_routers, mld_v1_raw());
                     return ethernet(0x86dd, ipv6_packet(ext, 60, m));
                 }});
    c.push_back({"udp_over_ipv4", DropReason::not_igmp_mld,
                 [] { return ethernet(0x0800, ipv4_packet(Bytes(8, 0), 1, {}, 17)); }});
    c.push_back({"igmp_dvmrp_type", DropReason::not_igmp_mld, [] {
                     Bytes m = v2_report();
                     m[0] = 0x13;
                     return v4_frame(igmp_msg(m), 64);
                 }});
    c.push_back({"icmpv6_echo", DropReason::not_igmp_mld, [] {
                     Bytes m = mld_v1_raw(128);
                     return mld_frame(m, 64, ip("2001:db8::1"));
                 }});
    c.push_back({"udp_over_ipv6", DropReason::not_igmp_mld,
                 [] { return ethernet(0x86dd, ipv6_packet(hop_by_hop_ra(17), 0, Bytes(8, 0))); }});
    c.push_back({"igmp_ttl_2", DropReason::bad_ttl, [] { return v4_frame(v2_report(), 2); }});
    c.push_back(
        {"mld_hop_limit_255", DropReason::bad_ttl, [] { return mld_frame(mld_v1_raw(), 255); }});
    c.push_back({"mld_from_global", DropReason::mld_source_not_link_local,
                 [] { return mld_frame(mld_v1_raw(), 1, ip("2001:db8::1")); }});
    c.push_back({"mld_from_unspecified", DropReason::mld_source_not_link_local,
                 [] { return mld_frame(mld_v1_raw(), 1, IpAddr{}); }});
    c.push_back({"igmp_empty", DropReason::message_truncated, [] { return v4_frame(Bytes{}); }});
    c.push_back({"igmp_four_octets", DropReason::message_truncated, [] {
                     return v4_frame(Bytes{0x16, 0, 0xe9, 0xff});
                 }});
    c.push_back({"mld_v1_20_octets", DropReason::message_truncated, [] {
                     Bytes m = mld_v1_raw();
                     m.resize(20);
                     return mld_frame(m);
                 }});
    c.push_back({"mld_empty", DropReason::message_truncated,
                 [] { return ethernet(0x86dd, ipv6_packet(hop_by_hop_ra(), 0, Bytes{})); }});
    c.push_back({"igmp_query_10_octets", DropReason::bad_query_length, [] {
                     return v4_frame(igmp_msg(Bytes{0x11, 100, 0, 0, 0, 0, 0, 0, 0, 0}));
                 }});
    c.push_back({"mld_query_26_octets", DropReason::bad_query_length, [] {
                     Bytes m = mld_v1_raw(130);
                     m.resize(26);
                     return mld_frame(m);
                 }});
    c.push_back({"igmp_checksum", DropReason::bad_checksum, [] {
                     Bytes m = v2_report();
                     m[3] ^= 0x40;
                     return v4_frame(m);
                 }});
    c.push_back({"icmpv6_checksum_without_pseudo_header", DropReason::bad_checksum,
                 [] { return v6_frame(igmp_msg(mld_v1_raw())); }});
    c.push_back({"icmpv6_checksum_for_other_destination", DropReason::bad_checksum, [] {
                     Bytes m = icmpv6_msg(ll, ip("ff02::2"), mld_v1_raw());
                     return v6_frame(m);
                 }});
    c.push_back({"igmpv3_query_claims_3_has_2", DropReason::query_sources_overrun, [] {
                     Bytes m = {0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 3};
                     append_v4(m, IpAddr::v4(0x0a000001));
                     append_v4(m, IpAddr::v4(0x0a000002));
                     return v4_frame(igmp_msg(m));
                 }});
    c.push_back({"mldv2_query_claims_1_has_0", DropReason::query_sources_overrun, [] {
                     Bytes m = mld_v1_raw(130);
                     append(m, Bytes{2, 125, 0, 1});
                     return mld_frame(m);
                 }});
    c.push_back({"report_claims_2_records_has_1", DropReason::record_overrun,
                 [] { return v4_frame(v3_report(2, v3_record(1, 0, 1, 0xe8010101, 1))); }});
    c.push_back({"record_claims_5_sources_has_4", DropReason::record_overrun,
                 [] { return v4_frame(v3_report(1, v3_record(1, 0, 5, 0xe8010101, 4))); }});
    c.push_back({"record_header_cut", DropReason::record_overrun, [] {
                     return v4_frame(v3_report(1, Bytes{1, 0, 0, 0}));
                 }});
    c.push_back({"mldv2_record_claims_a_source", DropReason::record_overrun, [] {
                     Bytes m = {143, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1};
                     append_v6(m, ip("ff3e::1"));
                     return mld_frame(m);
                 }});
    c.push_back({"aux_data_missing", DropReason::aux_data_overrun, [] {
                     Bytes rec = v3_record(1, 2, 1, 0xe8010101, 1);
                     append(rec, Bytes{0, 0, 0, 0});
                     return v4_frame(v3_report(1, rec));
                 }});
    c.push_back({"v2_report_of_unicast", DropReason::bad_group,
                 [] { return v4_frame(v2_report(0x0a000001)); }});
    c.push_back({"v3_record_of_unicast", DropReason::bad_group,
                 [] { return v4_frame(v3_report(1, v3_record(1, 0, 0, 0x0a000001, 0))); }});
    c.push_back({"query_of_unicast", DropReason::bad_group, [] {
                     return v4_frame(igmp_msg(Bytes{0x11, 100, 0, 0, 10, 0, 0, 1}));
                 }});
    c.push_back({"mld_of_v4_mapped_group", DropReason::bad_group, [] {
                     Bytes m = mld_v1_raw();
                     auto g = IpAddr::v4(0xe0000001).bytes();
                     std::copy(g.begin(), g.end(), m.begin() + 8);
                     return mld_frame(m);
                 }});
    c.push_back({"mld_query_of_unicast", DropReason::bad_group, [] {
                     Bytes m = mld_v1_raw(130);
                     auto g = ip("2001:db8::1").bytes();
                     std::copy(g.begin(), g.end(), m.begin() + 8);
                     return mld_frame(m);
                 }});
    return c;
}

} // namespace mcfwd::wire::test
