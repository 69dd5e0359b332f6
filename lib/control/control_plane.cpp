#include "control/control_plane.hpp"

#include <variant>

namespace mcfwd::control {

struct ControlPlane::Port {
    PortSetup setup;
    std::unique_ptr<EncodingSink> sink;
    std::unique_ptr<host::HostEngine> igmp, mld;
};

ControlPlane::ControlPlane(membership::Limits limits, const Clock& clock, Random& random)
    : clock_(clock), random_(random), controller_(limits), hosts_(clock),
      publisher_(controller_.engine()) {
    // Order matters only for reading: the NIC filter first (inside the
    // controller), then the wire, then the tables.
    controller_.add_listener(hosts_);
    controller_.add_listener(publisher_);
}

ControlPlane::~ControlPlane() = default;

errc ControlPlane::add_port(PortSetup setup) {
    const PortId id = setup.id;
    if (id < ports_.size() && ports_[id])
        return errc::addr_in_use;
    if (setup.mld && !setup.frame.ipv6_src.is_v6_link_local_unicast())
        return errc::invalid; // RFC 3810 §5: MLD only from a link-local address
    auto p = std::make_unique<Port>();
    p->setup = std::move(setup);
    p->sink = std::make_unique<EncodingSink>(p->setup.frame, p->setup.transmit);
    if (p->setup.igmp) {
        p->igmp = std::make_unique<host::HostEngine>(addr::Family::v4, p->setup.igmp_config,
                                                     random_, *p->sink);
        hosts_.bind(id, addr::Family::v4, *p->igmp);
    }
    if (p->setup.mld) {
        p->mld = std::make_unique<host::HostEngine>(addr::Family::v6, p->setup.mld_config, random_,
                                                    *p->sink);
        p->mld->set_address_ready(clock_.now(), true);
        hosts_.bind(id, addr::Family::v6, *p->mld);
    }
    if (p->setup.driver)
        controller_.attach_device(id, *p->setup.driver);
    if (p->setup.table)
        publisher_.bind_port(id, *p->setup.table);
    if (id >= ports_.size())
        ports_.resize(size_t(id) + 1);
    const bool up = p->setup.up;
    ports_[id] = std::move(p);
    return engine().add_port(id, up);
}

const EncodingSink* ControlPlane::sink(PortId port) const {
    return port < ports_.size() && ports_[port] ? ports_[port]->sink.get() : nullptr;
}

void ControlPlane::on_control_frame(PortId port, std::span<const uint8_t> frame) {
    ++counters_.frames;
    if (port >= ports_.size() || !ports_[port]) {
        ++counters_.unknown_port;
        return;
    }
    const Port& p = *ports_[port];
    wire::DecodeResult r = wire::decode(frame);
    if (auto* reason = std::get_if<wire::DropReason>(&r)) {
        ++counters_.dropped[static_cast<size_t>(*reason)];
        return;
    }
    const auto& d = std::get<wire::DecodedFrame>(r);
    if (d.vlan != p.setup.frame.vlan) {
        ++counters_.wrong_vlan;
        return;
    }
    if (d.src_mac == p.setup.frame.src_mac) { // our own report, looped back by a switch
        ++counters_.ignored;
        return;
    }
    const addr::Family family = d.ip_dst.family();
    host::HostEngine* h = hosts_.engine(port, family);
    if (!h) {
        ++counters_.protocol_disabled;
        return;
    }
    const time_point now = clock_.now();
    if (auto* q = std::get_if<wire::Query>(&d.message)) {
        ++counters_.queries;
        h->on_query(now, *q);
    } else if (auto* lr = std::get_if<wire::LegacyReport>(&d.message)) {
        ++counters_.legacy_reports;
        h->on_legacy_report(now, *lr);
    } else {
        // IGMPv3 / MLDv2 reports and leaves are for routers (the downstream side).
        ++counters_.ignored;
    }
}

void ControlPlane::set_link(PortId port, bool up) {
    engine().set_port_up(port, up);
}

time_point ControlPlane::poll() {
    return hosts_.run_timers();
}

void ControlPlane::leave_all() {
    hosts_.leave_all();
}

} // namespace mcfwd::control
