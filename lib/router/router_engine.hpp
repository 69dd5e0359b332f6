// mcfwd::router — the multicast router side of IGMPv3 (RFC 3376 §6, §7) and MLDv2
// (RFC 3810 §7, §8) for one downstream port and one address family, with the querier.
//
// RouterEngine learns, from the reports of the hosts on a link, which (source, group) traffic
// the link wants, and keeps that knowledge fresh by querying. Like host::HostEngine it is a
// pure state machine: it never reads a clock and never sends by itself. Every input carries
// `now`; queries it wants on the wire go to a RouterSink as wire::Query values (the caller
// encodes them with wire::encode_query), together with the time they were due; every change
// of a group's forwarding state is reported to the same sink. The caller calls on_timer(now)
// when now >= next_deadline().
//
// clang-format off
// Where each rule lives (IGMP = RFC 3376, MLD = RFC 3810; the MLD rules are the same with
// MALI for GMI and "filter timer" for group timer):
//
//   RFC section                      rule                                      function
//   -------------------------------- ----------------------------------------- -----------------
//   3376 §6.2.1-2, 3810 §7.2         group record: filter mode, group timer,   GroupState
//                                    source records with source timers
//   3376 §6.3, 3810 §7.2.1           forwarding: INCLUDE forwards the listed   forwarding()
//                                    sources, EXCLUDE all but timer-0 ones
//   3376 §6.4.1, 3810 §7.4.1         current-state records (IS_IN, IS_EX)      apply_record()
//   3376 §6.4.2, 3810 §7.4.2         state-change records (ALLOW, BLOCK,       apply_record()
//                                    TO_EX, TO_IN)
//   3376 §6.5, 3810 §7.5             group timer expiry switches EXCLUDE ->    run_group()
//                                    INCLUDE or deletes; source timer expiry
//   3376 §6.6, §8.6-7                general and startup queries               start(), on_timer()
//   3376 §6.6.1, 3810 §7.6.1         timer updates for sent/received queries   on_query()
//   3376 §6.6.2, 3810 §7.6.2         querier election, Other Querier Present   on_query(), on_timer()
//   3376 §6.6.3.1, 3810 §7.6.3.1     group-specific queries, LMQC retransmits  send_group_query()
//   3376 §6.6.3.2, 3810 §7.6.3.2     group-and-source-specific queries, the    send_source_query()
//                                    split by S flag                           retransmit()
//   3376 §4.1.6-7, 3810 §5.1.8-9     a non-querier adopts the querier's QRV,   on_query()
//                                    QQI
//   3376 §7.3.1, 3810 §8.3.1         older-version querier: v1/v2 (MLDv1)      send_general_query(),
//                                    queries, every group in that mode, the    retransmit(),
//                                    warnings on other versions' queries       compat_version(),
//                                                                              on_query()
//   3376 §7.3.2, 3810 §8.3.2         group compatibility mode, Older Host      on_legacy_report(),
//                                    Present timers, v1/v2 translations        on_leave(), on_report()
//   3376 §8, 3810 §9                 timer values and their defaults           RouterConfig
// clang-format on
//
// Departures, each said where it happens: a non-querier neither lowers timers nor sends for
// the "Send Q" actions (it relies on the querier's queries, §6.6.1); limits refuse new state
// and count it (the RFCs have no limits); in an older-version querier mode the sources a v3
// report stops listing are not queried (no Q(G,S) exists there) and run out at GMI.
// docs/ROUTER.md lists them all.
//
// Thread-safety: none. One instance belongs to the control lcore that owns the port.
// Errors: none to report; irrelevant inputs (other family, a group that is not multicast or is
// the all-systems / all-nodes group, a source that is not unicast) are ignored and counted.
#pragma once

#include "base/clock.hpp"
#include "filter/filter_state.hpp"
#include "timer/deadline_index.hpp"
#include "wire/messages.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace mcfwd::router {

using addr::Family;
using addr::IpAddr;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

