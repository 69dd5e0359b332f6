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
// Thread-safety: an OutletSet changes only on the control lcore, under the rules
// stated on the class (receivers come and go at run time). Ring sinks may be shared by several forwarding lcores only if the ring is
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
///
/// Writer: the control lcore (startup, and add_receiver / close_receiver at run
/// time through OutletRegistry). Reader: the lcore that owns the set. A slot is
/// written before any table entry names its id, and the entry is published with
/// a release store that the lcore's lookup acquires, so an id found in an entry
/// always reads a complete Outlet. A slot is cleared only after no entry names
/// its id and every lcore has passed a quiescent state (OutletRegistry waits for
/// the RCU grace period), so the lcore never reads a slot while it changes.
class OutletSet {
public:
    /// Puts o at the lowest free id and returns it in id. errc::no_buffer_space
    /// when full; errc::invalid for a ring outlet without a ring or a routed
    /// outlet whose VLAN id is outside 1..4094 (or not -1).
    errc add(const Outlet& o, table::OutletId& id) noexcept {
        const uint64_t free = ~present_mask();
        if (free == 0)
            return errc::no_buffer_space;
        id = table::OutletId(__builtin_ctzll(free));
        return put(id, o);
    }
    /// Puts o at id, which must be free (errc::addr_in_use otherwise; invalid as
    /// for add(), and for id >= table::max_outlets).
    errc put(table::OutletId id, const Outlet& o) noexcept {
        if (id >= outlets_.size())
            return errc::invalid;
        if (present_mask() >> id & 1)
            return errc::addr_in_use;
        if (o.kind == OutletKind::ring && o.ring == nullptr)
            return errc::invalid;
        if (o.kind == OutletKind::routed && o.vlan != -1 && (o.vlan < 1 || o.vlan > max_vlan_id))
            return errc::invalid;
        outlets_[id] = o;
        const uint64_t bit = uint64_t{1} << id;
        if (o.kind == OutletKind::routed)
            __atomic_store_n(&routed_, routed_ | bit, __ATOMIC_RELEASE);
        __atomic_store_n(&present_, present_ | bit, __ATOMIC_RELEASE);
        return errc::ok;
    }
    /// Frees id (see the class comment for when that is safe).
    void remove(table::OutletId id) noexcept {
        const uint64_t bit = uint64_t{1} << id;
        __atomic_store_n(&present_, present_ & ~bit, __ATOMIC_RELEASE);
        __atomic_store_n(&routed_, routed_ & ~bit, __ATOMIC_RELEASE);
        outlets_[id] = Outlet{};
    }
    /// Bit id set: outlet id exists. An id outside it is counted unknown_outlet.
    uint64_t present_mask() const noexcept { return __atomic_load_n(&present_, __ATOMIC_RELAXED); }
    size_t size() const noexcept { return size_t(__builtin_popcountll(present_mask())); }
    /// Bit id set: outlet id is routed. 0 lets the data path skip the routed logic.
    uint64_t routed_mask() const noexcept { return __atomic_load_n(&routed_, __ATOMIC_RELAXED); }
    /// Precondition: id is present.
    const Outlet& operator[](table::OutletId id) const noexcept { return outlets_[id]; }

private:
    std::array<Outlet, table::max_outlets> outlets_{};
    uint64_t present_ = 0; // written by the control lcore, read by the set's lcore
    uint64_t routed_ = 0;
};

} // namespace mcfwd::dataplane
