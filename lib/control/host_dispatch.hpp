// mcfwd::control::HostDispatch — hands each port's membership changes to the
// IGMP/MLD host engine of that port and family, and runs their timers.
//
// The host engines are pure state machines that take `now` with every input;
// this class reads the Clock once per event and per timer run so the engines
// never do.
//
// Thread-safety: none; the control lcore owns it.
#pragma once

#include "base/clock.hpp"
#include "host/host_engine.hpp"
#include "membership/engine.hpp"

#include <map>
#include <utility>

namespace mcfwd::control {

class HostDispatch final : public membership::Listener {
public:
    explicit HostDispatch(const Clock& clock) : clock_(clock) {}

    /// Routes (port, family) to engine; engine must outlive this object. Replaces
    /// an earlier binding of the same key.
    void bind(membership::PortId port, addr::Family family, host::HostEngine& engine) {
        engines_[{port, family}] = &engine;
    }
    host::HostEngine* engine(membership::PortId port, addr::Family family) const {
        auto it = engines_.find({port, family});
        return it == engines_.end() ? nullptr : it->second;
    }

    /// Runs every engine's due timers; returns the earliest next deadline.
    time_point run_timers() {
        const time_point now = clock_.now();
        time_point next = time_never;
        for (auto& [key, e] : engines_) {
            if (e->next_deadline() <= now)
                e->on_timer(now);
            next = std::min(next, e->next_deadline());
        }
        return next;
    }
    time_point next_deadline() const {
        time_point next = time_never;
        for (auto& [key, e] : engines_)
            next = std::min(next, e->next_deadline());
        return next;
    }
    /// Shutdown: every engine leaves every group on the wire.
    void leave_all(host::HostEngine::Spacing spacing) {
        for (auto& [key, e] : engines_)
            e->leave_all(clock_.now(), spacing);
    }
    bool reports_pending() const {
        for (const auto& [key, e] : engines_)
            if (e->reports_pending())
                return true;
        return false;
    }

    void on_group_change(membership::PortId port, const addr::IpAddr& group,
                         const filter::FilterState& old_filter,
                         const filter::FilterState& new_filter) override {
        if (auto* e = engine(port, group.family()))
            e->on_state_change(clock_.now(), group, old_filter, new_filter);
    }
    void on_allmulti_change(membership::PortId, bool) override {}

private:
    const Clock& clock_;
    std::map<std::pair<membership::PortId, addr::Family>, host::HostEngine*> engines_;
};

} // namespace mcfwd::control
