// The data path's cost per packet: pktparse::parse_meta alone (no EAL), and
// dataplane::poll_once end to end on a net_ring port (EAL with --no-huge: the
// figures include net_ring's ring dequeue/enqueue, a lower bound for a NIC PMD's
// cost is not implied). Frames are recycled: what sink 0 receives is injected
// again, the other sinks' references are freed, so no allocation is measured.
// BM_FanOut: the cost of each extra egress, a receiver (a reference) against a
// routed outlet (header + indirect mbuf from their pools, TTL and MAC rewritten).
#include "../unit/pktparse/frame_builder.hpp"

#include "dataplane/forward.hpp"
#include "filter/filter_state.hpp"
#include "pktparse/parse.hpp"
#include "table/port_table.hpp"
#include "table/qsbr.hpp"

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace mcfwd;
using mcfwd::testing::build_frame;
using mcfwd::testing::FrameSpec;
using mcfwd::testing::ip;

FrameSpec spec(const char* src, const char* dst) {
    FrameSpec s;
    s.src = ip(src);
    s.dst = ip(dst);
    s.payload.assign(64, 0xab);
    return s;
}

void parse_bench(benchmark::State& state, const testing::Bytes& f) {
    // What the data path runs: the metadata written in place.
    pktparse::Meta m;
    for (auto _ : state) {
        bool ok = pktparse::parse_meta(f.data(), f.size(), m);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(m);
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
}

void BM_ParseIpv4(benchmark::State& state) {
    parse_bench(state, build_frame(spec("10.0.0.1", "232.1.1.1")));
}
void BM_ParseIpv4Vlan(benchmark::State& state) {
    FrameSpec s = spec("10.0.0.1", "232.1.1.1");
    s.tags = {0x8100};
    parse_bench(state, build_frame(s));
}
void BM_ParseIpv6(benchmark::State& state) {
    parse_bench(state, build_frame(spec("2001:db8::1", "ff3e::1")));
}
void BM_ParseMldBehindHopByHop(benchmark::State& state) {
    FrameSpec s = spec("fe80::1", "ff02::16");
    s.ext = {{0, 8}};
    s.proto = 58;
    s.payload = testing::Bytes{143, 0, 0, 0, 0, 0, 0, 0};
    parse_bench(state, build_frame(s));
}
BENCHMARK(BM_ParseIpv4);
BENCHMARK(BM_ParseIpv4Vlan);
BENCHMARK(BM_ParseIpv6);
BENCHMARK(BM_ParseMldBehindHopByHop);

bool eal_up = false;

/// poll_once over bursts of 32 frames spread over `groups` groups of one port,
/// each accepted by `fanout` ring outlets (EXCLUDE {} filters, plus 8 listed
/// sources per outlet so the source probe is not skipped).
void BM_PollOnce(benchmark::State& state) {
    if (!eal_up) {
        state.SkipWithError("EAL not initialised");
        return;
    }
    const unsigned groups = unsigned(state.range(0));
    const unsigned fanout = unsigned(state.range(1));
    static int instance = 0;
    const std::string tag = std::to_string(instance++);

    rte_mempool* pool = rte_pktmbuf_pool_create(("bp" + tag).c_str(), 4095, 0, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    rte_ring* rx = rte_ring_create(("brx" + tag).c_str(), 4096, SOCKET_ID_ANY, 0);
    rte_ring* tx = rte_ring_create(("btx" + tag).c_str(), 64, SOCKET_ID_ANY, 0);
    const int port = rte_eth_from_rings(("bnr" + tag).c_str(), &rx, 1, &tx, 1, 0);
    rte_eth_conf conf{};
    if (pool == nullptr || rx == nullptr || tx == nullptr || port < 0 ||
        rte_eth_dev_configure(uint16_t(port), 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(uint16_t(port), 0, 128, 0, nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(uint16_t(port), 0, 128, 0, nullptr) != 0 ||
        rte_eth_dev_start(uint16_t(port)) != 0) {
        state.SkipWithError("port setup failed");
        return;
    }

    dataplane::OutletSet outlets;
    std::vector<rte_ring*> sinks;
    std::vector<table::OutletFilter> of;
    filter::FilterState f;
    f.mode = filter::FilterMode::exclude;
    std::vector<addr::IpAddr> listed;
    for (int i = 0; i < 8; ++i)
        listed.push_back(addr::IpAddr::v4(0x0a010000u + uint32_t(i)));
    f.sources = filter::SourceSet::from_unsorted(listed);
    for (unsigned i = 0; i < fanout; ++i) {
        sinks.push_back(rte_ring_create(("bs" + tag + "_" + std::to_string(i)).c_str(), 4096,
                                        SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
        table::OutletId id = 0;
        outlets.add(dataplane::Outlet::ring_sink(sinks.back()), id);
        of.push_back({id, &f});
    }
    table::Qsbr qsbr(1);
    table::QsbrReclaimer reclaimer(qsbr);
    table::PortTable table(reclaimer);
    std::vector<testing::Bytes> frames;
    for (unsigned g = 0; g < groups; ++g) {
        const addr::IpAddr group = addr::IpAddr::v4(0xe8010000u + g); // 232.1.x.x
        table.set_group(group, of);
        FrameSpec s = spec("10.0.0.1", "232.1.1.1");
        s.dst = group;
        frames.push_back(build_frame(s));
    }
    std::vector<table::PortTable*> tables(size_t(port) + 1, nullptr);
    tables[size_t(port)] = &table;
    auto ctx = std::make_unique<dataplane::ForwardContext>();
    ctx->rx[0] = {uint16_t(port), 0};
    ctx->rx_count = 1;
    ctx->tables = tables.data();
    ctx->table_count = tables.size();
    ctx->outlets = &outlets;

    // 1024 frames in flight, cycled through the groups.
    for (unsigned i = 0; i < 1024; ++i) {
        const auto& fr = frames[i % frames.size()];
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        std::memcpy(rte_pktmbuf_append(m, uint16_t(fr.size())), fr.data(), fr.size());
        rte_ring_enqueue(rx, m);
    }
    void* buf[dataplane::burst_size];
    for (auto _ : state) {
        dataplane::poll_once(*ctx);
        // Recycle: sink 0's copies go back to RX; the other sinks drop their reference.
        unsigned n;
        while ((n = rte_ring_dequeue_burst(sinks[0], buf, dataplane::burst_size, nullptr)) > 0)
            rte_ring_enqueue_burst(rx, buf, n, nullptr);
        for (size_t s = 1; s < sinks.size(); ++s)
            while ((n = rte_ring_dequeue_burst(sinks[s], buf, dataplane::burst_size, nullptr)) > 0)
                for (unsigned k = 0; k < n; ++k)
                    rte_pktmbuf_free(static_cast<rte_mbuf*>(buf[k]));
    }
    state.SetItemsProcessed(int64_t(ctx->counters.rx_packets));
    state.counters["forwarded"] = double(ctx->counters.forwarded);
    if (ctx->counters.forwarded != ctx->counters.rx_packets)
        state.SkipWithError("not every packet was forwarded");

    rte_eth_dev_stop(uint16_t(port));
    rte_eth_dev_close(uint16_t(port));
    void* p;
    while (rte_ring_dequeue(rx, &p) == 0)
        rte_pktmbuf_free(static_cast<rte_mbuf*>(p));
    for (rte_ring* s : sinks) {
        while (rte_ring_dequeue(s, &p) == 0)
            rte_pktmbuf_free(static_cast<rte_mbuf*>(p));
        rte_ring_free(s);
    }
    rte_ring_free(rx);
    rte_ring_free(tx);
    rte_mempool_free(pool);
}
BENCHMARK(BM_PollOnce)->Args({16, 1})->Args({16, 4})->Args({4096, 1})->Args({4096, 4});

/// A started net_ring port over rx / tx, RX from pool; -1 on failure.
int ring_port(const std::string& name, rte_ring* rx, rte_ring* tx, rte_mempool* pool) {
    const int port = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, 0);
    rte_eth_conf conf{};
    if (port < 0 || rte_eth_dev_configure(uint16_t(port), 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(uint16_t(port), 0, 128, 0, nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(uint16_t(port), 0, 128, 0, nullptr) != 0 ||
        rte_eth_dev_start(uint16_t(port)) != 0)
        return -1;
    return port;
}

/// poll_once over bursts of 32 IPv4 frames (16 groups, 64-byte payload) each
/// accepted by receiver sink 0 (recycled to RX) plus range(1) extra outlets:
/// receiver rings when range(0) == 0, routed TX ports (net_ring) when 1.
/// downstream: the RX queue is a proxy's downstream port (forward.hpp,
/// "Downstream senders"): the table is the upstream port's, and every frame also
/// takes one more routed outlet, the upstream port's.
void fan_out(benchmark::State& state, bool downstream) {
    if (!eal_up) {
        state.SkipWithError("EAL not initialised");
        return;
    }
    const bool routed = state.range(0) == 1;
    const unsigned extra = unsigned(state.range(1));
    static int instance = 0;
    const std::string tag = "f" + std::to_string(instance++);

    rte_mempool* pool = rte_pktmbuf_pool_create(("bp" + tag).c_str(), 4095, 0, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    rte_mempool* hdr =
        dataplane::create_header_pool(("bh" + tag).c_str(), 8191, 256, SOCKET_ID_ANY);
    rte_mempool* ind =
        dataplane::create_indirect_pool(("bi" + tag).c_str(), 8191, 256, SOCKET_ID_ANY);
    rte_ring* rx = rte_ring_create(("brx" + tag).c_str(), 4096, SOCKET_ID_ANY, 0);
    rte_ring* tx = rte_ring_create(("btx" + tag).c_str(), 64, SOCKET_ID_ANY, 0);
    const int port = pool && hdr && ind && rx && tx ? ring_port("bnr" + tag, rx, tx, pool) : -1;
    if (port < 0) {
        state.SkipWithError("setup failed");
        return;
    }

    dataplane::OutletSet outlets;
    std::vector<rte_ring*> sinks; // sink 0, then each extra outlet's ring (or TX ring)
    std::vector<rte_ring*> spare_rx;
    std::vector<uint16_t> out_ports;
    std::vector<table::OutletFilter> of;
    filter::FilterState f;
    f.mode = filter::FilterMode::exclude;
    for (unsigned i = 0; i <= extra; ++i) {
        const std::string n = tag + "_" + std::to_string(i);
        sinks.push_back(rte_ring_create(("bs" + n).c_str(), 4096, SOCKET_ID_ANY,
                                        RING_F_SP_ENQ | RING_F_SC_DEQ));
        table::OutletId id = 0;
        if (i == 0 || !routed) {
            outlets.add(dataplane::Outlet::ring_sink(sinks.back()), id);
        } else {
            spare_rx.push_back(rte_ring_create(("bsr" + n).c_str(), 64, SOCKET_ID_ANY, 0));
            const int p = ring_port("bro" + n, spare_rx.back(), sinks.back(), pool);
            if (p < 0) {
                state.SkipWithError("routed port setup failed");
                return;
            }
            out_ports.push_back(uint16_t(p));
            outlets.add(dataplane::Outlet::routed_tx(
                            uint16_t(p), 0, addr::MacAddr{{2, 0, 0, 0, 0, uint8_t(i)}},
                            i % 2 ? std::optional<uint16_t>(10 + i) : std::nullopt),
                        id);
        }
        of.push_back({id, &f});
    }
    table::OutletId upstream_outlet = 0;
    if (downstream) { // not in the table: the RX queue adds it
        const std::string n = tag + "_up";
        sinks.push_back(rte_ring_create(("bs" + n).c_str(), 4096, SOCKET_ID_ANY,
                                        RING_F_SP_ENQ | RING_F_SC_DEQ));
        spare_rx.push_back(rte_ring_create(("bsr" + n).c_str(), 64, SOCKET_ID_ANY, 0));
        const int p = ring_port("bro" + n, spare_rx.back(), sinks.back(), pool);
        if (p < 0) {
            state.SkipWithError("upstream port setup failed");
            return;
        }
        out_ports.push_back(uint16_t(p));
        outlets.add(dataplane::Outlet::routed_tx(uint16_t(p), 0, addr::MacAddr{{2, 0, 0, 0, 1, 0}}),
                    upstream_outlet);
    }
    table::Qsbr qsbr(1);
    table::QsbrReclaimer reclaimer(qsbr);
    table::PortTable table(reclaimer);
    std::vector<testing::Bytes> frames;
    for (unsigned g = 0; g < 16; ++g) {
        FrameSpec s = spec("10.0.0.1", "232.1.1.1");
        s.dst = addr::IpAddr::v4(0xe8010000u + g);
        s.ttl = 64;
        table.set_group(s.dst, of);
        frames.push_back(build_frame(s));
    }
    // Downstream: the table is another port's (an id past the RX port's).
    const size_t table_port = size_t(port) + (downstream ? 1 : 0);
    std::vector<table::PortTable*> tables(table_port + 1, nullptr);
    tables[table_port] = &table;
    auto ctx = std::make_unique<dataplane::ForwardContext>();
    ctx->rx[0] = {uint16_t(port), 0};
    if (downstream) {
        ctx->downstream[0].upstream_port = int32_t(table_port);
        ctx->downstream[0].own_outlets = uint64_t{1} << 63; // no such outlet: nothing masked
        ctx->downstream[0].upstream_outlets = uint64_t{1} << upstream_outlet;
    }
    ctx->rx_count = 1;
    ctx->tables = tables.data();
    ctx->table_count = tables.size();
    ctx->outlets = &outlets;
    ctx->header_pool = hdr;
    ctx->indirect_pool = ind;

    for (unsigned i = 0; i < 1024; ++i) {
        const auto& fr = frames[i % frames.size()];
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        std::memcpy(rte_pktmbuf_append(m, uint16_t(fr.size())), fr.data(), fr.size());
        rte_ring_enqueue(rx, m);
    }
    void* buf[dataplane::burst_size];
    for (auto _ : state) {
        dataplane::poll_once(*ctx);
        // The extra outlets free their copies (a routed copy's chain releases its
        // reference to the frame), then sink 0's frames go back to RX.
        unsigned n;
        for (size_t s = 1; s < sinks.size(); ++s)
            while ((n = rte_ring_dequeue_burst(sinks[s], buf, dataplane::burst_size, nullptr)) > 0)
                rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(buf), n);
        while ((n = rte_ring_dequeue_burst(sinks[0], buf, dataplane::burst_size, nullptr)) > 0)
            rte_ring_enqueue_burst(rx, buf, n, nullptr);
    }
    state.SetItemsProcessed(int64_t(ctx->counters.rx_packets));
    uint64_t copies = 0;
    for (uint64_t d : ctx->counters.delivered)
        copies += d;
    state.counters["copies_per_pkt"] =
        double(copies) / double(std::max<uint64_t>(1, ctx->counters.rx_packets));
    if (ctx->counters.forwarded != ctx->counters.rx_packets ||
        copies != ctx->counters.rx_packets * (extra + 1 + (downstream ? 1 : 0)))
        state.SkipWithError("not every copy was delivered");

    rte_eth_dev_stop(uint16_t(port));
    rte_eth_dev_close(uint16_t(port));
    for (uint16_t p : out_ports) {
        rte_eth_dev_stop(p);
        rte_eth_dev_close(p);
    }
    void* p;
    while (rte_ring_dequeue(rx, &p) == 0)
        rte_pktmbuf_free(static_cast<rte_mbuf*>(p));
    for (rte_ring* s : sinks) {
        while (rte_ring_dequeue(s, &p) == 0)
            rte_pktmbuf_free(static_cast<rte_mbuf*>(p));
        rte_ring_free(s);
    }
    for (rte_ring* s : spare_rx)
        rte_ring_free(s);
    rte_ring_free(rx);
    rte_ring_free(tx);
    rte_mempool_free(pool);
    rte_mempool_free(hdr);
    rte_mempool_free(ind);
}
void BM_FanOut(benchmark::State& state) {
    fan_out(state, false);
}
/// The same from a proxy's downstream port: one routed copy more (upstream).
void BM_DownstreamSender(benchmark::State& state) {
    fan_out(state, true);
}
BENCHMARK(BM_FanOut)->ArgNames({"routed", "extra"})->ArgsProduct({{0, 1}, {0, 1, 2, 4}});
BENCHMARK(BM_DownstreamSender)->ArgNames({"routed", "extra"})->ArgsProduct({{0, 1}, {0, 1}});

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args = {
        "bench",       "--no-huge",
        "--no-pci",    "--file-prefix=mcfwd-bench-" + std::to_string(getpid()),
        "-m",          "256",
        "-l",          "0",
        "--log-level", "lib.eal:warning"};
    std::vector<char*> eal_argv;
    for (auto& a : args)
        eal_argv.push_back(a.data());
    eal_up = rte_eal_init(int(eal_argv.size()), eal_argv.data()) >= 0;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (eal_up)
        rte_eal_cleanup();
    return 0;
}
