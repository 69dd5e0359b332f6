// dataplane::poll_once on real DPDK (net_ring ports over rings the test owns):
// every injected frame ends exactly where an oracle built from the outlets'
// FilterStates says (which ring sinks, which TX port, the punt ring, or a drop
// counter), the same mbuf is shared by all its outlets (zero copy), and every
// mbuf returns to the mempool once the sinks free what they received.
#include "../../unit/pktparse/frame_builder.hpp"
#include "../eal_env.hpp"

#include "dataplane/forward.hpp"
#include "filter/filter_state.hpp"
#include "table/port_table.hpp"
#include "table/qsbr.hpp"

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace mcfwd;
using dataplane::ForwardContext;
using dataplane::Outlet;
using filter::FilterMode;
using filter::FilterState;
using mcfwd::testing::build_frame;
using mcfwd::testing::Bytes;
using mcfwd::testing::FrameSpec;
using mcfwd::testing::ip;
using table::OutletId;

int next_name = 0;
std::string unique(const char* base) {
    return base + std::to_string(next_name++);
}

rte_ring* make_ring(unsigned size) {
    rte_ring* r = rte_ring_create(unique("dpt_r").c_str(), size, SOCKET_ID_ANY, 0);
    EXPECT_NE(r, nullptr) << rte_strerror(rte_errno);
    return r;
}

/// A net_ring port: frames enqueued on rx are what it receives; what it sends
/// lands on tx.
struct RingPort {
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    uint16_t port = 0;

    void open(rte_mempool* pool, unsigned tx_size = 1024) {
        rx = make_ring(1024);
        tx = make_ring(tx_size);
        const int id = rte_eth_from_rings(unique("net_ring_dpt").c_str(), &rx, 1, &tx, 1, 0);
        ASSERT_GE(id, 0) << rte_strerror(rte_errno);
        port = uint16_t(id);
        rte_eth_conf conf{};
        ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
        ASSERT_EQ(rte_eth_rx_queue_setup(port, 0, 128, 0, nullptr, pool), 0);
        ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, 128, 0, nullptr), 0);
        ASSERT_EQ(rte_eth_dev_start(port), 0);
    }
    void close() {
        rte_eth_dev_stop(port);
        rte_eth_dev_close(port);
        rte_ring_free(rx);
        rte_ring_free(tx);
    }
};

std::vector<rte_mbuf*> drain(rte_ring* r) {
    std::vector<rte_mbuf*> out;
    void* p;
    while (rte_ring_dequeue(r, &p) == 0)
        out.push_back(static_cast<rte_mbuf*>(p));
    return out;
}

/// One outlet as the oracle sees it.
struct OutletModel {
    OutletId id;
    FilterState filter;
};

class Forwarding : public ::testing::Test {
protected:
    void SetUp() override {
        mcfwd::testing::EalEnvironment::require();
        pool_ = rte_pktmbuf_pool_create(unique("dpt_pool").c_str(), 2047, 0, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        ASSERT_NE(pool_, nullptr) << rte_strerror(rte_errno);
        pool_start_ = rte_mempool_avail_count(pool_);
        ASSERT_NO_FATAL_FAILURE(in_.open(pool_));
        table_ = std::make_unique<table::PortTable>(reclaimer_);
        tables_.assign(size_t(in_.port) + 1, nullptr);
        tables_[in_.port] = table_.get();
        ctx_ = std::make_unique<ForwardContext>();
        ctx_->rx[0] = {in_.port, 0};
        ctx_->rx_count = 1;
        ctx_->tables = tables_.data();
        ctx_->table_count = tables_.size();
        ctx_->outlets = &outlets_;
    }
    void TearDown() override {
        table_.reset();
        in_.close();
        for (RingPort& p : tx_ports_)
            p.close();
        for (rte_ring* r : rings_)
            rte_ring_free(r);
        rte_mempool_free(pool_);
        rte_mempool_free(header_pool_);
        rte_mempool_free(indirect_pool_);
    }

    OutletId add_ring_outlet(unsigned size = 1024) {
        rte_ring* r = make_ring(size);
        rings_.push_back(r);
        OutletId id;
        EXPECT_EQ(outlets_.add(Outlet::ring_sink(r), id), errc::ok);
        sinks_[id] = r;
        return id;
    }
    OutletId add_port_outlet(unsigned tx_size = 1024) {
        tx_ports_.emplace_back();
        tx_ports_.back().open(pool_, tx_size);
        OutletId id;
        EXPECT_EQ(outlets_.add(Outlet::tx(tx_ports_.back().port, 0), id), errc::ok);
        sinks_[id] = tx_ports_.back().tx;
        return id;
    }
    /// A routed outlet on a new net_ring TX port, sent from mac with vlan (or none).
    OutletId add_routed_outlet(const addr::MacAddr& mac, std::optional<uint16_t> vlan,
                               unsigned tx_size = 1024) {
        tx_ports_.emplace_back();
        tx_ports_.back().open(pool_, tx_size);
        OutletId id;
        EXPECT_EQ(outlets_.add(Outlet::routed_tx(tx_ports_.back().port, 0, mac, vlan), id),
                  errc::ok);
        sinks_[id] = tx_ports_.back().tx;
        return id;
    }
    void use_routed_pools(unsigned headers = 511, unsigned indirect = 511) {
        header_pool_ =
            dataplane::create_header_pool(unique("dpt_hdr").c_str(), headers, 0, SOCKET_ID_ANY);
        indirect_pool_ =
            dataplane::create_indirect_pool(unique("dpt_ind").c_str(), indirect, 0, SOCKET_ID_ANY);
        ASSERT_NE(header_pool_, nullptr) << rte_strerror(rte_errno);
        ASSERT_NE(indirect_pool_, nullptr) << rte_strerror(rte_errno);
        ctx_->header_pool = header_pool_;
        ctx_->indirect_pool = indirect_pool_;
    }
    /// Every mbuf of every pool is back.
    void expect_pools_whole() {
        EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
        if (header_pool_ != nullptr) {
            EXPECT_EQ(rte_mempool_avail_count(header_pool_), header_pool_->size);
        }
        if (indirect_pool_ != nullptr) {
            EXPECT_EQ(rte_mempool_avail_count(indirect_pool_), indirect_pool_->size);
        }
    }
    void run_short_pools(unsigned headers, unsigned indirect, unsigned want_routed);
    void run_mix(int32_t port_vlan);
    void set_group(const char* group, std::vector<OutletModel> outlets) {
        std::vector<table::OutletFilter> of;
        for (const OutletModel& o : outlets)
            of.push_back({o.id, &o.filter});
        ASSERT_EQ(table_->set_group(ip(group), of), errc::ok);
        model_[ip(group)] = std::move(outlets);
    }

    rte_mbuf* make_mbuf(const Bytes& frame, bool two_segments = false) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        EXPECT_NE(m, nullptr);
        const size_t first = two_segments ? frame.size() / 2 : frame.size();
        std::memcpy(rte_pktmbuf_append(m, uint16_t(first)), frame.data(), first);
        if (two_segments) {
            rte_mbuf* tail = rte_pktmbuf_alloc(pool_);
            std::memcpy(rte_pktmbuf_append(tail, uint16_t(frame.size() - first)),
                        frame.data() + first, frame.size() - first);
            EXPECT_EQ(rte_pktmbuf_chain(m, tail), 0);
        }
        return m;
    }
    void inject(rte_mbuf* m) { ASSERT_EQ(rte_ring_enqueue(in_.rx, m), 0); }
    void run_until_drained() {
        for (int i = 0; i < 1000 && rte_ring_count(in_.rx) != 0; ++i)
            dataplane::poll_once(*ctx_);
        dataplane::poll_once(*ctx_);
        ASSERT_EQ(rte_ring_count(in_.rx), 0u);
    }

