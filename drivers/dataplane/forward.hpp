// mcfwd::dataplane — the forwarding lcore's whole job, in one place:
//     RX burst -> parse -> look up (port, group) -> filter (source) -> fan out -> TX
// poll_once() in forward.cpp reads top to bottom in that order.
//
// Zero copy. A frame accepted by n outlets is handed, as the same mbuf, to all n:
// its reference count is raised by n - 1 once, and every outlet (ring consumer,
// PMD after TX) frees its reference. DPDK's examples/ipv4_multicast instead
// clones (a new header mbuf per destination, the payload attached indirectly)
// because it rewrites the Ethernet header per output port. mcfwd's receivers
// and downstream ports get the untouched frame (the multicast MAC is already
// right for the group, RFC 1112 §6.4 / RFC 2464 §7), so nothing is written to
// the packet and a reference count is enough: no allocation per copy, no
// mempool pressure, one write to the mbuf's own cache line. Consequence for
// outlets: a sink must treat the frame as read-only. It also means the IPv4 TTL /
// IPv6 hop limit is not decremented: mcfwd delivers frames as a host stack does
// to its sockets. A downstream port in proxy mode (RFC 4605) is a routed hop,
// where a router decrements the TTL (RFC 1812 §5.3.1); doing so needs a private
// copy of the header for that outlet, which this version does not make (open
// decision).
//
// Single segment. The parser reads the first segment only (rte_pktmbuf_mtod,
// data_len). mcfwd's ports run without scatter RX, so a frame is one segment; a
// chained mbuf is dropped and counted (multi_segment) rather than parsed from a
// partial view.
//
// Staging. Copies for each outlet are gathered in a per-outlet burst array and
// flushed when it fills and at the end of every poll_once(): one
// rte_ring_enqueue_burst or rte_eth_tx_burst per outlet per poll instead of one
// per packet (a multi-producer ring costs one compare-and-swap on its head per
// enqueue call). What a sink does not take is freed and counted (sink_full). IGMP
// and MLD are rare: they are enqueued to the punt ring one by one.
//
// RCU. Table pointers (PortTable entries) are held only inside poll_once();
// at its end the lcore reports a quiescent state: rte_rcu_qsbr_quiescent(qsbr,
// qsbr_thread_id) when qsbr is set, and/or the quiescent hook (for a portable
// reclaimer such as table::Qsbr in tests). The lcore must be registered and
// online with that QSBR variable before the first poll_once().
//
// Hot path: no locks, allocation, system calls or virtual calls; counters are
// the lcore's own (counters.hpp).
#pragma once

#include "dataplane/counters.hpp"
#include "dataplane/outlet.hpp"
#include "table/port_table.hpp"

#include <array>
#include <cstdint>

struct rte_mbuf;
struct rte_ring;
struct rte_rcu_qsbr;

namespace mcfwd::dataplane {

/// Packets per rte_eth_rx_burst and per outlet staging array.
inline constexpr uint16_t burst_size = 32;
/// RX queues one lcore polls.
inline constexpr size_t max_rx_queues = 16;

struct RxQueue {
    uint16_t port;
    uint16_t queue;
    /// The port's VLAN: frames tagged with another VLAN id, or untagged frames on
    /// a tagged port, are dropped (wrong_vlan). -1: the port is untagged (it
    /// takes untagged and priority-tagged, VLAN id 0, frames).
    int32_t vlan = -1;
};

/// One outlet's pending copies; flushed by poll_once().
struct StagedBurst {
    uint16_t count = 0;
    std::array<rte_mbuf*, burst_size> pkts{};
};

/// Everything one forwarding lcore uses. Built at startup by the lcore's owner;
/// afterwards only that lcore touches it (except counters, read by telemetry).
struct alignas(64) ForwardContext {
    // --- configuration: set at startup, read-only afterwards ---
    std::array<RxQueue, max_rx_queues> rx{};
    size_t rx_count = 0;
    /// Port id -> that port's table (null: the port forwards nothing). The array
    /// is published at startup; the tables behind it are updated lock-free by the
    /// control lcore (port_table.hpp's reader contract applies).
    table::PortTable* const* tables = nullptr;
    size_t table_count = 0;
    /// Outlet ids in table entries index this set.
    const OutletSet* outlets = nullptr;
    /// IGMP/MLD go here (multi-producer: every forwarding lcore enqueues).
    rte_ring* punt_ring = nullptr;
    /// Quiescent-state reporting at the end of each poll_once() (either or both).
    rte_rcu_qsbr* qsbr = nullptr;
    unsigned qsbr_thread_id = 0;
    void (*quiescent_hook)(void* arg) = nullptr;
    void* quiescent_arg = nullptr;

    // --- lcore-private state ---
    LcoreCounters counters;
    /// Bit i: staged[i] holds packets.
    uint64_t staged_mask = 0;
    std::array<StagedBurst, table::max_outlets> staged{};
};

/// Polls every RX queue of ctx once (one burst each), forwards or punts or drops
/// every packet received, flushes all staged copies and reports a quiescent
/// state. Runs on the lcore that owns ctx. Never blocks, allocates or fails; every
/// packet ends up counted exactly once in rx_packets and, unless forwarded, in
/// exactly one drop or punt counter.
void poll_once(ForwardContext& ctx) noexcept;

/// Transmits/enqueues whatever is staged (poll_once() ends with it; exposed for an
/// lcore that stops polling).
void flush(ForwardContext& ctx) noexcept;

} // namespace mcfwd::dataplane
