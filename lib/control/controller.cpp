#include "control/controller.hpp"

namespace mcfwd::control {

Controller::Controller(membership::Limits limits) : engine_(limits, this) {}

errc Controller::attach_device(PortId port, nicfilter::PortDriver& driver) {
    if (port >= nic_filters_.size())
        nic_filters_.resize(size_t(port) + 1);
    if (nic_filters_[port])
        return errc::addr_in_use;
    nic_filters_[port] = std::make_unique<nicfilter::NicFilter>(driver);
    return errc::ok;
}

nicfilter::NicFilter* Controller::nic_filter(PortId port) noexcept {
    return port < nic_filters_.size() ? nic_filters_[port].get() : nullptr;
}

const nicfilter::NicFilter* Controller::nic_filter(PortId port) const noexcept {
    return port < nic_filters_.size() ? nic_filters_[port].get() : nullptr;
}

void Controller::on_group_change(PortId port, const IpAddr& group,
                                 const filter::FilterState& old_filter,
                                 const filter::FilterState& new_filter) {
    // Only joining and leaving matter to the MAC filter; a source-list change
    // keeps the port a member. A refused list is the NicFilter's business (it
    // falls back to allmulticast), never a reason to fail the membership change.
    if (auto* nic = nic_filter(port)) {
        if (!old_filter.is_member() && new_filter.is_member())
            nic->add_group(group);
        else if (old_filter.is_member() && !new_filter.is_member())
            nic->remove_group(group);
    }
    for (auto* l : listeners_)
        l->on_group_change(port, group, old_filter, new_filter);
}

void Controller::on_allmulti_change(PortId port, bool on) {
    if (auto* nic = nic_filter(port))
        nic->force_allmulticast(on);
    for (auto* l : listeners_)
        l->on_allmulti_change(port, on);
}

void Controller::on_members_change(PortId port, const IpAddr& group) {
    for (auto* l : listeners_)
        l->on_members_change(port, group);
}

} // namespace mcfwd::control
