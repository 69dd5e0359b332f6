#include "control/control_plane.hpp"

#include <variant>

namespace mcfwd::control {

// The router engine of one downstream port and family, with its sink: queries
// are encoded with the port's frame parameters and sent on the port; forwarding
// changes become the port's receiver filter on the upstream port.
struct ControlPlane::RouterPort final : router::RouterSink {
    RouterPort(ControlPlane& cp, Port& port, addr::Family family, router::RouterConfig config)
        : cp(cp), port(port), family(family), engine(family, std::move(config), *this) {}

    void send_query(time_point, const wire::Query& query) override;
    void on_forwarding_change(const addr::IpAddr& group, const filter::FilterState&,
                              const filter::FilterState& new_state) override {
        cp.merge_downstream(port, group, new_state);
    }
    void on_querier_change(bool querier) override { cp.set_forwarding(port, family, querier); }

    ControlPlane& cp;
    Port& port;
    addr::Family family;
    router::RouterEngine engine;
    std::vector<wire::Frame> frames; // reused
};

struct ControlPlane::Port {
    PortSetup setup;
    std::unique_ptr<EncodingSink> sink;
    std::unique_ptr<host::HostEngine> igmp, mld;
    std::unique_ptr<RouterPort> igmp_router, mld_router; // downstream ports only
    UpstreamLink* link = nullptr;                        // downstream ports only
    bool up = false;                                     // as set_link last said
    uint64_t link_changes = 0;
    // Downstream ports, by family (v4, v6): forwarding onto the link (RFC 4605 §4.2:
    // only while our router is its querier), and how often that changed.
    std::array<bool, 2> forwarding{};
    std::array<uint64_t, 2> forwarding_changes{};
    router::RouterEngine* router(addr::Family f) const {
        const auto& rp = f == addr::Family::v4 ? igmp_router : mld_router;
        return rp ? &rp->engine : nullptr;
    }
};

void ControlPlane::RouterPort::send_query(time_point, const wire::Query& query) {
    frames.clear();
    if (wire::encode_query(query, port.setup.frame, frames) != errc::ok) {
        ++cp.counters_.query_encode_errors;
        return;
    }
    for (const auto& f : frames) {
        ++cp.counters_.query_frames;
        port.setup.transmit(f);
    }
}

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
    if (downstream_receivers_.contains(id))
        return errc::addr_in_use;
    const bool downstream = setup.role == PortRole::downstream;
    // Its forwarding states merge into the upstream port, here or behind the link
    // (whose control plane opens the receiver: add_remote_downstream).
    if (downstream && !setup.upstream_link) {
        if (const errc e = open_downstream_receiver(id, setup.name, setup.outlet); e != errc::ok)
            return e;
    }
    auto p = std::make_unique<Port>();
    p->setup = std::move(setup);
    if (downstream)
        p->link = p->setup.upstream_link ? p->setup.upstream_link : &local_link_;
    p->sink = std::make_unique<EncodingSink>(p->setup.frame, p->setup.transmit);
    // RFC 4605 §4: downstream the proxy is the router; host engines upstream only.
    if (!downstream && p->setup.igmp) {
        p->igmp = std::make_unique<host::HostEngine>(addr::Family::v4, p->setup.igmp_config,
                                                     random_, *p->sink);
        hosts_.bind(id, addr::Family::v4, *p->igmp);
    }
    if (p->setup.mld && !downstream) {
        p->mld = std::make_unique<host::HostEngine>(addr::Family::v6, p->setup.mld_config, random_,
                                                    *p->sink);
        p->mld->set_address_ready(clock_.now(), true);
        hosts_.bind(id, addr::Family::v6, *p->mld);
    }
    if (p->setup.driver) {
        controller_.attach_device(id, *p->setup.driver);
        // A router listens to all multicast on the links it serves: IGMPv1/v2 and
        // MLDv1 reports go to the group address itself (RFC 2236 §3, RFC 2710 §5),
        // so no MAC list could hold every group a host may report.
        if (downstream)
            controller_.nic_filter(id)->force_allmulticast(true);
    }
    if (p->setup.table)
        publisher_.bind_port(id, *p->setup.table);
    if (id >= ports_.size())
        ports_.resize(size_t(id) + 1);
    const bool up = p->setup.up;
    p->up = up;
    ports_[id] = std::move(p);
    if (!downstream && !upstream_)
        upstream_ = id;
    const errc e = engine().add_port(id, up);
    if (e == errc::ok && downstream && up)
        start_routers(*ports_[id]);
    return e;
}

