// mcfwd::dataplane — the forwarding lcore's whole job, in one place:
//     RX burst -> parse -> look up (port, group) -> filter (source) -> fan out -> TX
// The lookup runs in stages over the burst so that its cache misses overlap:
// parse writes each packet's metadata in place and prefetches its index line;
// the index is probed and the entry's lines prefetched; then each packet is
// checked, filtered and fanned out (port_table.hpp).
// poll_once() in forward.cpp reads top to bottom in that order.
//
// Zero copy. A frame accepted by n receiver outlets (ring sinks and plain TX
// ports) is handed, as the same mbuf, to all n: its reference count is raised by
// n - 1 once, and every outlet (ring consumer, PMD after TX) frees its reference.
// Receivers get the untouched frame (the multicast MAC is already right for the
// group, RFC 1112 §6.4 / RFC 2464 §7; TTL untouched, as a host stack delivers to
// its sockets), so nothing is written to the packet and a reference count is
// enough: no allocation per copy, one write to the mbuf's own cache line.
// Consequence for outlets: a sink must treat the frame as read-only.
//
// Routed copies. A routed outlet (Outlet::routed_tx, a downstream port of an RFC
// 4605 proxy) is a routed hop: the copy leaves with the IPv4 TTL / IPv6 hop limit
// decremented (RFC 1812 §5.3.1), the IPv4 header checksum updated incrementally
// (RFC 1624 eqn. 3, so an already wrong checksum stays wrong rather than being
// blessed; mcfwd does not verify it, see pktparse), the egress port's source MAC
// and the egress port's VLAN tag or none (the ingress tag is not carried over).
// The destination MAC is the group's and stays. A frame whose TTL is <= 1 on
// arrival is not sent to routed outlets (ttl_expired, per outlet) but still to
// receivers (RFC 1812 §5.3.1 allows local delivery). Like DPDK's
// examples/ipv4_multicast, each routed copy is two segments: a header mbuf from
// ctx.header_pool holding the rewritten Ethernet [+ 802.1Q] + fixed IP header
// (20 bytes of IPv4 — options stay in the payload, the checksum update needs only
// the TTL word — or 40 of IPv6), chained to an indirect mbuf from
// ctx.indirect_pool attached to the received frame past those bytes. The payload
// is never copied; each indirect mbuf holds one reference to the received mbuf,
// so the receivers' copies and the routed copies share it, and the receivers'
// bytes are never written. All routed copies are made before any receiver's
// reference is handed out (a consumer may free its reference at once). An empty
// pool drops that copy (header_alloc_failed), never the packet for the others.
// A frame that leaves tagged where it came untagged grows by 4 bytes: the egress
// port's MTU must allow it.
//
// Downstream senders. RFC 4605 §4.2: a proxy forwards what it receives on a
// downstream interface to the upstream interface, and to each other downstream
// interface and its local receivers per their subscriptions (and, for a
// downstream interface, only while the proxy is its querier). The upstream
// port's table already says exactly that for a group: its outlets are the local
// receivers joined there and each downstream port's routed outlet, present only
// while mcfwd is that link's querier (control::TablePublisher). So a downstream
// port's RX queue (DownstreamQueue::upstream_port) looks its data up in the upstream
// port's table, with no second copy of it: the accepting outlets minus the port's
// own (never back onto the link the frame came from), plus what the port's own
// table accepts (receivers joined on the downstream port itself, as before),
// plus the upstream outlet, which every packet takes (the upstream interface is
// in every forwarding list; a group nobody downstream asked for still goes
// upstream, where no entry exists). Never forwarded upstream: what the parser
// drops (link-local scope groups) and IGMP/MLD (punted). Counted in
// from_downstream; an upstream port's queues skip all of it (one predictable
// branch per packet).
//
// Single segment. The parser reads the first segment only (rte_pktmbuf_mtod,
// data_len). mcfwd's ports run without scatter RX, so a frame is one segment; a
// chained mbuf is dropped and counted (multi_segment) rather than parsed from a
// partial view.
//
// Sending. Receiver copies are sent per RX burst: the burst's packets for each
// receiver outlet are gathered and handed over in one rte_ring_enqueue_burst or
// rte_eth_tx_burst (a multi-producer ring costs one compare-and-swap on its head
// per enqueue call). On an lcore with routed outlets, copies are staged per
// outlet instead, and flushed when an outlet's array fills and at the end of
// every poll_once(). What a sink does not take is freed and counted
// (sink_full). IGMP and MLD are rare: they are enqueued to the punt ring one by
// one.
//
// RCU. Table pointers (PortTable entries) are held only inside poll_once();
// at its end the lcore reports a quiescent state: rte_rcu_qsbr_quiescent(qsbr,
// qsbr_thread_id) when qsbr is set, and/or the quiescent hook (for a portable
// reclaimer such as table::Qsbr in tests). The lcore must be registered and
// online with that QSBR variable before the first poll_once().
//
// Hot path: no locks, system calls or virtual calls, no allocation other than
// routed copies' mbufs from their mempools; counters are the lcore's own
// (counters.hpp).
#pragma once

