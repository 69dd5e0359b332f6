// The forwarding loop. Read top to bottom: RX, parse, look up, filter, fan out,
// TX. See forward.hpp for the design (zero copy, routed copies, staging, RCU).
#include "dataplane/forward.hpp"

#include "pktparse/parse.hpp"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

namespace mcfwd::dataplane {

namespace {

/// Frees what a sink did not take and counts it against the outlet.
void drop_unsent(ForwardContext& ctx, rte_mbuf** pkts, uint16_t n, unsigned sent) noexcept {
    for (unsigned i = sent; i < n; ++i)
        rte_pktmbuf_free(pkts[i]);
    ctx.counters.sink_full += n - sent;
}

/// Hands pkts[0..n) to outlet id's sink in one call; what it does not take is
/// freed and counted (sink_full).
void deliver(ForwardContext& ctx, table::OutletId id, rte_mbuf** pkts, uint16_t n) noexcept {
    const Outlet& o = (*ctx.outlets)[id];
    unsigned sent;
    if (o.kind == OutletKind::ring)
        sent = rte_ring_enqueue_burst(o.ring, reinterpret_cast<void* const*>(pkts), n, nullptr);
    else
        sent = rte_eth_tx_burst(o.port, o.queue, pkts, n);
    ctx.counters.delivered[id] += sent;
    if (unlikely(sent < n))
        drop_unsent(ctx, pkts, n, sent);
}

void flush_outlet(ForwardContext& ctx, table::OutletId id) noexcept {
    StagedBurst& b = ctx.staged[id];
    deliver(ctx, id, b.pkts.data(), b.count);
    b.count = 0;
    ctx.staged_mask &= ~(uint64_t{1} << id);
}

/// Stages one reference of m for outlet id (the caller already holds it).
inline void stage(ForwardContext& ctx, table::OutletId id, rte_mbuf* m) noexcept {
    StagedBurst& b = ctx.staged[id];
    b.pkts[b.count++] = m;
    ctx.staged_mask |= uint64_t{1} << id;
    if (unlikely(b.count == burst_size))
        flush_outlet(ctx, id);
}

/// RFC 1624 eqn. 3: the checksum hc of a header in which the 16-bit word old_word
/// became new_word, HC' = ~(~HC + ~m + m') in one's complement arithmetic.
inline uint16_t checksum_adjust(uint16_t hc, uint16_t old_word, uint16_t new_word) noexcept {
    uint32_t sum = uint32_t(uint16_t(~hc)) + uint16_t(~old_word) + new_word;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

/// A routed copy of m for o (forward.hpp, "Routed copies"): a header mbuf with the
/// rewritten Ethernet [+ 802.1Q] + fixed IP header, chained to an indirect mbuf
/// holding one reference to m past those bytes. Null (counted) when a pool is
/// empty. Precondition: p.hop_limit > 1; the caller holds a reference to m.
rte_mbuf* routed_copy(ForwardContext& ctx, const Outlet& o, rte_mbuf* m,
                      const pktparse::Meta& p) noexcept {
    const bool v4 = !p.v6();
    const uint16_t ip_len = v4 ? 20 : 40;
    const uint16_t eth_len = o.vlan >= 0 ? 18 : 14;
    // The parser guarantees the fixed IP header is inside the first segment.
    const uint16_t skip = uint16_t(p.l3_offset + ip_len);
    if (unlikely(ctx.header_pool == nullptr || ctx.indirect_pool == nullptr)) {
        ++ctx.counters.header_alloc_failed;
        return nullptr;
    }
    rte_mbuf* h = rte_pktmbuf_alloc(ctx.header_pool);
    if (unlikely(h == nullptr)) {
        ++ctx.counters.header_alloc_failed;
        return nullptr;
    }
    auto* out = rte_pktmbuf_mtod(h, uint8_t*);
    if (unlikely(rte_pktmbuf_append(h, uint16_t(eth_len + ip_len)) == nullptr)) {
        rte_pktmbuf_free(h); // a header pool without create_header_pool()'s room
        ++ctx.counters.header_alloc_failed;
        return nullptr;
    }
    rte_mbuf* tail = nullptr;
    // A frame that ends with its fixed IP header gets no (empty) payload segment.
    if (m->data_len > skip) {
        tail = rte_pktmbuf_alloc(ctx.indirect_pool);
        if (unlikely(tail == nullptr)) {
            rte_pktmbuf_free(h);
            ++ctx.counters.header_alloc_failed;
            return nullptr;
        }
        rte_pktmbuf_attach(tail, m);
        rte_pktmbuf_adj(tail, skip);
    }

    const auto* in = rte_pktmbuf_mtod(m, const uint8_t*);
    std::memcpy(out, in, 6); // the group's MAC
    std::memcpy(out + 6, o.src_mac.bytes.data(), 6);
    if (o.vlan >= 0) {
        out[12] = 0x81, out[13] = 0x00; // 802.1Q TPID; TCI = PCP 0, DEI 0, VID
        out[14] = uint8_t(o.vlan >> 8), out[15] = uint8_t(o.vlan);
    }
    // EtherType and the fixed IP header.
    std::memcpy(out + eth_len - 2, in + p.l3_offset - 2, size_t(ip_len) + 2);
    uint8_t* ip = out + eth_len;
    if (v4) {
        // TTL and protocol share the 16-bit word at offset 8; the checksum is at 10.
        const uint16_t old_word = uint16_t(ip[8] << 8 | ip[9]);
        --ip[8];
        const uint16_t new_word = uint16_t(ip[8] << 8 | ip[9]);
        const uint16_t hc = checksum_adjust(uint16_t(ip[10] << 8 | ip[11]), old_word, new_word);
        ip[10] = uint8_t(hc >> 8), ip[11] = uint8_t(hc);
    } else {
        --ip[7]; // hop limit; IPv6 has no header checksum (RFC 8200 §8.1)
    }
    if (tail != nullptr) {
        h->next = tail;
        h->nb_segs = 2;
        h->pkt_len = h->data_len + tail->pkt_len;
    }
    return h;
}

/// The fan-out of an lcore with routed outlets: the routed copies first (each
/// takes its own reference through its indirect mbuf), then one reference per
/// receiver outlet, the RX reference being the last one handed out or freed.
[[gnu::noinline]] void fan_out_routed(ForwardContext& ctx, uint64_t accept, rte_mbuf* m,
                                      const pktparse::Meta& p) noexcept {
    const uint64_t routed = ctx.outlets->routed_mask();
    const uint64_t known = ctx.outlets->present_mask();
    table::OutletId plain[table::max_outlets];
    unsigned n_plain = 0;
    for (uint64_t bits = accept; bits != 0; bits &= bits - 1) {
        const auto id = table::OutletId(__builtin_ctzll(bits));
        if (unlikely((known >> id & 1) == 0)) {
            ++ctx.counters.unknown_outlet;
            continue;
        }
        if ((routed >> id & 1) == 0) {
            plain[n_plain++] = id;
            continue;
        }
        // RFC 1812 §5.3.1: a TTL of 0 or 1 on arrival is not forwarded.
        if (unlikely(p.hop_limit <= 1)) {
            ++ctx.counters.ttl_expired;
            continue;
        }
        if (rte_mbuf* c = routed_copy(ctx, (*ctx.outlets)[id], m, p); likely(c != nullptr))
            stage(ctx, id, c);
    }
    if (n_plain == 0) {
        rte_pktmbuf_free(m); // the RX reference; m lives on in the routed copies
        return;
    }
    // We still hold a reference, so refcnt_update is safe even if a routed copy
    // already left and a consumer is freeing it concurrently (atomic when > 1).
    if (n_plain > 1)
        rte_mbuf_refcnt_update(m, int16_t(n_plain - 1));
    for (unsigned i = 0; i < n_plain; ++i)
        stage(ctx, plain[i], m);
}

/// Takes one reference of m per outlet in accept that this lcore has, before
/// any outlet can free one (the RX'd mbuf has refcount 1 and is ours alone, so
/// DPDK sets it without an atomic). Returns those outlets; 0: m was freed.
inline uint64_t take_references(ForwardContext& ctx, uint64_t accept, uint64_t known,
                                rte_mbuf* m) noexcept {
    if (unlikely(accept & ~known))
        ctx.counters.unknown_outlet += unsigned(__builtin_popcountll(accept & ~known));
    const uint64_t to = accept & known;
    const unsigned n = unsigned(__builtin_popcountll(to));
    if (likely(n == 1))
        return to;
    if (n == 0)
        rte_pktmbuf_free(m);
    else
        rte_mbuf_refcnt_update(m, int16_t(n - 1));
    return to;
}

/// The queue's token bucket (RxQueue::punt_rate): true if one more punt fits.
bool punt_allowed(RxQueue& q) noexcept {
    if (q.punt_rate == 0)
        return true;
    const uint64_t now = rte_get_tsc_cycles();
    const uint64_t cost = rte_get_tsc_hz() / q.punt_rate;
    const uint64_t cap = cost * q.punt_burst;
    q.punt_credit =
        q.punt_last_tsc == 0 ? cap : std::min(cap, q.punt_credit + (now - q.punt_last_tsc));
    q.punt_last_tsc = now;
    if (q.punt_credit < cost)
        return false;
    q.punt_credit -= cost;
    return true;
}

void punt(ForwardContext& ctx, RxQueue& q, rte_mbuf* m) noexcept {
    if (unlikely(!punt_allowed(q))) {
        ++ctx.counters.punt_limited;
        rte_pktmbuf_free(m);
        return;
    }
    rte_ring* const ring = q.punt_ring ? q.punt_ring : ctx.punt_ring; // a select, no branch
    if (likely(rte_ring_enqueue(ring, m) == 0)) {
        ++ctx.counters.punted;
    } else {
        ++ctx.counters.punt_full;
        rte_pktmbuf_free(m);
    }
}

/// The outlets a data packet received on a proxy's downstream port goes to
/// (forward.hpp, "Downstream senders"): accept is what the upstream port's entry
/// for the group accepts (0: no entry). Adds what the port's own table accepts,
/// takes the port's own outlet out and adds the upstream outlet.
uint64_t downstream_accept(ForwardContext& ctx, const RxQueue& q, const DownstreamQueue& d,
                           const pktparse::Meta& p, uint64_t accept) noexcept {
    if (const table::PortTable* own = q.port < ctx.table_count ? ctx.tables[q.port] : nullptr) {
        const table::GroupEntry* e =
            likely(!p.v6()) ? own->lookup_v4(p.group4) : own->lookup_v6(p.ip6 + 24);
        if (e != nullptr)
            accept |= likely(!p.v6()) ? e->accept_v4(p.src4) : e->accept_v6(p.ip6 + 8);
    }
    accept = (accept & ~d.own_outlets) | d.upstream_outlets;
    ctx.counters.from_downstream += accept != 0;
    return accept;
}

/// One RX queue's burst. downstream: the queue is a proxy's downstream port's
/// (DownstreamQueue::upstream_port set); a separate instance, so that an upstream port's
/// queues run the per-packet code they ran before downstream senders were
/// forwarded, with no test of the queue's kind per packet.
template <bool downstream>
void poll_queue(ForwardContext& ctx, RxQueue& q, const DownstreamQueue& d) noexcept {
    // 1. RX.
    rte_mbuf* pkts[burst_size];
    const uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, burst_size);
    if (n == 0)
        return;
    ctx.counters.rx_packets += n;
    for (uint16_t i = 0; i < n; ++i)
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const void*));

