// mcfwd's DPDK telemetry commands (/mcfwd/ports, /mcfwd/groups, /mcfwd/join, ...;
// docs/TELEMETRY.md).
//
// DPDK calls a command's handler on its telemetry thread — in 22.11 one thread per
// client connection, so several handlers may run at once. Handlers never touch
// control-plane state: they queue the command in a control::Mailbox and wait up
// to request_timeout for the control lcore, which runs it in poll().
//
// Several control lcores: one mailbox each. A command naming a port (port=NAME,
// or the PORT of ports/groups/router) goes to the port's owner; stats and ports
// without a port ask every control lcore and merge the answers (counters summed;
// ports in configuration order); groups and router without a port ask each port's
// owner in configuration order and page the concatenation; receivers,
// add_receiver and close_receiver go to every control lcore (control/fanout.hpp);
// a membership command without port= is EINVAL
// (docs/TELEMETRY.md). The data
// path's counters are the exception: /mcfwd/stats reads them on the telemetry
// thread (relaxed 64-bit loads of each forwarding lcore's counters), summed, or
// per lcore with `/mcfwd/stats,lcores`.
//
// Lifetime: DPDK cannot unregister a command, so the handlers reach this object
// through a process-wide pointer that stop() clears; after stop() (and before the
// forwarding lcores' counters go away) every command answers ESHUTDOWN.
//
// Thread-safety: construct, poll() and stop() on the control lcore; the handlers
// are safe on any number of telemetry threads.
#pragma once

#include "control/commands.hpp"
#include "dataplane/counters.hpp"

#include <chrono>
#include <memory>
#include <vector>

namespace mcfwd::app {

/// A forwarding lcore as /mcfwd/stats shows it.
struct ForwardingLcore {
    unsigned lcore_id = 0;                              // the EAL lcore id
    const dataplane::LcoreCounters* counters = nullptr; // the lcore writes, telemetry reads
};

/// A control lcore as telemetry sees it: its control plane and the ports it owns.
struct ControlLcoreView {
    unsigned lcore_id = 0;
    control::ControlPlane* cp = nullptr;
    std::vector<control::CommandContext::Port> ports; // owned, configuration order
};

struct TelemetrySetup {
    /// lcores.control order: the first is the main lcore.
    std::vector<ControlLcoreView> control;
    /// Every port's name in configuration order (the order of merged listings).
    std::vector<std::string> port_order;
    const Clock* clock = nullptr;
    bool read_only = false; // telemetry.read_only: mutations answer EPERM
    /// The receivers' sinks (add_receiver, close_receiver, delivered counts).
    control::Sinks* sinks = nullptr;
    /// One per forwarding lcore; the counters must stay valid until stop().
    std::vector<ForwardingLcore> lcores;
    size_t max_filter_sources = 64; // limits.max_filter_sources: a stage's bound
};

class Telemetry {
public:
    static constexpr std::chrono::milliseconds request_timeout{1000};

    /// Registers the /mcfwd/ commands with rte_telemetry (once per process) and
    /// makes this object the one they reach. Call after rte_eal_init.
    explicit Telemetry(TelemetrySetup setup);
    ~Telemetry();
    Telemetry(const Telemetry&) = delete;
    Telemetry& operator=(const Telemetry&) = delete;

    /// Control lcore k (lcores.control order): runs its queued commands. Returns
    /// how many ran.
    size_t poll(size_t k = 0);
    /// Main lcore, before shutdown: queued and later commands answer ESHUTDOWN
    /// and the counters are no longer read.
    void stop();
    /// The /mcfwd/stats answer, computed on the calling control lcore without a
    /// telemetry thread (mcfwd --stats at exit, after stop() and after the
    /// forwarding lcores stopped): lcores are their counters.
    control::Value stats_now(const std::vector<const dataplane::LcoreCounters*>& lcores);

    struct Service; // shared with the handlers

private:
    std::shared_ptr<Service> service_;
    std::vector<control::CommandContext> ctx_; // one per control lcore
};

} // namespace mcfwd::app
