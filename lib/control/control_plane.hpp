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
// Thread-safety: none; one control lcore owns it (the only writer of
// membership state). Other threads reach it through requests to that lcore.
#pragma once

#include "base/clock.hpp"
#include "base/random.hpp"
#include "control/controller.hpp"
#include "control/encoding_sink.hpp"
#include "control/host_dispatch.hpp"
#include "control/table_publisher.hpp"
#include "wire/drop_reason.hpp"

#include <array>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mcfwd::control {

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
};

/// Why a punted frame was not used, beside the codec's own reasons.
struct ControlCounters {
    uint64_t frames = 0;            // punted frames handed in
    uint64_t queries = 0;           // queries given to a host engine
    uint64_t legacy_reports = 0;    // other hosts' v1/v2/MLDv1 reports (suppression)
    uint64_t ignored = 0;           // decoded but not for the host side (v3 reports, leaves)
    uint64_t unknown_port = 0;      // frame for a port that was never added
    uint64_t wrong_vlan = 0;        // tag differs from the port's configured VLAN
    uint64_t protocol_disabled = 0; // IGMP/MLD switched off on the port
    std::array<uint64_t, wire::drop_reason_count> dropped{}; // by the codec's reason
};

class ControlPlane {
public:
    /// clock and random must outlive the control plane.
    ControlPlane(membership::Limits limits, const Clock& clock, Random& random);
    ~ControlPlane();
    ControlPlane(const ControlPlane&) = delete;
    ControlPlane& operator=(const ControlPlane&) = delete;

    /// Registers a port: NIC filter, host engines, table; then adds it to the
    /// engine. EADDRINUSE if the id is taken; EINVAL if MLD is on without a
    /// link-local source address in setup.frame.
    errc add_port(PortSetup setup);

    membership::Engine& engine() noexcept { return controller_.engine(); }
    const membership::Engine& engine() const noexcept { return controller_.engine(); }
    Controller& controller() noexcept { return controller_; }
    TablePublisher& publisher() noexcept { return publisher_; }
    host::HostEngine* host(PortId port, addr::Family family) const {
        return hosts_.engine(port, family);
    }
    const EncodingSink* sink(PortId port) const;

    /// A frame the data path punted (IGMP / MLD) from port.
    void on_control_frame(PortId port, std::span<const uint8_t> frame);
    /// Link state from the driver (LSC): down detaches the port's memberships,
    /// up reattaches them and announces them again.
    void set_link(PortId port, bool up);
    /// Runs due timers; returns when poll() wants to run next (time_never: idle).
    time_point poll();
    /// Shutdown: every group is left on the wire (TO_IN {} / BLOCK / leave / done,
    /// [Robustness Variable] copies, sent at once: host::HostEngine::leave_all).
    void leave_all();
    /// No timer pending anywhere.
    bool idle() const { return hosts_.next_deadline() == time_never; }

    const ControlCounters& counters() const noexcept { return counters_; }

private:
    struct Port;

    const Clock& clock_;
    Random& random_;
    Controller controller_;
    HostDispatch hosts_;
    TablePublisher publisher_;
    std::vector<std::unique_ptr<Port>> ports_; // by PortId
    ControlCounters counters_;
};

} // namespace mcfwd::control
