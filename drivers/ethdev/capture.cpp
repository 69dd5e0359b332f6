#include "ethdev/capture.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pdump.h>

namespace mcfwd::ethdev {

PacketCapture::PacketCapture() {
    // rte_pdump_init() succeeds without registering its handler when the EAL
    // has no multi-process channel (--in-memory, --no-shconf): rte_errno is
    // then ENOTSUP (lib/pdump/rte_pdump.c, DPDK 22.11).
    rte_errno = 0;
    if (rte_pdump_init() != 0) {
        unavailable_ = std::string("rte_pdump_init failed: ") + rte_strerror(rte_errno);
        return;
    }
    initialised_ = true;
    if (rte_errno == ENOTSUP)
        unavailable_ = "the EAL runs without shared files (--in-memory or --no-shconf): "
                       "no multi-process channel for a capture tool";
    else if (!rte_eal_has_hugepages())
        unavailable_ = "the EAL runs without hugepages (--no-huge): a secondary process such "
                       "as dpdk-dumpcap cannot attach";
}

PacketCapture::~PacketCapture() {
    if (initialised_)
        rte_pdump_uninit();
}

std::string
PacketCapture::how_to(const std::vector<std::pair<std::string, uint16_t>>& ports) const {
    if (!unavailable_.empty())
        return "capture unavailable: " + unavailable_;
    std::string line = "capture: dpdk-dumpcap --file-prefix=" + eal_file_prefix() +
                       " -p -w FILE -i DEVICE (one port per dumpcap; -i '*': all); devices:";
    const char* sep = " ";
    for (const auto& [name, id] : ports) {
        char device[RTE_ETH_NAME_MAX_LEN] = "?";
        rte_eth_dev_get_name_by_port(id, device);
        line += sep + name + " " + device;
        sep = ", ";
    }
    return line;
}

std::string eal_file_prefix() {
    const std::string dir = rte_eal_get_runtime_dir();
    return dir.substr(dir.find_last_of('/') + 1);
}

} // namespace mcfwd::ethdev
