// Randomness as the engine sees it. RFC 3376/3810 timers pick random delays;
// tests inject a generator they control.
#pragma once

#include <cstdint>

namespace mcfwd {

/// A source of uniformly distributed random numbers.
class Random {
public:
    virtual ~Random() = default;
    /// A value uniformly distributed in [0, bound); 0 when bound is 0.
    virtual uint64_t below(uint64_t bound) = 0;
};

/// splitmix64: small, fast, good enough for protocol jitter and test workloads.
class SplitMix final : public Random {
public:
    explicit SplitMix(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t bound) override { return bound == 0 ? 0 : next() % bound; }

private:
    uint64_t state_;
};

} // namespace mcfwd