#include "dataplane/counters.hpp"
#include "dataplane/outlet.hpp"
#include "table/port_table.hpp"

#include <array>
#include <cstdint>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;

namespace mcfwd::dataplane {

/// Packets per rte_eth_rx_burst and per outlet staging array.
inline constexpr uint16_t burst_size = 32;
/// RX queues one lcore polls.
inline constexpr size_t max_rx_queues = 16;
/// Largest rewritten header of a routed copy: Ethernet, 802.1Q tag, IPv6 header.
inline constexpr uint16_t max_routed_header = 14 + 4 + 40;

struct RxQueue {
    uint16_t port;
    uint16_t queue;
    /// The port's VLAN: frames tagged with another VLAN id, or untagged frames on
    /// a tagged port, are dropped (wrong_vlan). -1: the port is untagged (it
    /// takes untagged and priority-tagged, VLAN id 0, frames).
    int32_t vlan = -1;
    /// IGMP/MLD this queue may punt per second (0: no limit), in bursts of up to
    /// punt_burst: a host flooding reports on one port must not fill the control
    /// ring that every port's queries and reports share (punt_limited counts the
    /// rest). A token bucket kept in TSC cycles; only this queue's lcore touches it.
    uint32_t punt_rate = 0;
    uint32_t punt_burst = 32;
    uint64_t punt_credit = 0;   // cycles of credit; one punt costs tsc_hz / punt_rate
    uint64_t punt_last_tsc = 0; // 0: not started (the bucket starts full)
    /// This queue's punt ring, instead of ForwardContext::punt_ring (null: that one).
    /// With several control lcores each has its own ring, for the ports it owns.
    rte_ring* punt_ring = nullptr;
};

/// An RX queue of a proxy's downstream port (forward.hpp, "Downstream senders");
/// left as it is for every other queue. upstream_port >= 0: data is looked up in
/// that port's table rather than the queue's port's; its entries' outlets minus
/// own_outlets (the port's routed outlet: never back where it came from), plus
/// the port's own table's, plus upstream_outlets (a routed outlet onto the
/// upstream port, whether or not any entry names the group) take it.
struct DownstreamQueue {
    int32_t upstream_port = -1;
    uint64_t own_outlets = 0;
    uint64_t upstream_outlets = 0;
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
    /// Routed outlets only (null: every routed copy is header_alloc_failed).
    /// header_pool: see create_header_pool(); indirect_pool: create_indirect_pool().
    /// Per lcore or shared (mempools are thread-safe). Give them a per-lcore cache
    /// (e.g. 256): without one every copy pays two ring operations on the pool
    /// (BM_FanOut, one routed outlet: 168 ns/packet without, 115 with). Each routed copy in flight
    /// (staged, or in a TX ring until the PMD frees it) holds one mbuf of each.
    rte_mempool* header_pool = nullptr;
    rte_mempool* indirect_pool = nullptr;

    // --- lcore-private state ---
    LcoreCounters counters;
    /// Bit i: staged[i] holds packets.
    uint64_t staged_mask = 0;
    std::array<StagedBurst, table::max_outlets> staged{};

    // --- configuration (continued): set at startup, read-only afterwards ---
    /// downstream[i] belongs to rx[i]. Kept here rather than in RxQueue: grown by
    /// these fields, RxQueue (and everything after the rx array) cost the upstream
    /// path about 8% in BM_PollOnce, a layout effect (measured on 71da71d's code).
    std::array<DownstreamQueue, max_rx_queues> downstream{};
};

/// Polls every RX queue of ctx once (one burst each), forwards or punts or drops
/// every packet received, flushes all staged copies and reports a quiescent
/// state. Runs on the lcore that owns ctx. Never blocks, allocates or fails; every
/// packet ends up counted exactly once in rx_packets and, unless forwarded, in
/// exactly one drop or punt counter.
void poll_once(ForwardContext& ctx) noexcept;

/// A pool for routed copies' header mbufs: n mbufs with room for
/// max_routed_header bytes after the standard headroom. Startup only; null with
/// rte_errno set on failure. Size n for every routed copy that can be in flight:
/// sum over routed outlets of (TX descriptors + burst_size), plus cache_size per
/// lcore using it.
rte_mempool* create_header_pool(const char* name, unsigned n, unsigned cache_size,
                                int socket) noexcept;
/// A pool of indirect mbufs (no data room) for routed copies' payload segments;
/// sized like the header pool. Startup only; null with rte_errno set on failure.
rte_mempool* create_indirect_pool(const char* name, unsigned n, unsigned cache_size,
                                  int socket) noexcept;

/// Transmits/enqueues whatever is staged (poll_once() ends with it; exposed for an
/// lcore that stops polling).
void flush(ForwardContext& ctx) noexcept;

} // namespace mcfwd::dataplane
