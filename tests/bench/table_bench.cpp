// Data-path cost of the forwarding table: PortTable::lookup + GroupEntry::accept
// per packet, at 1, 1k, 100k and 1M groups x 0, 8, 64 and 1024 sources per
// group, with a random access pattern over the groups (so the figure includes
// cache misses, not one hot entry); and the memory per group and per (S,G).
// Also the writer's cost to replace one group's entry (control path).
//
// Memory: a GroupEntry holds its own source table (~32 bytes per listed source),
// so sources cannot be shared between groups. 1M x 64 (~2.1 GiB) and 100k x
// 1024 (~3.1 GiB) are built in full. 1M x 1024 would need ~33 GiB: it is
// measured as 1M groups of which one in 32 lists 1024 sources and the others 8
// (~1.3 GiB), with every query going to a 1024-source group (arg every:32). Its
// lookups walk the same structures as the full shape (a 1M-group slot table, a
// 1024-source entry among ~1 GiB of them); its bytes per (S,G) do not describe
// the full shape and are not reported.
//
// Each shape's fixture is built once and used by both variants (one at a time,
// then bursts) before the next shape is built: the program registers them
// interleaved for that reason.
//
// Counters: accepted (share of queries with a non-zero mask), MiB and B_per_SG
// (PortTable::memory_bytes: the slot table plus every entry's allocation), and
// heap_B_per_SG (glibc's bytes in use, mallinfo2, before and after the table is
// built: the same plus the allocator's own overhead).
//
// Run: scripts/bench.sh table  (or build-bench-mcfwd/tests/bench/bench_table)
#include "table/port_table.hpp"
#include "table/qsbr.hpp"

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstring>
#include <memory>
#include <string>
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
    uint32_t group4; // the same as the data path holds them: 4 bytes, network order
    uint32_t source4;
};

Query query(const IpAddr& g, const IpAddr& s) {
    Query q{g, s, 0, 0};
    std::memcpy(&q.group4, g.v4_bytes(), 4);
    std::memcpy(&q.source4, s.v4_bytes(), 4);
    return q;
}

size_t heap_in_use() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/// groups groups; those with g % every == 0 list `sources` sources, the others
/// 8 (every > 1 only); queries go to the former.
struct Fixture {
    Fixture(size_t groups, size_t sources, size_t every) : qsbr(1), reclaimer(qsbr) {
        const size_t heap0 = heap_in_use();
        table = std::make_unique<PortTable>(reclaimer, PortTableOptions{.initial_groups = groups});
        for (uint32_t g = 0; g < groups; ++g) {
            const size_t n = g % every == 0 ? sources : 8;
            // Four outlets: two INCLUDE, one EXCLUDE of some listed sources, one
            // any-source; with no sources, two any-source outlets (no probe).
            FilterState f[4] = {{FilterMode::include, {}},
                                {FilterMode::include, {}},
                                {FilterMode::exclude, {}},
                                FilterState::any_source()};
            std::vector<IpAddr> lists[3];
            for (uint64_t j = 0; j < n; ++j)
                lists[mix(g * 7 + j) % 3].push_back(source(g, j));
            for (int i = 0; i < 3; ++i)
                f[i].sources = SourceSet::from_unsorted(std::move(lists[i]));
            std::vector<OutletFilter> o;
            if (n == 0) {
                o = {{0, &f[3]}, {1, &f[3]}};
            } else {
                for (OutletId i = 0; i < 4; ++i)
                    o.push_back({i, &f[i]});
            }
            if (table->set_group(group(g), o) != errc::ok)
                std::abort();
        }
        heap_bytes = heap_in_use() - heap0;
        // Half the packets from a listed source, a quarter from an unlisted
        // one, a quarter to a group the table does not hold.
        queries.resize(size_t{1} << 20);
        for (size_t q = 0; q < queries.size(); ++q) {
            const uint64_t r = mix(q + 12345);
            const uint32_t g = uint32_t(r % (groups / every) * every);
            const uint64_t j = sources ? (r >> 32) % sources : 0;
            switch (r >> 62) {
            case 0:
            case 1:
                queries[q] = query(group(g), source(g, j));
                break;
            case 2:
                queries[q] = query(group(g), IpAddr::v4(0xc0a80000u | uint32_t(j)));
                break;
            default:
                queries[q] = query(group(uint32_t(groups + g)), source(g, j));
            }
        }
    }
    Qsbr qsbr;
    QsbrReclaimer reclaimer;
    std::unique_ptr<PortTable> table;
    std::vector<Query> queries;
    size_t heap_bytes = 0;
};

