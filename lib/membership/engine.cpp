#include "membership/engine.hpp"

#include <cassert>
#include <utility>

namespace mcfwd::membership {

using filter::FilterMerger;

struct Engine::Key {
    PortId port;
    IpAddr group;
    friend bool operator==(const Key&, const Key&) = default;
};

struct Engine::KeyHash {
    size_t operator()(const Key& k) const noexcept {
        return addr::IpAddrHash{}(k.group) ^ (size_t(k.port) * 0x9e3779b97f4a7c15ULL);
    }
};

// The seed's ilg. Lives in its receiver's map (node-based, so the address is
// stable while it exists); attached memberships are also listed in their
// PortGroup, at index `slot`.
struct Engine::Membership {
    ReceiverId receiver;
    PortId port;
    IpAddr group;
    FilterState filter; // never none()
    bool attached = false;
    uint32_t slot = 0;
};

struct Engine::Receiver {
    ReceiverId id;
    std::string name;
    std::unordered_map<Key, Membership, KeyHash> memberships;
};

// The seed's ilm: exists exactly while the port is up and has at least one
// attached membership or unfiltered join for the group; `merged` is then never
// none().
struct Engine::PortGroup {
    FilterState merged;
    std::vector<Membership*> members;
};

struct Engine::Port {
    PortId id;
    bool present = false;
    bool up = false;
    uint32_t allmulti = 0;
    std::unordered_map<IpAddr, PortGroup> groups;
    // Unfiltered join counts; kept while the port is down, purged on removal.
    std::unordered_map<IpAddr, uint32_t> unfiltered;
};

namespace {
const FilterState k_none{};
}

Engine::Engine(Limits limits, Listener* listener) : limits_(limits), listener_(listener) {}
Engine::~Engine() = default;

// ---- helpers -------------------------------------------------------------------

Engine::Receiver* Engine::find_receiver_ptr(ReceiverId r) {
    auto it = receivers_.find(r);
    return it == receivers_.end() ? nullptr : it->second.get();
}

Engine::Port* Engine::present_port(PortId port) {
    if (port >= ports_.size() || !ports_[port] || !ports_[port]->present)
        return nullptr;
    return ports_[port].get();
}

Engine::Port& Engine::port_slot(PortId port) {
    if (port >= ports_.size())
        ports_.resize(size_t(port) + 1);
    if (!ports_[port]) {
        ports_[port] = std::make_unique<Port>();
        ports_[port]->id = port;
    }
    return *ports_[port];
}

// Seed ip_opt_check / ip_addmulti_serial: the group must be multicast.
errc Engine::check_group(const IpAddr& group) {
    return group.is_multicast() ? errc::ok : errc::invalid;
}

// Seed ip_opt_check: a source must be unicast and of the group's family.
errc Engine::check_source(const IpAddr& group, const IpAddr& source) {
    if (source.is_multicast() || source.is_unspecified() || source.is_v4() != group.is_v4())
        return errc::invalid;
    return errc::ok;
}

Engine::Membership* Engine::find_membership(Receiver& rcv, PortId port, const IpAddr& group) {
    auto it = rcv.memberships.find(Key{port, group});
    return it == rcv.memberships.end() ? nullptr : &it->second;
}

void Engine::attach(Port& p, Membership& m) {
    PortGroup& pg = p.groups[m.group];
    m.attached = true;
    m.slot = static_cast<uint32_t>(pg.members.size());
    pg.members.push_back(&m);
}

void Engine::detach(Port& p, Membership& m) {
    assert(m.attached);
    auto& members = p.groups.at(m.group).members;
    Membership* last = members.back();
    members[m.slot] = last;
    last->slot = m.slot;
    members.pop_back();
    m.attached = false;
}

void Engine::update_group(Port& p, IpAddr group) {
    auto it = p.groups.find(group);
    if (it == p.groups.end())
        return;
    PortGroup& pg = it->second;
    FilterMerger merger(limits_.max_merged_sources);
    if (!p.unfiltered.empty()) {
        auto u = p.unfiltered.find(group);
        if (u != p.unfiltered.end())
            merger.add_unfiltered();
    }
    for (const Membership* m : pg.members) {
        if (merger.settled())
            break;
        merger.add(m->filter);
    }
    FilterState next = merger.result();
    if (next == pg.merged)
        return;
    FilterState prev = std::exchange(pg.merged, next);
    if (!next.is_member())
        p.groups.erase(it);
    ++stats_.events;
    if (listener_)
        listener_->on_group_change(p.id, group, prev, next);
}

void Engine::create_membership(Receiver& rcv, PortId port, const IpAddr& group,
                               FilterState filter) {
    auto [it, inserted] = rcv.memberships.try_emplace(Key{port, group});
    assert(inserted);
    Membership& m = it->second;
    m.receiver = rcv.id;
    m.port = port;
    m.group = group;
    m.filter = std::move(filter);
    // Seed ilg_add on an interface that is down (ENETDOWN): the membership is
    // kept detached and joins when the port comes up.
    Port& p = *ports_[port];
    if (p.present && p.up) {
        attach(p, m);
        update_group(p, group);
        members_changed(port, group);
    }
}

void Engine::delete_membership(Receiver& rcv, Membership& m) {
    const PortId port = m.port;
    const IpAddr group = m.group;
    const bool was_attached = m.attached;
    if (was_attached)
        detach(*ports_[port], m);
    rcv.memberships.erase(Key{port, group});
    if (was_attached) {
        update_group(*ports_[port], group);
        members_changed(port, group);
    }
}

void Engine::membership_changed(Membership& m) {
    if (m.attached) {
        update_group(*ports_[m.port], m.group);
        members_changed(m.port, m.group);
    }
}

void Engine::detach_all(Port& p) {
    for (auto& [id, rcv] : receivers_)
        for (auto& [key, m] : rcv->memberships)
            if (key.port == p.id)
                m.attached = false;
    // Take the merged state out first so that listeners see a consistent engine.
    auto groups = std::move(p.groups);
    p.groups.clear();
    for (auto& [group, pg] : groups) {
        ++stats_.events;
        if (listener_)
            listener_->on_group_change(p.id, group, pg.merged, k_none);
        if (!pg.members.empty())
            members_changed(p.id, group);
    }
}

void Engine::reattach_all(Port& p) {
    for (auto& [id, rcv] : receivers_)
        for (auto& [key, m] : rcv->memberships)
            if (key.port == p.id && !m.attached)
                attach(p, m);
    for (auto& [group, count] : p.unfiltered)
        p.groups.try_emplace(group);
    // Compute every merged filter before announcing any.
    std::vector<IpAddr> joined;
    joined.reserve(p.groups.size());
    for (auto& [group, pg] : p.groups) {
        FilterMerger merger(limits_.max_merged_sources);
        if (p.unfiltered.count(group))
            merger.add_unfiltered();
        for (const Membership* m : pg.members)
            merger.add(m->filter);
        pg.merged = merger.result();
        joined.push_back(group);
    }
    for (const IpAddr& group : joined) {
        const PortGroup& pg = p.groups.at(group);
        ++stats_.events;
        if (listener_)
            listener_->on_group_change(p.id, group, k_none, pg.merged);
        if (!pg.members.empty())
            members_changed(p.id, group);
    }
}

// ---- ports ---------------------------------------------------------------------

errc Engine::add_port(PortId port, bool up) {
    Port& p = port_slot(port);
    if (p.present)
        return count(errc::addr_in_use);
    p.present = true;
    p.up = false;
    if (up) {
        p.up = true;
        reattach_all(p);
    }
    return count(errc::ok);
}

errc Engine::remove_port(PortId port) {
    Port* p = present_port(port);
    if (!p)
        return count(errc::no_device);
    if (p->up)
        detach_all(*p);
    p->up = false;
    p->present = false;
    p->unfiltered.clear();
    if (p->allmulti > 0) { // seed ip_purge_allmulti
        p->allmulti = 0;
        if (listener_)
            listener_->on_allmulti_change(port, false);
    }
    return count(errc::ok);
}

errc Engine::set_port_up(PortId port, bool up) {
    Port* p = present_port(port);
    if (!p)
        return count(errc::no_device);
    if (p->up != up) {
        p->up = up;
        if (up)
            reattach_all(*p);
        else
            detach_all(*p);
    }
    return count(errc::ok);
}

// ---- receivers -----------------------------------------------------------------

Result<ReceiverId> Engine::open_receiver(std::string_view name) {
    if (name.empty())
        return count(errc::invalid);
    if (receiver_names_.find(name) != receiver_names_.end())
        return count(errc::addr_in_use);
    ReceiverId id = next_receiver_id_++;
    auto rcv = std::make_unique<Receiver>();
    rcv->id = id;
    rcv->name = std::string(name);
    receiver_names_.emplace(rcv->name, id);
    receivers_.emplace(id, std::move(rcv));
    count(errc::ok);
    return id;
}

errc Engine::close_receiver(ReceiverId r) {
    Receiver* rcv = find_receiver_ptr(r);
    if (!rcv)
        return count(errc::not_found);
    // Seed ilg_delete_all: leave every membership, one group at a time.
    while (!rcv->memberships.empty())
        delete_membership(*rcv, rcv->memberships.begin()->second);
    receiver_names_.erase(rcv->name);
    receivers_.erase(r);
    return count(errc::ok);
}

Result<ReceiverId> Engine::find_receiver(std::string_view name) const {
    auto it = receiver_names_.find(name);
    if (it == receiver_names_.end())
        return errc::not_found;
    return it->second;
}

std::string_view Engine::receiver_name(ReceiverId r) const {
    auto it = receivers_.find(r);
    return it == receivers_.end() ? std::string_view{} : std::string_view(it->second->name);
}

// ---- memberships ---------------------------------------------------------------

errc Engine::join(ReceiverId r, PortId port, const IpAddr& group) {
    errc e;
    Receiver* rcv = checked(r, group, nullptr, e);
    if (!rcv)
        return count(e);
    if (!present_port(port))
        return count(errc::no_device);
    if (find_membership(*rcv, port, group))
        return count(errc::addr_in_use);
    create_membership(*rcv, port, group, FilterState::any_source());
    return count(errc::ok);
}

// Seed ip_opt_check, in the order documented in the header: the receiver, the
// group, the source (when the call names one). Sets e and returns null on error.
Engine::Receiver* Engine::checked(ReceiverId r, const IpAddr& group, const IpAddr* source,
                                  errc& e) {
    Receiver* rcv = find_receiver_ptr(r);
    e = !rcv                                                 ? errc::not_found
        : check_group(group) != errc::ok                     ? errc::invalid
        : source && check_source(group, *source) != errc::ok ? errc::invalid
                                                             : errc::ok;
    return e == errc::ok ? rcv : nullptr;
}

// Seed ilg_add with a source: join_source (INCLUDE: may create the membership)
// and block (EXCLUDE: the membership must exist).
errc Engine::add_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source,
                        FilterMode mode) {
    errc e;
    Receiver* rcv = checked(r, group, &source, e);
    if (!rcv)
        return count(e);
    if (!present_port(port))
        return count(errc::no_device);
    Membership* m = find_membership(*rcv, port, group);
    if (!m) {
        if (mode == FilterMode::exclude)
            return count(errc::addr_not_avail);
        create_membership(*rcv, port, group, {FilterMode::include, {source}});
        return count(errc::ok);
    }
    // A full list is ENOBUFS before the mode is looked at, as in the seed.
    if (m->filter.sources.size() >= limits_.max_filter_sources)
        return count(errc::no_buffer_space);
    if (m->filter.mode != mode)
        return count(errc::invalid);
    if (!m->filter.sources.insert(source))
        return count(errc::addr_not_avail);
    membership_changed(*m);
    return count(errc::ok);
}

