// Control lcore timers at scale (issue 14 item 4): the proxy's two engines as the
// control loop runs them — an upstream host::HostEngine with N groups answering the
// upstream querier's general query, and a downstream router::RouterEngine with N groups
// learnt from its hosts (half EXCLUDE {} with a group timer, half INCLUDE {s} with a
// source timer), querying and hearing every host's answer.
//
// One iteration is one query interval (125 s) on a virtual clock. A turn does what
// app/mcfwd/runtime.cpp control_loop does for these engines: hand in the frames that
// have arrived, then ControlPlane::poll()'s "next_deadline() <= now ? on_timer(now)" and
// "next = min(next, next_deadline())" for each engine. The virtual clock advances by the
// wall time each turn took, and jumps over idle turns to the next input or deadline (an
// idle turn's cost is BM_IdleTurn's figure). Counters, per query interval:
//   cpu_ms        wall time spent in the turns that had work;
//   turns         those turns;
//   answer_ms     from the upstream query to the end of the turn that sent the last
//                 frame of the answer (random delay of RFC 3376 §5.2 included);
//   late_ms       how much of answer_ms is the loop's, not the RFC's: the end of that
//                 turn minus the interface timer's deadline;
//   frames        report frames of the answer (the codec's split at MTU 1500).
//
// Run: scripts/bench.sh control_timers   (or build/tests/bench/bench_control_timers)
#include "host/host_engine.hpp"
#include "router/router_engine.hpp"
#include "wire/codec.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <vector>

namespace {

using namespace mcfwd;
using namespace std::chrono_literals;
using addr::Family;
using addr::IpAddr;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

constexpr duration query_interval = 125s;
constexpr duration max_response = 10s;
constexpr uint32_t groups_per_host = 1000; // downstream hosts, each with its own groups
constexpr size_t records_per_frame = 146;  // 1,468 bytes of records, 8 or 12 bytes each

IpAddr group(uint32_t i) {
    return IpAddr::v4(0xef000001u + i); // 239.0.0.1 + i
}
IpAddr source(uint32_t i) {
    return IpAddr::v4(0x0a010000u + i); // 10.1.0.0 + i
}

int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Upstream: encodes every report as the control plane's EncodingSink does.
struct UpstreamSink final : host::ReportSink {
    void send(const wire::Message& msg) override {
        frames.clear();
        if (wire::encode(msg, params, frames) == errc::ok)
            sent += frames.size();
    }
    UpstreamSink() { params.ipv4_src = IpAddr::v4(0x0a000002u); }
    wire::FrameParams params;
    std::vector<wire::Frame> frames;
    uint64_t sent = 0;
};

struct Input {
    time_point at;
    wire::Report report;
};

// Downstream: a general query makes every host answer at a random time in
// (0, Max Resp Time], its records in as many reports as frames.
struct DownstreamSink final : router::RouterSink {
    explicit DownstreamSink(uint32_t groups) : groups_(groups) {}
    void send_query(time_point due, const wire::Query& q) override {
        if (!q.group.is_unspecified())
            return;
        std::vector<Input> answers;
        for (uint32_t first = 0; first < groups_; first += groups_per_host) {
            const time_point at =
                due + duration(1 + static_cast<int64_t>(random.below(q.max_response.count())));
            const uint32_t last = std::min(groups_, first + groups_per_host);
            for (uint32_t i = first; i < last; i += records_per_frame) {
                Input in{at, wire::Report{Family::v4, {}}};
                for (uint32_t j = i; j < std::min<uint32_t>(last, i + records_per_frame); ++j)
                    in.report.records.push_back(record(j));
                answers.push_back(std::move(in));
            }
        }
        for (Input& in : answers)
            inputs.push_back(std::move(in));
        std::stable_sort(inputs.begin(), inputs.end(),
                         [](const Input& a, const Input& b) { return a.at < b.at; });
    }
    void on_forwarding_change(const IpAddr&, const FilterState&, const FilterState&) override {
        ++changes;
    }
    static wire::GroupRecord record(uint32_t i) {
        if (i % 2 == 0)
            return {wire::RecordType::mode_is_exclude, group(i), {}};
        return {wire::RecordType::mode_is_include, group(i), {source(i)}};
    }
    uint32_t groups_;
    SplitMix random{7};
    std::deque<Input> inputs; // by arrival time
    uint64_t changes = 0;
};

struct Proxy {
    explicit Proxy(uint32_t n)
        : host(Family::v4, host_config(), host_random, up), down(n),
          router(Family::v4, router_config(n), down) {
        const time_point t0{};
        for (uint32_t i = 0; i < n; ++i)
            host.on_state_change(t0, group(i), FilterState::none(),
                                 FilterState{FilterMode::exclude, {}});
        router.start(t0); // the answers to the startup query teach it the groups
        now = t0;
        while (!down.inputs.empty()) {
            now = std::max(now, down.inputs.front().at);
            turn();
        }
        now = router.next_deadline(); // the first general query of a query interval
    }
    // Robustness 1: the joins' state-change reports are not repeated (setup only; the
    // upstream query's QRV is adopted).
    static host::HostConfig host_config() {
        host::HostConfig c;
        c.robustness = 1;
        return c;
    }
    static router::RouterConfig router_config(uint32_t n) {
        router::RouterConfig c;
        c.address = IpAddr::v4(0x0a000001u);
        c.startup_query_count = 1;
        c.max_groups = n;
        c.max_sources = n;
        return c;
    }

