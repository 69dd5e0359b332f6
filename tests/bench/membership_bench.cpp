// Control-path cost of the membership engine: join/leave and set-filter at
// 1, 1k and 100k joined groups, and set-filter as the source list grows to
// 65,536 (the curve that must stay linear, not quadratic).
//
// Run: scripts/bench.sh membership   (or build/tests/bench/bench_membership)
#include "membership/engine.hpp"

#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::membership;

// A listener that does what any real consumer must at least do: look at the event.
class CountingListener final : public Listener {
public:
    void on_group_change(PortId, const IpAddr&, const FilterState&, const FilterState& n) override {
        events += 1 + n.sources.size();
    }
    void on_allmulti_change(PortId, bool) override {}
    uint64_t events = 0;
};

IpAddr group(uint32_t i) {
    return IpAddr::v4(0xe8000000u + i);
} // 232.0.0.0 + i
IpAddr source(uint32_t i) {
    return IpAddr::v4(0x0a000000u + i);
}

struct Fixture {
    explicit Fixture(size_t groups, size_t max_sources = 64)
        : engine(Limits{max_sources, max_sources}, &listener) {
        engine.add_port(0);
        r = *engine.open_receiver("bench");
        for (uint32_t i = 0; i < groups; ++i)
            engine.join(r, 0, group(i));
    }
    CountingListener listener;
    Engine engine;
    ReceiverId r;
};

// One iteration = leave one of the N joined groups and join it again: the port's
// merged membership is deleted and re-created, two events each time.
void BM_JoinLeaveAnySource(benchmark::State& state) {
    const auto n = static_cast<uint32_t>(state.range(0));
    Fixture f(n);
    uint32_t i = 0;
    for (auto _ : state) {
        IpAddr g = group(i);
        f.engine.leave(f.r, 0, g);
        f.engine.join(f.r, 0, g);
        if (++i == n)
            i = 0;
    }
    benchmark::DoNotOptimize(f.listener.events);
    state.SetItemsProcessed(state.iterations()); // join+leave pairs
    state.counters["pairs/s"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_JoinLeaveAnySource)->Arg(1)->Arg(1000)->Arg(10000)->Arg(100000)->UseRealTime();

// One iteration = replace one group's filter with (INCLUDE, 64 sources), alternating
// between two lists so every call really changes the merged state.
void BM_SetFilter64(benchmark::State& state) {
    const auto n = static_cast<uint32_t>(state.range(0));
    Fixture f(n);
    std::vector<IpAddr> a, b;
    for (uint32_t s = 0; s < 64; ++s) {
        a.push_back(source(s));
        b.push_back(source(s + 32));
    }
    uint32_t i = 0;
    bool flip = false;
    for (auto _ : state) {
        f.engine.set_filter(f.r, 0, group(i), FilterMode::include, flip ? b : a);
        if (++i == n) {
            i = 0;
            flip = !flip;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SetFilter64)->Arg(1)->Arg(1000)->Arg(100000);

// set-filter on one group as the list grows: the fitted complexity must be
// (near) linear.
void BM_SetFilterSources(benchmark::State& state) {
    const auto n = static_cast<uint32_t>(state.range(0));
    Fixture f(1, n);
    std::vector<IpAddr> a, b;
    for (uint32_t s = 0; s < n; ++s) {
        a.push_back(source(s * 7919 % (4 * n))); // not sorted
        b.push_back(source(s * 7919 % (4 * n) + 1));
    }
    bool flip = false;
    for (auto _ : state) {
        f.engine.set_filter(f.r, 0, group(0), FilterMode::exclude, flip ? b : a);
        flip = !flip;
    }
    state.SetComplexityN(n);
    state.SetItemsProcessed(state.iterations() * n); // sources processed
}
BENCHMARK(BM_SetFilterSources)->RangeMultiplier(4)->Range(64, 65536)->Complexity();

// Baseline, same run: the Linux kernel's own membership code (setsockopt
// IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP, which runs ip_mc_join_group and the
// IGMP machinery) on the loopback interface, with N groups already joined there
// (spread over sockets: igmp_max_memberships is 20 per socket by default). One
// iteration = join + leave of a group not in the set. The kernel keeps an
// interface's groups in a linked list, so setting up 100k groups takes minutes:
// the baseline stops at 10k. scripts/bench.sh runs this
// program in a new network namespace when it can, so nothing leaves the machine.
void BM_KernelJoinLeaveBaseline(benchmark::State& state) {
    const auto n = static_cast<uint32_t>(state.range(0));
    const in_addr lo{htonl(INADDR_LOOPBACK)};
    auto membership = [&](uint32_t g) {
        ip_mreq m{};
        m.imr_multiaddr.s_addr = htonl(0xe8000000u + g);
        m.imr_interface = lo;
        return m;
    };
    std::vector<int> fds;
    auto cleanup = [&] {
        for (int fd : fds)
            close(fd);
    };
    for (uint32_t i = 0; i < n; ++i) {
        if (i % 20 == 0)
            fds.push_back(socket(AF_INET, SOCK_DGRAM, 0));
        ip_mreq m = membership(i);
        if (fds.back() < 0 || setsockopt(fds.back(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m)) {
            cleanup();
            state.SkipWithError("cannot join groups on loopback (fd limit or no IPv4?)");
            return;
        }
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    uint32_t i = 0;
    for (auto _ : state) {
        ip_mreq m = membership(n + (i++ & 15));
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) ||
            setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m)) {
            state.SkipWithError("setsockopt failed");
            break;
        }
    }
    close(fd);
    cleanup();
    state.SetItemsProcessed(state.iterations());
    state.counters["pairs/s"] = benchmark::Counter(double(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KernelJoinLeaveBaseline)->Arg(1)->Arg(1000)->Arg(10000)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