    rte_mempool* pool_ = nullptr;
    unsigned pool_start_ = 0;
    rte_mempool* header_pool_ = nullptr;
    rte_mempool* indirect_pool_ = nullptr;
    RingPort in_;
    std::vector<RingPort> tx_ports_;
    std::vector<rte_ring*> rings_;
    std::map<OutletId, rte_ring*> sinks_; // where each outlet's packets land
    dataplane::OutletSet outlets_;
    table::Qsbr qsbr_{1};
    table::QsbrReclaimer reclaimer_{qsbr_};
    std::unique_ptr<table::PortTable> table_;
    std::vector<table::PortTable*> tables_;
    std::unique_ptr<ForwardContext> ctx_;
    std::map<addr::IpAddr, std::vector<OutletModel>> model_;
};

FilterState include(std::initializer_list<const char*> s) {
    FilterState f;
    f.mode = FilterMode::include;
    std::vector<addr::IpAddr> v;
    for (const char* x : s)
        v.push_back(ip(x));
    f.sources = filter::SourceSet::from_unsorted(v);
    return f;
}
FilterState exclude(std::initializer_list<const char*> s) {
    FilterState f = include(s);
    f.mode = FilterMode::exclude;
    return f;
}

FrameSpec spec(const char* src, const char* dst, bool vlan) {
    FrameSpec s;
    s.src = ip(src);
    s.dst = ip(dst);
    if (vlan)
        s.tags = {0x8100};
    return s;
}

