// dataplane::OutletRegistry on real DPDK: rings made and named as asked, one id
// meaning the same sink on every lcore, and a closed outlet kept working until
// the grace period has passed, then drained (its mbufs back in the pool), freed,
// and its id and ring name given out again.
#include "../eal_env.hpp"

#include "dataplane/outlet_registry.hpp"
#include "table/qsbr.hpp"

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace mcfwd;
using control::SinkRequest;
using dataplane::OutletKind;

SinkRequest ring(std::string name, uint32_t size = 64) {
    SinkRequest r;
    r.ring = std::move(name);
    r.ring_size = size;
    return r;
}

struct Fixture : ::testing::Test {
    void SetUp() override {
        mcfwd::testing::EalEnvironment::require();
        ASSERT_EQ(qsbr.register_reader(0), errc::ok);
        qsbr.online(0);
    }
    void TearDown() override {
        qsbr.offline(0);
        reclaimer.synchronize();
    }
    // Two forwarding lcores; reader 0 stands for them in the grace period.
    dataplane::LcoreCounters c0, c1;
    table::Qsbr qsbr{1};
    table::QsbrReclaimer reclaimer{qsbr};
    dataplane::OutletRegistry reg{{&c0, &c1}, reclaimer, SOCKET_ID_ANY};
};

TEST_F(Fixture, OneIdIsTheSameSinkOnEveryLcore) {
    auto a = reg.open("feed", ring("orq_a"));
    ASSERT_TRUE(a) << errc_name(a.error());
    rte_ring* r = rte_ring_lookup("orq_a");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(rte_ring_get_size(r), 64u);
    for (size_t l = 0; l < 2; ++l) {
        EXPECT_EQ(reg.lcore(l).present_mask(), uint64_t{1} << *a);
        EXPECT_EQ(reg.lcore(l)[*a].ring, r);
    }
    EXPECT_EQ(reg.describe(*a), "ring orq_a");
    // A port sink sends on queue i of lcore i, only on ports allowed to be sinks.
    SinkRequest p;
    p.kind = SinkRequest::Kind::port;
    p.port = 7;
    EXPECT_EQ(reg.open("tx", p).error(), errc::invalid);
    reg.allow_port_sink(7, "out7");
    auto b = reg.open("tx", p);
    ASSERT_TRUE(b);
    for (size_t l = 0; l < 2; ++l) {
        EXPECT_EQ(reg.lcore(l)[*b].kind, OutletKind::port);
        EXPECT_EQ(reg.lcore(l)[*b].port, 7);
        EXPECT_EQ(reg.lcore(l)[*b].queue, l);
    }
    EXPECT_EQ(reg.describe(*b), "port out7");
    reg.close(*a);
    reg.close(*b);
}

TEST_F(Fixture, RefusalsLeaveNothingBehind) {
    auto a = reg.open("feed", ring("orq_dup"));
    ASSERT_TRUE(a);
    EXPECT_EQ(reg.open("other", ring("orq_dup")).error(), errc::exists);
    EXPECT_EQ(reg.open("other", ring("orq_bad", 100)).error(), errc::invalid); // not 2^n
    EXPECT_EQ(reg.open("other", ring(std::string(29, 'x'))).error(), errc::invalid);
    EXPECT_EQ(reg.lcore(0).present_mask(), uint64_t{1} << *a);
    // Up to table::max_outlets; the 65th is refused before a ring is made.
    std::vector<table::OutletId> ids{*a};
    for (size_t i = 1; i < table::max_outlets; ++i) {
        auto id = reg.open("r", ring("orq_n" + std::to_string(i), 32));
        ASSERT_TRUE(id) << i << " " << errc_name(id.error());
        ids.push_back(*id);
    }
    EXPECT_EQ(reg.lcore(1).present_mask(), ~uint64_t{0});
    EXPECT_EQ(reg.open("r", ring("orq_full")).error(), errc::no_buffer_space);
    EXPECT_EQ(rte_ring_lookup("orq_full"), nullptr);
    for (table::OutletId id : ids)
        reg.close(id);
}

TEST_F(Fixture, ClosedRingWorksUntilTheGracePeriodThenIsDrainedAndFreed) {
    rte_mempool* pool = rte_pktmbuf_pool_create("orq_pool", 63, 0, 0, 256, SOCKET_ID_ANY);
    ASSERT_NE(pool, nullptr);
    c0.delivered[0] = 40; // an earlier owner of id 0 delivered these
    auto a = reg.open("feed", ring("orq_close"));
    ASSERT_TRUE(a);
    ASSERT_EQ(*a, 0);
    EXPECT_EQ(reg.delivered(*a), 0u);
    c0.delivered[0] += 3;
    c1.delivered[0] += 2;
    EXPECT_EQ(reg.delivered(*a), 5u);
    rte_ring* r = rte_ring_lookup("orq_close");
    rte_mbuf* m[5];
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool, m, 5), 0);
    ASSERT_EQ(rte_ring_enqueue_bulk(r, reinterpret_cast<void**>(m), 5, nullptr), 5u);
    EXPECT_EQ(rte_mempool_avail_count(pool), 58u);

    reg.close(*a);
    // The reader has not been quiescent: an lcore may still enqueue.
    EXPECT_EQ(reclaimer.reclaim(), 0u);
    EXPECT_EQ(reg.closing(), 1u);
    EXPECT_EQ(rte_ring_lookup("orq_close"), r);
    EXPECT_EQ(reg.lcore(0).present_mask(), 1u);
    EXPECT_EQ(reg.open("again", ring("orq_close")).error(), errc::exists);

    qsbr.quiescent(0);
    EXPECT_EQ(reclaimer.reclaim(), 1u);
    EXPECT_EQ(reg.closing(), 0u);
    EXPECT_EQ(rte_ring_lookup("orq_close"), nullptr);
    EXPECT_EQ(rte_mempool_avail_count(pool), 63u); // the ring's mbufs were freed
    EXPECT_EQ(reg.lcore(0).present_mask(), 0u);
    EXPECT_EQ(reg.lcore(1).present_mask(), 0u);
    // Id and name are free: the new owner starts from zero delivered.
    auto b = reg.open("again", ring("orq_close"));
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, 0);
    EXPECT_EQ(reg.delivered(*b), 0u);
    size_t listed = 0;
    reg.for_each([&](table::OutletId id, const dataplane::OutletRegistry::Info& i) {
        EXPECT_EQ(id, 0);
        EXPECT_EQ(i.owner, "again");
        ++listed;
    });
    EXPECT_EQ(listed, 1u);
    reg.close(*b);
    qsbr.quiescent(0);
    reclaimer.reclaim();
    rte_mempool_free(pool);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({}));
    return RUN_ALL_TESTS();
}
