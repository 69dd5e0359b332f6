// mcfwd::ethdev::KernelMcList — the multicast filter of the kernel interface
// under a kernel-backed port (net_tap, net_af_packet).
//
// Why. These PMDs sit on a Linux netdev, and the frames they see have already
// passed that netdev's multicast filter: the kernel's list, kept per interface
// and shown by `ip maddr show dev IF`. DPDK 22.11's net_tap accepts
// rte_eth_dev_set_mc_addr_list() and tells the kernel nothing; net_af_packet
// refuses it (-ENOTSUP) and has no allmulticast either. On a real NIC under
// net_af_packet that means group traffic never arrives unless the interface is
// promiscuous. So for these ports mcfwd programs the kernel's list itself.
//
// How. A packet socket with protocol 0 (it receives nothing) holds the
// memberships: setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP) with
// PACKET_MR_MULTICAST adds a MAC to the interface's list, PACKET_MR_ALLMULTI
// raises its allmulticast count (packet(7)). The kernel drops them when the
// socket closes, so a crashed mcfwd leaves nothing behind (SIOCADDMULTI
// entries would stay). Needs CAP_NET_RAW — which the PMDs need anyway.
//
// Thread-safety: the control lcore only (as nicfilter::PortDriver).
#pragma once

#include "addr/mac_addr.hpp"
#include "base/errc.hpp"
#include "base/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mcfwd::ethdev {

class KernelMcList {
public:
    /// Opens the packet socket for interface ifindex. Errors: the socket's errno
    /// (permission_denied without CAP_NET_RAW, ...), *why says which call.
    static Result<KernelMcList> open(unsigned ifindex, std::string* why = nullptr);
    KernelMcList(KernelMcList&& other) noexcept;
    KernelMcList& operator=(KernelMcList&&) = delete;
    KernelMcList(const KernelMcList&) = delete;
    KernelMcList& operator=(const KernelMcList&) = delete;
    /// Closes the socket: the kernel forgets every membership it held.
    ~KernelMcList();

    /// Makes the interface's list hold exactly macs (beside what others hold):
    /// adds the new ones, drops the ones no longer wanted. On a failure the
    /// entries already changed are put back, so the list is as before.
    errc set(std::span<const addr::MacAddr> macs);
    /// Raises (on) or lowers (off) the interface's allmulticast count once.
    errc set_allmulticast(bool on);

    unsigned ifindex() const noexcept { return ifindex_; }
    const std::vector<addr::MacAddr>& held() const noexcept { return held_; }
    bool allmulticast() const noexcept { return allmulti_; }

private:
    KernelMcList(int fd, unsigned ifindex) : fd_(fd), ifindex_(ifindex) {}
    errc change(bool add, int type, const addr::MacAddr* mac);

    int fd_ = -1;
    unsigned ifindex_ = 0;
    std::vector<addr::MacAddr> held_; // sorted
    bool allmulti_ = false;
};

} // namespace mcfwd::ethdev