// The whole mix through one untagged port (port_vlan -1) or one tagged port: the
// frames come untagged and tagged with VLAN 100, so each run drops one half as
// wrong_vlan and forwards the other exactly as the filters say.
void Forwarding::run_mix(int32_t port_vlan) {
    ctx_->rx[0].vlan = port_vlan;
    const OutletId r0 = add_ring_outlet();
    const OutletId r1 = add_ring_outlet();
    const OutletId p2 = add_port_outlet();
    const OutletId r3 = add_ring_outlet();
    rte_ring* punt = make_ring(1024);
    rings_.push_back(punt);
    ctx_->punt_ring = punt;

    set_group("232.1.1.1", {{r0, include({"10.0.0.1"})},
                            {r1, exclude({"10.0.0.2"})},
                            {p2, include({"10.0.0.1", "10.0.0.3"})}});
    set_group("239.1.1.1", {{r3, exclude({})}});
    set_group("ff3e::1", {{r1, exclude({})}, {p2, include({"2001:db8::1"})}});
    set_group("ff3e::2", {{r0, include({"2001:db8::2"})}, {r3, exclude({"2001:db8::2"})}});

    // The frames: members and non-members, accepted and filtered sources, with and
    // without VLAN, IGMP/MLD, malformed; three rounds so bursts fill and staging flushes.
    std::vector<Bytes> frames;
    for (const char* g : {"232.1.1.1", "239.1.1.1", "232.9.9.9"})
        for (const char* s : {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"})
            for (bool vlan : {false, true})
                frames.push_back(build_frame(spec(s, g, vlan)));
    for (const char* g : {"ff3e::1", "ff3e::2", "ff3e::9"})
        for (const char* s : {"2001:db8::1", "2001:db8::2", "2001:db8::3"})
            for (bool vlan : {false, true})
                frames.push_back(build_frame(spec(s, g, vlan)));
    FrameSpec igmp = spec("10.0.0.9", "224.0.0.22", false);
    igmp.proto = 2;
    frames.push_back(build_frame(igmp));
    FrameSpec mld = spec("fe80::9", "ff02::16", true);
    mld.ext = {{0, 8}};
    mld.proto = 58;
    mld.payload = Bytes{143, 0, 0, 0, 0, 0, 0, 0};
    frames.push_back(build_frame(mld));
    Bytes arp = build_frame(spec("10.0.0.1", "232.1.1.1", false));
    arp[12] = 0x08, arp[13] = 0x06;
    frames.push_back(arp);
    frames.push_back(build_frame(spec("10.0.0.1", "224.0.0.251", false)));
    Bytes cut = build_frame(spec("2001:db8::1", "ff3e::1", false));
    cut.resize(40);
    frames.push_back(cut);
    frames.push_back(build_frame(spec("10.0.0.1", "10.1.1.1", false)));

    // The oracle, per packet.
    dataplane::LcoreCounters want;
    std::map<OutletId, std::vector<rte_mbuf*>> want_at;
    std::vector<rte_mbuf*> want_punted;
    std::map<rte_mbuf*, unsigned> copies;
    auto expect = [&](rte_mbuf* m, const Bytes& f, bool two_segments) {
        ++want.rx_packets;
        if (two_segments) {
            ++want.multi_segment;
            return;
        }
        const auto r = pktparse::parse(f.data(), f.size());
        if (!r.ok) {
            ++want.parse(r.drop);
            return;
        }
        const int32_t vlan = r.packet.vlan_tci && (*r.packet.vlan_tci & 0xfff)
                                 ? int32_t(*r.packet.vlan_tci & 0xfff)
                                 : -1;
        if (vlan != port_vlan) {
            ++want.wrong_vlan;
            return;
        }
        if (r.packet.control) {
            ++want.punted;
            want_punted.push_back(m);
            return;
        }
        const auto it = model_.find(r.packet.dst);
        if (it == model_.end()) {
            ++want.not_member;
            return;
        }
        unsigned n = 0;
        for (const OutletModel& o : it->second)
            if (o.filter.accepts(r.packet.src)) {
                want_at[o.id].push_back(m);
                ++want.delivered[o.id];
                ++n;
            }
        if (n == 0)
            ++want.source_filtered;
        else
            ++want.forwarded;
        copies[m] = n;
    };

    for (int round = 0; round < 3; ++round) {
        for (const Bytes& f : frames) {
            rte_mbuf* m = make_mbuf(f);
            expect(m, f, false);
            inject(m);
        }
        const Bytes& chained = frames[0];
        rte_mbuf* m = make_mbuf(chained, true);
        expect(m, chained, true);
        inject(m);
    }
    ASSERT_GT(want.rx_packets, 2u * dataplane::burst_size);
    run_until_drained();

    // Each sink got exactly its packets, in order, as the very same mbufs.
    std::map<rte_mbuf*, unsigned> seen;
    for (const auto& [id, ring] : sinks_) {
        const std::vector<rte_mbuf*> got = drain(ring);
        EXPECT_EQ(got, want_at[id]) << "outlet " << id;
        for (rte_mbuf* m : got)
            ++seen[m];
    }
    EXPECT_EQ(drain(punt), want_punted);
    // Zero copy: a frame sent to n outlets is one mbuf holding n references.
    for (const auto& [m, n] : seen) {
        EXPECT_EQ(n, copies[m]);
        EXPECT_EQ(rte_mbuf_refcnt_read(m), n);
    }

    const dataplane::LcoreCounters& got = ctx_->counters;
    dataplane::for_each_counter(got, [&](std::string_view name, std::string_view, uint64_t v) {
        uint64_t w = 0;
        dataplane::for_each_counter(want, [&](std::string_view n2, std::string_view, uint64_t v2) {
            if (n2 == name)
                w = v2;
        });
        EXPECT_EQ(v, w) << name;
    });
    EXPECT_EQ(got.delivered, want.delivered);
    EXPECT_GT(got.source_filtered, 0u);
    EXPECT_GT(got.not_member, 0u);
    EXPECT_GT(got.forwarded, 0u);
    // IGMP is untagged and MLD tagged: each port punts the one on its VLAN, three rounds.
    EXPECT_EQ(got.punted, 3u);
    EXPECT_GT(got.wrong_vlan, 0u);

    // The sinks free what they received; then the pool is whole again.
    for (const auto& [m, n] : seen)
        for (unsigned i = 0; i < n; ++i)
            rte_pktmbuf_free(m);
    for (rte_mbuf* m : want_punted)
        rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
}

TEST_F(Forwarding, EveryPacketReachesExactlyTheOutletsTheFiltersAccept) {
    run_mix(-1);
}

TEST_F(Forwarding, ATaggedPortTakesOnlyItsVlanAndFiltersItExactly) {
    run_mix(100);
}

TEST_F(Forwarding, FullSinksAndFullPuntRingDropAndCountWithoutLeaking) {
    const OutletId small_ring = add_ring_outlet(4); // holds 3
    const OutletId small_port = add_port_outlet(4); // its TX ring holds 3
    const OutletId roomy = add_ring_outlet();
    rte_ring* punt = make_ring(4);
    rings_.push_back(punt);
    ctx_->punt_ring = punt;
    set_group("232.2.2.2",
              {{small_ring, exclude({})}, {small_port, exclude({})}, {roomy, exclude({})}});

    for (int i = 0; i < 10; ++i)
        inject(make_mbuf(build_frame(spec("10.0.0.1", "232.2.2.2", false))));
    FrameSpec igmp = spec("10.0.0.9", "224.0.0.22", false);
    igmp.proto = 2;
    for (int i = 0; i < 5; ++i)
        inject(make_mbuf(build_frame(igmp)));
    run_until_drained();

    const auto& c = ctx_->counters;
    EXPECT_EQ(c.delivered[small_ring], 3u);
    EXPECT_EQ(c.delivered[small_port], 3u);
    EXPECT_EQ(c.delivered[roomy], 10u);
    EXPECT_EQ(c.sink_full, 14u);
    EXPECT_EQ(c.punted, 3u);
    EXPECT_EQ(c.punt_full, 2u);
    EXPECT_EQ(c.forwarded, 10u);

    for (rte_ring* r : {sinks_[small_ring], sinks_[small_port], sinks_[roomy], punt})
        for (rte_mbuf* m : drain(r))
            rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
}

// A report flood on a queue with a punt rate: the bucket's burst is punted, the
// rest counted and freed; once time has passed the queue may punt again. Data on
// the same queue is not limited.
TEST_F(Forwarding, APuntRateCapsAReportFloodAndRefillsWithTime) {
    const OutletId r = add_ring_outlet();
    set_group("232.2.2.2", {{r, exclude({})}});
    rte_ring* punt = make_ring(1024);
    rings_.push_back(punt);
    ctx_->punt_ring = punt;
    ctx_->rx[0].punt_rate = 100; // per second
    ctx_->rx[0].punt_burst = 8;
    FrameSpec igmp = spec("10.0.0.9", "224.0.0.22", false);
    igmp.proto = 2;
    for (int i = 0; i < 200; ++i) {
        inject(make_mbuf(build_frame(igmp)));
        if (i % 20 == 0)
            inject(make_mbuf(build_frame(spec("10.0.0.1", "232.2.2.2", false))));
    }
    run_until_drained();
    const auto& c = ctx_->counters;
    // At 100/s, the microseconds the burst takes refill well under one token.
    EXPECT_GE(c.punted, 8u);
    EXPECT_LE(c.punted, 9u);
    EXPECT_EQ(c.punted + c.punt_limited, 200u);
    EXPECT_EQ(c.delivered[r], 10u) << "data is never rate limited";

    rte_delay_ms(50); // 5 tokens at 100/s
    for (int i = 0; i < 20; ++i)
        inject(make_mbuf(build_frame(igmp)));
    run_until_drained();
    EXPECT_GE(c.punted, 8u + 4u);
    EXPECT_LE(c.punted, 9u + 8u) << "never more than the burst";
    EXPECT_EQ(c.punted + c.punt_limited, 220u);

    for (rte_ring* ring : {sinks_[r], punt})
        for (rte_mbuf* m : drain(ring))
            rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
}

TEST_F(Forwarding, PortWithoutTableCountsEveryDataPacketAsNotMember) {
    tables_[in_.port] = nullptr;
    const OutletId r = add_ring_outlet();
    set_group("232.3.3.3", {{r, exclude({})}});
    for (int i = 0; i < 4; ++i)
        inject(make_mbuf(build_frame(spec("10.0.0.1", "232.3.3.3", false))));
    run_until_drained();
    EXPECT_EQ(ctx_->counters.not_member, 4u);
    EXPECT_EQ(rte_ring_count(sinks_[r]), 0u);
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
}

TEST_F(Forwarding, EachRxPortIsLookedUpInItsOwnTable) {
    // A second RX port whose table knows only 232.5.5.5; the fixture's port knows only
    // 232.4.4.4. A group forwards only on the port whose table holds it.
    RingPort second;
    ASSERT_NO_FATAL_FAILURE(second.open(pool_));
    tx_ports_.push_back(second); // closed in TearDown
    table::PortTable second_table(reclaimer_);
    if (tables_.size() <= second.port)
        tables_.resize(size_t(second.port) + 1, nullptr);
    tables_[second.port] = &second_table;
    ctx_->tables = tables_.data();
    ctx_->table_count = tables_.size();
    ctx_->rx[1] = {second.port, 0};
    ctx_->rx_count = 2;
    const OutletId r = add_ring_outlet();
    set_group("232.4.4.4", {{r, exclude({})}});
    const FilterState all = exclude({});
    const table::OutletFilter of[] = {{r, &all}};
    ASSERT_EQ(second_table.set_group(ip("232.5.5.5"), of), errc::ok);

    rte_mbuf* a4 = make_mbuf(build_frame(spec("10.0.0.1", "232.4.4.4", false)));
    rte_mbuf* a5 = make_mbuf(build_frame(spec("10.0.0.1", "232.5.5.5", false)));
    rte_mbuf* b4 = make_mbuf(build_frame(spec("10.0.0.1", "232.4.4.4", false)));
    rte_mbuf* b5 = make_mbuf(build_frame(spec("10.0.0.1", "232.5.5.5", false)));
    inject(a4);
    inject(a5);
    ASSERT_EQ(rte_ring_enqueue(second.rx, b4), 0);
    ASSERT_EQ(rte_ring_enqueue(second.rx, b5), 0);
    dataplane::poll_once(*ctx_);
    EXPECT_EQ(drain(sinks_[r]), (std::vector<rte_mbuf*>{a4, b5}));
    EXPECT_EQ(ctx_->counters.not_member, 2u);
    EXPECT_EQ(ctx_->counters.rx_packets, 4u);
    rte_pktmbuf_free(a4);
    rte_pktmbuf_free(b5);
    ctx_->rx_count = 1;
    tables_[second.port] = nullptr;
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
}

TEST_F(Forwarding, AnOutletIdThisLcoreLacksIsCountedAndItsReferenceFreed) {
    const OutletId r = add_ring_outlet();
    const FilterState all = exclude({});
    // Outlet 7 is not in the OutletSet (only id 0 is).
    const table::OutletFilter of[] = {{r, &all}, {7, &all}};
    ASSERT_EQ(table_->set_group(ip("232.6.6.6"), of), errc::ok);
    rte_mbuf* m = make_mbuf(build_frame(spec("10.0.0.1", "232.6.6.6", false)));
    inject(m);
    run_until_drained();
    EXPECT_EQ(drain(sinks_[r]), (std::vector<rte_mbuf*>{m}));
    EXPECT_EQ(ctx_->counters.unknown_outlet, 1u);
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 1u);
    rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
}

TEST_F(Forwarding, SixtyFourOutletsShareOneMbufAndStagingFlushesFullBursts) {
    std::vector<OutletModel> all;
    for (size_t i = 0; i < table::max_outlets; ++i)
        all.push_back({add_ring_outlet(), exclude({})});
    OutletId extra;
    EXPECT_EQ(outlets_.add(Outlet::ring_sink(rings_.front()), extra), errc::no_buffer_space);
    set_group("232.7.7.7", all);
    // More than one burst per outlet: staging flushes when full and at the end.
    std::vector<rte_mbuf*> sent;
    for (unsigned i = 0; i < 2 * dataplane::burst_size + 5; ++i) {
        sent.push_back(make_mbuf(build_frame(spec("10.0.0.1", "232.7.7.7", false))));
        inject(sent.back());
    }
    run_until_drained();
    for (rte_mbuf* m : sent)
        EXPECT_EQ(rte_mbuf_refcnt_read(m), table::max_outlets);
    for (const OutletModel& o : all) {
        EXPECT_EQ(drain(sinks_[o.id]), sent) << "outlet " << o.id;
        EXPECT_EQ(ctx_->counters.delivered[o.id], sent.size());
    }
    for (rte_mbuf* m : sent)
        for (size_t i = 0; i < table::max_outlets; ++i)
            rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
}

TEST_F(Forwarding, EachPollReportsAQuiescentStateToRcu) {
    const size_t sz = rte_rcu_qsbr_get_memsize(1);
    auto* v = static_cast<rte_rcu_qsbr*>(rte_zmalloc("dpt_qsbr", sz, RTE_CACHE_LINE_SIZE));
    ASSERT_NE(v, nullptr);
    ASSERT_EQ(rte_rcu_qsbr_init(v, 1), 0);
    ASSERT_EQ(rte_rcu_qsbr_thread_register(v, 0), 0);
    rte_rcu_qsbr_thread_online(v, 0);
    ctx_->qsbr = v;
    ctx_->qsbr_thread_id = 0;
    int hook_calls = 0;
    ctx_->quiescent_hook = [](void* arg) { ++*static_cast<int*>(arg); };
    ctx_->quiescent_arg = &hook_calls;

    const uint64_t token = rte_rcu_qsbr_start(v);
    EXPECT_EQ(rte_rcu_qsbr_check(v, token, false), 0); // the reader has not passed yet
    dataplane::poll_once(*ctx_);
    EXPECT_EQ(rte_rcu_qsbr_check(v, token, false), 1);
    EXPECT_EQ(hook_calls, 1);

    rte_rcu_qsbr_thread_offline(v, 0);
    rte_rcu_qsbr_thread_unregister(v, 0);
    rte_free(v);
}

// --- Routed outlets -------------------------------------------------------------

const addr::MacAddr mac_a{{0x02, 0xaa, 0, 0, 0, 0x0a}};
const addr::MacAddr mac_b{{0x02, 0xbb, 0, 0, 0, 0x0b}};

/// The IPv4 header checksum computed from scratch (RFC 791 §3.1, RFC 1071): the
/// one's complement of the one's complement sum of the header with the checksum
/// field taken as zero.
uint16_t full_ipv4_checksum(const uint8_t* hdr, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2)
        if (i != 10)
            sum += uint32_t(hdr[i] << 8 | hdr[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

size_t l3_of(const Bytes& f) {
    return f[12] == 0x81 && f[13] == 0x00 ? 18 : 14;
}

/// Writes a valid header checksum into an IPv4 frame (frame_builder leaves 0).
void fix_checksum(Bytes& f) {
    const size_t l3 = l3_of(f);
    const size_t ihl = size_t(f[l3] & 0x0f) * 4;
    const uint16_t c = full_ipv4_checksum(&f[l3], ihl);
    f[l3 + 10] = uint8_t(c >> 8), f[l3 + 11] = uint8_t(c);
}

/// What a router sends for frame in on an egress port (mac, vlan), computed
/// independently of forward.cpp: a new Ethernet header, the TTL / hop limit one
/// less, the IPv4 checksum recomputed over the whole header.
Bytes expected_routed(const Bytes& in, const addr::MacAddr& mac, std::optional<uint16_t> vlan) {
    const size_t l3 = l3_of(in);
    Bytes out(in.begin(), in.begin() + 6);
    out.insert(out.end(), mac.bytes.begin(), mac.bytes.end());
    if (vlan) {
        out.insert(out.end(), {0x81, 0x00, uint8_t(*vlan >> 8), uint8_t(*vlan)});
    }
    out.insert(out.end(), in.begin() + long(l3) - 2, in.end());
    const size_t ip = out.size() - (in.size() - l3);
    if ((out[ip] >> 4) == 4) {
        --out[ip + 8];
        const uint16_t c = full_ipv4_checksum(&out[ip], size_t(out[ip] & 0x0f) * 4);
        out[ip + 10] = uint8_t(c >> 8), out[ip + 11] = uint8_t(c);
    } else {
        --out[ip + 7];
    }
    return out;
}

Bytes bytes_of(const rte_mbuf* m) {
    Bytes b;
    for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
        const auto* p = rte_pktmbuf_mtod(s, const uint8_t*);
        b.insert(b.end(), p, p + s->data_len);
    }
    EXPECT_EQ(b.size(), m->pkt_len);
    return b;
}

FrameSpec data_spec(const char* src, const char* dst, bool vlan, size_t payload = 100) {
    FrameSpec s = spec(src, dst, vlan);
    s.payload.resize(payload);
    for (size_t i = 0; i < payload; ++i)
        s.payload[i] = uint8_t(i * 7 + 3);
    return s;
}

TEST_F(Forwarding, ARoutedCopyDiffersOnlyInItsHeaderAndSharesTheReceiversPayload) {
    ASSERT_NO_FATAL_FAILURE(use_routed_pools());
    const OutletId recv = add_ring_outlet();
    const OutletId plain = add_routed_outlet(mac_a, std::nullopt);
    const OutletId tagged = add_routed_outlet(mac_b, 200);
    set_group("232.8.8.8", {{recv, exclude({})}, {plain, exclude({})}, {tagged, exclude({})}});

    Bytes in = build_frame(data_spec("10.0.0.1", "232.8.8.8", false));
    fix_checksum(in);
    rte_mbuf* m = make_mbuf(in);
    inject(m);
    run_until_drained();

    // The receiver's copy is the received mbuf itself, not one byte changed.
    const std::vector<rte_mbuf*> got_recv = drain(sinks_[recv]);
    ASSERT_EQ(got_recv, (std::vector<rte_mbuf*>{m}));
    EXPECT_EQ(bytes_of(m), in);

    const std::vector<rte_mbuf*> got_plain = drain(sinks_[plain]);
    const std::vector<rte_mbuf*> got_tagged = drain(sinks_[tagged]);
    ASSERT_EQ(got_plain.size(), 1u);
    ASSERT_EQ(got_tagged.size(), 1u);
    for (const auto& [h, mac, vlan] :
         {std::tuple{got_plain[0], mac_a, std::optional<uint16_t>{}},
          std::tuple{got_tagged[0], mac_b, std::optional<uint16_t>{200}}}) {
        const Bytes out = bytes_of(h);
        EXPECT_EQ(out, expected_routed(in, mac, vlan));
        // The header is private; the payload is the received frame, not a copy.
        EXPECT_EQ(h->pool, header_pool_);
        EXPECT_EQ(h->nb_segs, 2u);
        EXPECT_EQ(h->data_len, (vlan ? 18u : 14u) + 20u);
        ASSERT_NE(h->next, nullptr);
        EXPECT_TRUE(RTE_MBUF_CLONED(h->next));
        EXPECT_EQ(h->next->pool, indirect_pool_);
        EXPECT_EQ(rte_mbuf_from_indirect(h->next), m);
        EXPECT_EQ(rte_pktmbuf_mtod(h->next, const uint8_t*),
                  rte_pktmbuf_mtod(m, const uint8_t*) + 14 + 20);
        // Destination MAC kept, TTL one less, and the checksum verifies.
        EXPECT_TRUE(std::equal(in.begin(), in.begin() + 6, out.begin()));
        const size_t ip = vlan ? 18 : 14;
        EXPECT_EQ(out[ip + 8], 15);
        EXPECT_EQ(uint16_t(out[ip + 10] << 8 | out[ip + 11]), full_ipv4_checksum(&out[ip], 20));
    }
    // One reference for the receiver and one per routed copy's indirect mbuf.
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 3u);
    EXPECT_EQ(ctx_->counters.forwarded, 1u);
    EXPECT_EQ(ctx_->counters.delivered[recv], 1u);
    EXPECT_EQ(ctx_->counters.delivered[plain], 1u);
    EXPECT_EQ(ctx_->counters.delivered[tagged], 1u);

    // The outlets free in any order; the receiver's frame stays intact until last.
    rte_pktmbuf_free(got_plain[0]);
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 2u);
    rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 1u);
    EXPECT_EQ(bytes_of(got_tagged[0]), expected_routed(in, mac_b, 200));
    rte_pktmbuf_free(got_tagged[0]);
    expect_pools_whole();
}

