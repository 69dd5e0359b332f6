// mcfwd::ethdev — bringing one DPDK port up (PortSpec, open_port) and owning it
// (EthdevPort): configure, queues, MTU, start, MAC, link state, and the device
// events the control lcore must react to (link change, reset request).
//
// Events. DPDK runs RTE_ETH_EVENT_INTR_LSC / RTE_ETH_EVENT_INTR_RESET callbacks
// on its interrupt thread, where calling back into the port's configuration
// is not allowed (it may deadlock on the port). The callbacks here therefore
// only set atomic flags; the control lcore polls take_events() once per turn
// and does the work: on reset_requested, restart() and then
// NicFilter::reprogram() (a reset device has lost its multicast list).
// LSC is requested in the port configuration only when the PMD advertises
// RTE_ETH_DEV_INTR_LSC; virtual devices mostly do not, so link_up() polling is
// the portable way to see the link.
#pragma once

#include "addr/mac_addr.hpp"
#include "base/errc.hpp"
#include "base/result.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct rte_flow;
struct rte_mempool;

namespace mcfwd::ethdev {

/// Steering of IGMP/MLD to a control RX queue by rte_flow (flow.hpp).
///   off        no control queue; the data path punts in software.
///   automatic  try it; if the PMD refuses, fall back to software punting.
///   required   open_port() fails if the PMD refuses.
enum class Steering : uint8_t { off, automatic, required };

struct PortSpec {
    std::string name;                      // the application's name for the port (logs, telemetry)
    std::string device;                    // vdev "net_pcap0,rx_pcap=a.pcap" or PCI "0000:01:00.0"
    uint16_t rx_queues = 1, tx_queues = 1; // data queues (the control queue is extra)
    /// Nonzero: when the device has fewer than tx_queues TX queues, configure this
    /// many instead (EthdevPort::tx_queues() tells which) rather than fail; for
    /// queues the port can do without (a proxy's upstream port, runtime.cpp).
    uint16_t tx_queues_fallback = 0;
    uint16_t mtu = 1500;
    uint16_t rx_desc = 1024, tx_desc = 1024;
    Steering steering = Steering::off;
};

/// The ethdev name a device string yields: the part before the first comma
/// ("net_pcap0,rx_pcap=x" -> "net_pcap0"; a PCI address is its own name).
std::string ethdev_name(const std::string& device);

/// What take_events() reports: each flag is set if the event happened at least
/// once since the previous take_events().
struct PortEvents {
    bool lsc_changed = false;
    bool reset_requested = false;
};

class EthdevPort {
public:
    EthdevPort(EthdevPort&& other) noexcept;
    EthdevPort& operator=(EthdevPort&&) = delete;
    EthdevPort(const EthdevPort&) = delete;
    EthdevPort& operator=(const EthdevPort&) = delete;
    /// Unregisters the callbacks, stops and closes the port, and removes the
    /// device if open_port() probed it. Control thread; no lcore may still
    /// burst on the port.
    ~EthdevPort();

    uint16_t port_id() const noexcept { return port_id_; }
    const std::string& name() const noexcept { return name_; }
    /// The port's unicast MAC as read after start. Any thread (immutable).
    const addr::MacAddr& mac() const noexcept { return mac_; }
    /// False when the PMD refused the MTU with -ENOTSUP (virtual devices): the
    /// port runs at its default MTU.
    bool mtu_applied() const noexcept { return mtu_applied_; }
    /// Whether the PMD was asked for LSC interrupts (it advertises them).
    bool lsc_interrupts() const noexcept { return lsc_intr_; }
    /// The RX queue the rte_flow rules steer IGMP/MLD to (index rx_queues of the
    /// spec: after the data queues); empty when the rules are not installed.
    /// The control lcore polls it; the forwarding lcores never do.
    std::optional<uint16_t> control_queue() const noexcept { return control_queue_; }
    /// TX queues configured: spec.tx_queues, or spec.tx_queues_fallback.
    uint16_t tx_queues() const noexcept { return tx_queues_; }
    /// Why steering is not in use ("off", or the PMD's refusal); empty when it is.
    const std::string& steering_note() const noexcept { return steering_note_; }

    /// Link status now, without waiting (rte_eth_link_get_nowait()). Control thread.
    bool link_up() const noexcept;

    /// Stops and starts the port again, keeping its configuration and queues
    /// (after RTE_ETH_EVENT_INTR_RESET or an operator's restart). The caller then
    /// reprograms the multicast filter. Control thread; data lcores must not
    /// burst on the port meanwhile. Returns ok, no_device or io.
    /// Limit: a PMD raising INTR_RESET (VF drivers) strictly asks for
    /// rte_eth_dev_reset() and a full reconfiguration; restart() does not do
    /// that yet (no virtual device here raises the event to test it).
    errc restart() noexcept;

    /// Returns and clears the events seen since the last call. Control thread
    /// (any single thread); the callbacks set the flags concurrently.
    PortEvents take_events() noexcept;

    /// Shared with DPDK's interrupt thread: written by the callbacks, read and
    /// cleared by take_events(). Heap-held so the callbacks' argument survives
    /// a move of the EthdevPort.
    struct EventFlags {
        std::atomic<bool> lsc{false};
        std::atomic<bool> reset{false};
    };

private:
    friend Result<EthdevPort> open_port(const PortSpec&, rte_mempool*, std::string*);
    EthdevPort() = default;

    uint16_t port_id_ = 0;
    std::string name_;
    addr::MacAddr mac_{};
    bool mtu_applied_ = false;
    bool lsc_intr_ = false;
    bool probed_ = false;     // open_port() ran rte_dev_probe(): remove on close
    std::string device_name_; // rte_device name, for rte_dev_remove()
    bool owned_ = false;      // false once moved from
    std::unique_ptr<EventFlags> events_;
    std::optional<uint16_t> control_queue_;
    uint16_t tx_queues_ = 0;
    std::vector<rte_flow*> flows_; // installed control rules, destroyed before close
    std::string steering_note_;
};

/// Brings a port up: probes spec.device when it names a vdev ("net_..."; a
/// device the EAL already probed from --vdev is used as is), finds the port by
/// its ethdev name, configures spec.rx_queues / tx_queues, sets spec.mtu
/// (-ENOTSUP is tolerated and recorded in mtu_applied()), sets up the queues
/// (rx from pool, descriptor counts adjusted to the device's limits), registers
/// the event callbacks, starts the port and reads its MAC.
/// Steering (spec.steering != off): the port is configured with one more RX
/// queue, started, and install_control_rules() tried for that queue. With more
/// than one data queue the RSS redirection table is then pointed at the data
/// queues only, so data never lands on the control queue. If the PMD refuses
/// either step, `automatic` stops the port, configures it again without the
/// extra queue and starts it (steering_note() says why); `required` fails with
/// errc::not_supported (or the refusal's errno) and *why names the rule and
/// the PMD's message. Reconfiguring a stopped port is allowed by ethdev, so a
/// --vdev port is never closed on the way.
/// Errors: no_device (no such device / probe failed), invalid (the device
/// refused the configuration, e.g. more queues than it has), io (start or queue
/// setup failed). On error nothing stays probed by this call and the port is
/// closed (released, as on destruction: a --vdev port cannot be opened again),
/// and *why (if given) says which step failed and DPDK's reason.
/// Startup / control thread only; pool must outlive the port.
Result<EthdevPort> open_port(const PortSpec& spec, rte_mempool* pool, std::string* why = nullptr);

} // namespace mcfwd::ethdev
