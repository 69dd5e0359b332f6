// DpdkReclaimer keeps the table::Reclaimer contract over rte_rcu_qsbr: nothing
// is freed before every online reader has been quiescent, synchronize() frees
// everything, a full defer queue waits instead of leaking, and PortTable churn
// with a live reader sees no freed (poisoned) entry.
#include "eal_env.hpp"
#include "ethdev/rcu.hpp"
#include "ethdev/rte_allocator.hpp"
#include "ethdev/tsc_clock.hpp"
#include "table/port_table.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::ethdev;

/// A reader on its own thread, told what to do step by step, so the test
/// controls exactly when each reader reports a quiescent state.
class Reader {
public:
    enum Cmd : int { none, online, quiescent, offline, spin, stop };

    Reader(DpdkQsbr& q, unsigned id) : q_(q), id_(id), t_([this] { run(); }) {}
    ~Reader() {
        post(stop);
        t_.join();
    }
    /// Runs cmd on the reader's thread and waits until it has (spin: until it started).
    void post(Cmd c) {
        done_.store(false);
        cmd_.store(c);
        while (!done_.load())
            std::this_thread::yield();
    }
    errc registered() const { return reg_; }

private:
    void run() {
        reg_ = q_.register_reader(id_);
        for (;;) {
            const int c = cmd_.exchange(none);
            switch (c) {
            case none:
                std::this_thread::yield();
                continue;
            case online:
                q_.online(id_);
                break;
            case quiescent:
                q_.quiescent(id_);
                break;
            case offline:
                q_.offline(id_);
                break;
            case spin:
                done_.store(true);
                while (cmd_.load() == none)
                    q_.quiescent(id_);
                continue;
            case stop:
                q_.offline(id_);
                q_.unregister_reader(id_);
                done_.store(true);
                return;
            }
            done_.store(true);
        }
    }

    DpdkQsbr& q_;
    unsigned id_;
    errc reg_ = errc::io;
    std::atomic<int> cmd_{none};
    std::atomic<bool> done_{false};
    std::thread t_;
};

struct Obj {
    bool* freed;
};
void free_obj(void* p) {
    auto* o = static_cast<Obj*>(p);
    *o->freed = true;
    delete o;
}

std::unique_ptr<DpdkQsbr> make_qsbr(unsigned n) {
    auto q = DpdkQsbr::create(n);
    EXPECT_TRUE(q.ok()) << errc_name(q.error());
    return q.ok() ? std::move(q).value() : nullptr;
}

TEST(DpdkReclaimer, FreesOnlyAfterEveryOnlineReaderWasQuiescent) {
    mcfwd::testing::EalEnvironment::require();
    auto q = make_qsbr(2);
    ASSERT_TRUE(q);
    DpdkReclaimer rec(*q);
    Reader r0(*q, 0), r1(*q, 1);
    r0.post(Reader::online);
    r1.post(Reader::online);
    ASSERT_EQ(r0.registered(), errc::ok);
    ASSERT_EQ(r1.registered(), errc::ok);

    bool freed = false;
    rec.retire(new Obj{&freed}, free_obj);
    EXPECT_EQ(rec.reclaim(), 0u);
    EXPECT_FALSE(freed) << "no reader has been quiescent yet";
    r0.post(Reader::quiescent);
    EXPECT_EQ(rec.reclaim(), 0u);
    EXPECT_FALSE(freed) << "reader 1 may still hold it";
    r1.post(Reader::quiescent);
    EXPECT_EQ(rec.reclaim(), 1u);
    EXPECT_TRUE(freed);
    EXPECT_EQ(rec.pending(), 0u);

    // An offline reader holds nothing: only the online one is waited for.
    r1.post(Reader::offline);
    bool freed2 = false;
    rec.retire(new Obj{&freed2}, free_obj);
    EXPECT_EQ(rec.reclaim(), 0u);
    EXPECT_FALSE(freed2);
    r0.post(Reader::quiescent);
    EXPECT_EQ(rec.reclaim(), 1u);
    EXPECT_TRUE(freed2);
}

TEST(DpdkReclaimer, SynchronizeFreesEverythingRetired) {
    mcfwd::testing::EalEnvironment::require();
    auto q = make_qsbr(2);
    ASSERT_TRUE(q);
    DpdkReclaimer rec(*q);
    Reader r0(*q, 0), r1(*q, 1);
    r0.post(Reader::online);
    r1.post(Reader::online);
    bool f[5] = {};
    for (bool& b : f)
        rec.retire(new Obj{&b}, free_obj);
    EXPECT_EQ(rec.reclaim(), 0u);
    EXPECT_EQ(rec.pending(), 5u);
    r0.post(Reader::spin);
    r1.post(Reader::spin);
    rec.synchronize();
    for (bool b : f)
        EXPECT_TRUE(b);
    EXPECT_EQ(rec.pending(), 0u);
    EXPECT_EQ(rec.freed(), 5u);
}

