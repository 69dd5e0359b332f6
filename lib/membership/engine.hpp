// mcfwd::membership::Engine — receivers' multicast memberships and the merged
// membership of each port.
//
// This is the user-space counterpart of illumos ip_multi.c (the seed):
//
//   seed                         here
//   conn_t                       receiver (a local consumer: feed handler, recorder)
//   ilg (per conn, group, ill)   ReceiverMembership: one receiver's filter on one port
//   ilm (per ill, group)         PortGroup: the merged filter of a port for a group
//   ilm_no_ilg_cnt               unfiltered joins (join_unfiltered): force (EXCLUDE, {})
//   ip_join_allmulti             join_all: reference-counted allmulticast per port
//   ilg_check_detach/_reattach   set_port_up(false / true), remove_port / add_port
//   ilg_delete_all               close_receiver
//
// Operations and their error codes follow the seed's option tables (the
// comments above ip_opt_add_group and ip_opt_delete_group):
//
//   operation      socket option               mode     needs a membership?
//   join           IP_ADD_MEMBERSHIP et al.    EXCLUDE  must not exist  (EADDRINUSE)
//   join_source    IP_ADD_SOURCE_MEMBERSHIP    INCLUDE  may exist
//   block          IP_BLOCK_SOURCE             EXCLUDE  must exist      (EADDRNOTAVAIL)
//   leave          IP_DROP_MEMBERSHIP          any      must exist      (EADDRNOTAVAIL)
//   leave_source   IP_DROP_SOURCE_MEMBERSHIP   INCLUDE  must exist; the last source leaves
//   unblock        IP_UNBLOCK_SOURCE           EXCLUDE  must exist
//   set_filter     SIOCSMSFILTER               any      (INCLUDE, {}) = leave
//   get_filter     SIOCGMSFILTER               any      must exist
//
// A one-source call on a membership of the other mode is EINVAL; a source
// already present (join_source, block) or absent (leave_source, unblock) is
// EADDRNOTAVAIL; a full source list is ENOBUFS; a non-multicast group, a
// multicast or unspecified source, or a source of the other family is EINVAL;
// an unknown or removed port is ENXIO; an unknown receiver is ENOENT.
// Checks are made in that order: arguments, then the port (for calls that
// create or grow a membership, and for set/get filter), then the membership.
// A call that fails changes nothing.
//
// Every change of a port's merged filter for a group is announced once to the
// Listener as (port, group, old, new), where FilterState::none() =
// (INCLUDE, {}) means "not a member"; nothing is announced when the merged
// filter did not change. The IGMP/MLD host engine, the NIC filter manager and
// the forwarding tables all consume these events.
//
// Thread-safety: none. One control lcore owns the engine (the only writer of
// membership state); other threads reach it through requests to that lcore.
#pragma once

#include "addr/ip_addr.hpp"
#include "base/errc.hpp"
#include "base/result.hpp"
#include "filter/filter_state.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcfwd::membership {

using addr::IpAddr;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

using PortId = uint16_t;     // the DPDK port id
using ReceiverId = uint32_t; // assigned by open_receiver, never reused

struct Limits {
    /// Sources in one receiver's filter (illumos MAX_FILTER_SIZE is 64). join_source
    /// and block on a full list, and set_filter with more, fail with ENOBUFS.
    size_t max_filter_sources = 64;
    /// Sources in a port's merged INCLUDE list; beyond it the merged filter becomes
    /// (EXCLUDE, {}) (illumos: include-list overflow in ilm_gen_filter).
    size_t max_merged_sources = 64;
};

