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

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
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
    EXPECT_EQ(n, 10 + pktparse::drop_reason_count); // the data path's 10 and the parser's
    EXPECT_TRUE(names.count("parse_not_ip"));
    EXPECT_TRUE(names.count("source_filtered"));
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({}));
    return RUN_ALL_TESTS();
}