TEST_F(Forwarding, RoutedIpv6DecrementsTheHopLimitAndNeverLeaksTheIngressTag) {
    ASSERT_NO_FATAL_FAILURE(use_routed_pools());
    ctx_->rx[0].vlan = 100; // ingress frames carry VLAN 100
    const OutletId recv = add_ring_outlet();
    const OutletId untagged = add_routed_outlet(mac_a, std::nullopt);
    const OutletId other_vlan = add_routed_outlet(mac_b, 300);
    set_group("ff3e::8", {{recv, exclude({})}, {untagged, exclude({})}, {other_vlan, exclude({})}});

    FrameSpec s = data_spec("2001:db8::1", "ff3e::8", true, 64);
    s.ttl = 64;
    s.ext = {{0, 8}}; // a Hop-by-Hop header stays in the shared payload
    const Bytes in = build_frame(s);
    rte_mbuf* m = make_mbuf(in);
    inject(m);
    run_until_drained();

    EXPECT_EQ(drain(sinks_[recv]), (std::vector<rte_mbuf*>{m}));
    EXPECT_EQ(bytes_of(m), in);
    const auto a = drain(sinks_[untagged]);
    const auto b = drain(sinks_[other_vlan]);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    const Bytes out_a = bytes_of(a[0]);
    const Bytes out_b = bytes_of(b[0]);
    EXPECT_EQ(out_a, expected_routed(in, mac_a, std::nullopt));
    EXPECT_EQ(out_b, expected_routed(in, mac_b, 300));
    // Untagged: EtherType right after the MACs; hop limit 63.
    EXPECT_EQ(out_a[12], 0x86);
    EXPECT_EQ(out_a[13], 0xdd);
    EXPECT_EQ(out_a[14 + 7], 63);
    // Tagged with the egress VLAN (PCP 0), not the ingress TCI 0x2064.
    EXPECT_EQ(out_b[14], 0x01);
    EXPECT_EQ(out_b[15], 0x2c);
    EXPECT_EQ(out_b[18 + 7], 63);
    EXPECT_EQ(a[0]->data_len, 14u + 40u);

    rte_pktmbuf_free(a[0]);
    rte_pktmbuf_free(b[0]);
    rte_pktmbuf_free(m);
    expect_pools_whole();
}

