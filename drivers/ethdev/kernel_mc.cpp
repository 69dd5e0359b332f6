#include "ethdev/kernel_mc.hpp"

#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mcfwd::ethdev {

Result<KernelMcList> KernelMcList::open(unsigned ifindex, std::string* why) {
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        const int e = errno;
        if (why)
            *why = std::string("socket(AF_PACKET): ") + std::strerror(e);
        return errc_from_errno(e);
    }
    return Result<KernelMcList>(KernelMcList(fd, ifindex));
}

KernelMcList::KernelMcList(KernelMcList&& o) noexcept
    : fd_(o.fd_), ifindex_(o.ifindex_), held_(std::move(o.held_)), allmulti_(o.allmulti_) {
    o.fd_ = -1;
}

KernelMcList::~KernelMcList() {
    if (fd_ >= 0)
        ::close(fd_);
}

errc KernelMcList::change(bool add, int type, const addr::MacAddr* mac) {
    packet_mreq mr{};
    mr.mr_ifindex = static_cast<int>(ifindex_);
    mr.mr_type = static_cast<unsigned short>(type);
    if (mac) {
        mr.mr_alen = 6;
        std::memcpy(mr.mr_address, mac->bytes.data(), 6);
    }
    const int opt = add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
    if (::setsockopt(fd_, SOL_PACKET, opt, &mr, sizeof mr) != 0)
        return errc_from_errno(errno);
    return errc::ok;
}

errc KernelMcList::set(std::span<const addr::MacAddr> macs) {
    std::vector<addr::MacAddr> want(macs.begin(), macs.end());
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    std::vector<addr::MacAddr> add, drop;
    std::set_difference(want.begin(), want.end(), held_.begin(), held_.end(),
                        std::back_inserter(add));
    std::set_difference(held_.begin(), held_.end(), want.begin(), want.end(),
                        std::back_inserter(drop));
    // Apply; on a failure undo what this call did, in reverse.
    std::vector<std::pair<bool, addr::MacAddr>> done;
    auto undo = [&] {
        for (auto it = done.rbegin(); it != done.rend(); ++it)
            change(!it->first, PACKET_MR_MULTICAST, &it->second);
    };
    for (const auto& m : add) {
        if (errc e = change(true, PACKET_MR_MULTICAST, &m); e != errc::ok) {
            undo();
            return e;
        }
        done.emplace_back(true, m);
    }
    for (const auto& m : drop) {
        if (errc e = change(false, PACKET_MR_MULTICAST, &m); e != errc::ok) {
            undo();
            return e;
        }
        done.emplace_back(false, m);
    }
    held_ = std::move(want);
    return errc::ok;
}

errc KernelMcList::set_allmulticast(bool on) {
    if (on == allmulti_)
        return errc::ok;
    if (errc e = change(on, PACKET_MR_ALLMULTI, nullptr); e != errc::ok)
        return e;
    allmulti_ = on;
    return errc::ok;
}

} // namespace mcfwd::ethdev