errc ControlPlane::add_remote_downstream(PortId id, const std::string& name,
                                         std::optional<table::OutletId> outlet) {
    if ((id < ports_.size() && ports_[id]) || downstream_receivers_.contains(id))
        return errc::addr_in_use;
    return open_downstream_receiver(id, name, outlet);
}

errc ControlPlane::open_downstream_receiver(PortId id, const std::string& name,
                                            std::optional<table::OutletId> outlet) {
    if (!upstream_)
        return errc::no_device;
    auto r = engine().open_receiver("downstream:" + name);
    if (!r)
        return r.error();
    // Nothing is forwarded onto the link until its router wins the election (RFC 4605
    // §4.2; apply() turns it on).
    for (addr::Family f : {addr::Family::v4, addr::Family::v6})
        publisher_.set_family_forwarding(*r, f, false);
    if (outlet)
        publisher_.bind_receiver(*r, *outlet);
    downstream_receivers_.emplace(id, *r);
    return errc::ok;
}

void ControlPlane::start_routers(Port& p) {
    const time_point now = clock_.now();
    if (p.setup.igmp) {
        router::RouterConfig c = p.setup.igmp_router;
        c.address = p.setup.frame.ipv4_src;
        p.igmp_router = std::make_unique<RouterPort>(*this, p, addr::Family::v4, std::move(c));
        p.igmp_router->engine.start(now);
    }
    if (p.setup.mld) {
        router::RouterConfig c = p.setup.mld_router;
        c.address = p.setup.frame.ipv6_src;
        p.mld_router = std::make_unique<RouterPort>(*this, p, addr::Family::v6, std::move(c));
        p.mld_router->engine.start(now);
    }
}

void ControlPlane::stop_routers(Port& p) {
    for (auto* rp : {&p.igmp_router, &p.mld_router}) {
        if (!*rp)
            continue;
        for (const auto& g : (*rp)->engine.groups())
            merge_downstream(p, g.group, filter::FilterState::none());
        set_forwarding(p, (*rp)->family, false); // no router, no querier
        rp->reset();
    }
}

size_t ControlPlane::family_index(addr::Family f) {
    return f == addr::Family::v4 ? 0 : 1;
}

void ControlPlane::set_forwarding(Port& p, addr::Family family, bool on) {
    bool& now_on = p.forwarding[family_index(family)];
    if (now_on == on)
        return;
    now_on = on;
    ++p.forwarding_changes[family_index(family)];
    // The receiver's memberships stay: the upstream merge covers every downstream
    // link (§4.1), whoever forwards onto it.
    p.link->send({p.setup.id, ForwardingChange{family, on}});
}

bool ControlPlane::forwarding(PortId port, addr::Family family) const {
    return port < ports_.size() && ports_[port] && ports_[port]->forwarding[family_index(family)];
}

uint64_t ControlPlane::forwarding_changes(PortId port, addr::Family family) const {
    return port < ports_.size() && ports_[port]
               ? ports_[port]->forwarding_changes[family_index(family)]
               : 0;
}

void ControlPlane::merge_downstream(const Port& p, const addr::IpAddr& group,
                                    const filter::FilterState& state) {
    // RFC 4605 §4.1 merges the subscriptions of every downstream interface; the
    // local-scope groups stay on their link (§6 does not forward them).
    if (!p.link || group.is_link_local_group())
        return;
    p.link->send({p.setup.id, FilterChange{group, state}});
}

void ControlPlane::apply(const UpstreamChange& change) {
    const std::optional<membership::ReceiverId> r = downstream_receiver(change.port);
    if (!upstream_ || !r) {
        ++counters_.proxy_failed;
        return;
    }
    if (const auto* f = std::get_if<ForwardingChange>(&change.what)) {
        publisher_.set_family_forwarding(*r, f->family, f->on);
        return;
    }
    const auto& [group, state] = std::get<FilterChange>(change.what);
    ++counters_.proxy_set_filter;
    errc e = engine().set_filter(*r, *upstream_, group, state.mode, state.sources.as_vector());
    if (e == errc::no_buffer_space) {
        ++counters_.proxy_widened;
        e = engine().set_filter(*r, *upstream_, group, filter::FilterMode::exclude, {});
    }
    if (e != errc::ok)
        ++counters_.proxy_failed;
}