/// Receives the engine's events. Called synchronously from inside the engine
/// call that caused them, after the engine's state is consistent; a listener
/// may read the engine but must not change it.
class Listener {
public:
    virtual ~Listener() = default;
    /// The merged filter of (port, group) changed. old_filter == none(): the port
    /// joined the group; new_filter == none(): the port left it.
    virtual void on_group_change(PortId port, const IpAddr& group, const FilterState& old_filter,
                                 const FilterState& new_filter) = 0;
    /// The port's join-all count went from 0 to 1 (on) or back to 0 (off).
    virtual void on_allmulti_change(PortId port, bool on) = 0;
    /// The attached receiver memberships of (port, group) changed: one was attached
    /// or detached, or one's filter changed — even when the merged filter did not
    /// (receiver B blocking a source receiver A includes). Consumers that deliver
    /// per receiver (the forwarding tables) re-read them with for_each_member().
    /// Announced after on_group_change() when both apply.
    virtual void on_members_change(PortId port, const IpAddr& group) {
        (void)port;
        (void)group;
    }
};

/// A port's merged membership in one group (the seed's ilm).
struct PortGroupView {
    const FilterState& filter; // never none()
    uint32_t receivers;        // attached receiver memberships
    uint32_t unfiltered;       // join_unfiltered count
    uint32_t refcount() const noexcept { return receivers + unfiltered; }
};

/// One receiver's membership (the seed's ilg).
struct MembershipView {
    PortId port;
    const IpAddr& group;
    const FilterState& filter; // never none()
    bool attached;             // false while its port is down or removed
};

struct PortView {
    bool present; // added and not removed
    bool up;
    uint32_t allmulti_count;
    size_t groups; // merged memberships (attached)
};

struct Stats {
    uint64_t ok = 0;            // calls that succeeded
    uint64_t failed = 0;        // calls that returned an error (and changed nothing)
    uint64_t events = 0;        // group-change events announced
    uint64_t member_events = 0; // members-change events announced
};

class Engine {
public:
    explicit Engine(Limits limits = {}, Listener* listener = nullptr);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    const Limits& limits() const noexcept { return limits_; }

    // ---- ports ----------------------------------------------------------------
    /// Makes a port known (seed: an ill is plumbed). Memberships left detached by
    /// an earlier remove_port of the same id reattach when the port is up.
    /// EADDRINUSE if the port is present already.
    errc add_port(PortId port, bool up = true);
    /// The port is gone: every membership on it detaches (receivers keep their
    /// wish and may still leave it), unfiltered joins and join-all are purged
    /// (ip_purge_allmulti). ENXIO if not present.
    errc remove_port(PortId port);
    /// Link state: down detaches every membership on the port (announcing each
    /// merged group as left); up reattaches them (announcing each as joined).
    /// ENXIO if not present. Setting the state it already has is a no-op.
    errc set_port_up(PortId port, bool up);

    // ---- receivers ------------------------------------------------------------
    /// A new receiver with a unique, non-empty name. EADDRINUSE for a name in use,
    /// EINVAL for an empty one.
    Result<ReceiverId> open_receiver(std::string_view name);
    /// Leaves every membership of the receiver and forgets it (ilg_delete_all).
    /// ENOENT if unknown.
    errc close_receiver(ReceiverId receiver);
    /// ENOENT if no receiver has that name.
    Result<ReceiverId> find_receiver(std::string_view name) const;
    /// The receiver's name; empty if unknown.
    std::string_view receiver_name(ReceiverId receiver) const;

