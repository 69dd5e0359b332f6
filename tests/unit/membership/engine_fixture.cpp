#include "engine_fixture.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace mcfwd::membership::testing {

std::ostream& operator<<(std::ostream& os, const Event& e) {
    return os << "port " << e.port << " " << e.group.to_string() << ": " << e.old_filter << " -> "
              << e.new_filter;
}

std::string dump(const Engine& engine, const std::vector<PortId>& ports) {
    std::vector<std::string> lines;
    engine.for_each_receiver([&](ReceiverId id, std::string_view name) {
        lines.push_back("receiver " + std::to_string(id) + " " + std::string(name));
        engine.for_each_membership(id, [&](const MembershipView& m) {
            lines.push_back("  member " + std::to_string(id) + " port " + std::to_string(m.port) +
                            " " + m.group.to_string() + " " + m.filter.to_string() +
                            (m.attached ? " attached" : " detached"));
        });
    });
    for (PortId p : ports) {
        auto v = engine.port(p);
        if (!v) {
            lines.push_back("port " + std::to_string(p) + " unknown");
            continue;
        }
        lines.push_back("port " + std::to_string(p) + (v->present ? " present" : " removed") +
                        (v->up ? " up" : " down") + " allmulti " +
                        std::to_string(v->allmulti_count));
        engine.for_each_port_group(p, [&](const IpAddr& g, const PortGroupView& pg) {
            lines.push_back("  group " + std::to_string(p) + " " + g.to_string() + " " +
                            pg.filter.to_string() + " receivers " + std::to_string(pg.receivers) +
                            " unfiltered " + std::to_string(pg.unfiltered));
        });
    }
    std::sort(lines.begin(), lines.end());
    std::ostringstream os;
    for (auto& l : lines)
        os << l << "\n";
    return os.str();
}

} // namespace mcfwd::membership::testing
