// libFuzzer target: mcfwd::wire::decode on arbitrary bytes.
//
// Beyond "no crash, no sanitizer report", every frame the decoder accepts is
// re-encoded with the port parameters read from it, and the result must decode
// to the same message. That holds because the decoder only accepts what the
// encoder can express and every field it keeps survives the encoder's
// normalisations:
// - time codes are one-to-one (time_code.hpp), so a decoded Max Resp Code / QQIC
//   encodes back to the same code; an IGMPv2 code is at least 1 when decoded;
// - an IGMPv1 query decodes as 10 s and is encoded with code 0 whatever it holds;
// - the reserved bits, the ICMPv6 code, IP options other than Router Alert,
//   extension headers, auxiliary data and trailing octets are not part of the
//   Message and are dropped by the encoder;
// - a Report without records encodes to no frame.
// The one thing not guaranteed is the size: the encoder adds Router Alert / a
// Hop-by-Hop header the original may have lacked, so a frame near the 64 KiB
// IP limit may not re-encode as one packet; such inputs are only decoded.
//
// Random bytes almost never carry right checksums, which would keep the fuzzer
// at the checksum checks; so each input is also decoded once more with its
// checksums repaired (repair_checksums below), which lets mutations reach the
// message parsers.
#include "wire/checksum.hpp"
#include "wire/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace mcfwd;
using namespace mcfwd::wire;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_wire_decode: %s\n", what);
    std::abort();
}

bool sent_with_router_alert(const Message& m) {
    if (auto* q = std::get_if<Query>(&m))
        return !(q->family == Family::v4 && q->version == 1);
    if (auto* r = std::get_if<LegacyReport>(&m))
        return !(r->family == Family::v4 && r->version == 1);
    return true;
}

uint16_t load16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}
void store16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

/// Rewrites the IPv4 header checksum and the IGMP / ICMPv6 checksum where the
/// lengths in the frame allow; leaves everything else as it is. Deliberately
/// simpler than the decoder (only Hop-by-Hop, Destination Options and Routing
/// headers are skipped): it is a helper for reaching code, not an oracle.
void repair_checksums(std::vector<uint8_t>& f) {
    std::size_t at = 12;
    if (f.size() < at + 2)
        return;
    uint16_t type = load16(&f[at]);
    at += 2;
    if (type == 0x8100 && f.size() >= at + 4) {
        type = load16(&f[at + 2]);
        at += 4;
    }
    if (type == 0x0800 && f.size() >= at + 20) {
        const std::size_t ihl = std::size_t(f[at] & 0x0f) * 4;
        const std::size_t total = load16(&f[at + 2]);
        if (ihl < 20 || ihl > total || at + total > f.size())
            return;
        store16(&f[at + 10], 0);
        store16(&f[at + 10], internet_checksum({&f[at], ihl}));
        if (total - ihl >= 4) {
            uint8_t* m = &f[at + ihl];
            store16(m + 2, 0);
            store16(m + 2, internet_checksum({m, total - ihl}));
        }
    } else if (type == 0x86dd && f.size() >= at + 40) {
        const std::size_t end = at + 40 + load16(&f[at + 4]);
        if (end > f.size())
            return;
        uint8_t next = f[at + 6];
        const IpAddr src = IpAddr::from_v6_bytes(&f[at + 8]);
        const IpAddr dst = IpAddr::from_v6_bytes(&f[at + 24]);
        std::size_t off = at + 40;
        for (int n = 0; n < 8 && (next == 0 || next == 43 || next == 60) && off + 8 <= end; ++n) {
            const std::size_t len = (std::size_t(f[off + 1]) + 1) * 8;
            next = f[off];
            off += len;
        }
        if (next != 58 || off + 4 > end)
            return;
        store16(&f[off + 2], 0);
        uint64_t sum = ipv6_pseudo_header_sum(src, dst, uint32_t(end - off), 58);
        store16(&f[off + 2], checksum_finish(checksum_add(sum, {&f[off], end - off})));
    }
}

void check(std::span<const uint8_t> frame);

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    check({data, size});
    std::vector<uint8_t> repaired(data, data + size);
    repair_checksums(repaired);
    check(repaired);
    return 0;
}

namespace {

void check(std::span<const uint8_t> frame) {
    const std::size_t size = frame.size();
    const DecodeResult result = decode(frame);
    const auto* d = std::get_if<DecodedFrame>(&result);
    if (d == nullptr) {
        if (static_cast<std::size_t>(std::get<DropReason>(result)) >= drop_reason_count)
            fail("drop reason out of range");
        return;
    }
    if (d->ttl != 1)
        fail("accepted a TTL / hop limit other than 1");

    FrameParams p;
    p.src_mac = d->src_mac;
    p.vlan = d->vlan;
    p.vlan_pcp = d->vlan_pcp;
    p.mtu = 0xffff;
    const bool v4 = d->ip_src.is_v4();
    (v4 ? p.ipv4_src : p.ipv6_src) = d->ip_src;

    std::vector<Frame> out;
    const errc e = encode(d->message, p, out);
    constexpr std::size_t size_margin = 0xffff - 256;
    if (e != errc::ok) {
        if (size > size_margin)
            return;
        fail("a decoded message does not re-encode");
    }
    if (const auto* rep = std::get_if<Report>(&d->message); rep && rep->records.empty()) {
        if (!out.empty())
            fail("an empty report produced frames");
        return;
    }
    if (out.size() != 1) {
        if (size > size_margin)
            return;
        fail("a decoded message re-encodes to more than one frame");
    }
    const DecodeResult again = decode(out[0]);
    const auto* d2 = std::get_if<DecodedFrame>(&again);
    if (d2 == nullptr)
        fail("the re-encoded frame does not decode");
    if (!(d2->message == d->message))
        fail("the re-encoded frame decodes to another message");
    if (d2->src_mac != d->src_mac || d2->vlan != d->vlan || d2->vlan_pcp != d->vlan_pcp ||
        d2->ip_src != d->ip_src || d2->ttl != 1)
        fail("the re-encoded frame has other headers");
    if (d2->router_alert != sent_with_router_alert(d->message))
        fail("Router Alert presence differs from the encoder's contract");
}

} // namespace
