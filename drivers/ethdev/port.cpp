#include "ethdev/port.hpp"

#include "ethdev/flow.hpp"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace mcfwd::ethdev {

namespace {

// Runs on DPDK's interrupt thread: only flags, nothing that touches the port.
int on_event(uint16_t, rte_eth_event_type type, void* arg, void*) {
    auto* flags = static_cast<EthdevPort::EventFlags*>(arg);
    if (type == RTE_ETH_EVENT_INTR_LSC)
        flags->lsc.store(true, std::memory_order_release);
    else if (type == RTE_ETH_EVENT_INTR_RESET)
        flags->reset.store(true, std::memory_order_release);
    return 0;
}

void set_why(std::string* why, const std::string& step, int rc) {
    if (why)
        *why = step + ": " + rte_strerror(rc < 0 ? -rc : rc);
}

// What rte_dev_probe()'s return means (DPDK 22.11 local_dev_probe(), eal_common_dev.c).
// A PMD's probe mostly returns -1, which read as an errno is "Operation not permitted",
// and a name no bus parses comes back as -EFAULT, "Bad address": neither says what
// happened, so those are put in words; the driver's own log line above says why.
std::string probe_failure(const std::string& name, int rc) {
    switch (-rc) {
    case EFAULT:
    case EINVAL:
        return "DPDK cannot parse the device string (no bus or driver takes the name " + name + ")";
    case ENODEV:
        return "DPDK found no device " + name;
    case ENOTSUP:
        return "no DPDK driver takes " + name;
    case ENOMEM:
    case E2BIG:
        return "rte_dev_probe(" + name + "): " + rte_strerror(-rc);
    default:
        return "the driver did not probe " + name + " (rte_dev_probe returned " +
               std::to_string(rc) + "; DPDK's log above says why)";
    }
}

errc config_errc(int rc) {
    if (rc == -ENODEV)
        return errc::no_device;
    if (rc == -EINVAL || rc == -ENOTSUP)
        return errc::invalid;
    return errc::io;
}

// Points every RSS redirection-table entry at data queues 0..ndata-1.
errc restrict_rss_to_data_queues(uint16_t port, uint16_t ndata, uint16_t reta_size,
                                 std::string* note) {
    if (reta_size == 0) {
        *note = "RSS redirection table: the PMD has none (cannot keep data off the control queue)";
        return errc::not_supported;
    }
    std::vector<rte_eth_rss_reta_entry64> reta((reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                               RTE_ETH_RETA_GROUP_SIZE);
    for (uint16_t i = 0; i < reta_size; ++i) {
        auto& g = reta[i / RTE_ETH_RETA_GROUP_SIZE];
        g.mask |= uint64_t(1) << (i % RTE_ETH_RETA_GROUP_SIZE);
        g.reta[i % RTE_ETH_RETA_GROUP_SIZE] = static_cast<uint16_t>(i % ndata);
    }
    const int rc = rte_eth_dev_rss_reta_update(port, reta.data(), reta_size);
    if (rc != 0) {
        *note = std::string("RSS redirection table update: ") + rte_strerror(-rc);
        return errc_from_errno(rc);
    }
    return errc::ok;
}

} // namespace

std::string ethdev_name(const std::string& device) {
    return device.substr(0, device.find(','));
}

Result<EthdevPort> open_port(const PortSpec& spec, rte_mempool* pool, std::string* why) {
    const std::string name = ethdev_name(spec.device);
    bool probed = false;
    uint16_t port = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
        if (spec.device.rfind("net_", 0) != 0) {
            // A PCI device is probed by the EAL itself, or not at all.
            if (why)
                *why = "no DPDK port " + name +
                       ": is the device bound to a DPDK driver (vfio-pci) and not "
                       "excluded by the EAL's -a / -b / --no-pci?";
            return errc::no_device;
        }
        const int rc = rte_dev_probe(spec.device.c_str());
        if (rc < 0 && rc != -EEXIST) {
            if (why)
                *why = probe_failure(name, rc);
            return errc::no_device;
        }
        probed = rc == 0;
        if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
            set_why(why, "no ethdev named " + name + " after probe", ENODEV);
            if (probed)
                rte_eal_hotplug_remove("vdev", name.c_str());
            return errc::no_device;
        }
    }

    // From here on a failure closes the port (and removes what we probed).
    EthdevPort p;
    p.port_id_ = port;
    p.name_ = spec.name;
    p.probed_ = probed;
    p.device_name_ = name;
    p.owned_ = true;
    p.events_ = std::make_unique<EthdevPort::EventFlags>();

    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0) {
        set_why(why, "rte_eth_dev_info_get", rc);
        return errc::no_device;
    }
    // net_af_packet fans received frames out over all its qpairs' sockets whatever
    // the number of RX queues configured: frames for an unpolled queue are lost
    // silently, so every queue it has must be a data queue.
    if (info.driver_name != nullptr && std::string_view(info.driver_name) == "net_af_packet" &&
        spec.rx_queues < info.max_rx_queues) {
        if (why)
            *why = "net_af_packet spreads received frames over all its " +
                   std::to_string(info.max_rx_queues) + " qpairs: set rx_queues to " +
                   std::to_string(info.max_rx_queues) + " (or qpairs to " +
                   std::to_string(spec.rx_queues) + ")";
        return errc::invalid;
    }
    // Too few TX queues would fail in rte_eth_dev_configure with a bare EINVAL:
    // name the device's limit and, for net_af_packet, the devarg that raises it
    // (qpairs=N gives N RX and N TX queues, so rx_queues must follow).
    p.tx_queues_ = spec.tx_queues;
    if (p.tx_queues_ > info.max_tx_queues && spec.tx_queues_fallback != 0 &&
        spec.tx_queues_fallback <= info.max_tx_queues)
        p.tx_queues_ = spec.tx_queues_fallback;
    if (p.tx_queues_ > info.max_tx_queues) {
        if (why) {
            const std::string need = std::to_string(spec.tx_queues);
            *why = std::string(info.driver_name ? info.driver_name : "the device") + " has " +
                   std::to_string(info.max_tx_queues) + " TX queue(s), the port needs " + need;
            if (info.driver_name != nullptr &&
                std::string_view(info.driver_name) == "net_af_packet")
                *why += ": add qpairs=" + need + " to its device string and set rx_queues: " + need;
        }
        return errc::invalid;
    }
    rte_eth_conf conf{};
    if (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) {
        conf.intr_conf.lsc = 1;
        p.lsc_intr_ = true;
    }
    // Routed copies (dataplane) are a header mbuf chained to the shared payload.
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    if (spec.rx_queues > 1) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
    }
    // Configure, set up the queues and start, with nrx RX queues. A stopped
    // port may be configured again (the fallback below does).
    bool running = false;
    auto bring_up = [&](uint16_t nrx) -> errc {
        rc = rte_eth_dev_configure(port, nrx, p.tx_queues_, &conf);
        if (rc != 0) {
            set_why(why, "rte_eth_dev_configure", rc);
            return config_errc(rc);
        }
        rc = rte_eth_dev_set_mtu(port, spec.mtu);
        if (rc != 0 && rc != -ENOTSUP) {
            set_why(why, "rte_eth_dev_set_mtu(" + std::to_string(spec.mtu) + ")", rc);
            return config_errc(rc);
        }
        p.mtu_applied_ = rc == 0;

        uint16_t rx_desc = spec.rx_desc, tx_desc = spec.tx_desc;
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
        if (rc != 0) {
            set_why(why, "rte_eth_dev_adjust_nb_rx_tx_desc", rc);
            return config_errc(rc);
        }
        const int socket = rte_eth_dev_socket_id(port);
        const unsigned sock = socket < 0 ? SOCKET_ID_ANY : static_cast<unsigned>(socket);
        for (uint16_t q = 0; q < nrx; ++q) {
            rc = rte_eth_rx_queue_setup(port, q, rx_desc, sock, nullptr, pool);
            if (rc != 0) {
                set_why(why, "rte_eth_rx_queue_setup(" + std::to_string(q) + ")", rc);
                return errc::io;
            }
        }
        for (uint16_t q = 0; q < p.tx_queues_; ++q) {
            rc = rte_eth_tx_queue_setup(port, q, tx_desc, sock, nullptr);
            if (rc != 0) {
                set_why(why, "rte_eth_tx_queue_setup(" + std::to_string(q) + ")", rc);
                return errc::io;
            }
        }
        rc = rte_eth_dev_start(port);
        if (rc != 0) {
            set_why(why, "rte_eth_dev_start", rc);
            return errc::io;
        }
        running = true;
        return errc::ok;
    };
    rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, on_event, p.events_.get());
    rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_RESET, on_event, p.events_.get());

    if (spec.steering == Steering::off) {
        p.steering_note_ = "off";
        if (errc e = bring_up(spec.rx_queues); e != errc::ok)
            return e;
    } else {
        const uint16_t cq = spec.rx_queues;
        ControlRulesResult rules;
        std::string note;
        errc refused = bring_up(static_cast<uint16_t>(cq + 1));
        if (refused != errc::ok) {
            // A device with no queue to spare (net_pcap has one per rx_pcap).
            note = "no RX queue " + std::to_string(cq) + " for control: " + (why ? *why : "");
        } else {
            rules = install_control_rules(port, cq);
            refused = rules.installed ? errc::ok : rules.error;
            note = rules.reason;
        }
        if (rules.installed && spec.rx_queues > 1) {
            // Data spread by RSS must not reach the control queue.
            if (errc e = restrict_rss_to_data_queues(port, spec.rx_queues, info.reta_size, &note);
                e != errc::ok) {
                remove_control_rules(port, rules.flows);
                refused = e;
            }
        }
        if (refused == errc::ok) {
            p.control_queue_ = cq;
            p.flows_ = std::move(rules.flows);
        } else if (spec.steering == Steering::required) {
            if (why)
                *why = "flow_steering is on but the port refuses it: " + note;
            return refused == errc::ok ? errc::not_supported : refused;
        } else {
            p.steering_note_ = note;
            rc = running ? rte_eth_dev_stop(port) : 0;
            running = false;
            if (rc != 0) {
                set_why(why, "rte_eth_dev_stop (dropping the control queue)", rc);
                return errc::io;
            }
            if (errc e = bring_up(spec.rx_queues); e != errc::ok)
                return e;
        }
    }
    rte_ether_addr mac{};
    rc = rte_eth_macaddr_get(port, &mac);
    if (rc != 0) {
        set_why(why, "rte_eth_macaddr_get", rc);
        return errc::io;
    }
    std::memcpy(p.mac_.bytes.data(), mac.addr_bytes, RTE_ETHER_ADDR_LEN);
    return Result<EthdevPort>(std::move(p));
}

