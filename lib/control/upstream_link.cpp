#include "control/upstream_link.hpp"

#include "control/control_plane.hpp"

namespace mcfwd::control {

UpstreamChannel::Key UpstreamChannel::key_of(const UpstreamChange& c) {
    if (const auto* f = std::get_if<FilterChange>(&c.what))
        return {c.port, 0, f->group, 0};
    return {c.port, 1, addr::IpAddr{}, int(std::get<ForwardingChange>(c.what).family)};
}

void UpstreamChannel::send(UpstreamChange change) {
    ++sent_;
    if (held_.empty() || flush() == 0) {
        if (ring_.try_push(change))
            return;
    }
    ++held_back_;
    const Key k = key_of(change);
    if (auto it = index_.find(k); it != index_.end()) {
        // Newer state of the same key: it takes the older one's place. Whatever the
        // ring holds of this key is older still, so the order per key is kept.
        *it->second = std::move(change);
        ++coalesced_;
        return;
    }
    held_.push_back(std::move(change));
    index_.emplace(k, std::prev(held_.end()));
}

size_t UpstreamChannel::flush() {
    while (!held_.empty()) {
        const Key k = key_of(held_.front());
        if (!ring_.try_push(held_.front()))
            break;
        index_.erase(k);
        held_.pop_front();
    }
    return held_.size();
}

size_t UpstreamChannel::deliver(ControlPlane& upstream, size_t max) {
    size_t n = 0;
    UpstreamChange c;
    Controller::DeviceBatch batch(upstream.controller());
    for (; n < max && ring_.try_pop(c); ++n)
        upstream.apply(c);
    return n;
}

} // namespace mcfwd::control
