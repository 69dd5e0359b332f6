#include "ethdev/port.hpp"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <cstring>

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

errc config_errc(int rc) {
    if (rc == -ENODEV)
        return errc::no_device;
    if (rc == -EINVAL || rc == -ENOTSUP)
        return errc::invalid;
    return errc::io;
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
            set_why(why, "no ethdev named " + name, ENODEV);
            return errc::no_device;
        }
        const int rc = rte_dev_probe(spec.device.c_str());
        if (rc < 0 && rc != -EEXIST) {
            set_why(why, "rte_dev_probe(" + spec.device + ")", rc);
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
    rte_eth_conf conf{};
    if (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) {
        conf.intr_conf.lsc = 1;
        p.lsc_intr_ = true;
    }
    rc = rte_eth_dev_configure(port, spec.rx_queues, spec.tx_queues, &conf);
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
    for (uint16_t q = 0; q < spec.rx_queues; ++q) {
        rc = rte_eth_rx_queue_setup(port, q, rx_desc, sock, nullptr, pool);
        if (rc != 0) {
            set_why(why, "rte_eth_rx_queue_setup(" + std::to_string(q) + ")", rc);
            return errc::io;
        }
    }
    for (uint16_t q = 0; q < spec.tx_queues; ++q) {
        rc = rte_eth_tx_queue_setup(port, q, tx_desc, sock, nullptr);
        if (rc != 0) {
            set_why(why, "rte_eth_tx_queue_setup(" + std::to_string(q) + ")", rc);
            return errc::io;
        }
    }
    rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, on_event, p.events_.get());
    rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_RESET, on_event, p.events_.get());
    rc = rte_eth_dev_start(port);
    if (rc != 0) {
        set_why(why, "rte_eth_dev_start", rc);
        return errc::io;
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
      owned_(o.owned_), events_(std::move(o.events_)) {
    o.owned_ = false;
}

EthdevPort::~EthdevPort() {
    if (!owned_)
        return;
    rte_eth_dev_callback_unregister(port_id_, RTE_ETH_EVENT_INTR_LSC, on_event, events_.get());
    rte_eth_dev_callback_unregister(port_id_, RTE_ETH_EVENT_INTR_RESET, on_event, events_.get());
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