// Seed ip_opt_delete_group_excl with a source: leave_source (INCLUDE: the last
// source leaves) and unblock (EXCLUDE: never leaves). A detached membership can
// be changed even on a removed port; without one, a bad port is ENXIO, else
// EADDRNOTAVAIL.
errc Engine::remove_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source,
                           FilterMode mode) {
    errc e;
    Receiver* rcv = checked(r, group, &source, e);
    if (!rcv)
        return count(e);
    Membership* m = find_membership(*rcv, port, group);
    if (!m)
        return count(present_port(port) ? errc::addr_not_avail : errc::no_device);
    if (m->filter.mode != mode)
        return count(errc::invalid);
    if (!m->filter.sources.contains(source))
        return count(errc::addr_not_avail);
    if (mode == FilterMode::include && m->filter.sources.size() == 1) {
        delete_membership(*rcv, *m);
        return count(errc::ok);
    }
    m->filter.sources.erase(source);
    membership_changed(*m);
    return count(errc::ok);
}

errc Engine::join_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source) {
    return add_source(r, port, group, source, FilterMode::include);
}

errc Engine::block(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source) {
    return add_source(r, port, group, source, FilterMode::exclude);
}

errc Engine::leave_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source) {
    return remove_source(r, port, group, source, FilterMode::include);
}