/// One fixture at a time (the biggest is ~3.1 GiB), reused across the
/// benchmarks' repeated calls for the same shape.
Fixture& fixture(size_t groups, size_t sources, size_t every) {
    static std::unique_ptr<Fixture> f;
    static size_t fg = 0, fs = 0, fe = 0;
    if (!f || fg != groups || fs != sources || fe != every) {
        f.reset();
        f = std::make_unique<Fixture>(groups, sources, every);
        fg = groups;
        fs = sources;
        fe = every;
    }
    return *f;
}

void memory_counters(benchmark::State& state, const Fixture& f, size_t groups, size_t sources,
                     size_t every) {
    const double bytes = double(f.table->memory_bytes());
    state.counters["MiB"] = bytes / (1 << 20);
    if (every != 1)
        return; // a mixed table: per-(S,G) figures would mislead
    state.counters["B_per_group"] = bytes / double(groups);
    if (sources != 0) {
        state.counters["B_per_SG"] = bytes / double(groups * sources);
        state.counters["heap_B_per_SG"] = double(f.heap_bytes) / double(groups * sources);
    }
}

void BM_LookupAccept(benchmark::State& state) {
    const size_t groups = size_t(state.range(0)), sources = size_t(state.range(1));
    const size_t every = size_t(state.range(2));
    Fixture& f = fixture(groups, sources, every);
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
    memory_counters(state, f, groups, sources, every);
}

/// The same work in bursts of 32 as the data path does it (port_table.hpp):
/// prefetch every packet's index line, then probe the index (prefetching the
/// entries), then resolve and compute the accept masks from the 4-byte keys.
/// Counts per packet.
void BM_LookupAcceptBurst(benchmark::State& state) {
    const size_t groups = size_t(state.range(0)), sources = size_t(state.range(1));
    const size_t every = size_t(state.range(2));
    Fixture& f = fixture(groups, sources, every);
    const PortTable& t = *f.table;
    const Query* q = f.queries.data();
    const size_t mask = f.queries.size() - 1;
    constexpr size_t burst = 32;
    size_t i = 0;
    uint64_t accepted = 0;
    uint64_t h[burst];
    PortTable::Probe probe[burst];
    for (auto _ : state) {
        const Query* p = &q[i & mask];
        i += burst;
        for (size_t k = 0; k < burst; ++k) {
            h[k] = PortTable::hash_v4(p[k].group4);
            t.prefetch_v4(h[k]);
        }
        for (size_t k = 0; k < burst; ++k)
            probe[k] = t.probe_v4(h[k]);
        for (size_t k = 0; k < burst; ++k) {
            const GroupEntry* e = t.resolve_v4(p[k].group4, probe[k]);
            const uint64_t m = e != nullptr ? e->accept_v4(p[k].source4) : 0;
            accepted += m != 0;
            benchmark::DoNotOptimize(m);
        }
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
    state.counters["accepted"] =
        benchmark::Counter(double(accepted) / double(state.iterations() * burst));
}

/// Both variants per shape, shape after shape (see the header comment).
void register_lookups() {
    for (int64_t g : {1, 1000, 100000, 1000000})
        for (int64_t s : {0, 8, 64, 1024}) {
            const int64_t every = g * s > (int64_t{1} << 28) ? 32 : 1; // 1M x 1024
            for (auto [name, fn] : {std::pair{"BM_LookupAccept", &BM_LookupAccept},
                                    std::pair{"BM_LookupAcceptBurst", &BM_LookupAcceptBurst}})
                benchmark::RegisterBenchmark(name, fn)
                    ->Args({g, s, every})
                    ->ArgNames({"groups", "sources", "every"});
        }
}

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

int main(int argc, char** argv) {
    register_lookups();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
