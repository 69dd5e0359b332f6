#include "ethdev/kernel_link.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mcfwd::ethdev {

Result<KernelLinks> KernelLinks::open(std::string* why) {
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0) {
        const int e = errno;
        if (why)
            *why = std::string("socket(AF_NETLINK): ") + std::strerror(e);
        return errc_from_errno(e);
    }
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        const int e = errno;
        ::close(fd);
        if (why)
            *why = std::string("bind(RTMGRP_LINK): ") + std::strerror(e);
        return errc_from_errno(e);
    }
    return Result<KernelLinks>(KernelLinks(fd));
}

KernelLinks::KernelLinks(KernelLinks&& o) noexcept
    : fd_(o.fd_), up_(std::move(o.up_)) {
    o.fd_ = -1;
}

KernelLinks::~KernelLinks() {
    if (fd_ >= 0)
        ::close(fd_);
}

bool KernelLinks::read_flags(unsigned ifindex) const {
    ifreq ifr{};
    if (!if_indextoname(ifindex, ifr.ifr_name))
        return false; // gone
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    const bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ::close(s);
    return ok && (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

void KernelLinks::watch(unsigned ifindex) {
    up_[ifindex] = read_flags(ifindex);
}

bool KernelLinks::up(unsigned ifindex) const {
    auto it = up_.find(ifindex);
    return it != up_.end() && it->second;
}

void KernelLinks::set(unsigned ifindex, bool up, std::vector<unsigned>& changed) {
    auto it = up_.find(ifindex);
    if (it == up_.end() || it->second == up)
        return;
    it->second = up;
    if (std::find(changed.begin(), changed.end(), ifindex) == changed.end())
        changed.push_back(ifindex);
}

std::vector<unsigned> KernelLinks::poll() {
    std::vector<unsigned> changed;
    alignas(nlmsghdr) char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) {
                // The kernel dropped notifications: ask each interface again.
                for (auto& [ifindex, up] : up_)
                    set(ifindex, read_flags(ifindex), changed);
                continue;
            }
            break; // EAGAIN: nothing more (or an error the next turn retries)
        }
        size_t len = static_cast<size_t>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
                continue;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
                continue;
            const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
            const unsigned ifindex = static_cast<unsigned>(ifi->ifi_index);
            const bool up = h->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP) &&
                            (ifi->ifi_flags & IFF_RUNNING);
            set(ifindex, up, changed);
        }
    }
    return changed;
}

} // namespace mcfwd::ethdev
