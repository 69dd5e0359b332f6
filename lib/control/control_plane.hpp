// mcfwd::control::ControlPlane — everything the control lcore runs, with no
// DPDK in it: the membership engine, each port's NIC filter, IGMP and MLD host
// engines, the forwarding-table publisher, punted control frames and timers.
//
// The application gives it, per port, a device (nicfilter::PortDriver), a
// forwarding table (table::PortTable), the port's addresses and a transmit
// function; then it feeds punted frames (on_control_frame), link changes
// (set_link) and calls poll() regularly. Everything else — reports for
// membership changes, answers to queries, compatibility modes, MAC filters,
// table entries — follows from the engine's events. Tests drive it with a
// VirtualClock, simulated NICs and a transmit function that records frames.
//
// Proxy (RFC 4605): a port is upstream (the host side above: host engines, as
// described) or downstream (the router side: one router::RouterEngine per
// family queries the link and learns its listeners). Each downstream port is a
// receiver of the membership engine ("downstream:<name>") whose filter on the
// proxy's upstream port is, per group, the router's forwarding state; so the
// upstream port's merged state, reports, NIC filter and table follow the same
// merge as local receivers (RFC 4605 §4.1). Its outlet, though, gets a family's
// packets only while the port's router of that family is the link's querier
// (§4.2; forwarding()): the merge upstream does not depend on the election, the
// forwarding onto the link does. The proxy's upstream port is the
// first port added with role upstream; it must be added before any downstream
// port.
//
// Several control lcores: each runs its own ControlPlane over the ports it owns
// (port ids stay global). A downstream port owned by another control plane than
// the upstream port's sends its forwarding and querier changes through an
// UpstreamLink (PortSetup::upstream_link; control/upstream_link.hpp) to the
// upstream port's control plane, which holds the port's receiver
// (add_remote_downstream) and applies them (apply) — messages, no shared state.
//
// Thread-safety: none; one control lcore owns it (the only writer of
// membership state). Other threads reach it through requests to that lcore.
#pragma once

