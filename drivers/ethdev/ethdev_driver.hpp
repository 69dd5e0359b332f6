// mcfwd::ethdev::EthdevDriver — nicfilter::PortDriver over rte_ethdev.
//
// set_mc_addr_list() is rte_eth_dev_set_mc_addr_list() (the whole list replaces
// the device's; an empty list is passed as (nullptr, 0), which DPDK defines as
// "flush"), set_allmulticast() is rte_eth_allmulticast_enable()/_disable().
// Return codes map as PortDriver asks: 0 -> ok, -ENOTSUP -> not_supported,
// -ENOSPC -> no_space, -EINVAL -> invalid, anything else -> io.
//
// Kernel-backed ports (net_tap, net_af_packet): with attach_kernel(), the list
// and allmulticast also go to the kernel interface under the port
// (KernelMcList), which is the filter that actually decides what such a port
// receives. The PMD is still asked first; its -ENOTSUP (net_af_packet) is then
// not a failure, since the kernel's filter does the job.
//
// Thread-safety: as PortDriver — the control lcore only. The ethdev calls are
// control-path calls that DPDK does not make safe against a concurrent
// configuration of the same port; the data lcores' rx/tx bursts may run.
#pragma once

#include "ethdev/kernel_mc.hpp"
#include "nicfilter/port_driver.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcfwd::ethdev {

/// Maps a DPDK ethdev return code (0 or -errno) to the PortDriver vocabulary.
errc driver_errc(int rc) noexcept;

/// The kernel interface index under port_id if its PMD is kernel-backed
/// (net_tap, net_af_packet); empty otherwise.
std::optional<unsigned> kernel_ifindex(uint16_t port_id);
/// The port's PMD ("net_af_packet", "net_ice", ...); empty if unknown.
std::string driver_name(uint16_t port_id);

class EthdevDriver final : public nicfilter::PortDriver {
public:
    /// port_id must be a valid, configured port for as long as this object is used.
    explicit EthdevDriver(uint16_t port_id) : port_id_(port_id) {}

    errc set_mc_addr_list(std::span<const addr::MacAddr> macs) override;
    errc set_allmulticast(bool on) override;

    /// Mirror the filter onto the kernel interface from now on (see above).
    void attach_kernel(KernelMcList list) {
        kernel_ = std::make_unique<KernelMcList>(std::move(list));
    }
    const KernelMcList* kernel() const noexcept { return kernel_.get(); }

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
    std::unique_ptr<KernelMcList> kernel_;
};

} // namespace mcfwd::ethdev