TEST_F(Forwarding, AnExpiredTtlGoesToReceiversButNoRoutedOutlet) {
    ASSERT_NO_FATAL_FAILURE(use_routed_pools());
    const OutletId recv = add_ring_outlet();
    const OutletId r1 = add_routed_outlet(mac_a, std::nullopt);
    const OutletId r2 = add_routed_outlet(mac_b, 7);
    set_group("232.9.1.1", {{recv, exclude({})}, {r1, exclude({})}, {r2, exclude({})}});
    set_group("ff3e::91", {{r1, exclude({})}}); // routed only: nothing left of the frame

    // RFC 1812 §5.3.1: TTL 0 or 1 on arrival is not forwarded; 2 leaves with 1.
    std::vector<rte_mbuf*> sent;
    for (uint8_t ttl : {0, 1, 2}) {
        FrameSpec s = data_spec("10.0.0.1", "232.9.1.1", false);
        s.ttl = ttl;
        Bytes f = build_frame(s);
        fix_checksum(f);
        sent.push_back(make_mbuf(f));
        inject(sent.back());
    }
    FrameSpec v6 = data_spec("2001:db8::1", "ff3e::91", false);
    v6.ttl = 1;
    inject(make_mbuf(build_frame(v6)));
    run_until_drained();

    EXPECT_EQ(drain(sinks_[recv]), sent);
    const auto a = drain(sinks_[r1]);
    const auto b = drain(sinks_[r2]);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(bytes_of(a[0])[14 + 8], 1);
    EXPECT_EQ(ctx_->counters.ttl_expired, 5u); // 2 IPv4 frames x 2 outlets + 1 IPv6
    EXPECT_EQ(ctx_->counters.forwarded, 4u);
    EXPECT_EQ(ctx_->counters.delivered[r1], 1u);
    for (rte_mbuf* x : {a[0], b[0]})
        rte_pktmbuf_free(x);
    for (rte_mbuf* x : sent)
        rte_pktmbuf_free(x);
    expect_pools_whole();
}

