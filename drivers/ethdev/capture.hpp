// mcfwd::ethdev::PacketCapture — DPDK packet capture (librte_pdump) for
// another process: `dpdk-dumpcap -i PORT` copies a port's RX and TX into a
// pcapng file while mcfwd forwards.
//
// How it works: rte_pdump_init() registers a multi-process handler in this,
// the primary, process. A capture tool runs as a DPDK secondary process, makes
// a ring and a mempool in the shared hugepage memory and asks the handler to
// install RX and TX callbacks on the port's queues (rte_eth_add_first_rx_callback,
// rte_eth_add_first_tx_callback). From then on every rte_eth_rx_burst and
// rte_eth_tx_burst on that port — the forwarding lcores' and the control lcore's
// reports — copies its packets into the ring; when the tool stops it removes
// the callbacks again. Until a tool attaches nothing runs on the data path
// (the ethdev callback check is compiled into every burst anyway: Debian's DPDK
// has RTE_ETHDEV_RXTX_CALLBACKS). The cost at rest is one memzone of per-queue
// capture statistics (4 MiB with Debian's RTE_MAX_ETHPORTS and
// RTE_MAX_QUEUES_PER_PORT).
//
// A secondary process can attach only to a primary on hugepages with shared
// files: under --no-huge (it panics attaching) or --in-memory / --no-shconf
// (no multi-process channel) capture is unavailable, and unavailable() says so.
//
// Thread-safety: construct after the EAL is initialised and destroy after every
// port is closed, on the main thread. The handler runs on the EAL's
// multi-process thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mcfwd::ethdev {

class PacketCapture {
public:
    /// rte_pdump_init(). Never throws: a failure leaves capture unavailable
    /// (unavailable() says why) and mcfwd forwards as before.
    PacketCapture();
    /// rte_pdump_uninit(), when init succeeded.
    ~PacketCapture();
    PacketCapture(const PacketCapture&) = delete;
    PacketCapture& operator=(const PacketCapture&) = delete;

    /// Empty when a capture tool can attach; otherwise the reason it cannot.
    const std::string& unavailable() const noexcept { return unavailable_; }

    /// One line for the operator: the dpdk-dumpcap command for this process
    /// (its --file-prefix) and each port's device name, from (mcfwd's port
    /// name, DPDK port id) pairs; or why capture is unavailable.
    std::string how_to(const std::vector<std::pair<std::string, uint16_t>>& ports) const;

private:
    bool initialised_ = false;
    std::string unavailable_;
};

/// The EAL file prefix of this process: the last component of its runtime
/// directory (/var/run/dpdk/PREFIX), which a secondary must be given.
std::string eal_file_prefix();

} // namespace mcfwd::ethdev
