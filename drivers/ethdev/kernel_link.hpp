// mcfwd::ethdev::KernelLinks — the link state of kernel-backed ports (net_tap,
// net_af_packet) from the kernel interface, where it is true.
//
// Why. DPDK 22.11's net_af_packet reports link up at start and never updates it,
// so a port over a veth or a NIC whose cable is pulled looks up forever: nothing
// detaches, and nothing is announced again when the link returns (issue 15).
// net_tap asks the kernel on every rte_eth_link_get, which is right but polled.
//
// How. One NETLINK_ROUTE socket subscribed to RTMGRP_LINK: the kernel sends
// RTM_NEWLINK on every change of an interface's flags (admin up/down, carrier).
// A watched interface is up when IFF_UP and IFF_RUNNING are both set —
// IFF_RUNNING is the kernel's operational state (RFC 2863 "up", carrier
// present; a veth loses it when its peer goes down). The initial state, and the
// state after the socket's buffer overran (ENOBUFS: events were lost), is read
// with SIOCGIFFLAGS.
//
// Thread-safety: the control lcore only. poll() never blocks.
#pragma once

#include "base/result.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace mcfwd::ethdev {

class KernelLinks {
public:
    /// Opens the netlink socket. Errors: the socket's errno; *why says which call.
    static Result<KernelLinks> open(std::string* why = nullptr);
    KernelLinks(KernelLinks&& other) noexcept;
    KernelLinks& operator=(KernelLinks&&) = delete;
    KernelLinks(const KernelLinks&) = delete;
    KernelLinks& operator=(const KernelLinks&) = delete;
    ~KernelLinks();

    /// Follows interface ifindex from now on and reads its state.
    void watch(unsigned ifindex);
    /// Whether ifindex is up (IFF_UP and IFF_RUNNING); false if not watched.
    bool up(unsigned ifindex) const;
    /// Reads every pending notification; returns the watched interfaces whose
    /// state changed since the last call (each once).
    std::vector<unsigned> poll();

private:
    explicit KernelLinks(int fd) : fd_(fd) {}
    bool read_flags(unsigned ifindex) const;
    void set(unsigned ifindex, bool up, std::vector<unsigned>& changed);

    int fd_ = -1;
    std::unordered_map<unsigned, bool> up_;
};

} // namespace mcfwd::ethdev
