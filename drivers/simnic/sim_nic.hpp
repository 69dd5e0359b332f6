// mcfwd::simnic::SimNic — a simulated port with a bounded multicast filter table.
//
// Answers like a driver's mc_multicst(9E) entry point, in the whole-list shape of
// rte_eth_dev_set_mc_addr_list():
//   - capacity 0: the device has no multicast filter; every list call is
//     not_supported (DPDK: -ENOTSUP, as net_null and net_ring answer);
//   - a non-multicast address in the list: invalid, table unchanged;
//   - more distinct addresses than capacity: no_space, table unchanged;
//   - else the table is replaced. Per MAC it counts how often it was added and
//     removed (the difference between old and new table), so tests can check that
//     the framework asks to add a MAC once and remove it once.
// Fault injection: fail_next(e) makes the next call of either kind fail with e,
// changing nothing. reset() is a device reset: the table and allmulticast are lost.
//
// Thread-safety: none; used from one thread (the control lcore, or a test).
#pragma once

#include "addr/mac_addr.hpp"
#include "base/errc.hpp"
#include "nicfilter/port_driver.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>

namespace mcfwd::simnic {

class SimNic final : public nicfilter::PortDriver {
public:
    /// capacity: entries in the multicast filter table; 0 = no multicast filter.
    explicit SimNic(size_t capacity) : capacity_(capacity) {}

    errc set_mc_addr_list(std::span<const addr::MacAddr> macs) override;
    errc set_allmulticast(bool on) override;

    /// The next call (set_mc_addr_list or set_allmulticast) fails with e and changes
    /// nothing. errc::ok cancels a pending fault.
    void fail_next(errc e) noexcept { fault_ = e == errc::ok ? std::nullopt : std::optional(e); }
    /// A fault set by fail_next() has not been used yet.
    bool fault_pending() const noexcept { return fault_.has_value(); }

    /// A device reset: the table is emptied (each entry counts as removed) and
    /// allmulticast is turned off. Call counts and a pending fault are kept.
    void reset();

    size_t capacity() const noexcept { return capacity_; }
    const std::set<addr::MacAddr>& table() const noexcept { return table_; }
    bool allmulticast() const noexcept { return allmulti_; }
    /// Times mac entered / left the table.
    uint64_t added(const addr::MacAddr& mac) const noexcept;
    uint64_t removed(const addr::MacAddr& mac) const noexcept;
    /// Every MAC that was ever in the table.
    std::set<addr::MacAddr> ever_seen() const;
    struct Churn {
        uint64_t added = 0;
        uint64_t removed = 0;
    };
    /// Per MAC ever in the table, how often it entered and left it.
    const std::map<addr::MacAddr, Churn>& churn() const noexcept { return churn_; }

    /// Calls received, failed or not.
    uint64_t list_calls() const noexcept { return list_calls_; }
    uint64_t allmulti_calls() const noexcept { return allmulti_calls_; }
    uint64_t calls() const noexcept { return list_calls_ + allmulti_calls_; }

private:
    size_t capacity_;
    std::set<addr::MacAddr> table_;
    bool allmulti_ = false;
    std::optional<errc> fault_;
    std::map<addr::MacAddr, Churn> churn_;
    uint64_t list_calls_ = 0;
    uint64_t allmulti_calls_ = 0;
};

} // namespace mcfwd::simnic
