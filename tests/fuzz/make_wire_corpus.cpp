// Writes the seed corpus of fuzz_wire_decode: one file per frame the encoder
// produces for each message kind, family and VLAN setting, plus a few frames
// the encoder never makes (options, extension headers, aux data) so that the
// fuzzer starts from every decoder path. Usage: make_wire_corpus DIR
#include "wire/codec.hpp"

#include <chrono>
#include <cstdio>
#include <string>

using namespace mcfwd;
using namespace mcfwd::wire;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    auto ip = [](const char* t) { return *IpAddr::parse(t); };
    const std::vector<std::pair<const char*, Message>> messages = {
        {"igmpv3_report",
         Report{Family::v4,
                {{RecordType::mode_is_include, ip("232.1.1.1"), {ip("10.0.0.1"), ip("10.0.0.2")}},
                 {RecordType::change_to_exclude, ip("239.1.1.1"), {}}}}},
        {"igmpv1_report", LegacyReport{Family::v4, 1, ip("239.0.0.5")}},
        {"igmpv2_report", LegacyReport{Family::v4, 2, ip("239.0.0.5")}},
        {"igmpv2_leave", Leave{Family::v4, ip("239.0.0.5")}},
        {"igmpv1_query", Query{Family::v4, 1, IpAddr::v4(0), 10s, false, 0, 0s, {}}},
        {"igmpv2_query", Query{Family::v4, 2, ip("239.0.0.5"), 1s, false, 0, 0s, {}}},
        {"igmpv3_query",
         Query{Family::v4, 3, ip("232.1.1.1"), 25600ms, true, 2, 125s, {ip("10.0.0.1")}}},
        {"mldv2_report",
         Report{Family::v6,
                {{RecordType::allow_new_sources, ip("ff3e::1"), {ip("2001:db8::1")}},
                 {RecordType::block_old_sources, ip("ff05::3"), {ip("2001:db8::2")}}}}},
        {"mldv1_report", LegacyReport{Family::v6, 1, ip("ff05::2")}},
        {"mldv1_done", Leave{Family::v6, ip("ff05::2")}},
        {"mldv1_query", Query{Family::v6, 1, IpAddr{}, 10s, false, 0, 0s, {}}},
        {"mldv2_query",
         Query{Family::v6, 2, ip("ff3e::1"), 40000ms, false, 2, 200s, {ip("2001:db8::1")}}},
    };
    FrameParams p;
    p.src_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x01}};
    p.ipv4_src = ip("192.0.2.1");
    p.ipv6_src = ip("fe80::1");
    int written = 0;
    auto write = [&](const std::string& name, const Frame& f) {
        FILE* out = std::fopen((dir + "/" + name).c_str(), "wb");
        if (out == nullptr || std::fwrite(f.data(), 1, f.size(), out) != f.size()) {
            std::perror(name.c_str());
            std::exit(1);
        }
        std::fclose(out);
        ++written;
    };
    for (bool tagged : {false, true}) {
        p.vlan = tagged ? std::optional<uint16_t>(7) : std::nullopt;
        for (const auto& [name, m] : messages) {
            std::vector<Frame> frames;
            if (encode(m, p, frames) != errc::ok || frames.size() != 1) {
                std::fprintf(stderr, "cannot encode %s\n", name);
                return 1;
            }
            write(std::string(name) + (tagged ? "_vlan" : ""), frames[0]);
        }
    }
    // IPv6 with Destination Options and a Routing header (Segments Left 0) after
    // Hop-by-Hop: the MLDv1 report's checksum does not cover them, so they can be
    // spliced in front of the ICMPv6 message as they are.
    {
        std::vector<Frame> frames;
        (void)encode(LegacyReport{Family::v6, 1, ip("ff05::2")},
                     FrameParams{p.src_mac, p.ipv4_src, p.ipv6_src, {}, 0, 1500}, frames);
        Frame f = frames[0];
        f[54] = 60; // Hop-by-Hop → Destination Options
        const uint8_t more[16] = {43, 0, 1, 4, 0, 0, 0, 0, 58, 0, 0, 0, 0, 0, 0, 0};
        f.insert(f.begin() + 62, more, more + 16);
        f[19] = uint8_t(f[19] + 16);
        write("mldv1_report_ext_headers", f);
    }
    std::printf("%d seeds in %s\n", written, dir.c_str());
    return 0;
}