errc Engine::unblock(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source) {
    return remove_source(r, port, group, source, FilterMode::exclude);
}

errc Engine::leave(ReceiverId r, PortId port, const IpAddr& group) {
    errc e;
    Receiver* rcv = checked(r, group, nullptr, e);
    if (!rcv)
        return count(e);
    Membership* m = find_membership(*rcv, port, group);
    if (!m)
        return count(present_port(port) ? errc::addr_not_avail : errc::no_device);
    delete_membership(*rcv, *m);
    return count(errc::ok);
}

errc Engine::set_filter(ReceiverId r, PortId port, const IpAddr& group, FilterMode mode,
                        const std::vector<IpAddr>& sources) {
    Receiver* rcv = find_receiver_ptr(r);
    if (!rcv)
        return count(errc::not_found);
    if (errc e = check_group(group); e != errc::ok)
        return count(e);
    for (const IpAddr& s : sources)
        if (errc e = check_source(group, s); e != errc::ok)
            return count(e);
    if (!present_port(port))
        return count(errc::no_device);
    // Prepared on the side; nothing is touched until it is known to succeed.
    FilterState next{mode, SourceSet::from_unsorted(sources)};
    if (next.sources.size() > limits_.max_filter_sources)
        return count(errc::no_buffer_space);
    Membership* m = find_membership(*rcv, port, group);
    if (m && m->filter == next) // nothing changes: nothing to announce
        return count(errc::ok);
    if (!next.is_member()) { // (INCLUDE, {}) is a leave
        if (m)
            delete_membership(*rcv, *m);
        return count(errc::ok);
    }
    if (m) {
        m->filter = std::move(next);
        membership_changed(*m);
    } else
        create_membership(*rcv, port, group, std::move(next));
    return count(errc::ok);
}

