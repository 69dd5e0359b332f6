// The forwarding loop. Read top to bottom: RX, parse, look up, filter, fan out,
// TX. See forward.hpp for the design (zero copy, staging, RCU).
#include "dataplane/forward.hpp"

#include "pktparse/parse.hpp"

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <memory>

namespace mcfwd::dataplane {

namespace {

/// Frees what a sink did not take and counts it against the outlet.
void drop_unsent(ForwardContext& ctx, StagedBurst& b, unsigned sent) noexcept {
    for (unsigned i = sent; i < b.count; ++i)
        rte_pktmbuf_free(b.pkts[i]);
    ctx.counters.sink_full += b.count - sent;
}

void flush_outlet(ForwardContext& ctx, table::OutletId id) noexcept {
    StagedBurst& b = ctx.staged[id];
    const Outlet& o = (*ctx.outlets)[id];
    unsigned sent;
    if (o.kind == OutletKind::ring)
        sent = rte_ring_enqueue_burst(o.ring, reinterpret_cast<void* const*>(b.pkts.data()),
                                      b.count, nullptr);
    else
        sent = rte_eth_tx_burst(o.port, o.queue, b.pkts.data(), b.count);
    ctx.counters.delivered[id] += sent;
    if (unlikely(sent < b.count))
        drop_unsent(ctx, b, sent);
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

/// Hands m to every outlet of entry whose bit is set in accept (non-zero).
inline void fan_out(ForwardContext& ctx, const table::GroupEntry& entry, uint64_t accept,
                    rte_mbuf* m) noexcept {
    const unsigned n = unsigned(__builtin_popcountll(accept));
    // One reference per outlet, taken before any outlet can free one. The RX'd
    // mbuf has refcount 1 and is ours alone, so DPDK sets it without an atomic.
    if (n > 1)
        rte_mbuf_refcnt_update(m, int16_t(n - 1));
    ++ctx.counters.forwarded;
    const size_t outlet_count = ctx.outlets->size();
    for (uint64_t bits = accept; bits != 0; bits &= bits - 1) {
        const table::OutletId id = entry.outlet(size_t(__builtin_ctzll(bits)));
        if (unlikely(id >= outlet_count)) {
            ++ctx.counters.unknown_outlet;
            rte_pktmbuf_free(m); // this outlet's reference
            continue;
        }
        stage(ctx, id, m);
    }
}

void punt(ForwardContext& ctx, rte_mbuf* m) noexcept {
    if (likely(rte_ring_enqueue(ctx.punt_ring, m) == 0)) {
        ++ctx.counters.punted;
    } else {
        ++ctx.counters.punt_full;
        rte_pktmbuf_free(m);
    }
}

void poll_queue(ForwardContext& ctx, const RxQueue& q) noexcept {
    // 1. RX.
    rte_mbuf* pkts[burst_size];
    const uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, burst_size);
    if (n == 0)
        return;
    ctx.counters.rx_packets += n;
    for (uint16_t i = 0; i < n; ++i)
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const void*));

    const table::PortTable* table = q.port < ctx.table_count ? ctx.tables[q.port] : nullptr;

    // 2. Parse the whole burst, starting each table lookup's cache miss as soon as
    //    the group is known, so the misses of a burst overlap.
    // Raw storage: a ParseResult array would zero its addresses (2 KiB) per burst.
    union Slot {
        pktparse::ParseResult r;
        Slot() noexcept {}
    };
    Slot slots[burst_size];
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (unlikely(m->nb_segs != 1)) {
            std::construct_at(&slots[i].r)->ok = false;
            continue; // counted below as multi_segment
        }
        std::construct_at(&slots[i].r,
                          pktparse::parse(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len));
        const pktparse::ParseResult& r = slots[i].r;
        if (r.ok && table != nullptr && !r.packet.control)
            table->prefetch(r.packet.dst);
    }

    // 3. Look up (port, group) for the whole burst, then start loading each hit's
    //    entry, then each source's slot in it: three rounds of overlapped misses
    //    instead of three dependent misses per packet (a 100k-group table does not
    //    fit in cache; docs/PERFORMANCE.md).
    const table::GroupEntry* entries[burst_size];
    for (uint16_t i = 0; i < n; ++i) {
        const pktparse::ParseResult& r = slots[i].r;
        entries[i] = r.ok && table != nullptr && !r.packet.control ? table->lookup(r.packet.dst)
                                                                   : nullptr;
        if (entries[i] != nullptr)
            rte_prefetch0(entries[i]);
    }
    for (uint16_t i = 0; i < n; ++i)
        if (entries[i] != nullptr)
            entries[i]->prefetch_source(slots[i].r.packet.src);

    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const pktparse::ParseResult& r = slots[i].r;
        if (unlikely(!r.ok)) {
            if (m->nb_segs != 1)
                ++ctx.counters.multi_segment;
            else
                ++ctx.counters.parse(r.drop);
            rte_pktmbuf_free(m);
            continue;
        }
        // The port's VLAN only (IEEE 802.1Q: VLAN id 0 is a priority tag, not a VLAN).
        const int32_t vlan =
            r.packet.vlan_tci && (*r.packet.vlan_tci & 0x0fff) ? (*r.packet.vlan_tci & 0x0fff) : -1;
        if (unlikely(vlan != q.vlan)) {
            ++ctx.counters.wrong_vlan;
            rte_pktmbuf_free(m);
            continue;
        }
        // IGMP / MLD: the control lcore's business, never forwarded.
        if (unlikely(r.packet.control)) {
            punt(ctx, m);
            continue;
        }
        const table::GroupEntry* entry = entries[i];
        if (entry == nullptr) {
            ++ctx.counters.not_member;
            rte_pktmbuf_free(m);
            continue;
        }
        // 4. Filter: which outlets accept this source (RFC 3376 §3.2 per outlet).
        const uint64_t accept = entry->accept(r.packet.src);
        if (accept == 0) {
            ++ctx.counters.source_filtered;
            rte_pktmbuf_free(m);
            continue;
        }
        // 5. Fan out, zero copy.
        fan_out(ctx, *entry, accept, m);
    }
}

} // namespace

void flush(ForwardContext& ctx) noexcept {
    for (uint64_t bits = ctx.staged_mask; bits != 0; bits &= bits - 1)
        flush_outlet(ctx, table::OutletId(__builtin_ctzll(bits)));
}

void poll_once(ForwardContext& ctx) noexcept {
    for (size_t i = 0; i < ctx.rx_count; ++i)
        poll_queue(ctx, ctx.rx[i]);
    // 6. TX what is staged.
    flush(ctx);
    // No table pointer is held past this point.
    if (ctx.qsbr != nullptr)
        rte_rcu_qsbr_quiescent(ctx.qsbr, ctx.qsbr_thread_id);
    if (ctx.quiescent_hook != nullptr)
        ctx.quiescent_hook(ctx.quiescent_arg);
}

} // namespace mcfwd::dataplane
