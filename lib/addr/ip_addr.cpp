#include "addr/ip_addr.hpp"

#include <arpa/inet.h>

namespace mcfwd::addr {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN)
        return std::nullopt;
    char buf[INET6_ADDRSTRLEN + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    uint8_t out[16];
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, out) != 1)
            return std::nullopt;
        return from_v4_bytes(out);
    }
    if (inet_pton(AF_INET6, buf, out) != 1)
        return std::nullopt;
    return from_v6_bytes(out);
}

std::string IpAddr::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (is_v4())
        inet_ntop(AF_INET, v4_bytes(), buf, sizeof buf);
    else
        inet_ntop(AF_INET6, b_.data(), buf, sizeof buf);
    return buf;
}

} // namespace mcfwd::addr