/// Protocol parameters of one port (RFC 3376 §8 / RFC 3810 §9; defaults are the RFCs').
/// The constructor clamps nonsense: robustness, counts >= 1; intervals > 0; a Query Response
/// Interval not below the Query Interval becomes Query Interval / 2 (§8.3: it must be less).
struct RouterConfig {
    /// The address our queries come from; the querier election compares it (§6.6.2: the
    /// lowest address wins). IGMP: an IPv4 address; MLD: a link-local IPv6 address.
    IpAddr address;
    /// Take part in the election and send queries. false: never querier (a pure listener
    /// that still processes reports and lowers timers on the querier's queries).
    bool querier = true;
    /// §7.3.1 / RFC 3810 §8.3.1: the version we query with, set by the administrator to the
    /// lowest version present on the link. IGMP 1..3, MLD 1..2; 0 (or out of range): the
    /// newest (IGMPv3 / MLDv2). An older version puts every group in at most that
    /// compatibility mode (§7.3.2) and sends no group-and-source-specific queries.
    uint8_t version = 0;
    uint8_t robustness = 2;                                        // §8.1 [Robustness Variable]
    duration query_interval = std::chrono::seconds(125);           // §8.2 [Query Interval]
    duration query_response_interval = std::chrono::seconds(10);   // §8.3
    duration last_member_query_interval = std::chrono::seconds(1); // §8.8
    std::optional<uint8_t> last_member_query_count; // §8.9, default [Robustness Variable]
    std::optional<uint8_t> startup_query_count;     // §8.7, default [Robustness Variable]
    std::optional<duration> startup_query_interval; // §8.6, default [Query Interval] / 4
    /// Group records kept at most; a record for a new group beyond it is refused.
    size_t max_groups = 4096;
    /// Source records (over all groups) kept at most; new sources beyond it are refused.
    size_t max_sources = 65536;
};

// What a router engine counts, declared once: X(name, description). The struct,
// telemetry (/mcfwd/router per port, /mcfwd/stats summed) and docs/TELEMETRY.md
// come from this list (for_each_counter). "drop:" marks what was ignored or refused.
#define MCFWD_ROUTER_COUNTERS(X)                                                                   \
    X(reports, "IGMPv3 / MLDv2 reports of our family")                                             \
    X(records, "group records applied (legacy messages as their v3 equivalents)")                  \
    X(records_ignored, "drop: group record of a bad group (not multicast, all-systems / "          \
                       "all-nodes), or ignored by the compatibility rules (RFC 3376 §7.3.2)")      \
    X(sources_ignored, "drop (per source): record source that is not unicast of our family")       \
    X(legacy_reports, "IGMPv1/v2 reports, MLDv1 reports")                                          \
    X(legacy_ignored, "drop: IGMPv1/v2 / MLDv1 report, IGMPv2 leave or MLDv1 done of a bad group") \
    X(leaves, "IGMPv2 leaves, MLDv1 dones")                                                        \
    X(leaves_ignored, "drop: leave in IGMPv1 compatibility or querier mode (RFC 3376 §7.3.1-2)")   \
    X(ssm_ignored, "drop: for an SSM group (232/8, ff3x::/32): an EXCLUDE-mode record (IS_EX, "    \
                   "TO_EX), an IGMPv1/v2 / MLDv1 report, leave or done (RFC 4604 §2.2.2)")         \
    X(queries_received, "other routers' queries of our family")                                    \
    X(older_queries, "queries of a version older than ours heard: configure the port's querier "   \
                     "version down to it (RFC 3376 §7.3.1, RFC 3810 §8.3.1)")                      \
    X(newer_queries, "queries of a version newer than ours heard while in an older-version "       \
                     "querier mode (RFC 3376 §7.3.1)")                                             \
    X(own_queries, "drop: a query from our own address (looped back to us)")                       \
    X(general_queries_sent, "general queries sent")                                                \
    X(group_queries_sent, "group-specific queries sent")                                           \
    X(source_queries_sent, "group-and-source-specific query messages sent")                        \
    X(groups_refused, "drop: record for a new group past max_groups")                              \
    X(sources_refused, "drop (per source): new source past max_sources")                           \
    X(querier_lost, "became non-querier (a lower address queries)")                                \
    X(querier_won, "became querier again (Other Querier Present expired)")                         \
    X(groups_expired, "group records deleted by timers")

/// Why something was ignored or refused, and what was done (MCFWD_ROUTER_COUNTERS).
struct RouterCounters {
#define MCFWD_ROUTER_X(name, desc) uint64_t name = 0;
    MCFWD_ROUTER_COUNTERS(MCFWD_ROUTER_X)
#undef MCFWD_ROUTER_X
    friend bool operator==(const RouterCounters&, const RouterCounters&) = default;
    RouterCounters& operator+=(const RouterCounters& o) noexcept {
#define MCFWD_ROUTER_X(name, desc) name += o.name;
        MCFWD_ROUTER_COUNTERS(MCFWD_ROUTER_X)
#undef MCFWD_ROUTER_X
        return *this;
    }
};

/// Calls f(name, description, value) for every router counter, in list order.
template <class F>
void for_each_counter(const RouterCounters& c, F&& f) {
#define MCFWD_ROUTER_X(name, desc) f(std::string_view(#name), std::string_view(desc), c.name);
    MCFWD_ROUTER_COUNTERS(MCFWD_ROUTER_X)
#undef MCFWD_ROUTER_X
}