#include "base/clock.hpp"
#include "base/random.hpp"
#include "control/controller.hpp"
#include "control/encoding_sink.hpp"
#include "control/host_dispatch.hpp"
#include "control/table_publisher.hpp"
#include "control/upstream_link.hpp"
#include "router/router_engine.hpp"
#include "wire/drop_reason.hpp"

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::control {

/// RFC 4605 §1: the upstream port faces the multicast routers (the proxy is a
/// host there); downstream ports face listeners (the proxy is their router).
enum class PortRole : uint8_t { upstream, downstream };

struct PortSetup {
    PortId id = 0;
    std::string name;
    nicfilter::PortDriver* driver = nullptr; // null: no NIC filter to program
    table::PortTable* table = nullptr;       // null: nothing forwarded from this port
    wire::FrameParams frame;                 // source MAC, IGMP/MLD addresses, VLAN, MTU
    bool igmp = true, mld = true;            // speak IGMP / MLD on this port
    host::HostConfig igmp_config, mld_config;
    EncodingSink::Transmit transmit; // sends one frame on the port (control TX queue)
    bool up = true;
    PortRole role = PortRole::upstream;
    /// Downstream ports only: the router's parameters per family. `address` is
    /// replaced by the port's own (frame.ipv4_src / frame.ipv6_src).
    router::RouterConfig igmp_router, mld_router;
    /// Downstream ports only: the outlet that sends upstream traffic onto this
    /// port; bound to the port's receiver at add_port when given (otherwise the
    /// caller binds downstream_receiver() itself).
    std::optional<table::OutletId> outlet;
    /// Downstream ports only. Null: the proxy's upstream port is on this control
    /// plane (added before). Otherwise its changes go through this link to the
    /// control plane that owns the upstream port, where the port's receiver and
    /// outlet are (add_remote_downstream there; `outlet` is not used here). The
    /// link must outlive the control plane.
    UpstreamLink* upstream_link = nullptr;
};

// What the control plane counts, declared once: X(name, description). The
// struct, /mcfwd/stats (`control`), the shutdown summary and docs/TELEMETRY.md
// come from this list (for_each_counter); a new counter is one line here.
// "drop:" marks a frame (or part of one) that changed nothing, with its reason;
// the decoder's own reasons follow as decode_<reason> (MCFWD_WIRE_DROP_REASONS).
#define MCFWD_CONTROL_COUNTERS(X)                                                                  \
    X(frames, "punted frames handed in")                                                           \
    X(unknown_port, "drop: frame for a port that was never added")                                 \
    X(wrong_vlan, "drop: 802.1Q tag differs from the port's configured VLAN")                      \
    X(looped_back, "drop: our own message (source MAC is the port's), looped back by a switch")    \
    X(protocol_disabled, "drop: IGMP or MLD switched off on the port (no engine of that family)")  \
    X(unknown_records,                                                                             \
      "drop (per record): IGMPv3/MLDv2 group record of an unknown type, "                          \
      "skipped by the decoder (RFC 3810 §5.2.12); the rest of the report is used")                 \
    X(queries, "upstream: queries given to the host engine")                                       \
    X(legacy_reports, "upstream: other hosts' IGMPv1/v2 / MLDv1 reports (report suppression)")     \
    X(reports_heard, "drop, upstream: other hosts' IGMPv3/MLDv2 reports (for routers, not hosts)") \
    X(leaves_heard, "drop, upstream: other hosts' IGMPv2 leaves / MLDv1 dones (for routers)")      \
    X(router_messages, "downstream: frames given to the port's router engine (its own counters "   \
                       "say what it did with them)")                                               \
    X(proxy_set_filter, "downstream: forwarding changes merged into the upstream port")            \
    X(proxy_widened, "downstream: forwarding state over limits.max_filter_sources merged as "      \
                     "(EXCLUDE, {}), asking upstream for a superset of the traffic")               \
    X(proxy_failed, "drop: forwarding change the membership engine refused even widened, or of "   \
                    "a downstream port without a receiver here (the upstream state is unchanged)") \
    X(query_frames, "downstream: router query frames handed to transmit")                          \
    X(query_encode_errors, "drop: router query that could not be encoded")

/// Counters of ControlPlane (MCFWD_CONTROL_COUNTERS), plus the codec's drops.
struct ControlCounters {
#define MCFWD_CONTROL_X(name, desc) uint64_t name = 0;
    MCFWD_CONTROL_COUNTERS(MCFWD_CONTROL_X)
#undef MCFWD_CONTROL_X
    /// Frames the decoder refused, indexed by wire::DropReason.
    std::array<uint64_t, wire::drop_reason_count> dropped{};
};

/// Calls f(name, description, value) for every control counter: the list above,
/// then one per decoder drop reason named "decode_<reason>".
template <class F>
void for_each_counter(const ControlCounters& c, F&& f) {
#define MCFWD_CONTROL_X(name, desc) f(std::string_view(#name), std::string_view(desc), c.name);
    MCFWD_CONTROL_COUNTERS(MCFWD_CONTROL_X)
#undef MCFWD_CONTROL_X
    for (size_t i = 0; i < c.dropped.size(); ++i) {
        const auto r = wire::DropReason(i);
        const std::string name = "decode_" + std::string(wire::drop_reason_name(r));
        f(std::string_view(name), wire::drop_reason_description(r), c.dropped[i]);
    }
}

class ControlPlane {
public:
    /// clock and random must outlive the control plane.
    ControlPlane(membership::Limits limits, const Clock& clock, Random& random);
    ~ControlPlane();
    ControlPlane(const ControlPlane&) = delete;
    ControlPlane& operator=(const ControlPlane&) = delete;

    /// Registers a port: NIC filter, host engines (upstream) or router engines
    /// (downstream), table; then adds it to the engine. A downstream port's
    /// receiver is opened and its routers started (startup queries go out at
    /// once), and its NIC filter kept in allmulticast (a router hears every
    /// group). EADDRINUSE if the id or the receiver name is taken; EINVAL if MLD
    /// is on without a link-local source address in setup.frame; ENXIO for a
    /// downstream port when no upstream port was added yet.
    errc add_port(PortSetup setup);

    /// On the control plane of the proxy's upstream port: a downstream port that
    /// another control plane owns (its setup has an upstream_link leading here).
    /// Opens its receiver "downstream:<name>", with nothing forwarded onto it until
    /// apply() says its router is querier, and binds the outlet when given.
    /// EADDRINUSE if the id is a port of this control plane, already added, or the
    /// name taken; ENXIO when no upstream port was added yet.
    errc add_remote_downstream(PortId id, const std::string& name,
                               std::optional<table::OutletId> outlet);
    /// Applies one change of a downstream port (one of this control plane's, or a
    /// remote one's from its UpstreamChannel) to the upstream merge: the port's
    /// receiver filter on the upstream port, or its outlet's forwarding in the
    /// tables. A port with no receiver here counts proxy_failed.
    void apply(const UpstreamChange& change);

    membership::Engine& engine() noexcept { return controller_.engine(); }
    const membership::Engine& engine() const noexcept { return controller_.engine(); }
    Controller& controller() noexcept { return controller_; }
    TablePublisher& publisher() noexcept { return publisher_; }
    host::HostEngine* host(PortId port, addr::Family family) const {
        return hosts_.engine(port, family);
    }
    const EncodingSink* sink(PortId port) const;
    /// The downstream port's router engine of family; null for other ports.
    router::RouterEngine* router(PortId port, addr::Family family) const;
    /// The downstream port's receiver in the membership engine (a remote
    /// downstream port's too; nullopt on the control plane that owns a downstream
    /// port whose receiver is remote).
    std::optional<membership::ReceiverId> downstream_receiver(PortId port) const;
    /// The downstream port whose receiver r is (the proxy's internal receivers,
    /// "downstream:<port>"): its filter is the router state learned from the
    /// port's hosts, written by this control plane only. nullopt for any other.
    std::optional<PortId> internal_receiver_port(membership::ReceiverId r) const;
    /// The proxy's upstream port (the first upstream port added).
    std::optional<PortId> upstream() const noexcept { return upstream_; }

    /// A frame the data path punted (IGMP / MLD) from port. Upstream: queries and
    /// legacy reports go to the host engine, other messages are ignored.
    /// Downstream: every message goes to the router engine (reports, leaves, and
    /// other routers' queries as querier-election input).
    void on_control_frame(PortId port, std::span<const uint8_t> frame);
    /// Link state from the driver (LSC): down detaches the port's memberships,
    /// up reattaches them and announces them again. A downstream port going down
    /// forgets what its routers learnt (the upstream merge drops it); up starts
    /// fresh routers (startup queries).
    void set_link(PortId port, bool up);
    /// Times set_link changed the port's state (down, up) since add_port.
    uint64_t link_changes(PortId port) const;
    /// Whether upstream traffic of family goes onto the downstream port: only while
    /// the port's router of that family is the link's querier (RFC 4605 §4.2; the
    /// elected querier's router forwards otherwise). Off for a port that is not
    /// downstream, whose link is down or whose router never queries
    /// (querier.enabled false). The port's memberships are merged upstream either way.
    bool forwarding(PortId port, addr::Family family) const;
    /// Times forwarding(port, family) changed since add_port (the first win at start
    /// counts one).
    uint64_t forwarding_changes(PortId port, addr::Family family) const;
    /// Runs due timers; returns when poll() wants to run next (time_never: idle).
    time_point poll();
    /// Shutdown: every group is left on the wire (TO_IN {} / BLOCK / leave / done,
    /// [Robustness Variable] copies: host::HostEngine::leave_all). Spaced, the copies
    /// after the first are sent by poll() while leaving() holds.
    void leave_all(host::HostEngine::Spacing spacing = host::HostEngine::Spacing::at_once);
    /// A spaced leave_all still has copies to send.
    bool leaving() const;
    /// No timer pending anywhere (a running router always has one).
    bool idle() const;

    const ControlCounters& counters() const noexcept { return counters_; }

private:
    struct Port;
    struct RouterPort;
    friend struct RouterPort;
    // The link of downstream ports whose upstream port is here: apply() at once.
    struct LocalLink final : UpstreamLink {
        explicit LocalLink(ControlPlane& cp) : cp(cp) {}
        void send(UpstreamChange change) override { cp.apply(change); }
        ControlPlane& cp;
    };

    // The receiver "downstream:<name>" of a downstream port whose upstream port is
    // here, forwarding off, bound to outlet when given.
    errc open_downstream_receiver(PortId id, const std::string& name,
                                  std::optional<table::OutletId> outlet);
    void merge_downstream(const Port& p, const addr::IpAddr& group,
                          const filter::FilterState& state);
    void start_routers(Port& p);
    void stop_routers(Port& p);
    void set_forwarding(Port& p, addr::Family family, bool on);
    static size_t family_index(addr::Family f);

    const Clock& clock_;
    Random& random_;
    Controller controller_;
    HostDispatch hosts_;
    TablePublisher publisher_;
    std::vector<std::unique_ptr<Port>> ports_; // by PortId
    ControlCounters counters_;
    std::optional<PortId> upstream_;
    LocalLink local_link_{*this};
    // The receivers of the downstream ports whose upstream port is here: this control
    // plane's (add_port) and other control planes' (add_remote_downstream).
    std::map<PortId, membership::ReceiverId> downstream_receivers_;
};

} // namespace mcfwd::control
