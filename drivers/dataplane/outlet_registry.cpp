#include "dataplane/outlet_registry.hpp"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

namespace mcfwd::dataplane {

OutletRegistry::OutletRegistry(std::vector<const LcoreCounters*> lcores,
                               table::Reclaimer& reclaimer, int socket)
    : lcores_(std::move(lcores)), sets_(std::make_unique<OutletSet[]>(lcores_.size())),
      reclaimer_(reclaimer), socket_(socket) {}

// Rings are left to the process's end: a consumer may still be attached to one
// (a secondary process maps them until it exits).
OutletRegistry::~OutletRegistry() = default;

void OutletRegistry::allow_port_sink(uint16_t port, std::string name) {
    sink_ports_[port] = std::move(name);
}

std::optional<table::OutletId> OutletRegistry::free_id() const noexcept {
    for (table::OutletId id = 0; id < slots_.size(); ++id)
        if (slots_[id].state == State::free)
            return id;
    return std::nullopt;
}

uint64_t OutletRegistry::delivered_total(table::OutletId id) const noexcept {
    // Each lcore's own counter, read while it counts (aligned 64-bit loads).
    uint64_t n = 0;
    for (const LcoreCounters* c : lcores_)
        n += __atomic_load_n(&c->delivered[id], __ATOMIC_RELAXED);
    return n;
}

Result<table::OutletId> OutletRegistry::install(std::string_view owner, std::string sink,
                                                rte_ring* ring,
                                                const std::function<Outlet(size_t)>& make) {
    const auto id = free_id();
    if (!id)
        return errc::no_buffer_space;
    for (size_t i = 0; i < lcores_.size(); ++i)
        if (errc e = sets_[i].put(*id, make(i)); e != errc::ok) {
            while (i-- > 0)
                sets_[i].remove(*id);
            return e;
        }
    Slot& s = slots_[*id];
    s.state = State::open;
    s.owner = std::string(owner);
    s.sink = std::move(sink);
    s.ring = ring;
    // The lcores' delivered counters of this id only grow: a reused id starts
    // from what its earlier owners delivered.
    s.base = delivered_total(*id);
    return *id;
}

Result<table::OutletId> OutletRegistry::open_routed(std::string_view owner, uint16_t port,
                                                    std::string name, const addr::MacAddr& mac,
                                                    std::optional<uint16_t> vlan) {
    std::lock_guard lock(mutex_);
    return install(owner, "routed port " + name, nullptr, [&](size_t i) {
        return Outlet::routed_tx(port, static_cast<uint16_t>(i), mac, vlan);
    });
}

Result<table::OutletId> OutletRegistry::open(std::string_view owner,
                                             const control::SinkRequest& request) {
    std::lock_guard lock(mutex_);
    if (!free_id()) // before a ring is made for nothing
        return errc::no_buffer_space;
    if (request.kind == control::SinkRequest::Kind::port) {
        auto it = sink_ports_.find(request.port);
        if (it == sink_ports_.end())
            return errc::invalid;
        return install(owner, "port " + it->second, nullptr, [&](size_t i) {
            return Outlet::tx(request.port, static_cast<uint16_t>(i));
        });
    }
    // Multi-producer (every forwarding lcore enqueues), multi-consumer (the
    // consumer, and this registry draining it after close).
    rte_ring* r = rte_ring_create(request.ring.c_str(), request.ring_size, socket_, 0);
    if (!r)
        return rte_errno == EEXIST         ? errc::exists
               : rte_errno == EINVAL       ? errc::invalid
               : rte_errno == ENAMETOOLONG ? errc::invalid
                                           : errc::no_memory;
    auto id = install(owner, "ring " + request.ring, r,
                      [&](size_t) { return Outlet::ring_sink(r); });
    if (!id)
        rte_ring_free(r);
    return id;
}

void OutletRegistry::close(table::OutletId id) {
    Slot& s = slots_[id];
    {
        std::lock_guard lock(mutex_);
        if (s.state != State::open)
            return;
        s.state = State::closing;
        ++closing_;
    }
    // Unlocked: a full defer queue may end grace periods (free_slot) right here.
    reclaimer_.retire(&s, &OutletRegistry::free_slot, this);
}

// After the grace period: no lcore holds an entry naming the id, and none is
// between an enqueue and its quiescent state.
void OutletRegistry::free_slot(void* self, void* slot) noexcept {
    auto& reg = *static_cast<OutletRegistry*>(self);
    auto& s = *static_cast<Slot*>(slot);
    std::lock_guard lock(reg.mutex_);
    const auto id = static_cast<table::OutletId>(&s - reg.slots_.data());
    for (size_t i = 0; i < reg.lcores_.size(); ++i)
        reg.sets_[i].remove(id);
    if (s.ring) {
        void* m[64];
        unsigned n;
        while ((n = rte_ring_dequeue_burst(s.ring, m, 64, nullptr)) > 0)
            for (unsigned k = 0; k < n; ++k)
                rte_pktmbuf_free(static_cast<rte_mbuf*>(m[k]));
        rte_ring_free(s.ring);
    }
    s = Slot{};
    --reg.closing_;
}

uint64_t OutletRegistry::delivered(table::OutletId id) const {
    std::lock_guard lock(mutex_);
    return delivered_locked(id);
}

uint64_t OutletRegistry::delivered_locked(table::OutletId id) const noexcept {
    if (id >= slots_.size() || slots_[id].state == State::free)
        return 0;
    return delivered_total(id) - slots_[id].base;
}

std::string OutletRegistry::describe(table::OutletId id) const {
    std::lock_guard lock(mutex_);
    return id < slots_.size() ? slots_[id].sink : std::string();
}

void OutletRegistry::for_each(const std::function<void(table::OutletId, const Info&)>& fn) const {
    std::lock_guard lock(mutex_); // fn must not call back into the registry
    for (table::OutletId id = 0; id < slots_.size(); ++id) {
        const Slot& s = slots_[id];
        if (s.state == State::open)
            fn(id, Info{s.owner, s.sink, s.ring, delivered_locked(id)});
    }
}

} // namespace mcfwd::dataplane
