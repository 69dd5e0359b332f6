// Loading the YAML configuration (config::load_string) at scale: the curves that
// must stay linear (issue 12, item 5: 20k / 40k / 80k receivers took 2.0 / 5.7 /
// 16.6 s, one join with 65,536 sources 10 s).
//
//   BM_LoadJoins/N          N static joins spread over 64 receivers (the most the
//                           64-outlet limit allows), each its own group
//   BM_RefuseReceivers/N    N receivers: read, then refused at receivers[64] (too
//                           many outlets) — what 300k receivers cost now
//   BM_LoadJoinSources/N    one receiver, one INCLUDE join of N sources
//                           (limits.max_filter_sources: 65536)
//
// The text is generated once per benchmark, outside the timed loop; one iteration
// parses and checks it completely. Run: scripts/bench.sh config
#include "config/config.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

namespace {

using namespace mcfwd;

constexpr const char* k_ports = "ports:\n"
                                "  - { name: up, device: net_null0 }\n"
                                "  - { name: down, device: net_null1 }\n";

std::string v4(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
           std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff);
}

/// n joins over `receivers` receivers (round robin), each on its own group, the
/// groups alternating between the two ports.
std::string joins_yaml(uint32_t n, uint32_t receivers) {
    std::string y = k_ports;
    y += "receivers:\n";
    for (uint32_t r = 0; r < receivers; ++r) {
        y += "  - name: r" + std::to_string(r) + "\n";
        y += "    sink: { ring: r" + std::to_string(r) + " }\n";
        y += "    joins:\n";
        for (uint32_t j = r; j < n; j += receivers)
            y += std::string("      - { port: ") + (j % 2 ? "down" : "up") +
                 ", group: " + v4(0xef000000u + j) + " }\n"; // 239.0.0.0 + j
    }
    return y;
}

std::string receivers_yaml(uint32_t n) {
    std::string y = k_ports;
    y += "receivers:\n";
    for (uint32_t r = 0; r < n; ++r)
        y += "  - { name: r" + std::to_string(r) + ", sink: { ring: r" + std::to_string(r) +
             " } }\n";
    return y;
}

std::string sources_yaml(uint32_t n) {
    std::string y = "limits: { max_filter_sources: 65536 }\n";
    y += k_ports;
    y += "receivers:\n"
         "  - name: feed\n"
         "    sink: { ring: feed }\n"
         "    joins:\n"
         "      - port: up\n"
         "        group: 232.1.1.1\n"
         "        sources:\n";
    for (uint32_t s = 0; s < n; ++s)
        y += "          - " + v4(0x0a000000u + s) + "\n"; // 10.0.0.0 + s
    return y;
}

/// One iteration loads text. It must load, or with `refused`, be refused (ConfigError).
void load_each_iteration(benchmark::State& state, const std::string& text, bool refused) {
    for (auto _ : state) {
        try {
            config::Config c = config::load_string(text, "bench.yaml");
            benchmark::DoNotOptimize(c);
            if (refused)
                state.SkipWithError("the text was accepted");
        } catch (const config::ConfigError& e) {
            benchmark::DoNotOptimize(e.what());
            if (!refused)
                state.SkipWithError(e.what());
        }
    }
    state.SetComplexityN(state.range(0));
    state.counters["bytes"] = static_cast<double>(text.size());
    state.counters["per_item"] = benchmark::Counter(static_cast<double>(state.range(0)),
                                                    benchmark::Counter::kIsIterationInvariantRate |
                                                        benchmark::Counter::kInvert);
}

/// Three sizes, 4x and more apart, with an O(N) fit: a quadratic step shows as a
/// per_item that grows with N and a poor fit (RMS).
void linear(benchmark::internal::Benchmark* b, std::initializer_list<int64_t> sizes) {
    for (int64_t n : sizes)
        b->Arg(n);
    b->Unit(benchmark::kMillisecond)->Complexity(benchmark::oN);
}

void BM_LoadJoins(benchmark::State& state) {
    const auto n = static_cast<uint32_t>(state.range(0));
    load_each_iteration(state, joins_yaml(n, config::max_outlets), false);
}
BENCHMARK(BM_LoadJoins)->Apply([](auto* b) { linear(b, {20'000, 80'000, 300'000}); });

void BM_RefuseReceivers(benchmark::State& state) {
    load_each_iteration(state, receivers_yaml(static_cast<uint32_t>(state.range(0))), true);
}
BENCHMARK(BM_RefuseReceivers)->Apply([](auto* b) { linear(b, {20'000, 80'000, 300'000}); });

void BM_LoadJoinSources(benchmark::State& state) {
    load_each_iteration(state, sources_yaml(static_cast<uint32_t>(state.range(0))), false);
}
BENCHMARK(BM_LoadJoinSources)->Apply([](auto* b) { linear(b, {4'096, 16'384, 65'536}); });

} // namespace

BENCHMARK_MAIN();