    // A downstream port's data is looked up in the upstream port's table.
    const size_t table_port = downstream ? size_t(d.upstream_port) : q.port;
    const table::PortTable* table = table_port < ctx.table_count ? ctx.tables[table_port] : nullptr;

    // 2. Parse the burst into its metadata array (written once, read in place),
    //    and start loading each data packet's index line. The lookup runs in
    //    three stages over the burst so that its cache misses overlap
    //    (port_table.hpp): index line, then the entry's lines, then the checks.
    pktparse::Meta meta[burst_size];
    uint64_t hash[burst_size];
    uint32_t parsed = 0;  // bit i: packet i parsed (forward or punt)
    uint32_t lookups = 0; // bit i: packet i is data to look up
    for (uint16_t i = 0; i < n; ++i) {
        const rte_mbuf* m = pkts[i];
        pktparse::Meta& p = meta[i];
        if (unlikely(m->nb_segs != 1))
            continue; // counted below as multi_segment
        if (!pktparse::parse_meta(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, p))
            continue;
        parsed |= uint32_t{1} << i;
        if (unlikely(p.control()) || table == nullptr)
            continue;
        lookups |= uint32_t{1} << i;
        if (likely(!p.v6())) {
            hash[i] = table::PortTable::hash_v4(p.group4);
            table->prefetch_v4(hash[i]);
        } else {
            hash[i] = table::PortTable::hash_v6(p.ip6 + 24);
            table->prefetch_v6(hash[i]);
        }
    }

