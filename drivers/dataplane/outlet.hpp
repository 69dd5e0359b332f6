// mcfwd::dataplane::Outlet — what a table outlet id (table::OutletId) means to the
// data path: the index of an Outlet in the forwarding lcore's OutletSet.
//
// An outlet is either
//  - a ring sink: an rte_ring a consumer (typically a secondary DPDK process, the
//    multi-process consumer pattern) dequeues whole frames from; or
//  - a TX port/queue: the frame is transmitted unchanged on (port, queue); or
//  - a routed TX port/queue: a downstream port of a proxy (RFC 4605 §3), a routed
//    hop. The copy leaves with the egress port's source MAC and VLAN (or none),
//    the IPv4 TTL / IPv6 hop limit decremented (RFC 1812 §5.3.1), and is dropped
//    when the TTL has expired; forward.hpp says how the copy is built (a private
//    header mbuf in front of the shared payload). The TX queue must accept
//    two-segment mbufs (RTE_ETH_TX_OFFLOAD_MULTI_SEGS where the PMD asks for it).
//
// Thread-safety: an OutletSet is built at startup and read-only afterwards.
// Ring sinks may be shared by several forwarding lcores only if the ring is
// multi-producer (the default of rte_ring_create without RING_F_SP_ENQ). A TX
// queue is not thread-safe in DPDK, so an OutletSet naming TX queues belongs to
// one lcore: give each lcore its own set, the same ids mapping to the same ports
// with that lcore's queue.
#pragma once

#include "addr/mac_addr.hpp"
#include "base/errc.hpp"
#include "table/group_entry.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

struct rte_ring;

namespace mcfwd::dataplane {

enum class OutletKind : uint8_t { ring, port, routed };

/// Highest IEEE 802.1Q VLAN id (4095 is reserved).
inline constexpr uint16_t max_vlan_id = 4094;

struct Outlet {
    OutletKind kind = OutletKind::ring;
    rte_ring* ring = nullptr; // kind == ring
    uint16_t port = 0;        // kind == port or routed
    uint16_t queue = 0;       // kind == port or routed
    /// kind == routed: the egress port's own MAC, the source of every copy.
    addr::MacAddr src_mac{};
    /// kind == routed: the egress port's VLAN id (1..4094; PCP 0) or -1 for an
    /// untagged port. The ingress tag is never carried over.
    int32_t vlan = -1;

    static Outlet ring_sink(rte_ring* r) noexcept {
        Outlet o;
        o.ring = r;
        return o;
    }
    static Outlet tx(uint16_t port, uint16_t queue) noexcept {
        Outlet o;
        o.kind = OutletKind::port;
        o.port = port;
        o.queue = queue;
        return o;
    }
    /// A routed copy to (port, queue), sent from src_mac, tagged with vlan when set.
    static Outlet routed_tx(uint16_t port, uint16_t queue, const addr::MacAddr& src_mac,
                            std::optional<uint16_t> vlan = std::nullopt) noexcept {
        Outlet o = tx(port, queue);
        o.kind = OutletKind::routed;
        o.src_mac = src_mac;
        o.vlan = vlan ? int32_t(*vlan) : -1;
        return o;
    }
};

/// The outlets table::OutletId values index, at most table::max_outlets.
class OutletSet {
public:
    /// Appends o; its id is the returned index. errc::no_buffer_space when full,
    /// errc::invalid for a ring outlet without a ring or a routed outlet whose VLAN
    /// id is outside 1..4094 (or not -1). Startup only.
    errc add(const Outlet& o, table::OutletId& id) noexcept {
        if (count_ == outlets_.size())
            return errc::no_buffer_space;
        if (o.kind == OutletKind::ring && o.ring == nullptr)
            return errc::invalid;
        if (o.kind == OutletKind::routed && o.vlan != -1 && (o.vlan < 1 || o.vlan > max_vlan_id))
            return errc::invalid;
        outlets_[count_] = o;
        if (o.kind == OutletKind::routed)
            routed_ |= uint64_t{1} << count_;
        id = table::OutletId(count_++);
        return errc::ok;
    }
    size_t size() const noexcept { return count_; }
    /// Bit id set: outlet id is routed. 0 lets the data path skip the routed logic.
    uint64_t routed_mask() const noexcept { return routed_; }
    /// Precondition: id < size().
    const Outlet& operator[](table::OutletId id) const noexcept { return outlets_[id]; }

private:
    std::array<Outlet, table::max_outlets> outlets_{};
    size_t count_ = 0;
    uint64_t routed_ = 0;
};

} // namespace mcfwd::dataplane