TEST_F(Forwarding, TheIncrementalChecksumMatchesAFullRecomputationForEveryHeader) {
    ASSERT_NO_FATAL_FAILURE(use_routed_pools());
    const OutletId r = add_routed_outlet(mac_a, std::nullopt);
    set_group("232.10.0.1", {{r, exclude({})}});
    // Random identifications, fragment fields, TTLs and options (the checksum takes
    // every value, including the ones near 0x0000 / 0xffff where RFC 1141's
    // update went wrong).
    std::mt19937 rng(7);
    std::vector<Bytes> inputs;
    for (int i = 0; i < 2000; ++i) {
        FrameSpec s = data_spec("10.0.0.1", "232.10.0.1", false, 1 + rng() % 64);
        s.ttl = uint8_t(2 + rng() % 254);
        s.ipv4_options = (rng() % 3) * 4;
        s.frag_offset = uint16_t(rng() % 0x2000);
        Bytes f = build_frame(s);
        const size_t id_at = 14 + 4;
        f[id_at] = uint8_t(rng()), f[id_at + 1] = uint8_t(rng());
        f[14 + 1] = uint8_t(rng()); // DSCP / ECN
        fix_checksum(f);
        inputs.push_back(f);
    }
    size_t checked = 0;
    for (size_t at = 0; at < inputs.size(); at += 500) {
        for (size_t i = at; i < at + 500; ++i)
            inject(make_mbuf(inputs[i]));
        run_until_drained();
        const auto got = drain(sinks_[r]);
        ASSERT_EQ(got.size(), 500u);
        for (size_t i = 0; i < got.size(); ++i) {
            const Bytes out = bytes_of(got[i]);
            EXPECT_EQ(out, expected_routed(inputs[at + i], mac_a, std::nullopt)) << at + i;
            rte_pktmbuf_free(got[i]);
            ++checked;
        }
    }
    EXPECT_EQ(checked, inputs.size());
    expect_pools_whole();
}

/// 10 frames to one receiver and one routed outlet with the given pool sizes; the
/// receiver gets all 10 whatever the pools hold.
void Forwarding::run_short_pools(unsigned headers, unsigned indirect, unsigned want_routed) {
    ASSERT_NO_FATAL_FAILURE(use_routed_pools(headers, indirect));
    const OutletId recv = add_ring_outlet();
    const OutletId r = add_routed_outlet(mac_a, std::nullopt);
    set_group("232.11.0.1", {{recv, exclude({})}, {r, exclude({})}});
    for (int i = 0; i < 10; ++i)
        inject(make_mbuf(build_frame(data_spec("10.0.0.1", "232.11.0.1", false))));
    run_until_drained();
    EXPECT_EQ(ctx_->counters.header_alloc_failed, 10u - want_routed);
    EXPECT_EQ(ctx_->counters.delivered[r], want_routed);
    EXPECT_EQ(ctx_->counters.delivered[recv], 10u);
    // A header taken before the indirect pool ran dry went back to its pool.
    EXPECT_EQ(rte_mempool_avail_count(header_pool_), headers - want_routed);
    EXPECT_EQ(rte_mempool_avail_count(indirect_pool_), indirect - want_routed);
    for (rte_ring* s : {sinks_[r], sinks_[recv]})
        for (rte_mbuf* x : drain(s))
            rte_pktmbuf_free(x);
    expect_pools_whole();
}

TEST_F(Forwarding, AnEmptyHeaderPoolDropsOnlyTheRoutedCopiesAndCountsThem) {
    run_short_pools(4, 64, 4);
}

TEST_F(Forwarding, AnEmptyIndirectPoolDropsOnlyTheRoutedCopiesAndCountsThem) {
    run_short_pools(64, 3, 3);
}

