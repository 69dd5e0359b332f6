#include "nicfilter/nic_filter.hpp"

#include <algorithm>

namespace mcfwd::nicfilter {

using addr::IpAddr;
using addr::MacAddr;

namespace {

AllmultiReason reason_for(errc e) noexcept {
    switch (e) {
    case errc::ok:
        return AllmultiReason::none;
    case errc::not_supported:
        return AllmultiReason::not_supported;
    case errc::no_space:
        return AllmultiReason::table_full;
    case errc::invalid:
        return AllmultiReason::invalid;
    default:
        return AllmultiReason::device_error;
    }
}

} // namespace

errc NicFilter::add_group(const IpAddr& group) {
    if (!group.is_multicast())
        return errc::invalid;
    uint32_t& refs = groups_[group];
    if (refs++ != 0)
        return errc::ok;
    // First reference on this group (ip_mphysaddr_add): one more group on its MAC.
    uint32_t& groups = macs_[group.multicast_mac()];
    if (groups++ != 0)
        return errc::ok;
    list_valid_ = false;
    list_dirty_ = true;
    changed();
    return errc::ok;
}

errc NicFilter::remove_group(const IpAddr& group) {
    auto g = groups_.find(group);
    if (g == groups_.end())
        return errc::addr_not_avail;
    if (--g->second != 0)
        return errc::ok;
    groups_.erase(g);
    // Last reference on this group (ip_mphysaddr_del): one group fewer on its MAC.
    auto m = macs_.find(group.multicast_mac());
    if (--m->second != 0)
        return errc::ok;
    macs_.erase(m);
    list_valid_ = false;
    list_dirty_ = true;
    changed();
    return errc::ok;
}

void NicFilter::force_allmulticast(bool on) {
    if (on == forced_)
        return;
    forced_ = on;
    changed();
}

void NicFilter::changed() {
    if (holds_ != 0)
        held_change_ = true;
    else
        sync(false);
}

errc NicFilter::release() {
    if (holds_ == 0 || --holds_ != 0 || !held_change_)
        return errc::ok;
    held_change_ = false;
    return sync(false);
}

errc NicFilter::reprogram() {
    // A reset device holds no list; until it accepts ours again, say so. The table
    // size learned from no_space is kept: a reset does not make the table larger.
    programmed_.clear();
    not_supported_ = false;
    list_dirty_ = true;
    return sync(true);
}

uint32_t NicFilter::group_refcount(const IpAddr& group) const noexcept {
    auto it = groups_.find(group);
    return it == groups_.end() ? 0 : it->second;
}

uint32_t NicFilter::mac_refcount(const MacAddr& mac) const noexcept {
    auto it = macs_.find(mac);
    return it == macs_.end() ? 0 : it->second;
}

NicFilterSnapshot NicFilter::snapshot() const {
    NicFilterSnapshot s;
    s.wanted.reserve(macs_.size());
    for (const auto& [mac, groups] : macs_)
        s.wanted.push_back({mac, groups});
    std::sort(s.wanted.begin(), s.wanted.end(),
              [](const MacRefcount& a, const MacRefcount& b) { return a.mac < b.mac; });
    s.programmed = programmed_;
    s.allmulti = allmulti_on_;
    s.allmulti_wanted = allmulti_wanted();
    s.reason = reason();
    s.forced = forced_;
    s.last_list_error = last_list_error_;
    s.last_device_error = last_device_error_;
    s.no_space_at = no_space_at_;
    s.not_supported = not_supported_;
    s.counters = counters_;
    return s;
}

const std::vector<MacAddr>& NicFilter::wanted_list() {
    if (!list_valid_) {
        list_.clear();
        list_.reserve(macs_.size());
        for (const auto& entry : macs_)
            list_.push_back(entry.first);
        std::sort(list_.begin(), list_.end());
        list_valid_ = true;
    }
    return list_;
}

errc NicFilter::sync(bool push) {
    // The list first: when it becomes acceptable again, allmulticast is left only
    // after the filter is in place, so no wanted group is dropped in between.
    errc list_err = sync_list(push);
    errc allmulti_err = sync_allmulti(push);
    return list_err != errc::ok ? list_err : allmulti_err;
}

errc NicFilter::sync_list(bool push) {
    if (!list_dirty_)
        return errc::ok;
    const size_t n = macs_.size();
    // A device without a filter list is not asked again until reprogram() (which
    // clears not_supported_); with nothing wanted it needs neither a list nor
    // allmulticast.
    if (not_supported_ && !push) {
        list_fault_ = n == 0 ? AllmultiReason::none : AllmultiReason::not_supported;
        return errc::ok;
    }
    // Refused as full at size no_space_at_: a list at least that long cannot fit.
    // This keeps add/remove O(1) with many groups on a small table.
    if (no_space_at_ != 0 && n >= no_space_at_) {
        list_fault_ = AllmultiReason::table_full;
        return errc::ok;
    }
    const auto& list = wanted_list();
    const errc e = driver_.set_mc_addr_list(list);
    last_list_error_ = e;
    if (e == errc::ok) {
        ++counters_.list_programs;
        programmed_ = list;
        list_dirty_ = false;
        list_fault_ = AllmultiReason::none;
        return errc::ok;
    }
    ++counters_.list_failures;
    last_device_error_ = e;
    if (e == errc::not_supported)
        not_supported_ = true;
    else if (e == errc::no_space)
        no_space_at_ = n;
    // list_dirty_ stays set: invalid/io are retried at the next change. An empty
    // list that could not be written leaves extra MACs in the table at worst; no
    // wanted group is lost, so no allmulticast for it.
    list_fault_ = n == 0 ? AllmultiReason::none : reason_for(e);
    return e;
}

errc NicFilter::sync_allmulti(bool push) {
    const bool want = allmulti_wanted();
    if (!push && !allmulti_pending_ && want == allmulti_on_)
        return errc::ok;
    const errc e = driver_.set_allmulticast(want);
    if (e != errc::ok) {
        // The device keeps its previous mode as far as we know; try again at the next
        // change (allmulti_pending_ forces the call even if the wish is unchanged).
        ++counters_.allmulti_failures;
        last_device_error_ = e;
        allmulti_pending_ = true;
        return e;
    }
    if (want)
        ++counters_.allmulti_enables;
    else
        ++counters_.allmulti_disables;
    allmulti_on_ = want;
    allmulti_pending_ = false;
    return errc::ok;
}

} // namespace mcfwd::nicfilter