    // One turn of the control loop; returns its wall time.
    int64_t turn() {
        const int64_t w0 = wall_ns();
        while (!down.inputs.empty() && down.inputs.front().at <= now) {
            router.on_report(now, down.inputs.front().report);
            down.inputs.pop_front();
        }
        if (host.next_deadline() <= now)
            host.on_timer(now);
        if (router.next_deadline() <= now)
            router.on_timer(now);
        next = std::min(host.next_deadline(), router.next_deadline());
        return wall_ns() - w0;
    }

    // One query interval from now (a general query of the router is due).
    struct Figures {
        int64_t cpu_ns = 0, turns = 0;
        duration answer{0}, late{0};
    };
    Figures query_interval_run() {
        Figures f;
        const time_point start = now, end = now + query_interval;
        wire::Query q;
        q.family = Family::v4;
        q.version = 3;
        q.group = IpAddr::v4(0);
        q.max_response = max_response;
        q.qrv = 2;
        q.qqi = query_interval;
        host.on_query(now, q); // the upstream querier's general query, heard at once
        const uint64_t sent_before = up.sent;
        while (now < end) {
            const time_point host_due = host.next_deadline();
            const int64_t w = turn();
            f.cpu_ns += w;
            ++f.turns;
            const time_point turn_end = now + duration(w);
            if (up.sent != sent_before && f.answer == duration{0}) {
                f.answer = turn_end - start;
                f.late = turn_end - host_due;
            }
            time_point after = next;
            if (!down.inputs.empty())
                after = std::min(after, down.inputs.front().at);
            now = std::max(turn_end, std::min(after, end));
        }
        frames = up.sent - sent_before;
        return f;
    }

    SplitMix host_random{1};
    UpstreamSink up;
    host::HostEngine host;
    DownstreamSink down;
    router::RouterEngine router;
    time_point now{}, next = time_never;
    uint64_t frames = 0;
};

void BM_QueryInterval(benchmark::State& state) {
    const auto n = static_cast<uint32_t>(state.range(0));
    Proxy p(n);
    if (p.router.group_count() != n || p.host.snapshot().groups.size() != n)
        state.SkipWithError("setup did not learn every group");
    double cpu_ms = 0, turns = 0, answer_ms = 0, late_ms = 0, frames = 0;
    for (auto _ : state) {
        const Proxy::Figures f = p.query_interval_run();
        cpu_ms += double(f.cpu_ns) / 1e6;
        turns += double(f.turns);
        answer_ms += std::chrono::duration<double, std::milli>(f.answer).count();
        late_ms += std::chrono::duration<double, std::milli>(f.late).count();
        frames += double(p.frames);
    }
    using C = benchmark::Counter;
    state.counters["cpu_ms"] = C(cpu_ms, C::kAvgIterations);
    state.counters["turns"] = C(turns, C::kAvgIterations);
    state.counters["answer_ms"] = C(answer_ms, C::kAvgIterations);
    state.counters["late_ms"] = C(late_ms, C::kAvgIterations);
    state.counters["frames"] = C(frames, C::kAvgIterations);
}
BENCHMARK(BM_QueryInterval)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One turn of the loop with nothing due (between the answers): what every turn of the
// busy-polling control lcore pays for the timers of both engines.
void BM_IdleTurn(benchmark::State& state) {
    const auto n = static_cast<uint32_t>(state.range(0));
    Proxy p(n);
    p.now = p.now - 1s; // the general query is 1 s away; nothing is due
    for (auto _ : state)
        benchmark::DoNotOptimize(p.turn());
    benchmark::DoNotOptimize(p.next);
}
BENCHMARK(BM_IdleTurn)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
