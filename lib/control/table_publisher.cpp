#include "control/table_publisher.hpp"

namespace mcfwd::control {

void TablePublisher::bind_port(membership::PortId port, table::PortTable& table) {
    if (port >= tables_.size())
        tables_.resize(size_t(port) + 1, nullptr);
    tables_[port] = &table;
    publish_port(port);
}

namespace {
uint8_t family_bit(addr::Family f) {
    return f == addr::Family::v4 ? 1 : 2;
}
} // namespace

void TablePublisher::bind_receiver(membership::ReceiverId r, table::OutletId outlet) {
    outlets_[r] = outlet;
    // Only r's own groups change (none, for a receiver opened just now).
    publish_receiver(r, std::nullopt);
}

void TablePublisher::publish_receiver(membership::ReceiverId r, std::optional<addr::Family> only) {
    std::vector<std::pair<membership::PortId, addr::IpAddr>> mine;
    engine_.for_each_membership(r, [&](const membership::MembershipView& m) {
        if (!only || m.group.family() == *only)
            mine.emplace_back(m.port, m.group);
    });
    for (const auto& [p, g] : mine)
        publish(p, g);
}

void TablePublisher::set_family_forwarding(membership::ReceiverId r, addr::Family f, bool on) {
    if (family_forwarding(r, f) == on)
        return;
    uint8_t& m = muted_[r];
    m = on ? uint8_t(m & ~family_bit(f)) : uint8_t(m | family_bit(f));
    if (m == 0)
        muted_.erase(r);
    publish_receiver(r, f);
}

bool TablePublisher::family_forwarding(membership::ReceiverId r, addr::Family f) const {
    auto it = muted_.find(r);
    return it == muted_.end() || (it->second & family_bit(f)) == 0;
}

bool TablePublisher::muted(membership::ReceiverId r, const addr::IpAddr& group) const {
    return !muted_.empty() && !family_forwarding(r, group.family());
}

std::optional<table::OutletId> TablePublisher::unbind_receiver(membership::ReceiverId r) {
    auto it = outlets_.find(r);
    if (it == outlets_.end())
        return std::nullopt;
    const table::OutletId o = it->second;
    outlets_.erase(it);
    muted_.erase(r);
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
                                if (muted(r, group))
                                    return;
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
