#include "addr/mac_addr.hpp"

#include <cstdio>

namespace mcfwd::addr {

std::string MacAddr::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return buf;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
    MacAddr m;
    size_t pos = 0;
    for (size_t i = 0; i < 6; ++i) {
        if (i > 0) {
            if (pos >= text.size() || text[pos] != ':')
                return std::nullopt;
            ++pos;
        }
        int digits = 0, value = 0;
        while (pos < text.size() && digits < 2 && hex_value(text[pos]) >= 0) {
            value = value * 16 + hex_value(text[pos]);
            ++pos;
            ++digits;
        }
        if (digits == 0)
            return std::nullopt;
        m.bytes[i] = static_cast<uint8_t>(value);
    }
    if (pos != text.size())
        return std::nullopt;
    return m;
}

} // namespace mcfwd::addr