/// Where the engine's outputs go.
class RouterSink {
public:
    virtual ~RouterSink() = default;
    /// A query to send now. `due` is when it was due (<= the `now` of the call that emits
    /// it; earlier only when on_timer() is called late).
    virtual void send_query(time_point due, const wire::Query& query) = 0;
    /// The forwarding state of `group` on this port changed (FilterState::none() when the
    /// group record does not exist). Called inside the engine call that changed it.
    virtual void on_forwarding_change(const IpAddr& group, const FilterState& old_state,
                                      const FilterState& new_state) = 0;
    /// Whether this engine is the link's querier changed (§6.6.2): true when start() makes
    /// it querier and when Other Querier Present expires, false when a lower address
    /// queries. Called inside that engine call, after querier() shows the new state. A proxy
    /// forwards onto the link only while querier (RFC 4605 §4.2). Default: ignored.
    virtual void on_querier_change(bool querier) { (void)querier; }
};

/// One source record (§6.2.2). A source whose timer is zero (EXCLUDE mode's blocked list)
/// has `timer` empty.
struct SourceSnapshot {
    IpAddr source;
    std::optional<time_point> timer;
    uint8_t retransmissions = 0; // §6.6.3.2 retransmission state
    friend bool operator==(const SourceSnapshot&, const SourceSnapshot&) = default;
};

/// One group record (§6.2.1).
struct GroupSnapshot {
    IpAddr group;
    FilterMode mode = FilterMode::include;
    time_point group_timer = time_never;   // running in EXCLUDE mode only
    std::vector<SourceSnapshot> sources;   // ordered by address
    uint8_t compat_version = 3;            // Group Compatibility Mode: IGMP 1/2/3, MLD 1/2
    time_point v1_host_until = time_never; // IGMPv1 / MLDv1 Host Present timer
    time_point v2_host_until = time_never; // IGMPv2 Host Present timer (IGMP only)
    uint8_t group_retransmissions = 0;     // §6.6.3.1 group-specific queries still to send
    time_point next_query = time_never;    // next specific-query retransmission
    FilterState forwarding;                // §6.3, what the data path should let through
};

/// The querier's state (§6.6.2) and the values in use.
struct QuerierSnapshot {
    bool querier = false;
    uint8_t version = 3;    // the version we query with (RouterConfig::version, resolved)
    IpAddr querier_address; // the elected querier (ourselves when querier)
    time_point other_querier_until = time_never;
    time_point next_general_query = time_never;
    uint8_t startup_left = 0; // startup queries still to send
    uint8_t robustness = 2;   // in use: configured, or adopted from the querier
    duration query_interval{0};
    duration query_response_interval{0}; // in use: 10 s in IGMPv1 mode, clamped to the wire's
                                         // most in IGMPv2 / MLDv1 mode
    duration group_membership_interval{0};
    duration last_member_query_time{0};
};

class RouterEngine {
public:
    /// The engine keeps a reference to sink, which must outlive it. It does nothing on its
    /// own until start(): reports are processed before, but no query is sent.
    RouterEngine(Family family, RouterConfig config, RouterSink& sink);

    /// Starts querying (if config.querier and no lower-addressed querier was heard within
    /// Other Querier Present Interval): a general query now, [Startup Query Count] - 1
    /// more every [Startup Query Interval], then one every [Query Interval] (§6.6, §8.6-7).
    void start(time_point now);

    /// An IGMPv3 / MLDv2 report heard on the port (the caller validated the frame). Each
    /// record is applied in order (§6.4.1, §6.4.2), translated first by the group's
    /// compatibility mode (§7.3.2).
    void on_report(time_point now, const wire::Report& report);
    /// IGMPv1/v2 report or MLDv1 report: sets the Older Host Present timer, then IS_EX({}).
    void on_legacy_report(time_point now, const wire::LegacyReport& report);
    /// IGMPv2 leave / MLDv1 done: TO_IN({}) (ignored in IGMPv1 compatibility mode).
    void on_leave(time_point now, const wire::Leave& leave);
    /// A query from the router at `source` (any version): querier election (§6.6.2), timer
    /// updates (§6.6.1), QRV / QQI adoption while not querier. Our own address is ignored.
    void on_query(time_point now, const wire::Query& query, const IpAddr& source);
    /// Dispatches on the message kind; `source` is the IP source of the frame.
    void on_message(time_point now, const wire::Message& message, const IpAddr& source);

    /// Does everything due at or before now, in time order.
    void on_timer(time_point now);
    /// The earliest time on_timer() has work, or time_never. O(1): each group's earliest
    /// timer is kept in a timer::DeadlineIndex, so the control loop's every turn does not
    /// visit every group and source (issue 14); on_timer() visits only the groups due.
    time_point next_deadline() const;

