// Join to first packet: how long after the control lcore applies a join does the
// first packet of that (S,G) come out of the receiver's outlet ring?
//
// The application's wiring in one process (EAL, -l 0,1, --no-huge): a net_ring
// input port, a ControlPlane on the main lcore (the membership engine, the table
// publisher, the port's PortTable, DPDK RCU), and dataplane::poll_once looping on
// lcore 1 with the receiver's sink as a ring outlet. Traffic of the (S,G) about
// to be joined is already flowing: the main lcore keeps the input ring topped up
// with it (the same read-only mbuf, enqueued many times with its reference count
// raised, so topping up costs no allocation or copy), and the forwarding lcore
// drops it as not_member in full bursts of 32 until the join is visible.
//
// One iteration: start the clock; engine.set_filter(INCLUDE {S}) (engine, table
// publisher, PortTable::set_group: the entry is built and published); then top
// up the input and read the outlet ring until it yields that (S,G)'s mbuf; stop
// the clock. The group is left again afterwards (not timed), so the table stays
// small and every join is a new entry. The figure includes the join's control
// work, the forwarding lcore finishing the burst it was in (looked up before the
// store) and the next one, the outlet staging flush and the ring hop back.
//
// Counters: p50_us, p99_us, max_us over the run's joins; disturbed, the joins
// during which either thread went more than 20 us between two loop turns (it
// was descheduled: the machine is shared), and p99_undisturbed_us over the
// others — a diagnosis of the host, not a replacement for p99; burst_us, the median
// time of one poll_once that received a full burst of 32, measured on the
// forwarding lcore in the same run (the "one burst" of the target).
//
// Run: scripts/bench.sh join_latency   (or build-bench-mcfwd/tests/bench/bench_join_latency)
#include "../unit/pktparse/frame_builder.hpp"

#include "control/control_plane.hpp"
#include "dataplane/forward.hpp"
#include "ethdev/rcu.hpp"
#include "ethdev/tsc_clock.hpp"
#include "table/port_table.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace mcfwd;

constexpr unsigned fwd_lcore = 1;
constexpr unsigned top_up = 32; // input frames added whenever fewer than this wait

struct Rig {
    rte_mempool* pool = nullptr;
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    rte_ring* sink = nullptr;
    rte_ring* punt = nullptr;
    uint16_t port = 0;
    dataplane::OutletSet outlets;
    table::OutletId outlet = 0;
    std::unique_ptr<ethdev::DpdkQsbr> qsbr;
    std::unique_ptr<ethdev::DpdkReclaimer> reclaimer;
    std::unique_ptr<table::PortTable> table;
    std::vector<table::PortTable*> tables;
    std::unique_ptr<dataplane::ForwardContext> ctx;
    ethdev::TscClock clock;
    SplitMix rng{42};
    std::unique_ptr<control::ControlPlane> cp;
    membership::ReceiverId receiver = 0;
    // Forwarding lcore.
    std::atomic<bool> stop{false};
    // Cycles of the last polls that received a full burst: written by lcore 1,
    // read after it stops.
    std::vector<uint64_t> full_cycles = std::vector<uint64_t>(size_t{1} << 16);
    uint64_t full_polls = 0;
    // Longest time between two poll_once starts since the main lcore last reset
    // it: a gap far beyond one burst means the thread was descheduled.
    std::atomic<uint64_t> max_gap{0};
};

Rig* rig = nullptr;
std::string setup_error = "EAL not initialised";

