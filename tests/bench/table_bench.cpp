// Data-path cost of the forwarding table: PortTable::lookup + GroupEntry::accept
// per packet, at 1, 1k, 100k and 1M groups x 0, 8, 64 and 1024 sources per
// group, with a random access pattern over the groups (so the figure includes
// cache misses, not one hot entry); and the memory per group and per (S,G).
// Also the writer's cost to replace one group's entry (control path).
//
// Skipped for memory (groups x sources > 16M, i.e. > ~0.6 GiB of entries on a
// shared 2-core box): 1M x 64 (~2.2 GiB), 100k x 1024 and 1M x 1024 (3.3 and
// 33 GiB). At ~32 bytes per (S,G) the memory of those follows from the counters.
//
// Run: build/tests/bench/bench_table  (or scripts/bench.sh table, if present)
#include "table/port_table.hpp"
#include "table/qsbr.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

namespace {

using namespace mcfwd;
using namespace mcfwd::table;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

IpAddr group(uint32_t i) {
    return IpAddr::v4(0xe8000000u + i);
} // 232/8, up to 16M groups
/// Source j of group g: pseudo-random unicast 10/8 addresses, re-derivable.
IpAddr source(uint64_t g, uint64_t j) {
    return IpAddr::v4(0x0a000000u | uint32_t(mix(g << 24 | j) & 0xffffffu));
}

struct Query {
    IpAddr group;
    IpAddr source;
};

struct Fixture {
    Fixture(size_t groups, size_t sources) : qsbr(1), reclaimer(qsbr) {
        table = std::make_unique<PortTable>(reclaimer, PortTableOptions{.initial_groups = groups});
        for (uint32_t g = 0; g < groups; ++g) {
            // Four outlets: two INCLUDE, one EXCLUDE of some listed sources, one
            // any-source; with no sources, two any-source outlets (no probe).
            FilterState f[4] = {{FilterMode::include, {}},
                                {FilterMode::include, {}},
                                {FilterMode::exclude, {}},
                                FilterState::any_source()};
            std::vector<IpAddr> lists[3];
            for (uint64_t j = 0; j < sources; ++j)
                lists[mix(g * 7 + j) % 3].push_back(source(g, j));
            for (int i = 0; i < 3; ++i)
                f[i].sources = SourceSet::from_unsorted(std::move(lists[i]));
            std::vector<OutletFilter> o;
            if (sources == 0) {
                o = {{0, &f[3]}, {1, &f[3]}};
            } else {
                for (OutletId i = 0; i < 4; ++i)
                    o.push_back({i, &f[i]});
            }
            if (table->set_group(group(g), o) != errc::ok)
                std::abort();
        }
        // Half the packets from a listed source, a quarter from an unlisted
        // one, a quarter to a group the table does not hold.
        queries.resize(size_t{1} << 20);
        for (size_t q = 0; q < queries.size(); ++q) {
            const uint64_t r = mix(q + 12345);
            const uint32_t g = uint32_t(r % groups);
            const uint64_t j = sources ? (r >> 32) % sources : 0;
            switch (r >> 62) {
            case 0:
            case 1:
                queries[q] = {group(g), source(g, j)};
                break;
            case 2:
                queries[q] = {group(g), IpAddr::v4(0xc0a80000u | uint32_t(j))};
                break;
            default:
                queries[q] = {group(uint32_t(groups + g)), source(g, j)};
            }
        }
    }
    Qsbr qsbr;
    QsbrReclaimer reclaimer;
    std::unique_ptr<PortTable> table;
    std::vector<Query> queries;
};

/// One fixture at a time (the biggest is ~0.5 GiB), reused across the
/// benchmark's repeated calls for the same shape.
Fixture& fixture(size_t groups, size_t sources) {
    static std::unique_ptr<Fixture> f;
    static size_t fg = 0, fs = 0;
    if (!f || fg != groups || fs != sources) {
        f.reset();
        f = std::make_unique<Fixture>(groups, sources);
        fg = groups;
        fs = sources;
    }
    return *f;
}

void BM_LookupAccept(benchmark::State& state) {
    const size_t groups = size_t(state.range(0)), sources = size_t(state.range(1));
    Fixture& f = fixture(groups, sources);
    const PortTable& t = *f.table;
    const Query* q = f.queries.data();
    const size_t mask = f.queries.size() - 1;
    size_t i = 0;
    uint64_t accepted = 0;
    for (auto _ : state) {
        const Query& p = q[i++ & mask];
        uint64_t m = 0;
        if (const GroupEntry* e = t.lookup(p.group))
            m = e->accept(p.source);
        accepted += m != 0;
        benchmark::DoNotOptimize(m);
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
    state.counters["accepted"] = benchmark::Counter(double(accepted) / double(state.iterations()));
    const double bytes = double(t.memory_bytes());
    state.counters["MiB"] = bytes / (1 << 20);
    state.counters["B_per_group"] = bytes / double(groups);
    if (sources != 0)
        state.counters["B_per_SG"] = bytes / double(groups * sources);
}

/// The same work in bursts of 32 as an RX loop sees it, pipelined: prefetch
/// every packet's table slot, then look up and prefetch the entries, then
/// prefetch the source slots, then compute the accept masks. Counts per packet.
void BM_LookupAcceptBurst(benchmark::State& state) {
    const size_t groups = size_t(state.range(0)), sources = size_t(state.range(1));
    Fixture& f = fixture(groups, sources);
    const PortTable& t = *f.table;
    const Query* q = f.queries.data();
    const size_t mask = f.queries.size() - 1;
    constexpr size_t burst = 32;
    size_t i = 0;
    uint64_t accepted = 0;
    const GroupEntry* e[burst];
    for (auto _ : state) {
        const Query* p = &q[i & mask];
        i += burst;
        for (size_t k = 0; k < burst; ++k)
            t.prefetch(p[k].group);
        for (size_t k = 0; k < burst; ++k) {
            e[k] = t.lookup(p[k].group);
            if (e[k] != nullptr)
                __builtin_prefetch(e[k]);
        }
        for (size_t k = 0; k < burst; ++k)
            if (e[k] != nullptr)
                e[k]->prefetch_source(p[k].source);
        for (size_t k = 0; k < burst; ++k) {
            const uint64_t m = e[k] != nullptr ? e[k]->accept(p[k].source) : 0;
            accepted += m != 0;
            benchmark::DoNotOptimize(m);
        }
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
    state.counters["accepted"] =
        benchmark::Counter(double(accepted) / double(state.iterations() * burst));
}

void lookup_shapes(benchmark::internal::Benchmark* b) {
    for (int64_t g : {1, 1000, 100000, 1000000})
        for (int64_t s : {0, 8, 64, 1024})
            if (g * s <= (int64_t{1} << 24)) // see the header comment
                b->Args({g, s});
}
BENCHMARK(BM_LookupAccept)->Apply(lookup_shapes)->ArgNames({"groups", "sources"});
BENCHMARK(BM_LookupAcceptBurst)->Apply(lookup_shapes)->ArgNames({"groups", "sources"});

/// Writer: replace one group's entry (build, publish, retire, reclaim) in a
/// table of 1k groups, as the control lcore does on a filter change.
void BM_SetGroup(benchmark::State& state) {
    const size_t sources = size_t(state.range(0));
    Qsbr qsbr(1);
    QsbrReclaimer reclaimer(qsbr);
    PortTable t(reclaimer, {.initial_groups = 1000});
    const FilterState any = FilterState::any_source();
    const OutletFilter base[] = {{0, &any}};
    for (uint32_t g = 0; g < 1000; ++g)
        t.set_group(group(g), base);
    std::vector<IpAddr> s;
    for (uint64_t j = 0; j < sources; ++j)
        s.push_back(source(1, j));
    const FilterState inc{FilterMode::include, SourceSet::from_unsorted(s)};
    const FilterState exc{FilterMode::exclude, SourceSet::from_unsorted(s)};
    const OutletFilter o[] = {{0, &inc}, {1, &exc}, {2, &any}};
    uint32_t g = 0;
    for (auto _ : state) {
        if (t.set_group(group(g++ % 1000), o) != errc::ok)
            state.SkipWithError("set_group failed");
        reclaimer.reclaim();
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_SetGroup)->Arg(0)->Arg(8)->Arg(64)->Arg(1024)->Arg(65536)->ArgName("sources");

} // namespace

BENCHMARK_MAIN();
