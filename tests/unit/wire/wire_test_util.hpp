// Test helpers for lib/wire: a reference checksum written independently of the
// library, hand-built frames, and the pcap file format (libpcap's classic
// format: a 24-octet file header, then a 16-octet header per record).
#pragma once

#include "pcapfile/pcap_file.hpp"
#include "wire/codec.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace mcfwd::wire::test {

using Bytes = std::vector<uint8_t>;

inline IpAddr ip(const char* text) {
    return *IpAddr::parse(text);
}

/// RFC 1071 checksum, computed the slow obvious way: one's-complement addition
/// word by word with the end-around carry applied at every step.
inline uint16_t ref_checksum(const Bytes& data) {
    uint32_t acc = 0;
    for (std::size_t i = 0; i < data.size(); i += 2) {
        uint32_t word = uint32_t(data[i]) << 8;
        if (i + 1 < data.size())
            word |= data[i + 1];
        acc += word;
        if (acc > 0xffff)
            acc = (acc & 0xffff) + 1;
    }
    return static_cast<uint16_t>(~acc & 0xffff);
}

inline void put16(Bytes& b, uint16_t v) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
}
inline void append(Bytes& b, const Bytes& more) {
    b.insert(b.end(), more.begin(), more.end());
}
inline void append_v4(Bytes& b, const IpAddr& a) {
    b.insert(b.end(), a.v4_bytes(), a.v4_bytes() + 4);
}
inline void append_v6(Bytes& b, const IpAddr& a) {
    b.insert(b.end(), a.bytes().begin(), a.bytes().end());
}

/// The IPv6 pseudo-header of RFC 8200 §8.1 as bytes.
inline Bytes pseudo_header(const IpAddr& src, const IpAddr& dst, uint32_t len, uint8_t nh) {
    Bytes b;
    append_v6(b, src);
    append_v6(b, dst);
    put16(b, uint16_t(len >> 16));
    put16(b, uint16_t(len));
    b.insert(b.end(), {0, 0, 0, nh});
    return b;
}

/// An IGMP message with its checksum filled in.
inline Bytes igmp_msg(Bytes m) {
    m[2] = m[3] = 0;
    uint16_t c = ref_checksum(m);
    m[2] = uint8_t(c >> 8);
    m[3] = uint8_t(c);
    return m;
}

/// An ICMPv6 message with its checksum over the pseudo-header filled in.
inline Bytes icmpv6_msg(const IpAddr& src, const IpAddr& dst, Bytes m) {
    m[2] = m[3] = 0;
    Bytes all = pseudo_header(src, dst, uint32_t(m.size()), 58);
    append(all, m);
    uint16_t c = ref_checksum(all);
    m[2] = uint8_t(c >> 8);
    m[3] = uint8_t(c);
    return m;
}

inline Bytes ethernet(uint16_t type, const Bytes& payload, std::optional<uint16_t> tci = {}) {
    Bytes b = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    if (tci) {
        put16(b, 0x8100);
        put16(b, *tci);
    }
    put16(b, type);
    append(b, payload);
    return b;
}

/// An IPv4 packet (header checksum filled in) around `payload`.
inline Bytes ipv4_packet(const Bytes& payload, uint8_t ttl = 1, Bytes options = {0x94, 4, 0, 0},
                         uint8_t proto = 2, IpAddr src = IpAddr::v4(0x0a000001),
                         IpAddr dst = IpAddr::v4(0xe0000016), uint16_t frag = 0) {
    Bytes h = {uint8_t(0x40 | (20 + options.size()) / 4), 0xc0};
    put16(h, uint16_t(20 + options.size() + payload.size()));
    put16(h, 0);
    put16(h, frag);
    h.insert(h.end(), {ttl, proto, 0, 0});
    append_v4(h, src);
    append_v4(h, dst);
    append(h, options);
    uint16_t c = ref_checksum(h);
    h[10] = uint8_t(c >> 8);
    h[11] = uint8_t(c);
    append(h, payload);
    return h;
}

/// An IPv6 packet: header, then `ext` (extension headers, already chained, the
/// first of type `first_nh`), then `payload`.
inline Bytes ipv6_packet(const Bytes& ext, uint8_t first_nh, const Bytes& payload, uint8_t hop = 1,
                         IpAddr src = *IpAddr::parse("fe80::1"),
                         IpAddr dst = *IpAddr::parse("ff02::16")) {
    Bytes h = {0x60, 0, 0, 0};
    put16(h, uint16_t(ext.size() + payload.size()));
    h.push_back(first_nh);
    h.push_back(hop);
    append_v6(h, src);
    append_v6(h, dst);
    append(h, ext);
    append(h, payload);
    return h;
}

/// Hop-by-Hop header with Router Alert (value `ra`) and PadN, next header `nh`.
inline Bytes hop_by_hop_ra(uint8_t nh = 58, uint16_t ra = 0) {
    return {nh, 0, 5, 2, uint8_t(ra >> 8), uint8_t(ra), 1, 0};
}

/// Decodes and fails the test (with the reason) when the decoder drops the frame.
inline std::optional<DecodedFrame> decode_ok(const Bytes& frame) {
    DecodeResult r = decode(frame);
    if (auto* d = std::get_if<DecodedFrame>(&r))
        return *d;
    ADD_FAILURE() << "dropped: " << drop_reason_name(std::get<DropReason>(r));
    return std::nullopt;
}

inline std::optional<DropReason> drop_of(const Bytes& frame) {
    DecodeResult r = decode(frame);
    if (auto* d = std::get_if<DropReason>(&r))
        return *d;
    return std::nullopt;
}

// --- pcap files: lib/pcapfile ---

inline void write_pcap(const std::string& path, const std::vector<Bytes>& frames) {
    mcfwd::pcapfile::Writer w;
    ASSERT_TRUE(w.open(path)) << path;
    int64_t sec = 1; // one frame a second, as tshark shows them
    for (const Bytes& fr : frames)
        ASSERT_TRUE(w.write(mcfwd::time_point{std::chrono::seconds(sec++)}, fr)) << path;
}

/// Reads a classic pcap file in either byte order; empty on any error.
inline std::vector<Bytes> read_pcap(const std::string& path) {
    std::vector<Bytes> out;
    if (auto f = mcfwd::pcapfile::read(path))
        for (auto& p : f->packets)
            out.push_back(std::move(p.data));
    return out;
}

/// Runs a command and returns its standard output (stderr is left alone).
inline std::string run(const std::string& cmd, int* status = nullptr) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr)
        return out;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    int st = pclose(p);
    if (status)
        *status = st;
    return out;
}

} // namespace mcfwd::wire::test