    // 3. Probe the index (it touches the index line only) and start loading the
    //    entry its tag points at.
    table::PortTable::Probe probes[burst_size];
    for (uint32_t bits = lookups; bits != 0; bits &= bits - 1) {
        const unsigned i = unsigned(__builtin_ctz(bits));
        probes[i] = likely(!meta[i].v6()) ? table->probe_v4(hash[i]) : table->probe_v6(hash[i]);
    }

    const uint64_t known = ctx.outlets->present_mask();
    const bool routed = ctx.outlets->routed_mask() != 0;
    uint64_t to[burst_size]; // the receiver outlets packet i goes to
    uint64_t any = 0;
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const pktparse::Meta& p = meta[i];
        to[i] = 0;
        if (unlikely((parsed >> i & 1) == 0)) {
            if (m->nb_segs != 1)
                ++ctx.counters.multi_segment;
            else
                ++ctx.counters.parse(p.drop);
            rte_pktmbuf_free(m);
            continue;
        }
        // The port's VLAN only (IEEE 802.1Q: VLAN id 0 is a priority tag, not a VLAN).
        const int32_t vlan = p.tagged() && (p.vlan_tci & 0x0fff) ? (p.vlan_tci & 0x0fff) : -1;
        if (unlikely(vlan != q.vlan)) {
            ++ctx.counters.wrong_vlan;
            rte_pktmbuf_free(m);
            continue;
        }
        // IGMP / MLD: the control lcore's business, never forwarded.
        if (unlikely(p.control())) {
            punt(ctx, q, m);
            continue;
        }
        // 4. Look up (port, group): the probe's entry, its key checked.
        const table::GroupEntry* entry =
            table == nullptr ? nullptr
            : likely(!p.v6()) ? table->resolve_v4(p.group4, probes[i])
                              : table->resolve_v6(p.ip6 + 24, probes[i]);
        if (!downstream && entry == nullptr) {
            ++ctx.counters.not_member;
            rte_pktmbuf_free(m);
            continue;
        }
        // 5. Filter: which outlets accept this source (RFC 3376 §3.2 per outlet).
        //    From a downstream port the upstream outlet always does (RFC 4605 §4.2).
        uint64_t accept;
        if constexpr (!downstream) {
            accept = likely(!p.v6()) ? entry->accept_v4(p.src4) : entry->accept_v6(p.ip6 + 8);
        } else {
            accept = entry == nullptr  ? 0
                     : likely(!p.v6()) ? entry->accept_v4(p.src4)
                                       : entry->accept_v6(p.ip6 + 8);
            accept = downstream_accept(ctx, q, d, p, accept);
            if (unlikely(accept == 0 && entry == nullptr)) {
                // No upstream outlet (the upstream port lacks the TX queues).
                ++ctx.counters.not_member;
                rte_pktmbuf_free(m);
                continue;
            }
        }
        if (accept == 0) {
            ++ctx.counters.source_filtered;
            rte_pktmbuf_free(m);
            continue;
        }
        // 6. Fan out: zero copy to receivers (a reference each, sent per outlet
        //    below), a private header per routed outlet.
        ++ctx.counters.forwarded;
        if (unlikely(routed)) {
            fan_out_routed(ctx, accept, m, p);
            continue;
        }
        to[i] = take_references(ctx, accept, known, m);
        any |= to[i];
    }

    // 7. TX: per receiver outlet, its packets of the burst in one call. Gathering
    //    per outlet keeps the counts in registers; staging copy by copy cost a
    //    store-to-load chain on each outlet's count (issue 11's profile).
    for (uint64_t bits = any; bits != 0; bits &= bits - 1) {
        const auto id = table::OutletId(__builtin_ctzll(bits));
        rte_mbuf* out[burst_size];
        uint16_t k = 0;
        for (uint16_t i = 0; i < n; ++i) {
            out[k] = pkts[i];
            k += uint16_t(to[i] >> id & 1);
        }
        deliver(ctx, id, out, k);
    }
}

} // namespace

