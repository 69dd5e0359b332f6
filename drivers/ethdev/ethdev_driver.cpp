#include "ethdev/ethdev_driver.hpp"

#include <rte_ethdev.h>

#include <cstring>
#include <string_view>

namespace mcfwd::ethdev {

errc driver_errc(int rc) noexcept {
    switch (rc) {
    case 0:
        return errc::ok;
    case -ENOTSUP:
        return errc::not_supported;
    case -ENOSPC:
        return errc::no_space;
    case -EINVAL:
        return errc::invalid;
    default:
        return errc::io;
    }
}

errc EthdevDriver::set_mc_addr_list(std::span<const addr::MacAddr> macs) {
    static_assert(sizeof(rte_ether_addr) == 6);
    ++mc_list_calls_;
    rte_ether_addr* list = nullptr;
    std::vector<rte_ether_addr> addrs(macs.size());
    for (size_t i = 0; i < macs.size(); ++i)
        std::memcpy(addrs[i].addr_bytes, macs[i].bytes.data(), RTE_ETHER_ADDR_LEN);
    if (!addrs.empty())
        list = addrs.data();
    last_mc_list_rc_ =
        rte_eth_dev_set_mc_addr_list(port_id_, list, static_cast<uint32_t>(addrs.size()));
    if (kernel_ && (last_mc_list_rc_ == 0 || last_mc_list_rc_ == -ENOTSUP))
        return kernel_->set(macs);
    return driver_errc(last_mc_list_rc_);
}

errc EthdevDriver::set_allmulticast(bool on) {
    ++allmulti_calls_;
    last_allmulti_rc_ =
        on ? rte_eth_allmulticast_enable(port_id_) : rte_eth_allmulticast_disable(port_id_);
    if (kernel_ && (last_allmulti_rc_ == 0 || last_allmulti_rc_ == -ENOTSUP))
        return kernel_->set_allmulticast(on);
    return driver_errc(last_allmulti_rc_);
}

std::string driver_name(uint16_t port_id) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port_id, &info) != 0 || info.driver_name == nullptr)
        return {};
    return info.driver_name;
}

std::optional<unsigned> kernel_ifindex(uint16_t port_id) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port_id, &info) != 0 || info.driver_name == nullptr ||
        info.if_index == 0)
        return std::nullopt;
    const std::string_view d = info.driver_name;
    if (d != "net_tap" && d != "net_af_packet")
        return std::nullopt;
    return info.if_index;
}

} // namespace mcfwd::ethdev