Result<FilterState> Engine::get_filter(ReceiverId r, PortId port, const IpAddr& group) const {
    auto self = const_cast<Engine*>(this);
    Receiver* rcv = self->find_receiver_ptr(r);
    if (!rcv)
        return errc::not_found;
    if (errc e = check_group(group); e != errc::ok)
        return e;
    if (!self->present_port(port))
        return errc::no_device;
    Membership* m = self->find_membership(*rcv, port, group);
    if (!m)
        return errc::addr_not_avail;
    return m->filter;
}

errc Engine::join_unfiltered(PortId port, const IpAddr& group) {
    if (errc e = check_group(group); e != errc::ok)
        return count(e);
    Port* p = present_port(port);
    if (!p)
        return count(errc::no_device);
    ++p->unfiltered[group];
    if (p->up) {
        p->groups.try_emplace(group);
        update_group(*p, group);
    }
    return count(errc::ok);
}

errc Engine::leave_unfiltered(PortId port, const IpAddr& group) {
    if (errc e = check_group(group); e != errc::ok)
        return count(e);
    Port* p = present_port(port);
    if (!p)
        return count(errc::no_device);
    auto it = p->unfiltered.find(group);
    if (it == p->unfiltered.end())
        return count(errc::addr_not_avail);
    if (--it->second == 0)
        p->unfiltered.erase(it);
    if (p->up)
        update_group(*p, group);
    return count(errc::ok);
}

