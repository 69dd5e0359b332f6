// Time as the engine sees it: a monotonic count of nanoseconds from an
// arbitrary origin. Protocol state machines never read a clock themselves; the
// caller passes `now` in, and tests drive them with a virtual clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace mcfwd {

using duration = std::chrono::nanoseconds;

/// A point on the engine's monotonic timeline.
struct time_point {
    duration since_origin{0};

    friend constexpr auto operator<=>(const time_point&, const time_point&) = default;
    friend constexpr time_point operator+(time_point t, duration d) { return {t.since_origin + d}; }
    friend constexpr time_point operator-(time_point t, duration d) { return {t.since_origin - d}; }
    friend constexpr duration operator-(time_point a, time_point b) {
        return a.since_origin - b.since_origin;
    }
};

/// "Never": a timer that is not running.
inline constexpr time_point time_never{duration::max()};

/// A source of the current time. drivers/ implements it with rte_get_tsc_cycles();
/// tests implement it with a virtual clock they advance by hand.
class Clock {
public:
    virtual ~Clock() = default;
    virtual time_point now() const = 0;
};

/// A clock that only moves when told to (tests, simulations).
class VirtualClock final : public Clock {
public:
    time_point now() const override { return now_; }
    void advance(duration d) { now_ = now_ + d; }
    void set(time_point t) { now_ = t; }

private:
    time_point now_{};
};

} // namespace mcfwd
