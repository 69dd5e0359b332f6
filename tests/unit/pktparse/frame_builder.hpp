// Test helper: builds Ethernet frames byte by byte (IPv4/IPv6, optional VLAN tags,
// IPv4 options, IPv6 extension headers), so each test states the shape it feeds
// the parser. Shared by the unit tests, the fuzz seed generator and the EAL
// data-path tests.
#pragma once

#include "addr/ip_addr.hpp"

#include <cstdint>
#include <vector>

namespace mcfwd::testing {

using Bytes = std::vector<uint8_t>;

struct FrameSpec {
    addr::IpAddr src;
    addr::IpAddr dst;
    /// TPIDs of tags in order (0x8100 for one 802.1Q tag); each gets TCI vlan_tci.
    std::vector<uint16_t> tags;
    uint16_t vlan_tci = 0x2064; // PCP 1, VID 100
    uint8_t ttl = 16;
    /// IPv4 protocol, or the last next-header of an IPv6 chain.
    uint8_t proto = 17;
    /// IPv6 extension headers in order: {type, total length in bytes (multiple of 8)};
    /// a Fragment header (44) is always 8 bytes and uses frag_offset.
    std::vector<std::pair<uint8_t, size_t>> ext;
    uint16_t frag_offset = 0; // in 8-byte units; IPv4 and IPv6 Fragment header
    bool more_fragments = false;
    size_t ipv4_options = 0; // bytes, multiple of 4
    Bytes payload = Bytes(8, 0xab);
    /// Build IPv6 even when src is v4-mapped (IpAddr then calls it IPv4).
    bool force_v6 = false;
};

inline void put16(Bytes& b, uint16_t v) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
}

/// The frame for spec: Ethernet II to the group's multicast MAC.
inline Bytes build_frame(const FrameSpec& s) {
    Bytes b;
    const auto mac = s.dst.multicast_mac();
    b.insert(b.end(), mac.bytes.begin(), mac.bytes.end());
    for (uint8_t x : {0x02, 0x00, 0x00, 0x00, 0x00, 0x01})
        b.push_back(x);
    for (uint16_t tpid : s.tags) {
        put16(b, tpid);
        put16(b, s.vlan_tci);
    }
    if (s.src.is_v4() && !s.force_v6) {
        put16(b, 0x0800);
        const size_t ihl = 20 + s.ipv4_options;
        put16(b, uint16_t(0x4000 | (ihl / 4) << 8)); // version, IHL, DSCP 0
        put16(b, uint16_t(ihl + s.payload.size()));
        put16(b, 0x1234);
        put16(b, uint16_t((s.more_fragments ? 0x2000 : 0) | s.frag_offset));
        b.push_back(s.ttl);
        b.push_back(s.proto);
        put16(b, 0); // checksum: not verified by the parser
        b.insert(b.end(), s.src.v4_bytes(), s.src.v4_bytes() + 4);
        b.insert(b.end(), s.dst.v4_bytes(), s.dst.v4_bytes() + 4);
        for (size_t i = 0; i < s.ipv4_options; ++i)
            b.push_back(i % 4 == 0 ? 0x94 : (i % 4 == 1 ? 4 : 0)); // Router Alert (RFC 2113)
    } else {
        put16(b, 0x86dd);
        put16(b, 0x6000);
        put16(b, 0);
        size_t ext_len = 0;
        for (auto& [type, len] : s.ext)
            ext_len += type == 44 ? 8 : len;
        put16(b, uint16_t(ext_len + s.payload.size()));
        b.push_back(s.ext.empty() ? s.proto : s.ext[0].first);
        b.push_back(s.ttl);
        b.insert(b.end(), s.src.bytes().begin(), s.src.bytes().end());
        b.insert(b.end(), s.dst.bytes().begin(), s.dst.bytes().end());
        for (size_t i = 0; i < s.ext.size(); ++i) {
            const uint8_t next = i + 1 < s.ext.size() ? s.ext[i + 1].first : s.proto;
            const auto [type, len] = s.ext[i];
            b.push_back(next);
            if (type == 44) {
                b.push_back(0);
                put16(b, uint16_t(s.frag_offset << 3 | (s.more_fragments ? 1 : 0)));
                for (int k = 0; k < 4; ++k)
                    b.push_back(0x11);
            } else {
                b.push_back(uint8_t(len / 8 - 1));
                // Router Alert option (RFC 2711) then PadN to the end.
                Bytes opts = {5, 2, 0, 0};
                if (len - 2 > 4)
                    opts.push_back(1), opts.push_back(uint8_t(len - 2 - 4 - 2));
                opts.resize(len - 2, 0);
                b.insert(b.end(), opts.begin(), opts.end());
            }
        }
    }
    b.insert(b.end(), s.payload.begin(), s.payload.end());
    return b;
}

inline addr::IpAddr ip(const char* text) {
    return *addr::IpAddr::parse(text);
}

} // namespace mcfwd::testing
