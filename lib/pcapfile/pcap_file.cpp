#include "pcapfile/pcap_file.hpp"

#include <fstream>
#include <iterator>

namespace mcfwd::pcapfile {

namespace {
constexpr uint32_t k_magic_us = 0xa1b2c3d4;
constexpr uint32_t k_magic_ns = 0xa1b23c4d;
constexpr uint32_t k_linktype_ethernet = 1;

bool put32(std::FILE* f, uint32_t v) {
    return std::fwrite(&v, 4, 1, f) == 1;
}
bool put16(std::FILE* f, uint16_t v) {
    return std::fwrite(&v, 2, 1, f) == 1;
}
} // namespace

bool Writer::open(const std::string& path, uint32_t snaplen) {
    close();
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_)
        return false;
    snaplen_ = snaplen;
    packets_ = 0;
    bool ok = put32(f_, k_magic_us) && put16(f_, 2) && put16(f_, 4) && put32(f_, 0) &&
              put32(f_, 0) && put32(f_, snaplen) && put32(f_, k_linktype_ethernet);
    if (!ok)
        close();
    return ok;
}

bool Writer::write(time_point t, std::span<const uint8_t> frame) {
    if (!f_)
        return false;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.since_origin).count();
    const auto caplen = static_cast<uint32_t>(std::min<size_t>(frame.size(), snaplen_));
    bool ok = put32(f_, static_cast<uint32_t>(us / 1000000)) &&
              put32(f_, static_cast<uint32_t>(us % 1000000)) && put32(f_, caplen) &&
              put32(f_, static_cast<uint32_t>(frame.size())) &&
              (caplen == 0 || std::fwrite(frame.data(), caplen, 1, f_) == 1);
    packets_ += ok;
    return ok;
}

void Writer::close() {
    if (f_)
        std::fclose(f_);
    f_ = nullptr;
}

std::optional<File> read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::vector<uint8_t> all((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    if (all.size() < 24)
        return std::nullopt;
    auto raw32 = [&](size_t at) {
        return uint32_t(all[at]) | uint32_t(all[at + 1]) << 8 | uint32_t(all[at + 2]) << 16 |
               uint32_t(all[at + 3]) << 24; // little-endian view
    };
    const uint32_t magic = raw32(0);
    bool swap = false, nanos = false;
    if (magic == k_magic_us || magic == k_magic_ns) {
        nanos = magic == k_magic_ns;
    } else if (__builtin_bswap32(magic) == k_magic_us || __builtin_bswap32(magic) == k_magic_ns) {
        swap = true;
        nanos = __builtin_bswap32(magic) == k_magic_ns;
    } else {
        return std::nullopt;
    }
    auto rd32 = [&](size_t at) { return swap ? __builtin_bswap32(raw32(at)) : raw32(at); };
    File file;
    file.link_type = rd32(20);
    for (size_t at = 24; at < all.size();) {
        if (all.size() - at < 16)
            return std::nullopt;
        const uint64_t sec = rd32(at), frac = rd32(at + 4);
        const uint32_t caplen = rd32(at + 8);
        at += 16;
        if (caplen > all.size() - at)
            return std::nullopt;
        Packet p;
        p.timestamp.since_origin =
            std::chrono::seconds(sec) + (nanos ? duration(frac) : std::chrono::microseconds(frac));
        p.data.assign(all.begin() + long(at), all.begin() + long(at + caplen));
        file.packets.push_back(std::move(p));
        at += caplen;
    }
    return file;
}

} // namespace mcfwd::pcapfile
