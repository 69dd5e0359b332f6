// mcfwd::addr::IpAddr — one address type for IPv4 and IPv6.
//
// IPv4 addresses are held v4-mapped (::ffff:a.b.c.d), as illumos ip_multi.c
// holds them, so group and source sets, hashing and ordering need no family
// branch. Values are plain 16-byte copies: cheap to copy, trivially comparable.
#pragma once

#include "addr/mac_addr.hpp"

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mcfwd::addr {

enum class Family : uint8_t { v4, v6 };

constexpr std::string_view family_name(Family f) noexcept {
    return f == Family::v4 ? "ipv4" : "ipv6";
}

class IpAddr {
public:
    /// The IPv6 unspecified address "::".
    constexpr IpAddr() noexcept = default;

    /// An IPv4 address from its value in host byte order (0xe0000001 = 224.0.0.1).
    static constexpr IpAddr v4(uint32_t host_order) noexcept {
        IpAddr a;
        a.b_[10] = 0xff;
        a.b_[11] = 0xff;
        a.b_[12] = static_cast<uint8_t>(host_order >> 24);
        a.b_[13] = static_cast<uint8_t>(host_order >> 16);
        a.b_[14] = static_cast<uint8_t>(host_order >> 8);
        a.b_[15] = static_cast<uint8_t>(host_order);
        return a;
    }
    /// An IPv4 address from 4 bytes in network order.
    static IpAddr from_v4_bytes(const uint8_t* p) noexcept {
        return v4(uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]);
    }
    /// An IPv6 address from 16 bytes in network order. A v4-mapped value is an IPv4 address.
    static IpAddr from_v6_bytes(const uint8_t* p) noexcept {
        IpAddr a;
        std::memcpy(a.b_.data(), p, 16);
        return a;
    }
    /// Parses dotted-quad IPv4 or RFC 4291 text IPv6 (inet_pton rules); nullopt otherwise.
    static std::optional<IpAddr> parse(std::string_view text);

    /// "232.1.1.1" for IPv4, RFC 5952 text for IPv6.
    std::string to_string() const;

    constexpr bool is_v4() const noexcept {
        for (int i = 0; i < 10; ++i)
            if (b_[i] != 0)
                return false;
        return b_[10] == 0xff && b_[11] == 0xff;
    }
    constexpr Family family() const noexcept { return is_v4() ? Family::v4 : Family::v6; }
    /// The IPv4 value in host byte order; meaningful only when is_v4().
    constexpr uint32_t v4_host() const noexcept {
        return uint32_t(b_[12]) << 24 | uint32_t(b_[13]) << 16 | uint32_t(b_[14]) << 8 | b_[15];
    }
    /// The 16 bytes (IPv4: v4-mapped), network order.
    constexpr const std::array<uint8_t, 16>& bytes() const noexcept { return b_; }
    /// The 4 bytes of an IPv4 address, network order.
    const uint8_t* v4_bytes() const noexcept { return b_.data() + 12; }

    /// "::" or 0.0.0.0.
    constexpr bool is_unspecified() const noexcept {
        if (is_v4())
            return v4_host() == 0;
        for (uint8_t x : b_)
            if (x != 0)
                return false;
        return true;
    }
    /// 224.0.0.0/4 (class D) or ff00::/8.
    constexpr bool is_multicast() const noexcept {
        return is_v4() ? (b_[12] & 0xf0) == 0xe0 : b_[0] == 0xff;
    }
    /// A multicast group that must never be reported (RFC 3376 §5, RFC 3810 §6):
    /// 224.0.0.0/24 (link-local), ff01::/16 and ff02::/16 (interface- and link-local scope).
    constexpr bool is_link_local_group() const noexcept {
        if (is_v4())
            return b_[12] == 224 && b_[13] == 0 && b_[14] == 0;
        return b_[0] == 0xff && ((b_[1] & 0x0f) == 0x1 || (b_[1] & 0x0f) == 0x2);
    }
    /// Source-specific multicast range (RFC 4607 §1): 232.0.0.0/8, or ff3x::/32 for any
    /// scope x (flags P=1 T=1, reserved and plen 0: RFC 3306 §6). ff3x::/96, the part of
    /// it RFC 3306 allows today, is inside; unicast-prefix-based groups (ff3x:00LL::,
    /// plen > 0, RFC 3306 §4) are any-source and outside. docs/ROUTER.md says why /32.
    constexpr bool is_ssm() const noexcept {
        if (is_v4())
            return b_[12] == 232;
        return b_[0] == 0xff && (b_[1] & 0xf0) == 0x30 && b_[2] == 0 && b_[3] == 0;
    }
    /// fe80::/10, the only valid source of MLD messages (RFC 3810 §5).
    constexpr bool is_v6_link_local_unicast() const noexcept {
        return !is_v4() && b_[0] == 0xfe && (b_[1] & 0xc0) == 0x80;
    }
    /// The Ethernet address a group maps to: 01:00:5e + low 23 bits (RFC 1112 §6.4);
    /// 33:33 + low 32 bits (RFC 2464 §7). Meaningful only for multicast addresses.
    constexpr MacAddr multicast_mac() const noexcept {
        if (is_v4())
            return MacAddr{{0x01, 0x00, 0x5e, uint8_t(b_[13] & 0x7f), b_[14], b_[15]}};
        return MacAddr{{0x33, 0x33, b_[12], b_[13], b_[14], b_[15]}};
    }

    friend constexpr auto operator<=>(const IpAddr&, const IpAddr&) = default;

    /// A copy with byte i (network order) replaced.
    constexpr IpAddr with_byte(int i, uint8_t v) const noexcept {
        IpAddr a = *this;
        a.b_[size_t(i)] = v;
        return a;
    }

private:
    alignas(8) std::array<uint8_t, 16> b_{};
};

/// The IPv6 link-local address fe80::/64 + modified EUI-64 of mac (RFC 4291 §2.5.1 and
/// App. A: ff:fe inserted in the middle, the universal/local bit inverted), the
/// address a host uses for MLD when none is configured (RFC 3810 §5).
constexpr IpAddr link_local_from_mac(const MacAddr& mac) noexcept {
    uint8_t b[16] = {0xfe,
                     0x80,
                     0,
                     0,
                     0,
                     0,
                     0,
                     0,
                     uint8_t(mac.bytes[0] ^ 0x02),
                     mac.bytes[1],
                     mac.bytes[2],
                     0xff,
                     0xfe,
                     mac.bytes[3],
                     mac.bytes[4],
                     mac.bytes[5]};
    IpAddr a;
    for (int i = 0; i < 16; ++i)
        a = a.with_byte(i, b[i]);
    return a;
}

struct IpAddrHash {
    size_t operator()(const IpAddr& a) const noexcept {
        uint64_t hi, lo;
        std::memcpy(&hi, a.bytes().data(), 8);
        std::memcpy(&lo, a.bytes().data() + 8, 8);
        uint64_t h = hi * 0x9e3779b97f4a7c15ULL ^ lo;
        h ^= h >> 32;
        h *= 0xd6e8feb86659fd93ULL;
        h ^= h >> 32;
        return static_cast<size_t>(h);
    }
};

} // namespace mcfwd::addr

template <>
struct std::hash<mcfwd::addr::IpAddr> : mcfwd::addr::IpAddrHash {};
