#include "wire/checksum.hpp"

namespace mcfwd::wire {

uint64_t checksum_add(uint64_t sum, std::span<const uint8_t> bytes) noexcept {
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2)
        sum += uint32_t(bytes[i]) << 8 | bytes[i + 1];
    if (i < bytes.size())
        sum += uint32_t(bytes[i]) << 8;
    return sum;
}

uint16_t checksum_finish(uint64_t sum) noexcept {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xffff);
}

uint64_t ipv6_pseudo_header_sum(const addr::IpAddr& src, const addr::IpAddr& dst, uint32_t length,
                                uint8_t next_header) noexcept {
    uint64_t sum = checksum_add(0, src.bytes());
    sum = checksum_add(sum, dst.bytes());
    sum += length >> 16;
    sum += length & 0xffff;
    sum += next_header;
    return sum;
}

} // namespace mcfwd::wire
