// mcfwd::ethdev::TscClock — the engine's Clock over the CPU's time-stamp counter.
//
// rte_get_tsc_cycles() is a few cycles and needs no system call, so the control
// lcore may read it every loop turn. The origin is arbitrary (the counter's
// zero), as Clock allows. Precondition: the EAL is up (rte_get_tsc_hz() is
// calibrated by rte_eal_init()). Thread-safety: now() is safe from any thread;
// DPDK requires an invariant TSC, so counters of different cores agree.
#pragma once

#include "base/clock.hpp"

#include <rte_cycles.h>

#include <cstdint>

namespace mcfwd::ethdev {

class TscClock final : public Clock {
public:
    TscClock() : hz_(rte_get_tsc_hz()) {}

    time_point now() const override { return {duration(to_ns(rte_get_tsc_cycles()))}; }

    uint64_t hz() const noexcept { return hz_; }

    /// Cycles to nanoseconds without overflowing for centuries of uptime
    /// (cycles * 1e9 alone overflows 64 bits after ~6 s at 3 GHz).
    int64_t to_ns(uint64_t cycles) const noexcept {
        const uint64_t s = cycles / hz_;
        const uint64_t rem = cycles % hz_;
        return static_cast<int64_t>(s * 1'000'000'000ull + rem * 1'000'000'000ull / hz_);
    }

private:
    uint64_t hz_;
};

} // namespace mcfwd::ethdev
