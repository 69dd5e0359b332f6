// mcfwd::dataplane counters — what one forwarding lcore counts, declared once.
//
// MCFWD_DATAPLANE_COUNTERS lists the data path's own counters; together with
// MCFWD_PKTPARSE_DROP_REASONS (the parser's drops, counted under the same
// names) and the per-outlet delivered array they are everything the data path
// counts. Telemetry and docs enumerate them through for_each_counter(), so a new
// counter is one line in one list.
//
// Thread-safety: each forwarding lcore owns one LcoreCounters (cache-line
// aligned, so lcores never share a line) and increments it with plain adds, no
// atomic read-modify-write. Readers on other threads (telemetry) read the
// aligned 64-bit words while they change; on the 64-bit targets DPDK supports
// such loads are not torn, and a total that is one burst stale is acceptable.
#pragma once

#include "pktparse/parse.hpp"
#include "table/group_entry.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace mcfwd::dataplane {

// X(name, description). Drops first, then what is not a drop.
#define MCFWD_DATAPLANE_COUNTERS(X)                                                                \
    X(multi_segment, "drop: mbuf chain of more than one segment (headers must be contiguous)")     \
    X(wrong_vlan, "drop: VLAN id differs from the receiving port's (untagged port: id 0 or none)") \
    X(not_member, "drop: no table entry for (port, group)")                                        \
    X(source_filtered, "drop: the group's port-level filter rejects the source (accept == 0)")     \
    X(unknown_outlet, "drop (per outlet): the entry names an outlet id this lcore does not have")  \
    X(sink_full, "drop (per outlet): ring sink full or TX queue did not take the packet")          \
    X(punt_full, "drop: IGMP/MLD not punted, the control ring was full")                           \
    X(punt_limited, "drop: IGMP/MLD over the receiving queue's punt rate (a report flood)")        \
    X(ttl_expired, "drop (per routed outlet): IPv4 TTL / IPv6 hop limit <= 1 on arrival")          \
    X(header_alloc_failed, "drop (per routed outlet): header or indirect mbuf pool empty")         \
    X(rx_packets, "packets received")                                                              \
    X(punted, "IGMP/MLD packets handed to the control lcore")                                      \
    X(forwarded, "packets accepted by at least one outlet (fan-out source packets)")               \
    X(from_downstream,                                                                             \
      "of forwarded: received on a proxy's downstream port; upstream unless TTL <= 1 (RFC 4605)")

struct alignas(64) LcoreCounters {
#define MCFWD_DATAPLANE_X(name, desc) uint64_t name = 0;
    MCFWD_DATAPLANE_COUNTERS(MCFWD_DATAPLANE_X)
#undef MCFWD_DATAPLANE_X
    /// Indexed by pktparse::DropReason.
    std::array<uint64_t, pktparse::drop_reason_count> parse_drop{};
    /// Copies handed to each outlet (ring enqueued or TX accepted), indexed by OutletId.
    std::array<uint64_t, table::max_outlets> delivered{};

    uint64_t& parse(pktparse::DropReason r) noexcept {
        return parse_drop[size_t(r)];
    }
    uint64_t parse(pktparse::DropReason r) const noexcept {
        return parse_drop[size_t(r)];
    }
};

/// The element-wise sum of per-lcore counters (telemetry's view of the port set).
inline LcoreCounters sum(std::span<const LcoreCounters> per_lcore) noexcept {
    LcoreCounters t;
    for (const LcoreCounters& c : per_lcore) {
#define MCFWD_DATAPLANE_X(name, desc) t.name += c.name;
        MCFWD_DATAPLANE_COUNTERS(MCFWD_DATAPLANE_X)
#undef MCFWD_DATAPLANE_X
        for (size_t i = 0; i < t.parse_drop.size(); ++i)
            t.parse_drop[i] += c.parse_drop[i];
        for (size_t i = 0; i < t.delivered.size(); ++i)
            t.delivered[i] += c.delivered[i];
    }
    return t;
}

/// Calls f(name, description, value) for every scalar counter: the data path's own,
/// then one per parser drop reason named "parse_<reason>". Per-outlet delivered
/// counts are c.delivered (telemetry names them by outlet).
template <class F>
void for_each_counter(const LcoreCounters& c, F&& f) {
#define MCFWD_DATAPLANE_X(name, desc) f(std::string_view(#name), std::string_view(desc), c.name);
    MCFWD_DATAPLANE_COUNTERS(MCFWD_DATAPLANE_X)
#undef MCFWD_DATAPLANE_X
#define MCFWD_PKTPARSE_X(name, desc)                                                               \
    f(std::string_view("parse_" #name), std::string_view(desc),                                    \
      c.parse(pktparse::DropReason::name));
    MCFWD_PKTPARSE_DROP_REASONS(MCFWD_PKTPARSE_X)
#undef MCFWD_PKTPARSE_X
}

} // namespace mcfwd::dataplane