TEST(DpdkReclaimer, FullQueueWaitsForAGracePeriodInsteadOfLeaking) {
    mcfwd::testing::EalEnvironment::require();
    auto q = make_qsbr(1);
    ASSERT_TRUE(q);
    DpdkReclaimer rec(*q, 8);
    Reader r0(*q, 0);
    r0.post(Reader::online);
    // The reader never reports quiescent while these are retired: the queue fills.
    std::vector<char> freed(64, 0);
    const unsigned n = 64;
    // The reader stays online without a quiescent state for 200 ms, so the
    // queue fills and retire() must wait; then it starts reporting, which ends
    // the wait. (Were it stuck for good, retire() would wait forever: the
    // contract's price for never freeing early.)
    std::thread waker([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        r0.post(Reader::spin);
    });
    for (unsigned i = 0; i < n; ++i)
        rec.retire(new Obj{reinterpret_cast<bool*>(&freed[i])}, free_obj);
    waker.join();
    rec.synchronize();
    EXPECT_GT(rec.full_waits(), 0u) << "64 objects cannot fit a queue of 8";
    EXPECT_EQ(rec.freed(), n);
    for (unsigned i = 0; i < n; ++i)
        EXPECT_TRUE(freed[i]) << i;
}

TEST(DpdkReclaimer, PortTableChurnWithALiveReaderNeverSeesAFreedEntry) {
    mcfwd::testing::EalEnvironment::require();
    using namespace mcfwd::table;
    auto q = make_qsbr(1);
    ASSERT_TRUE(q);
    RteAllocator alloc(SOCKET_ID_ANY); // the application's table memory; outlives rec
    DpdkReclaimer rec(*q, 1024);
    PortTable table(rec, {.initial_groups = 16, .poison_retired = true, .allocator = &alloc});
    constexpr uint32_t n_groups = 256;
    auto group = [](uint32_t i) { return IpAddr::v4(0xe8010000u + i); };

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> hits{0}, bad{0};
    std::thread reader([&] {
        ASSERT_EQ(q->register_reader(0), errc::ok);
        q->online(0);
        uint64_t h = 0, b = 0;
        uint32_t i = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            for (int k = 0; k < 32; ++k, ++i) {
                const IpAddr g = group(i % n_groups);
                const GroupEntry* e = table.lookup(g);
                if (e == nullptr)
                    continue;
                ++h;
                // The outlet id encodes the group index: a poisoned (freed)
                // entry breaks either check.
                if (e->group() != g || e->outlet_count() != 1 || e->outlet(0) != i % n_groups % 64)
                    ++b;
            }
            q->quiescent(0);
        }
        q->offline(0);
        q->unregister_reader(0);
        hits += h;
        bad += b;
    });

    const filter::FilterState fs = filter::FilterState::any_source();
    uint64_t sets = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    uint32_t x = 12345;
    while (std::chrono::steady_clock::now() < end) {
        x = x * 1103515245u + 12345u;
        const uint32_t gi = (x >> 8) % n_groups;
        if ((x >> 20) % 3 == 0) {
            table.remove_group(group(gi));
        } else {
            const OutletFilter o{OutletId(gi % 64), &fs};
            ASSERT_EQ(table.set_group(group(gi), std::span(&o, 1)), errc::ok);
            ++sets;
        }
        rec.reclaim();
    }
    stop = true;
    reader.join();
    rec.synchronize();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(hits.load(), 100u);
    EXPECT_GT(sets, 1000u);
    EXPECT_EQ(rec.pending(), 0u);
    EXPECT_GT(rec.freed(), 0u);
}

TEST(TscClock, AdvancesWithWallTime) {
    mcfwd::testing::EalEnvironment::require();
    TscClock clock;
    ASSERT_GT(clock.hz(), 0u);
    const time_point a = clock.now();
    const auto wa = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const time_point b = clock.now();
    const auto wall = std::chrono::steady_clock::now() - wa;
    const duration d = b - a;
    EXPECT_GT(d, duration(0));
    // Within 20% of the steady clock: the TSC is calibrated by the EAL.
    EXPECT_NEAR(double(d.count()), double(std::chrono::duration_cast<duration>(wall).count()),
                0.2 * double(std::chrono::duration_cast<duration>(wall).count()));
    EXPECT_EQ(clock.to_ns(clock.hz() * 3), 3'000'000'000);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({}));
    return RUN_ALL_TESTS();
}