    /// §6.3: the forwarding state of a group (FilterState::none() when there is no record):
    /// INCLUDE {sources with running timers} or EXCLUDE {sources whose timer is zero}.
    FilterState forwarding(const IpAddr& group) const;
    /// Whether traffic from source to group is forwarded onto the port.
    bool forwards(const IpAddr& source, const IpAddr& group) const;

    std::optional<GroupSnapshot> group_snapshot(const IpAddr& group) const;
    std::vector<GroupSnapshot> groups() const; // ordered by group
    QuerierSnapshot querier() const;
    const RouterCounters& counters() const noexcept { return counters_; }
    const RouterConfig& config() const noexcept { return config_; }
    size_t group_count() const noexcept { return groups_.size(); }
    size_t source_count() const noexcept { return source_count_; }

private:
    struct SourceState {
        std::optional<time_point> timer; // empty: zero (§6.2.2 "not forwarded")
        uint8_t retransmissions = 0;
    };
    struct GroupState {
        FilterMode mode = FilterMode::include;
        time_point group_timer = time_never;
        std::map<IpAddr, SourceState> sources;
        time_point v1_host_until = time_never;
        time_point v2_host_until = time_never;
        uint8_t group_retransmissions = 0;
        time_point next_query = time_never;
        // What timers_ holds for the group: group_deadline() when it was last reindexed.
        time_point indexed = time_never;
    };
    using GroupMap = std::map<IpAddr, GroupState>;

    // Values in use (§8): adopted from the querier while not querier (§4.1.6-7).
    uint8_t robustness() const noexcept;
    duration query_interval() const noexcept;
    duration query_response_interval() const noexcept; // as the version's queries carry it
    uint8_t newest() const noexcept { return family_ == Family::v4 ? 3 : 2; }
    duration gmi() const noexcept;  // §8.4 Group Membership Interval / MALI
    duration lmqt() const noexcept; // §8.10 Last Member Query Time
    uint8_t lmqc() const noexcept;
    duration other_querier_interval() const noexcept; // §8.5
    duration older_host_interval() const noexcept;    // §8.13
    uint8_t compat_version(const GroupState& g, time_point now) const noexcept;

    // A query of our version with the fields that version carries.
    wire::Query make_query(const IpAddr& group, duration max_response, bool s_flag) const;

    bool valid_group(const IpAddr& group) const noexcept;
    SourceSet valid_sources(const std::vector<IpAddr>& sources);
    // Finds or creates the record of group; end() when refused (max_groups).
    GroupMap::iterator find_or_create(const IpAddr& group);
    // Adds a source record; nullptr when refused (max_sources).
    SourceState* add_source(GroupState& g, const IpAddr& source);
    void erase_source(GroupState& g, std::map<IpAddr, SourceState>::iterator it);
    // Deletes the record when it holds nothing (INCLUDE, no sources), else reindexes it;
    // returns whether it deleted it.
    bool erase_if_empty(GroupMap::iterator it);
    // After a change to g's timers: timers_ learns its deadline. Every function that changes
    // a group's timers calls it (or erase_if_empty) before it returns.
    void reindex(const IpAddr& group, GroupState& g);
    static FilterState forwarding_of(const GroupState& g);

    void apply_record(time_point now, wire::RecordType type, const IpAddr& group,
                      SourceSet sources);
    // §6.6.3 "Send Q(G)" / "Send Q(G,X)": lower the timers, arm retransmissions; false when
    // nothing was armed (not querier, or no source above LMQT).
    bool send_group_query(time_point now, GroupState& g);
    bool send_source_query(time_point now, GroupState& g, const SourceSet& sources);
    void retransmit(time_point now, const IpAddr& group, GroupState& g, bool group_query);
    void send_general_query(time_point due);
    void notify(const IpAddr& group, const FilterState& old_state, const FilterState& new_state);
    // Runs the timers of one group due at or before t; may erase the record.
    void run_group(time_point t, GroupMap::iterator it);
    time_point group_deadline(const GroupState& g) const;

    Family family_;
    RouterConfig config_;
    RouterSink& sink_;
    bool started_ = false;
    bool querier_ = false;
    IpAddr querier_address_;
    time_point other_querier_until_ = time_never;
    time_point next_general_query_ = time_never;
    uint8_t startup_left_ = 0;
    uint8_t adopted_robustness_ = 0; // 0: none adopted
    duration adopted_query_interval_{0};
    GroupMap groups_;
    timer::DeadlineIndex<IpAddr> timers_; // groups with a timer running, by deadline
    size_t source_count_ = 0;
    RouterCounters counters_;
};

} // namespace mcfwd::router
