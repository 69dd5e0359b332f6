// Shared helpers for the membership engine's tests.
#pragma once

#include "membership/engine.hpp"

#include <string>
#include <vector>

namespace mcfwd::membership::testing {

/// One group-change event as the engine announced it.
struct Event {
    PortId port;
    IpAddr group;
    FilterState old_filter;
    FilterState new_filter;
    friend bool operator==(const Event&, const Event&) = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e);

/// Records every event.
class Recorder : public Listener {
public:
    void on_group_change(PortId port, const IpAddr& group, const FilterState& old_filter,
                         const FilterState& new_filter) override {
        events.push_back({port, group, old_filter, new_filter});
    }
    void on_allmulti_change(PortId port, bool on) override { allmulti.push_back({port, on}); }
    void on_members_change(PortId port, const IpAddr& group) override {
        members.push_back({port, group});
    }
    std::vector<Event> take() { return std::exchange(events, {}); }

    std::vector<Event> events;
    std::vector<std::pair<PortId, bool>> allmulti;
    std::vector<std::pair<PortId, IpAddr>> members;
};

/// Everything observable of an engine, as canonical text: two engines (or one
/// engine at two moments) are in the same state exactly when their dumps match.
std::string dump(const Engine& engine, const std::vector<PortId>& ports);

} // namespace mcfwd::membership::testing