router::RouterEngine* ControlPlane::router(PortId port, addr::Family family) const {
    return port < ports_.size() && ports_[port] ? ports_[port]->router(family) : nullptr;
}

std::optional<membership::ReceiverId> ControlPlane::downstream_receiver(PortId port) const {
    const auto it = downstream_receivers_.find(port);
    return it != downstream_receivers_.end() ? std::optional(it->second) : std::nullopt;
}

std::optional<PortId> ControlPlane::internal_receiver_port(membership::ReceiverId r) const {
    for (const auto& [id, receiver] : downstream_receivers_)
        if (receiver == r)
            return id;
    return std::nullopt;
}

bool ControlPlane::idle() const {
    if (hosts_.next_deadline() != time_never)
        return false;
    for (const auto& p : ports_)
        for (addr::Family f : {addr::Family::v4, addr::Family::v6})
            if (p && p->router(f) && p->router(f)->next_deadline() != time_never)
                return false;
    return true;
}

const EncodingSink* ControlPlane::sink(PortId port) const {
    return port < ports_.size() && ports_[port] ? ports_[port]->sink.get() : nullptr;
}

void ControlPlane::on_control_frame(PortId port, std::span<const uint8_t> frame) {
    ++counters_.frames;
    Controller::DeviceBatch batch(controller_); // a report's groups: one programming
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
        ++counters_.looped_back;
        return;
    }
    counters_.unknown_records += d.ignored_records;
    const addr::Family family = d.ip_dst.family();
    const time_point now = clock_.now();
    if (p.setup.role == PortRole::downstream) {
        router::RouterEngine* rt = p.router(family);
        if (!rt) {
            ++counters_.protocol_disabled;
            return;
        }
        ++counters_.router_messages;
        rt->on_message(now, d.message, d.ip_src);
        return;
    }
    host::HostEngine* h = hosts_.engine(port, family);
    if (!h) {
        ++counters_.protocol_disabled;
        return;
    }
    if (auto* q = std::get_if<wire::Query>(&d.message)) {
        ++counters_.queries;
        h->on_query(now, *q);
    } else if (auto* lr = std::get_if<wire::LegacyReport>(&d.message)) {
        ++counters_.legacy_reports;
        h->on_legacy_report(now, *lr);
    } else if (std::holds_alternative<wire::Report>(d.message)) {
        // IGMPv3 / MLDv2 reports and leaves are for routers (the downstream side);
        // a host does no report suppression in v3 (RFC 3376 §5.2, RFC 3810 §6.1).
        ++counters_.reports_heard;
    } else {
        ++counters_.leaves_heard;
    }
}

void ControlPlane::set_link(PortId port, bool up) {
    Controller::DeviceBatch batch(controller_); // every group of the port comes or goes
    if (port < ports_.size() && ports_[port]) {
        Port& p = *ports_[port];
        p.link_changes += p.up != up;
        p.up = up;
    }
    if (port < ports_.size() && ports_[port] && ports_[port]->link) {
        Port& p = *ports_[port];
        const bool running = p.igmp_router || p.mld_router;
        if (!up && running)
            stop_routers(p);
        else if (up && !running)
            start_routers(p);
    }
    engine().set_port_up(port, up);
}

uint64_t ControlPlane::link_changes(PortId port) const {
    return port < ports_.size() && ports_[port] ? ports_[port]->link_changes : 0;
}

time_point ControlPlane::poll() {
    Controller::DeviceBatch batch(controller_);
    time_point next = hosts_.run_timers();
    const time_point now = clock_.now();
    for (const auto& p : ports_) {
        if (!p)
            continue;
        for (addr::Family f : {addr::Family::v4, addr::Family::v6}) {
            router::RouterEngine* rt = p->router(f);
            if (!rt)
                continue;
            if (rt->next_deadline() <= now)
                rt->on_timer(now);
            next = std::min(next, rt->next_deadline());
        }
    }
    return next;
}

void ControlPlane::leave_all(host::HostEngine::Spacing spacing) {
    hosts_.leave_all(spacing);
}

bool ControlPlane::leaving() const {
    return hosts_.reports_pending();
}

} // namespace mcfwd::control
