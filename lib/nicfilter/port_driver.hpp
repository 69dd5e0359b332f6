// mcfwd::nicfilter::PortDriver — what the NIC filter manager needs from a device.
//
// The shape follows DPDK's ethdev API so that the adapter in drivers/ is a thin
// wrapper: set_mc_addr_list() is rte_eth_dev_set_mc_addr_list() and
// set_allmulticast() is rte_eth_allmulticast_enable()/_disable(). The engine never
// includes <rte_*.h>; drivers/ implements this interface over rte_ethdev, and
// drivers/simnic implements it as a simulated device for tests.
//
// Reference counting is NOT the driver's job (mc_multicst(9E): "The device driver
// is not responsible for any form of reference counting on these requests: that
// is maintained by the broader framework"). NicFilter does it and hands the
// driver the whole list whenever the set of MACs changes.
//
// Thread-safety: called only from the control lcore (the single writer of
// membership state), never concurrently; implementations need no locking of
// their own against this interface.
#pragma once

#include "addr/mac_addr.hpp"
#include "base/errc.hpp"

#include <span>

namespace mcfwd::nicfilter {

class PortDriver {
public:
    virtual ~PortDriver() = default;

    /// Replaces the device's whole multicast MAC filter list with macs (which may be
    /// empty: receive no multicast by MAC filter). On failure the device keeps its
    /// previous list. macs holds no duplicates.
    /// Returns ok; not_supported (the device has no multicast filter list);
    /// no_space (more addresses than the filter table holds); invalid (an address
    /// is not multicast, or the device rejects the request); io (any other failure).
    virtual errc set_mc_addr_list(std::span<const addr::MacAddr> macs) = 0;

    /// Turns "receive all multicast" on or off. Returns ok, not_supported or io.
    virtual errc set_allmulticast(bool on) = 0;
};

} // namespace mcfwd::nicfilter
