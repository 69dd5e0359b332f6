// mcfwd::control::TablePublisher — keeps each port's forwarding table equal to
// the membership engine's attached receiver memberships.
//
// On every members-change event of (port, group) it re-reads the receivers
// attached there (Engine::for_each_member), maps each receiver to its outlet
// (the sink its packets go to) and replaces the group's table entry as a whole
// (PortTable::set_group: copy-on-write of that one entry, published with a
// release store, the old one retired through RCU), or removes the entry when no
// receiver is left. Forwarding lcores thus see, per group, either the old or the
// new set of outlets and filters, never a mix.
//
// A receiver without an outlet (not bound yet) is left out of the table and
// counted; a table refusal (more than table::max_outlets receivers on one
// group, out of memory) is counted and the table keeps its previous entry —
// the counters make both visible to telemetry.
//
// Thread-safety: none; runs on the control lcore inside engine calls.
#pragma once

#include "membership/engine.hpp"
#include "table/port_table.hpp"

#include <optional>
#include <unordered_map>
#include <vector>

namespace mcfwd::control {

struct PublisherStats {
    uint64_t published = 0;       // entries set
    uint64_t removed = 0;         // entries removed
    uint64_t refused = 0;         // set_group refused by the table (entry unchanged)
    uint64_t unbound_skipped = 0; // memberships left out: receiver has no outlet
};

class TablePublisher final : public membership::Listener {
public:
    /// Reads memberships from engine (which must outlive this object).
    explicit TablePublisher(const membership::Engine& engine) : engine_(engine) {}

    /// The forwarding table of port; it must outlive this object. Existing
    /// memberships of the port are published at once.
    void bind_port(membership::PortId port, table::PortTable& table);
    /// Receiver r's packets go to outlet. Its existing memberships are published.
    void bind_receiver(membership::ReceiverId r, table::OutletId outlet);
    /// Forgets r's outlet and returns it (nullopt: r had none). Call after the
    /// engine closed r: its groups were republished without it then, so no table
    /// names the outlet for r any more.
    std::optional<table::OutletId> unbind_receiver(membership::ReceiverId r);
    /// The outlet r delivers through, or nullopt.
    std::optional<table::OutletId> outlet_of(membership::ReceiverId r) const;
    /// Whether r's outlet takes packets of family f (on unless set off). While off, r is
    /// left out of every entry of an f group, as if it had no outlet, but its memberships
    /// stay in the engine (so the ports' merged state, reports and NIC filters do not
    /// change). The proxy turns a downstream port's receiver off for a family while it is
    /// not the link's querier (RFC 4605 §4.2). A change republishes r's groups of f.
    void set_family_forwarding(membership::ReceiverId r, addr::Family f, bool on);
    bool family_forwarding(membership::ReceiverId r, addr::Family f) const;

    const PublisherStats& stats() const noexcept { return stats_; }

    void on_group_change(membership::PortId, const addr::IpAddr&, const filter::FilterState&,
                         const filter::FilterState&) override {}
    void on_allmulti_change(membership::PortId, bool) override {}
    void on_members_change(membership::PortId port, const addr::IpAddr& group) override {
        publish(port, group);
    }

private:
    void publish(membership::PortId port, const addr::IpAddr& group);
    void publish_port(membership::PortId port);
    void publish_receiver(membership::ReceiverId r, std::optional<addr::Family> only);
    bool muted(membership::ReceiverId r, const addr::IpAddr& group) const;

    const membership::Engine& engine_;
    std::vector<table::PortTable*> tables_; // by port id
    std::unordered_map<membership::ReceiverId, table::OutletId> outlets_;
    // Receivers with a family off: bit family_bit(f) set. Absent: both on.
    std::unordered_map<membership::ReceiverId, uint8_t> muted_;
    std::vector<table::OutletFilter> scratch_;
    PublisherStats stats_;
};

} // namespace mcfwd::control