EthdevPort::EthdevPort(EthdevPort&& o) noexcept
    : port_id_(o.port_id_), name_(std::move(o.name_)), mac_(o.mac_), mtu_applied_(o.mtu_applied_),
      lsc_intr_(o.lsc_intr_), probed_(o.probed_), device_name_(std::move(o.device_name_)),
      owned_(o.owned_), events_(std::move(o.events_)), control_queue_(o.control_queue_),
      tx_queues_(o.tx_queues_), flows_(std::move(o.flows_)),
      steering_note_(std::move(o.steering_note_)) {
    o.owned_ = false;
}

EthdevPort::~EthdevPort() {
    if (!owned_)
        return;
    rte_eth_dev_callback_unregister(port_id_, RTE_ETH_EVENT_INTR_LSC, on_event, events_.get());
    rte_eth_dev_callback_unregister(port_id_, RTE_ETH_EVENT_INTR_RESET, on_event, events_.get());
    remove_control_rules(port_id_, flows_);
    rte_eth_dev_stop(port_id_);
    rte_eth_dev_close(port_id_);
    // A vdev we probed is detached again, so the same device string can be
    // opened anew; devices from --vdev or PCI stay with the EAL.
    if (probed_)
        rte_eal_hotplug_remove("vdev", device_name_.c_str());
}

bool EthdevPort::link_up() const noexcept {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id_, &link) != 0)
        return false;
    return link.link_status == RTE_ETH_LINK_UP;
}

errc EthdevPort::restart() noexcept {
    const int stop = rte_eth_dev_stop(port_id_);
    if (stop != 0)
        return stop == -ENODEV ? errc::no_device : errc::io;
    const int rc = rte_eth_dev_start(port_id_);
    return rc == 0 ? errc::ok : errc::io;
}

PortEvents EthdevPort::take_events() noexcept {
    PortEvents e;
    e.lsc_changed = events_->lsc.exchange(false, std::memory_order_acq_rel);
    e.reset_requested = events_->reset.exchange(false, std::memory_order_acq_rel);
    return e;
}

} // namespace mcfwd::ethdev