TEST_F(Forwarding, AContextWithoutRoutedPoolsCountsEveryRoutedCopyAsFailed) {
    const OutletId recv = add_ring_outlet();
    const OutletId r = add_routed_outlet(mac_a, std::nullopt);
    set_group("232.11.0.2", {{recv, exclude({})}, {r, exclude({})}});
    rte_mbuf* m = make_mbuf(build_frame(data_spec("10.0.0.1", "232.11.0.2", false)));
    inject(m);
    run_until_drained();
    EXPECT_EQ(ctx_->counters.header_alloc_failed, 1u);
    EXPECT_EQ(drain(sinks_[recv]), (std::vector<rte_mbuf*>{m}));
    EXPECT_EQ(rte_ring_count(sinks_[r]), 0u);
    rte_pktmbuf_free(m);
    expect_pools_whole();
}

TEST_F(Forwarding, ARoutedOnlyGroupFreesTheReceivedFrameWithItsLastCopy) {
    ASSERT_NO_FATAL_FAILURE(use_routed_pools());
    const OutletId r = add_routed_outlet(mac_a, 5);
    set_group("232.12.0.1", {{r, exclude({})}});
    // A frame that ends with its IPv4 header: the copy is the header mbuf alone.
    FrameSpec bare = data_spec("10.0.0.1", "232.12.0.1", false, 0);
    Bytes f = build_frame(bare);
    fix_checksum(f);
    rte_mbuf* m = make_mbuf(f);
    inject(m);
    run_until_drained();
    const auto got = drain(sinks_[r]);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]->nb_segs, 1u);
    EXPECT_EQ(bytes_of(got[0]), expected_routed(f, mac_a, 5));
    // The received mbuf was freed at once (no payload segment refers to it).
    EXPECT_EQ(rte_mempool_avail_count(pool_), pool_start_);
    rte_pktmbuf_free(got[0]);
    expect_pools_whole();
}

// --- Downstream senders (RFC 4605 §4.2) -------------------------------------------

const addr::MacAddr mac_up{{0x02, 0x0f, 0, 0, 0, 0x01}};

/// in_ as a proxy's downstream port: its data looked up in the upstream port's
/// table, its own routed outlet masked out, the upstream outlet added.
class DownstreamForwarding : public Forwarding {
protected:
    void SetUp() override {
        Forwarding::SetUp();
        ASSERT_NO_FATAL_FAILURE(use_routed_pools());
        up_ = add_routed_outlet(mac_up, std::nullopt);
        own_ = add_routed_outlet(mac_a, std::nullopt); // in_'s downstream outlet
        other_ = add_routed_outlet(mac_b, 30);         // another downstream port
        recv_ = add_ring_outlet();                     // a local receiver (upstream join)
        local_ = add_ring_outlet();                    // a receiver joined on in_ itself
        up_port_ = tx_ports_.front().port;             // the upstream outlet's port
        up_table_ = std::make_unique<table::PortTable>(reclaimer_);
        tables_.resize(std::max(tables_.size(), size_t(up_port_) + 1), nullptr);
        tables_[up_port_] = up_table_.get();
        ctx_->tables = tables_.data();
        ctx_->table_count = tables_.size();
        ctx_->downstream[0].upstream_port = up_port_;
        ctx_->downstream[0].own_outlets = uint64_t{1} << own_;
        ctx_->downstream[0].upstream_outlets = uint64_t{1} << up_;
        punt_ = make_ring(64);
        rings_.push_back(punt_);
        ctx_->punt_ring = punt_;
    }
    void TearDown() override {
        up_table_.reset();
        Forwarding::TearDown();
    }
    void set_upstream_group(const char* group, const std::vector<OutletModel>& outlets) {
        std::vector<table::OutletFilter> of;
        for (const OutletModel& o : outlets)
            of.push_back({o.id, &o.filter});
        ASSERT_EQ(up_table_->set_group(ip(group), of), errc::ok);
    }
    Bytes frame(const char* src, const char* group, uint8_t ttl = 16) {
        FrameSpec s = data_spec(src, group, false, 64);
        s.ttl = ttl;
        Bytes f = build_frame(s);
        if (ip(group).is_v4())
            fix_checksum(f);
        return f;
    }
    /// What each outlet received, freed.
    std::map<OutletId, std::vector<Bytes>> collect() {
        std::map<OutletId, std::vector<Bytes>> got;
        for (const auto& [id, ring] : sinks_)
            for (rte_mbuf* m : drain(ring)) {
                got[id].push_back(bytes_of(m));
                rte_pktmbuf_free(m);
            }
        return got;
    }

    OutletId up_ = 0, own_ = 0, other_ = 0, recv_ = 0, local_ = 0;
    uint16_t up_port_ = 0;
    std::unique_ptr<table::PortTable> up_table_;
    rte_ring* punt_ = nullptr;
};

TEST_F(DownstreamForwarding, EveryPacketGoesUpstreamAndToTheOtherOutletsPerFiltersNeverBack) {
    set_upstream_group(
        "232.1.1.1",
        {{recv_, include({"10.0.0.1"})}, {own_, exclude({})}, {other_, exclude({"10.0.0.3"})}});
    set_upstream_group("ff3e::5", {{other_, include({"2001:db8::1"})}, {own_, exclude({})}});
    set_group("232.1.1.1", {{local_, include({"10.0.0.3"})}}); // in_'s own table

    const Bytes a = frame("10.0.0.1", "232.1.1.1"); // receiver, other port, upstream
    const Bytes b = frame("10.0.0.2", "232.1.1.1"); // other port, upstream
    const Bytes c = frame("10.0.0.3", "232.1.1.1"); // local receiver on in_, upstream
    const Bytes d = frame("10.0.0.1", "232.7.7.7"); // nobody asked: upstream only
    const Bytes e = frame("2001:db8::1", "ff3e::5");
    const Bytes f = frame("2001:db8::2", "ff3e::5"); // upstream only: filtered elsewhere
    for (const Bytes* x : {&a, &b, &c, &d, &e, &f})
        inject(make_mbuf(*x));
    // Never upstream: IGMP (punted) and link-local scope groups (parser drop).
    FrameSpec igmp = spec("10.0.0.9", "224.0.0.22", false);
    igmp.proto = 2;
    inject(make_mbuf(build_frame(igmp)));
    inject(make_mbuf(frame("10.0.0.1", "224.0.0.251")));
    run_until_drained();

    auto got = collect();
    EXPECT_EQ(got[up_], (std::vector<Bytes>{
                            expected_routed(a, mac_up, std::nullopt),
                            expected_routed(b, mac_up, std::nullopt),
                            expected_routed(c, mac_up, std::nullopt),
                            expected_routed(d, mac_up, std::nullopt),
                            expected_routed(e, mac_up, std::nullopt),
                            expected_routed(f, mac_up, std::nullopt),
                        }));
    EXPECT_EQ(got[other_],
              (std::vector<Bytes>{expected_routed(a, mac_b, 30), expected_routed(b, mac_b, 30),
                                  expected_routed(e, mac_b, 30)}));
    EXPECT_EQ(got[recv_], (std::vector<Bytes>{a})); // untouched, TTL and all
    EXPECT_EQ(got[local_], (std::vector<Bytes>{c}));
    EXPECT_TRUE(got[own_].empty()); // never back out of the port it came in on
    EXPECT_EQ(ctx_->counters.delivered[own_], 0u);
    EXPECT_EQ(ctx_->counters.forwarded, 6u);
    EXPECT_EQ(ctx_->counters.from_downstream, 6u);
    EXPECT_EQ(ctx_->counters.not_member, 0u);
    EXPECT_EQ(ctx_->counters.source_filtered, 0u);
    EXPECT_EQ(ctx_->counters.punted, 1u);
    EXPECT_EQ(ctx_->counters.parse(pktparse::DropReason::link_local_group), 1u);
    for (rte_mbuf* m : drain(punt_))
        rte_pktmbuf_free(m);
    expect_pools_whole();
}

