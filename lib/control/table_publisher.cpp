#include "control/table_publisher.hpp"

namespace mcfwd::control {

void TablePublisher::bind_port(membership::PortId port, table::PortTable& table) {
    if (port >= tables_.size())
        tables_.resize(size_t(port) + 1, nullptr);
    tables_[port] = &table;
    publish_port(port);
}

void TablePublisher::bind_receiver(membership::ReceiverId r, table::OutletId outlet) {
    outlets_[r] = outlet;
    // Only r's own groups change (none, for a receiver opened just now).
    std::vector<std::pair<membership::PortId, addr::IpAddr>> mine;
    engine_.for_each_membership(
        r, [&](const membership::MembershipView& m) { mine.emplace_back(m.port, m.group); });
    for (const auto& [p, g] : mine)
        publish(p, g);
}

std::optional<table::OutletId> TablePublisher::unbind_receiver(membership::ReceiverId r) {
    auto it = outlets_.find(r);
    if (it == outlets_.end())
        return std::nullopt;
    const table::OutletId o = it->second;
    outlets_.erase(it);
    return o;
}

std::optional<table::OutletId> TablePublisher::outlet_of(membership::ReceiverId r) const {
    auto it = outlets_.find(r);
    if (it == outlets_.end())
        return std::nullopt;
    return it->second;
}

void TablePublisher::publish_port(membership::PortId port) {
    std::vector<addr::IpAddr> groups;
    engine_.for_each_port_group(port, [&](const addr::IpAddr& g, const membership::PortGroupView&) {
        groups.push_back(g);
    });
    for (const auto& g : groups)
        publish(port, g);
}

void TablePublisher::publish(membership::PortId port, const addr::IpAddr& group) {
    if (port >= tables_.size() || !tables_[port])
        return;
    table::PortTable& t = *tables_[port];
    scratch_.clear();
    // The filters live in the engine; set_group copies them into the new entry
    // before returning, so pointing at them for the call is enough.
    engine_.for_each_member(port, group,
                            [&](membership::ReceiverId r, const filter::FilterState& f) {
                                auto it = outlets_.find(r);
                                if (it == outlets_.end()) {
                                    ++stats_.unbound_skipped;
                                    return;
                                }
                                scratch_.push_back({it->second, &f});
                            });
    if (scratch_.empty()) {
        if (t.remove_group(group) == errc::ok)
            ++stats_.removed;
        return;
    }
    if (t.set_group(group, scratch_) == errc::ok)
        ++stats_.published;
    else
        ++stats_.refused;
}

} // namespace mcfwd::control
