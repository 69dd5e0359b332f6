// Qsbr and QsbrReclaimer: the grace-period rules of DPDK rte_rcu_qsbr.
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::table;

std::vector<int> g_freed;
void record_free(void* p) {
    g_freed.push_back(*static_cast<int*>(p));
}

TEST(Qsbr, RegisterRefusesOutOfRangeAndDuplicateIds) {
    Qsbr q(2);
    EXPECT_EQ(q.register_reader(2), errc::invalid);
    EXPECT_EQ(q.register_reader(1), errc::ok);
    EXPECT_EQ(q.register_reader(1), errc::addr_in_use);
    EXPECT_EQ(q.unregister_reader(0), errc::invalid);
    EXPECT_EQ(q.unregister_reader(1), errc::ok);
    EXPECT_EQ(q.register_reader(1), errc::ok);
}

TEST(Qsbr, OnlineReaderHoldsTheTokenUntilQuiescent) {
    Qsbr q(2);
    ASSERT_EQ(q.register_reader(0), errc::ok);
    q.online(0);
    const uint64_t t = q.start();
    EXPECT_FALSE(q.check(t));
    q.quiescent(0);
    EXPECT_TRUE(q.check(t));
    const uint64_t t2 = q.start();
    EXPECT_FALSE(q.check(t2)) << "a quiescent state before start() does not count";
    q.offline(0);
    EXPECT_TRUE(q.check(t2));
}

TEST(Qsbr, ReaderComingOnlineAfterStartDoesNotHoldIt) {
    Qsbr q(1);
    ASSERT_EQ(q.register_reader(0), errc::ok);
    const uint64_t t = q.start();
    q.online(0);
    EXPECT_TRUE(q.check(t));
    EXPECT_FALSE(q.check(q.start()));
    q.offline(0);
}

TEST(Qsbr, SynchronizeWaitsForAnOnlineReaderThread) {
    Qsbr q(1);
    ASSERT_EQ(q.register_reader(0), errc::ok);
    q.online(0); // this thread is the reader; another thread is the writer
    std::atomic<bool> done{false};
    std::thread writer([&] {
        q.synchronize();
        done.store(true);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(done.load()) << "returned while the reader was in a critical section";
    q.quiescent(0);
    writer.join();
    EXPECT_TRUE(done.load());
    q.offline(0);
}

TEST(QsbrReclaimer, FreesInRetireOrderOnlyAfterTheGracePeriod) {
    g_freed.clear();
    Qsbr q(1);
    ASSERT_EQ(q.register_reader(0), errc::ok);
    q.online(0);
    int a = 1, b = 2;
    {
        QsbrReclaimer r(q);
        r.retire(&a, record_free);
        q.quiescent(0);
        r.retire(&b, record_free);
        EXPECT_EQ(r.reclaim(), 1u);
        EXPECT_EQ(g_freed, std::vector<int>{1});
        EXPECT_EQ(r.pending(), 1u);
        q.offline(0);
        EXPECT_EQ(r.reclaim(), 1u);
        EXPECT_EQ(g_freed, (std::vector<int>{1, 2}));
        EXPECT_EQ(r.freed(), 2u);
    }
}

TEST(QsbrReclaimer, FullQueueReclaimsBeforeQueueingMore) {
    g_freed.clear();
    Qsbr q(1);
    QsbrReclaimer r(q, 2);
    int v[3] = {1, 2, 3};
    r.retire(&v[0], record_free);
    r.retire(&v[1], record_free);
    EXPECT_EQ(r.pending(), 2u);
    r.retire(&v[2], record_free); // no reader online: the first two can go now
    EXPECT_EQ(g_freed, (std::vector<int>{1, 2}));
    EXPECT_EQ(r.pending(), 1u);
    r.synchronize();
    EXPECT_EQ(g_freed, (std::vector<int>{1, 2, 3}));
}

} // namespace
