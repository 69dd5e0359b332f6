// mcfwd::ethdev::EthdevDriver — nicfilter::PortDriver over rte_ethdev.
//
// set_mc_addr_list() is rte_eth_dev_set_mc_addr_list() (the whole list replaces
// the device's; an empty list is passed as (nullptr, 0), which DPDK defines as
// "flush"), set_allmulticast() is rte_eth_allmulticast_enable()/_disable().
// Return codes map as PortDriver asks: 0 -> ok, -ENOTSUP -> not_supported,
// -ENOSPC -> no_space, -EINVAL -> invalid, anything else -> io.
//
// Thread-safety: as PortDriver — the control lcore only. The ethdev calls are
// control-path calls that DPDK does not make safe against a concurrent
// configuration of the same port; the data lcores' rx/tx bursts may run.
#pragma once

#include "nicfilter/port_driver.hpp"

#include <cstdint>
#include <vector>

namespace mcfwd::ethdev {

/// Maps a DPDK ethdev return code (0 or -errno) to the PortDriver vocabulary.
errc driver_errc(int rc) noexcept;

class EthdevDriver final : public nicfilter::PortDriver {
public:
    /// port_id must be a valid, configured port for as long as this object is used.
    explicit EthdevDriver(uint16_t port_id) : port_id_(port_id) {}

    errc set_mc_addr_list(std::span<const addr::MacAddr> macs) override;
    errc set_allmulticast(bool on) override;

    uint16_t port_id() const noexcept { return port_id_; }
    uint64_t mc_list_calls() const noexcept { return mc_list_calls_; }
    uint64_t allmulti_calls() const noexcept { return allmulti_calls_; }
    /// The raw return code of the last call of each kind (0 before the first).
    int last_mc_list_rc() const noexcept { return last_mc_list_rc_; }
    int last_allmulti_rc() const noexcept { return last_allmulti_rc_; }

private:
    uint16_t port_id_;
    uint64_t mc_list_calls_ = 0;
    uint64_t allmulti_calls_ = 0;
    int last_mc_list_rc_ = 0;
    int last_allmulti_rc_ = 0;
};

} // namespace mcfwd::ethdev
