// mcfwd::control fan-out of the receiver commands over several control planes
// (lcores.control with more than one lcore, docs/TELEMETRY.md "Several control
// lcores").
//
// Every receiver (configured or added at run time) is on every control plane,
// under the same name and bound to the same outlet; each plane's engine gives it
// its own ReceiverId. The sink registry (Sinks) has one writer, control plane 0:
//   add_receiver    plane 0 runs it (checks, opens the sink, its receiver); then
//                   every other plane registers the name on that outlet
//                   (register_receiver_cmd). If one refuses, the planes done are
//                   unregistered and plane 0 closes the receiver and its sink:
//                   the error is answered and nothing is left.
//   close_receiver  the other planes first (unregister_receiver_cmd: their
//                   memberships are left, reports go out on their ports), then
//                   plane 0 closes the receiver and gives the sink back (freed
//                   after the RCU grace period, Sinks' lifetime rule).
//   receivers       one record per name, as plane 0 shows it (its `id`; an
//                   internal receiver, which only its upstream port's plane has,
//                   as that plane shows it), `memberships` the union of every
//                   plane's in port configuration order; paged as one plane pages.
// Answers keep the one-plane shapes.
//
// Thread-safety: any threads at once (changes are serialized); `ask` must be safe
// to call from them (telemetry: submit to plane k's mailbox and wait).
#pragma once

#include "control/value.hpp"

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::control {

/// Runs one request on control plane k (0 = the sink registry's writer).
using AskPlane =
    std::function<Value(size_t k, std::string_view name, std::string_view params)>;

struct Fanout {
    size_t planes = 1;
    AskPlane ask;
    /// Every port's name in configuration order (the order of merged memberships).
    std::vector<std::string> port_order;

    /// body: the parameters without the end marker.
    Value add_receiver(std::string_view body) const;
    Value close_receiver(std::string_view body) const;
    Value receivers(std::string_view body) const;

private:
    // One add_receiver or close_receiver at a time: a close between an add's
    // plane 0 and its registrations elsewhere would leave a receiver bound to a
    // freed outlet on the planes not yet asked.
    mutable std::mutex changes_;
};

} // namespace mcfwd::control
