// mcfwd::control::UpstreamLink — how a downstream port's router results reach
// the control plane that owns the proxy's upstream port (RFC 4605 §4.1: the
// upstream port's membership is the merge of every downstream port's forwarding
// state; §4.2: the port's outlet gets traffic only while its router is querier).
//
// With one control lcore the downstream and upstream ports share a ControlPlane
// and the link is a direct call (ControlPlane's own). With several, a downstream
// port may live on another control lcore than the upstream port: its changes
// become messages (UpstreamChannel) that the upstream port's lcore applies in its
// control loop, in order, with ControlPlane::apply. Nothing mutable is shared
// between control lcores: the membership engine of the upstream port has one
// writer, its own lcore.
//
// Every change carries a whole state (the group's forwarding state, the family's
// forwarding flag), never a delta: applying the latest one alone gives the same
// result as applying all of them, which is what lets a full channel hold back
// and coalesce changes without losing any state.
#pragma once

#include "addr/ip_addr.hpp"
#include "base/spsc_ring.hpp"
#include "filter/filter_state.hpp"
#include "membership/engine.hpp"

#include <cstdint>
#include <list>
#include <map>
#include <tuple>
#include <variant>

namespace mcfwd::control {

class ControlPlane;
using membership::PortId;

/// The downstream port's forwarding state of group changed (the router's
/// on_forwarding_change); FilterState::none() when it has no listener left.
struct FilterChange {
    addr::IpAddr group;
    filter::FilterState state;
    friend bool operator==(const FilterChange&, const FilterChange&) = default;
};

/// The downstream port's router of family became (on) or stopped being the
/// link's querier.
struct ForwardingChange {
    addr::Family family = addr::Family::v4;
    bool on = false;
    friend bool operator==(const ForwardingChange&, const ForwardingChange&) = default;
};

/// One change of one downstream port, for the upstream port's control plane.
struct UpstreamChange {
    PortId port = 0; // the downstream port (ids are global over control lcores)
    std::variant<FilterChange, ForwardingChange> what;
    friend bool operator==(const UpstreamChange&, const UpstreamChange&) = default;
};

/// Where a downstream port's changes go. Called on the downstream port's control
/// lcore only.
class UpstreamLink {
public:
    virtual ~UpstreamLink() = default;
    virtual void send(UpstreamChange change) = 0;
};

/// The message link from one control lcore (the producer: its downstream ports'
/// routers) to another (the consumer: the owner of the proxy's upstream port):
/// a bounded SpscRing, and behind it, when the ring is full, a producer-side
/// queue of held-back changes.
///
/// Full ring: nothing is lost and nothing waits on the other lcore. A change
/// that does not fit is held back, and so is every later one until the held
/// ones fit (flush), so the consumer sees changes in the order they were made.
/// A held-back change is replaced in place by a newer one of the same key (port
/// and group, or port and family): a change is a whole state, so only the latest
/// matters, and the memory held is bounded by the keys (the routers' max_groups
/// per family and port), not by how long the consumer is late. Chosen over an
/// unbounded queue (grows with a flood while the consumer is busy) and over
/// blocking (one lcore's flood would stall the other's timers).
///
/// Thread-safety: send, flush, held and the counters on the producer's lcore
/// only; deliver on the consumer's lcore only; the two sides may run at once.
class UpstreamChannel final : public UpstreamLink {
public:
    explicit UpstreamChannel(size_t capacity = 4096) : ring_(capacity) {}

    // Producer side.
    /// Queues change behind anything held back (flush() first).
    void send(UpstreamChange change) override;
    /// Moves held-back changes into the ring, oldest first, while they fit. The
    /// producer calls it every loop; returns how many are still held back.
    size_t flush();
    size_t held() const noexcept { return held_.size(); }
    /// Changes sent, changes that had to be held back, held-back changes a newer
    /// one replaced.
    uint64_t sent() const noexcept { return sent_; }
    uint64_t held_back() const noexcept { return held_back_; }
    uint64_t coalesced() const noexcept { return coalesced_; }

    // Consumer side.
    /// Applies up to max queued changes to upstream (ControlPlane::apply), in
    /// order; returns how many.
    size_t deliver(ControlPlane& upstream, size_t max = SIZE_MAX);

private:
    // (port, 0, group, -) for a FilterChange, (port, 1, -, family) for a ForwardingChange.
    using Key = std::tuple<PortId, int, addr::IpAddr, int>;
    static Key key_of(const UpstreamChange& c);

    SpscRing<UpstreamChange> ring_;
    std::list<UpstreamChange> held_;                           // oldest first
    std::map<Key, std::list<UpstreamChange>::iterator> index_; // into held_
    uint64_t sent_ = 0, held_back_ = 0, coalesced_ = 0;
};

} // namespace mcfwd::control