rte_mempool* create_header_pool(const char* name, unsigned n, unsigned cache_size,
                                int socket) noexcept {
    return rte_pktmbuf_pool_create(name, n, cache_size, 0,
                                   uint16_t(RTE_PKTMBUF_HEADROOM + max_routed_header), socket);
}

rte_mempool* create_indirect_pool(const char* name, unsigned n, unsigned cache_size,
                                  int socket) noexcept {
    return rte_pktmbuf_pool_create(name, n, cache_size, 0, 0, socket);
}

void flush(ForwardContext& ctx) noexcept {
    for (uint64_t bits = ctx.staged_mask; bits != 0; bits &= bits - 1)
        flush_outlet(ctx, table::OutletId(__builtin_ctzll(bits)));
}

void poll_once(ForwardContext& ctx) noexcept {
    for (size_t i = 0; i < ctx.rx_count; ++i) {
        const DownstreamQueue& d = ctx.downstream[i];
        if (d.upstream_port < 0)
            poll_queue<false>(ctx, ctx.rx[i], d);
        else
            poll_queue<true>(ctx, ctx.rx[i], d);
    }
    // 8. TX what is staged (routed copies and the receivers of their lcore).
    flush(ctx);
    // No table pointer is held past this point.
    if (ctx.qsbr != nullptr)
        rte_rcu_qsbr_quiescent(ctx.qsbr, ctx.qsbr_thread_id);
    if (ctx.quiescent_hook != nullptr)
        ctx.quiescent_hook(ctx.quiescent_arg);
}

} // namespace mcfwd::dataplane
