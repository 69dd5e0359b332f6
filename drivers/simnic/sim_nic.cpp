#include "simnic/sim_nic.hpp"

#include <algorithm>

namespace mcfwd::simnic {

using addr::MacAddr;

errc SimNic::set_mc_addr_list(std::span<const MacAddr> macs) {
    ++list_calls_;
    if (fault_) {
        const errc e = *fault_;
        fault_.reset();
        return e;
    }
    if (capacity_ == 0)
        return errc::not_supported;
    // mc_multicst(9E): the driver may check that it was given a multicast address.
    if (!std::all_of(macs.begin(), macs.end(), [](const MacAddr& m) { return m.is_multicast(); }))
        return errc::invalid;
    std::set<MacAddr> next(macs.begin(), macs.end());
    if (next.size() > capacity_)
        return errc::no_space;
    for (const MacAddr& m : next)
        if (!table_.contains(m))
            ++churn_[m].added;
    for (const MacAddr& m : table_)
        if (!next.contains(m))
            ++churn_[m].removed;
    table_ = std::move(next);
    return errc::ok;
}

errc SimNic::set_allmulticast(bool on) {
    ++allmulti_calls_;
    if (fault_) {
        const errc e = *fault_;
        fault_.reset();
        return e;
    }
    allmulti_ = on;
    return errc::ok;
}

void SimNic::reset() {
    for (const MacAddr& m : table_)
        ++churn_[m].removed;
    table_.clear();
    allmulti_ = false;
}

uint64_t SimNic::added(const MacAddr& mac) const noexcept {
    auto it = churn_.find(mac);
    return it == churn_.end() ? 0 : it->second.added;
}

uint64_t SimNic::removed(const MacAddr& mac) const noexcept {
    auto it = churn_.find(mac);
    return it == churn_.end() ? 0 : it->second.removed;
}

std::set<MacAddr> SimNic::ever_seen() const {
    std::set<MacAddr> out;
    for (const auto& entry : churn_)
        out.insert(entry.first);
    return out;
}

} // namespace mcfwd::simnic