TEST_F(DownstreamForwarding, AnExpiredTtlReachesReceiversButNeitherUpstreamNorOtherPorts) {
    set_upstream_group("232.2.2.2", {{recv_, exclude({})}, {other_, exclude({})}});
    const Bytes one = frame("10.0.0.1", "232.2.2.2", 1);
    const Bytes two = frame("10.0.0.1", "232.2.2.2", 2);
    inject(make_mbuf(one));
    inject(make_mbuf(two));
    inject(make_mbuf(frame("10.0.0.1", "232.8.8.8", 1))); // upstream only, and expired
    run_until_drained();

    auto got = collect();
    EXPECT_EQ(got[recv_], (std::vector<Bytes>{one, two}));
    EXPECT_EQ(got[up_], (std::vector<Bytes>{expected_routed(two, mac_up, std::nullopt)}));
    EXPECT_EQ(got[other_], (std::vector<Bytes>{expected_routed(two, mac_b, 30)}));
    EXPECT_EQ(got[up_][0][14 + 8], 1);         // left with TTL 1
    EXPECT_EQ(ctx_->counters.ttl_expired, 3u); // TTL 1: upstream and other, then upstream
    expect_pools_whole();
}

TEST_F(DownstreamForwarding, TheUpstreamPortsOwnTrafficIsUnchangedAndNeverGoesBackUpstream) {
    // The upstream port's RX queue: no DownstreamQueue fields, its own table.
    ctx_->rx[1] = {up_port_, 0};
    ctx_->rx_count = 2;
    set_upstream_group("232.3.3.3", {{recv_, exclude({})}, {own_, exclude({})}});
    const Bytes g = frame("10.0.0.1", "232.3.3.3");
    ASSERT_EQ(rte_ring_enqueue(tx_ports_.front().rx, make_mbuf(g)), 0);
    ASSERT_EQ(rte_ring_enqueue(tx_ports_.front().rx, make_mbuf(frame("10.0.0.1", "232.9.9.9"))), 0);
    dataplane::poll_once(*ctx_);
    ASSERT_EQ(rte_ring_count(tx_ports_.front().rx), 0u);

    auto got = collect();
    EXPECT_EQ(got[recv_], (std::vector<Bytes>{g}));
    EXPECT_EQ(got[own_], (std::vector<Bytes>{expected_routed(g, mac_a, std::nullopt)}));
    EXPECT_TRUE(got[up_].empty());
    EXPECT_TRUE(got[other_].empty());
    EXPECT_EQ(ctx_->counters.not_member, 1u);
    EXPECT_EQ(ctx_->counters.forwarded, 1u);
    EXPECT_EQ(ctx_->counters.from_downstream, 0u);
    expect_pools_whole();
}

TEST(OutletSet, RoutedOutletsAreMarkedAndTheirVlanChecked) {
    dataplane::OutletSet set;
    OutletId id;
    EXPECT_EQ(set.add(Outlet::tx(0, 0), id), errc::ok);
    EXPECT_EQ(set.add(Outlet::routed_tx(1, 0, mac_a), id), errc::ok);
    EXPECT_EQ(id, 1);
    EXPECT_EQ(set.add(Outlet::routed_tx(2, 0, mac_b, 4094), id), errc::ok);
    EXPECT_EQ(set.routed_mask(), 0b110u);
    EXPECT_EQ(set[2].vlan, 4094);
    EXPECT_EQ(set[2].src_mac, mac_b);
    for (uint16_t bad : {0, 4095, 5000})
        EXPECT_EQ(set.add(Outlet::routed_tx(3, 0, mac_a, bad), id), errc::invalid) << bad;
    EXPECT_EQ(set.size(), 3u);
}

TEST(DataplaneCounters, SumAddsEveryCounterOfEveryLcore) {
    dataplane::LcoreCounters a, b;
    a.rx_packets = 5;
    b.rx_packets = 7;
    a.parse(pktparse::DropReason::not_ip) = 2;
    b.parse(pktparse::DropReason::not_ip) = 3;
    a.delivered[63] = 1;
    b.delivered[63] = 4;
    b.sink_full = 9;
    const dataplane::LcoreCounters all[] = {a, b};
    const auto t = dataplane::sum(all);
    EXPECT_EQ(t.rx_packets, 12u);
    EXPECT_EQ(t.parse(pktparse::DropReason::not_ip), 5u);
    EXPECT_EQ(t.delivered[63], 5u);
    EXPECT_EQ(t.sink_full, 9u);
    static_assert(alignof(dataplane::LcoreCounters) == 64);
}

TEST(DataplaneCounters, EveryCounterHasOneUniqueNameAndADescription) {
    dataplane::LcoreCounters c;
    std::set<std::string_view> names;
    size_t n = 0;
    dataplane::for_each_counter(c, [&](std::string_view name, std::string_view desc, uint64_t) {
        names.insert(name);
        EXPECT_FALSE(desc.empty()) << name;
        ++n;
    });
    EXPECT_EQ(names.size(), n);
    EXPECT_EQ(n, 14 + pktparse::drop_reason_count); // the data path's 14 and the parser's
    EXPECT_TRUE(names.count("parse_not_ip"));
    EXPECT_TRUE(names.count("source_filtered"));
    EXPECT_TRUE(names.count("ttl_expired"));
    EXPECT_TRUE(names.count("header_alloc_failed"));
    EXPECT_TRUE(names.count("punt_limited"));
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({}));
    return RUN_ALL_TESTS();
}