    // ---- memberships (see the table above) -------------------------------------
    errc join(ReceiverId r, PortId port, const IpAddr& group);
    errc leave(ReceiverId r, PortId port, const IpAddr& group);
    errc join_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source);
    errc leave_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source);
    errc block(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source);
    errc unblock(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source);
    /// Replaces the receiver's whole filter atomically. (INCLUDE, {}) leaves (and
    /// succeeds when there is nothing to leave). Duplicate sources are merged.
    errc set_filter(ReceiverId r, PortId port, const IpAddr& group, FilterMode mode,
                    const std::vector<IpAddr>& sources);
    /// The receiver's filter. EADDRNOTAVAIL if it has no membership there.
    Result<FilterState> get_filter(ReceiverId r, PortId port, const IpAddr& group) const;

    /// A membership with no filter of its own (the seed's ILGSTAT_NONE joins, used
    /// by the system itself, e.g. to hear queries): reference counted, forces the
    /// merged filter to (EXCLUDE, {}). ENXIO for an unknown port, EINVAL for a
    /// non-multicast group; leave_unfiltered without a join is EADDRNOTAVAIL.
    errc join_unfiltered(PortId port, const IpAddr& group);
    errc leave_unfiltered(PortId port, const IpAddr& group);

    /// Reference-counted "receive every multicast group" on a port (monitors;
    /// seed ip_join_allmulti). ENXIO for an unknown port. leave_all with nothing
    /// joined succeeds, as in the seed (a port removal may have purged it).
    errc join_all(PortId port);
    errc leave_all(PortId port);

    // ---- reading state -----------------------------------------------------------
    /// The port's merged membership of a group; nullopt when the port is not a member.
    std::optional<PortGroupView> port_group(PortId port, const IpAddr& group) const;
    /// The port's merged filter (none() when not a member).
    const FilterState& port_filter(PortId port, const IpAddr& group) const;
    /// Visits every merged membership of the port (unordered).
    void
    for_each_port_group(PortId port,
                        const std::function<void(const IpAddr&, const PortGroupView&)>& fn) const;
    /// Visits the attached receiver memberships of (port, group) (unordered).
    void for_each_member(PortId port, const IpAddr& group,
                         const std::function<void(ReceiverId, const FilterState&)>& fn) const;
    std::optional<PortView> port(PortId port) const;
    /// Visits every membership of the receiver (unordered).
    void for_each_membership(ReceiverId r,
                             const std::function<void(const MembershipView&)>& fn) const;
    /// Visits every open receiver.
    void for_each_receiver(const std::function<void(ReceiverId, std::string_view)>& fn) const;
    const Stats& stats() const noexcept { return stats_; }

private:
    struct Receiver;
    struct Membership;
    struct PortGroup;
    struct Port;
    struct Key;
    struct KeyHash;

    errc count(errc e) {
        ++(e == errc::ok ? stats_.ok : stats_.failed);
        return e;
    }
    Receiver* find_receiver_ptr(ReceiverId r);
    Port* present_port(PortId port);
    Port& port_slot(PortId port);
    static errc check_group(const IpAddr& group);
    static errc check_source(const IpAddr& group, const IpAddr& source);
    Membership* find_membership(Receiver& rcv, PortId port, const IpAddr& group);
    Receiver* checked(ReceiverId r, const IpAddr& group, const IpAddr* source, errc& e);
    errc add_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source,
                    FilterMode mode);
    errc remove_source(ReceiverId r, PortId port, const IpAddr& group, const IpAddr& source,
                       FilterMode mode);

    /// Creates a membership with the given filter and attaches it if its port is up.
    void create_membership(Receiver& rcv, PortId port, const IpAddr& group, FilterState filter);
    /// Removes a membership (the seed's ilg_delete of the whole ilg).
    void delete_membership(Receiver& rcv, Membership& m);
    /// After a membership's filter changed in place: updates its port.
    void membership_changed(Membership& m);
    void attach(Port& p, Membership& m);
    void detach(Port& p, Membership& m);
    /// Recomputes (port, group)'s merged filter from its members; announces and
    /// drops the PortGroup when it changed / became empty.
    void update_group(Port& p, IpAddr group);
    void members_changed(PortId port, const IpAddr& group) {
        ++stats_.member_events;
        if (listener_)
            listener_->on_members_change(port, group);
    }
    void detach_all(Port& p);
    void reattach_all(Port& p);

    Limits limits_;
    Listener* listener_;
    Stats stats_;
    ReceiverId next_receiver_id_ = 1;
    std::unordered_map<ReceiverId, std::unique_ptr<Receiver>> receivers_;
    struct NameHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, ReceiverId, NameHash, std::equal_to<>> receiver_names_;
    std::vector<std::unique_ptr<Port>> ports_; // indexed by PortId; null = never added
};

} // namespace mcfwd::membership