bool build_rig(Rig& r) {
    r.pool =
        rte_pktmbuf_pool_create("jl_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    r.rx = rte_ring_create("jl_rx", 1024, SOCKET_ID_ANY, 0);
    r.tx = rte_ring_create("jl_tx", 1024, SOCKET_ID_ANY, 0);
    r.sink = rte_ring_create("jl_sink", 4096, SOCKET_ID_ANY, 0);
    r.punt = rte_ring_create("jl_punt", 1024, SOCKET_ID_ANY, 0);
    if (!r.pool || !r.rx || !r.tx || !r.sink || !r.punt)
        return false;
    const int id = rte_eth_from_rings("net_ring_jl", &r.rx, 1, &r.tx, 1, 0);
    if (id < 0)
        return false;
    r.port = uint16_t(id);
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(r.port, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(r.port, 0, 128, 0, nullptr, r.pool) != 0 ||
        rte_eth_tx_queue_setup(r.port, 0, 128, 0, nullptr) != 0 || rte_eth_dev_start(r.port) != 0)
        return false;
    if (r.outlets.add(dataplane::Outlet::ring_sink(r.sink), r.outlet) != errc::ok)
        return false;
    auto q = ethdev::DpdkQsbr::create(1);
    if (!q)
        return false;
    r.qsbr = std::move(q).value();
    r.reclaimer = std::make_unique<ethdev::DpdkReclaimer>(*r.qsbr);
    r.table = std::make_unique<table::PortTable>(*r.reclaimer);
    r.tables.assign(size_t(r.port) + 1, nullptr);
    r.tables[r.port] = r.table.get();
    r.ctx = std::make_unique<dataplane::ForwardContext>();
    r.ctx->rx[0] = {r.port, 0};
    r.ctx->rx_count = 1;
    r.ctx->tables = r.tables.data();
    r.ctx->table_count = r.tables.size();
    r.ctx->outlets = &r.outlets;
    r.ctx->punt_ring = r.punt;
    r.ctx->qsbr = r.qsbr->get();
    r.ctx->qsbr_thread_id = 0;
    if (r.qsbr->register_reader(0) != errc::ok)
        return false;

    r.cp = std::make_unique<control::ControlPlane>(membership::Limits{64, 64}, r.clock, r.rng);
    control::PortSetup s;
    s.id = r.port;
    s.name = "in";
    s.table = r.table.get();
    s.igmp = s.mld = false; // nothing to announce: the figure is the data path's
    s.transmit = [](std::span<const uint8_t>) {};
    if (r.cp->add_port(std::move(s)) != errc::ok)
        return false;
    auto rid = r.cp->engine().open_receiver("bench");
    if (!rid)
        return false;
    r.receiver = *rid;
    r.cp->publisher().bind_receiver(r.receiver, r.outlet);
    return true;
}

int forwarding_main(void* arg) {
    Rig& r = *static_cast<Rig*>(arg);
    r.qsbr->online(0);
    uint64_t prev = rte_rdtsc();
    while (!r.stop.load(std::memory_order_relaxed)) {
        const uint64_t before = r.ctx->counters.rx_packets;
        const uint64_t t0 = rte_rdtsc();
        if (t0 - prev > r.max_gap.load(std::memory_order_relaxed))
            r.max_gap.store(t0 - prev, std::memory_order_relaxed);
        prev = t0;
        dataplane::poll_once(*r.ctx);
        const uint64_t t1 = rte_rdtsc();
        if (r.ctx->counters.rx_packets - before == dataplane::burst_size)
            r.full_cycles[r.full_polls++ & (r.full_cycles.size() - 1)] = t1 - t0;
    }
    dataplane::flush(*r.ctx);
    r.qsbr->offline(0);
    return 0;
}

/// Frees everything waiting in ring; true if m was among it.
bool drain(rte_ring* ring, const rte_mbuf* m) {
    void* buf[64];
    bool seen = false;
    unsigned n;
    while ((n = rte_ring_dequeue_burst(ring, buf, 64, nullptr)) > 0)
        for (unsigned i = 0; i < n; ++i) {
            seen |= buf[i] == m;
            rte_pktmbuf_free(static_cast<rte_mbuf*>(buf[i]));
        }
    return seen;
}

/// Keeps at least top_up references to m waiting in the input ring.
void feed(Rig& r, rte_mbuf* m) {
    if (rte_ring_count(r.rx) >= top_up)
        return;
    void* refs[top_up];
    std::fill(std::begin(refs), std::end(refs), m);
    rte_mbuf_refcnt_update(m, int16_t(top_up));
    const unsigned n = rte_ring_enqueue_burst(r.rx, refs, top_up, nullptr);
    if (n < top_up)
        rte_mbuf_refcnt_update(m, int16_t(n) - int16_t(top_up));
}

void BM_JoinToFirstPacket(benchmark::State& state) {
    if (rig == nullptr) {
        state.SkipWithError(setup_error.c_str());
        return;
    }
    Rig& r = *rig;
    r.stop = false;
    r.full_polls = 0;
    if (rte_eal_remote_launch(forwarding_main, &r, fwd_lcore) != 0) {
        state.SkipWithError("cannot launch the forwarding lcore");
        return;
    }
    const addr::IpAddr source = addr::IpAddr::v4(0x0a000001); // 10.0.0.1
    const std::vector<addr::IpAddr> include{source};
    const double ns_per_cycle = 1e9 / double(rte_get_tsc_hz());
    std::vector<double> lat_us, undisturbed_us;
    const uint64_t disturbed_gap = rte_get_tsc_hz() / 50000; // 20 us: far beyond a burst
    static uint32_t next_group = 0;
    for (auto _ : state) {
        // Not timed: this join's frame, already flowing and dropped as not_member.
        const addr::IpAddr group = addr::IpAddr::v4(0xe8010000u + (next_group++ & 0xffff));
        testing::FrameSpec fs;
        fs.src = source;
        fs.dst = group;
        fs.payload.assign(18, 0xab);
        const testing::Bytes frame = testing::build_frame(fs);
        rte_mbuf* m = rte_pktmbuf_alloc(r.pool);
        std::memcpy(rte_pktmbuf_append(m, uint16_t(frame.size())), frame.data(), frame.size());
        for (int i = 0; i < 4; ++i) {
            feed(r, m);
            rte_delay_us_block(2);
        }
        drain(r.sink, nullptr);

        r.max_gap.store(0, std::memory_order_relaxed);
        const uint64_t t0 = rte_rdtsc();
        if (r.cp->engine().set_filter(r.receiver, r.port, group, filter::FilterMode::include,
                                      include) != errc::ok) {
            state.SkipWithError("join failed");
            break;
        }
        bool seen = false;
        uint64_t t1 = t0, main_gap = 0;
        while (!seen) {
            feed(r, m);
            seen = drain(r.sink, m);
            const uint64_t now = rte_rdtsc();
            main_gap = std::max(main_gap, now - t1);
            t1 = now;
            if (double(t1 - t0) * ns_per_cycle > 1e9)
                break; // one second: lost, reported below
        }
        const double us = double(t1 - t0) * ns_per_cycle / 1e3;
        state.SetIterationTime(us / 1e6);
        lat_us.push_back(seen ? us : 1e6);
        if (std::max(main_gap, r.max_gap.load(std::memory_order_relaxed)) < disturbed_gap)
            undisturbed_us.push_back(us);

        // Not timed: leave, let the input run dry, give our reference back.
        r.cp->engine().set_filter(r.receiver, r.port, group, filter::FilterMode::include, {});
        while (rte_ring_count(r.rx) != 0)
            drain(r.sink, nullptr);
        rte_delay_us_block(5);
        drain(r.sink, nullptr);
        rte_pktmbuf_free(m);
        r.cp->poll();
        r.reclaimer->reclaim();
    }
    r.stop = true;
    rte_eal_wait_lcore(fwd_lcore);
    drain(r.sink, nullptr);
    std::sort(lat_us.begin(), lat_us.end());
    std::sort(undisturbed_us.begin(), undisturbed_us.end());
    if (lat_us.empty())
        return;
    auto pct = [](const std::vector<double>& v, double p) {
        return v.empty() ? 0.0 : v[size_t(p * double(v.size() - 1))];
    };
    state.counters["p50_us"] = pct(lat_us, 0.50);
    state.counters["p99_us"] = pct(lat_us, 0.99);
    state.counters["max_us"] = lat_us.back();
    state.counters["disturbed"] = double(lat_us.size() - undisturbed_us.size());
    state.counters["p99_undisturbed_us"] = pct(undisturbed_us, 0.99);
    state.counters["lost"] = double(std::count(lat_us.begin(), lat_us.end(), 1e6));
    if (r.full_polls != 0) {
        const size_t n = std::min<size_t>(r.full_polls, r.full_cycles.size());
        std::vector<uint64_t> c(r.full_cycles.begin(), r.full_cycles.begin() + std::ptrdiff_t(n));
        std::sort(c.begin(), c.end());
        state.counters["burst_us"] = double(c[c.size() / 2]) * ns_per_cycle / 1e3;
    }
}
BENCHMARK(BM_JoinToFirstPacket)->Iterations(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char** argv) {
    const std::string prefix = "mcfwd-bench-jl-" + std::to_string(getpid());
    std::vector<std::string> args = {
        "bench", "--no-huge", "--no-pci",    "--file-prefix=" + prefix, "-m", "256",
        "-l",    "0,1",       "--log-level", "lib.eal:warning"};
    std::vector<char*> eal_argv;
    for (auto& a : args)
        eal_argv.push_back(a.data());
    const bool eal_up = rte_eal_init(int(eal_argv.size()), eal_argv.data()) >= 0;
    auto owned = std::make_unique<Rig>();
    if (eal_up) {
        if (build_rig(*owned))
            rig = owned.get();
        else
            setup_error = "rig setup failed";
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (eal_up) {
        const std::string runtime_dir = rte_eal_get_runtime_dir();
        owned->cp.reset();
        owned->table.reset();
        owned->qsbr->unregister_reader(0);
        owned->reclaimer.reset();
        rte_eth_dev_stop(owned->port);
        rte_eth_dev_close(owned->port);
        owned.reset();
        rte_eal_cleanup();
        std::error_code ignored;
        std::filesystem::remove_all(runtime_dir, ignored);
    }
    return 0;
}
