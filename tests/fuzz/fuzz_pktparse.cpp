// libFuzzer target for pktparse::parse and parse_meta: no read outside [data, data + size)
// (libFuzzer hands over an exact-size heap copy, so ASan sees any overrun) and the
// Packet invariants the data path relies on hold for every accepted frame.
#include "pktparse/parse.hpp"

#include <cstdlib>

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace mcfwd::pktparse;
    const ParseResult r = parse(data, size);
    if (!r.ok) {
        check(static_cast<size_t>(r.drop) < drop_reason_count);
        return 0;
    }
    const Packet& p = r.packet;
    check(p.l3_offset < size);
    check(p.l3_offset == (p.vlan_tci ? 18 : 14));
    check(size_t(p.l3_offset) + p.ip_length <= size);
    check(p.l4_offset > p.l3_offset && p.l4_offset <= p.l3_offset + p.ip_length);
    check(p.dst.is_multicast() && !p.src.is_multicast());
    check(p.family == p.dst.family() && p.family == p.src.family());
    // Link-local groups reach the data path only as IGMP/MLD to punt.
    check(p.control || !p.dst.is_link_local_group());
    // The data path's form: the IPv6 key points into the frame, at its IPv6 header.
    Meta m;
    check(parse_meta(data, size, m));
    if (m.v6()) {
        check(m.ip6 == data + m.l3_offset && m.l3_offset + 40u <= size);
        check(m.src4 == 0 && m.group4 == 0);
    } else {
        check(m.ip6 == nullptr);
    }
    check(group_of(m) == p.dst && source_of(m) == p.src);
    return 0;
}
