// mcfwd::addr::MacAddr — an Ethernet address.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mcfwd::addr {

struct MacAddr {
    std::array<uint8_t, 6> bytes{};

    /// Group bit (I/G) of the first octet: set for multicast and broadcast.
    constexpr bool is_multicast() const noexcept { return (bytes[0] & 0x01) != 0; }

    /// "01:00:5e:01:02:03", lower case.
    std::string to_string() const;
    /// Parses six colon-separated hex octets; nullopt on anything else.
    static std::optional<MacAddr> parse(std::string_view text);

    friend constexpr auto operator<=>(const MacAddr&, const MacAddr&) = default;
};

struct MacAddrHash {
    size_t operator()(const MacAddr& m) const noexcept {
        uint64_t v = 0;
        std::memcpy(&v, m.bytes.data(), 6);
        v ^= v >> 29;
        v *= 0xbf58476d1ce4e5b9ULL;
        return static_cast<size_t>(v ^ (v >> 32));
    }
};

} // namespace mcfwd::addr

template <>
struct std::hash<mcfwd::addr::MacAddr> : mcfwd::addr::MacAddrHash {};