errc Engine::join_all(PortId port) {
    Port* p = present_port(port);
    if (!p)
        return count(errc::no_device);
    if (p->allmulti++ == 0 && listener_)
        listener_->on_allmulti_change(port, true);
    return count(errc::ok);
}

errc Engine::leave_all(PortId port) {
    Port* p = present_port(port);
    if (!p)
        return count(errc::no_device);
    if (p->allmulti > 0 && --p->allmulti == 0 && listener_)
        listener_->on_allmulti_change(port, false);
    return count(errc::ok);
}

// ---- reading state -------------------------------------------------------------

std::optional<PortGroupView> Engine::port_group(PortId port, const IpAddr& group) const {
    if (port >= ports_.size() || !ports_[port])
        return std::nullopt;
    const Port& p = *ports_[port];
    auto it = p.groups.find(group);
    if (it == p.groups.end())
        return std::nullopt;
    uint32_t unf = 0;
    if (auto u = p.unfiltered.find(group); u != p.unfiltered.end())
        unf = u->second;
    return PortGroupView{it->second.merged, static_cast<uint32_t>(it->second.members.size()), unf};
}

const FilterState& Engine::port_filter(PortId port, const IpAddr& group) const {
    if (port >= ports_.size() || !ports_[port])
        return k_none;
    auto it = ports_[port]->groups.find(group);
    return it == ports_[port]->groups.end() ? k_none : it->second.merged;
}

void Engine::for_each_port_group(
    PortId port, const std::function<void(const IpAddr&, const PortGroupView&)>& fn) const {
    if (port >= ports_.size() || !ports_[port])
        return;
    const Port& p = *ports_[port];
    for (const auto& [group, pg] : p.groups) {
        uint32_t unf = 0;
        if (auto u = p.unfiltered.find(group); u != p.unfiltered.end())
            unf = u->second;
        fn(group, PortGroupView{pg.merged, static_cast<uint32_t>(pg.members.size()), unf});
    }
}

void Engine::for_each_member(PortId port, const IpAddr& group,
                             const std::function<void(ReceiverId, const FilterState&)>& fn) const {
    if (port >= ports_.size() || !ports_[port])
        return;
    auto it = ports_[port]->groups.find(group);
    if (it == ports_[port]->groups.end())
        return;
    for (const Membership* m : it->second.members)
        fn(m->receiver, m->filter);
}

std::optional<PortView> Engine::port(PortId port) const {
    if (port >= ports_.size() || !ports_[port])
        return std::nullopt;
    const Port& p = *ports_[port];
    return PortView{p.present, p.up, p.allmulti, p.groups.size()};
}

void Engine::for_each_membership(ReceiverId r,
                                 const std::function<void(const MembershipView&)>& fn) const {
    auto it = receivers_.find(r);
    if (it == receivers_.end())
        return;
    for (const auto& [key, m] : it->second->memberships)
        fn(MembershipView{m.port, m.group, m.filter, m.attached});
}

void Engine::for_each_receiver(const std::function<void(ReceiverId, std::string_view)>& fn) const {
    for (const auto& [id, rcv] : receivers_)
        fn(id, rcv->name);
}

} // namespace mcfwd::membership
