// mcfwd::host — the host (group member) side of IGMP and MLD for one port and one family.
//
// HostEngine announces a port's merged membership (what lib/membership computes) to the
// multicast routers on the link and answers their queries. It is a pure state machine: it
// never reads a clock, never sleeps and never sends by itself. Every input carries `now`,
// every message it wants on the wire goes to a ReportSink as a wire::Message value (the
// caller encodes it and splits it by MTU), and random delays come from an injected Random.
// The caller calls on_timer(now) when now >= next_deadline().
//
// clang-format off
// Where each rule lives (IGMP = RFC 1112 / 2236 / 3376, MLD = RFC 2710 / 3810):
//
//   RFC section                          rule                                  function
//   ------------------------------------ ------------------------------------- -----------------
//   3376 §5, 3810 §6                     which groups are reported: never      is_reportable()
//                                        224.0.0.1, ff02::1, IPv6 scopes 0/1;
//                                        other link-local only if configured
//   3376 §5.1, 3810 §6.1                 state-change records (the table of    on_state_change()
//                                        four transitions), Retransmission     merge_state_change()
//                                        List, Filter Mode Retransmission      emit_state_change()
//                                        Counter, merging later changes
//   3376 §5.1, 3810 §6.1                 retransmissions at random (0, URI]    on_timer()
//   3376 §5.2, 3810 §6.2                 query reception rules 1-5: interface  on_query()
//                                        timer, group timer, source list
//   3376 §5.2, 3810 §6.2                 responses: IS_IN / IS_EX, source-     on_timer()
//                                        specific answer table
//   3376 §4.1.6-7 §8.1-2, 3810 §5.1.8-9  adopt the querier's QRV and QQI       on_query()
//     §9.1-2
//   3376 §7.2.1, 3810 §8.2.1             host compatibility mode, Older        on_query(),
//                                        Version Querier Present timers,       on_timer(),
//                                        cancel pending work on a mode change  update_compat()
//   3376 §8.12, 3810 §9.12, 2236 §8.11   Older Version Querier Present         note_older_querier()
//                                        Timeout
//   2236 §3 §6, 1112 App. I, 2710 §4 §5  legacy reports and repeats, delayed   on_state_change(),
//                                        responses, suppression, the last-     on_query(),
//                                        reporter flag, leave / done           on_legacy_report()
//   3810 §5.2.13                         reports need a link-local source:     set_address_ready()
//                                        silent until ready, then announce
//   (shutdown)                           leave every group on the wire         leave_all()
// clang-format on
//
// Thread-safety: none. One instance belongs to the control lcore that owns the port.
// Errors: there are none to report; malformed or irrelevant inputs (a query of the other
// family, a group query for a non-multicast address) are ignored.
#pragma once

#include "base/clock.hpp"
#include "base/random.hpp"
#include "filter/filter_state.hpp"
#include "timer/deadline_index.hpp"
#include "wire/messages.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace mcfwd::host {

using addr::Family;
using addr::IpAddr;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

/// Per-port protocol parameters. Out-of-range values are clamped by the engine's
/// constructor (max_version to 1..3 for IGMP and 1..2 for MLD; robustness to >= 1).
struct HostConfig {
    /// Highest protocol version this host speaks: IGMP 1..3 (default 3), MLD 1..2. 0 means
    /// "the newest" (3 for IGMP, 2 for MLD), so one default serves both families. Like
    /// Linux's force_igmp_version / force_mld_version: a host capped at 2 behaves as an
    /// IGMPv2 host (RFC 2236) and needs no querier timer to stay there.
    uint8_t max_version = 0;
    /// [Robustness Variable] until a querier announces its own (RFC 3376 §8.1, §4.1.6).
    uint8_t robustness = 2;
    /// [Unsolicited Report Interval]. Unset: the RFC default of the mode in use — 1 s for
    /// IGMPv3 / MLDv2 (RFC 3376 §8.11, RFC 3810 §9.11), 10 s for IGMPv1/v2 and MLDv1
    /// (RFC 2236 §8.10, RFC 2710 §7.10).
    std::optional<duration> unsolicited_report_interval{};
    /// Also report link-local-scope groups (224.0.0.0/24, ff02::/16). 224.0.0.1 and ff02::1
    /// (and IPv6 scopes 0 and 1) are never reported whatever this says (RFC 3376 §5,
    /// RFC 3810 §6).
    bool report_link_local_groups = false;
    /// Older Version Querier Present Timeout. Unset: RFC 3376 §8.12 / RFC 3810 §9.12,
    /// [Robustness Variable] x [Query Interval] + [Query Response Interval], from the
    /// querier's adopted QRV / QQI (defaults 2 and 125 s) and the Max Resp Time of the old
    /// query (10 s if it gives none); for an IGMP host capped at version 2 that hears an
    /// IGMPv1 query, RFC 2236 §8.11's Version 1 Router Present Timeout, 400 s.
    std::optional<duration> older_querier_timeout{};
};

/// Where the engine's messages go. The engine hands over complete messages: wire::Report
/// (IGMPv3 / MLDv2, all records due at the same moment in one value, possibly more than
/// fit in one frame — the codec splits), wire::LegacyReport, wire::Leave.
class ReportSink {
public:
    virtual ~ReportSink() = default;
    virtual void send(const wire::Message& msg) = 0;
};

/// What telemetry shows of one group.
struct GroupSnapshot {
    IpAddr group;
    FilterState filter;     // current merged filter of the port
    bool reportable = true; // false: link-local scope, never announced
    // RFC 3810 §6.1 retransmission state (IGMPv3 / MLDv2 mode).
    uint8_t mode_retransmissions = 0;    // Filter Mode Retransmission Counter
    uint8_t pending_retransmissions = 0; // state-change reports still to send
    SourceSet pending_allow;             // Retransmission List, sources now forwarded
    SourceSet pending_block;             // Retransmission List, sources now blocked
    time_point retransmit_at = time_never;
    // RFC 3376 §5.2 per-group response.
    time_point group_timer = time_never;
    SourceSet query_sources; // recorded sources of a pending group-and-source query
    // RFC 2236 §6 / RFC 2710 §5 legacy-mode state.
    time_point legacy_timer = time_never;
    uint8_t unsolicited_left = 0; // unsolicited legacy reports still to send
    bool last_reporter = false;   // "flag that we were the last host to report"
};

/// What telemetry shows of one engine.
struct HostSnapshot {
    Family family = Family::v4;
    uint8_t compat_version = 3; // Host Compatibility Mode: IGMP 1/2/3, MLD 1/2
    uint8_t max_version = 3;
    uint8_t robustness = 2;                   // adopted QRV or configured
    duration query_interval{0};               // adopted QQI or 125 s
    time_point v1_querier_until = time_never; // IGMPv1 / MLDv1 Querier Present timer
    time_point v2_querier_until = time_never; // IGMPv2 Querier Present timer (IGMP only)
    time_point interface_timer = time_never;  // pending response to a general query
    bool address_ready = true;
    std::vector<GroupSnapshot> groups; // ordered by group address
};

class HostEngine {
public:
    /// The engine keeps references to random and sink; both must outlive it.
    /// An IPv4 engine starts ready; an IPv6 engine starts silent until
    /// set_address_ready(now, true) (the port has no link-local address yet).
    HostEngine(Family family, HostConfig config, Random& random, ReportSink& sink);

    /// The port's merged filter for `group` changed from `old_state` to `new_state`
    /// (FilterState::none() = not a member). The engine diffs against the filter it last
    /// recorded for the group — equal to old_state when the caller is consistent; after
    /// leave_all() it is none() — so a caller that lost track cannot desynchronise it.
    /// IGMPv3 / MLDv2 mode: a state-change report goes out now (merged with pending
    /// retransmissions), the rest follow from on_timer(). Legacy modes: a report on a join,
    /// a leave on the last leave when we were the last reporter (IGMPv2 / MLDv1 only),
    /// nothing for a change that keeps membership. Groups of the other family are ignored.
    void on_state_change(time_point now, const IpAddr& group, const FilterState& old_state,
                         const FilterState& new_state);

    /// A query heard on the port (any version; the caller validated checksum, TTL / hop
    /// limit, router alert and for MLD the link-local source).
    void on_query(time_point now, const wire::Query& query);

    /// Another host's IGMPv1/v2 or MLDv1 report: in a legacy mode it suppresses our pending
    /// report for that group and clears our last-reporter flag (RFC 2236 §6). IGMPv3 /
    /// MLDv2 hosts do not suppress (RFC 3376 App. A.2), so it is ignored in those modes.
    void on_legacy_report(time_point now, const wire::LegacyReport& report);

    /// Does everything due at or before now: querier-present timers, query responses,
    /// retransmissions. All IGMPv3 / MLDv2 records due go out in one Report.
    void on_timer(time_point now);

    /// The earliest time on_timer() has work, or time_never. O(1): the groups' timers are
    /// kept in a timer::DeadlineIndex, so the control loop's every turn does not visit
    /// every group (issue 14). on_timer() visits only the groups with a timer due, except
    /// that the interface timer (a general query's answer) reports every group.
    time_point next_deadline() const;

    /// MLD: whether the port has a usable link-local address, the source of every report
    /// (RFC 3810 §5.2.13; it also allows :: before one exists, but such reports cannot be
    /// relied on, so this engine waits). While not ready the engine records filters and querier
    /// parameters but sends and schedules nothing. Becoming ready sends the unsolicited
    /// reports for every current membership as if each group had just been joined
    /// (RFC 3810 §6.1 / RFC 2710 §4), retransmissions included; becoming not ready drops all
    /// pending work. The brief's set_address_ready(bool) takes `now` here because becoming
    /// ready sends and schedules. Meaningful for IPv4 too (e.g. port without an address).
    void set_address_ready(time_point now, bool ready);

    /// Shutdown: leaves every reportable group on the wire and forgets its state.
    ///  - IGMPv3 / MLDv2: [Robustness] Reports, each holding every group's record per the
    ///    §5.1 table with the new state none() — TO_IN({}) for EXCLUDE groups, BLOCK(A) for
    ///    INCLUDE(A) groups — merged with pending retransmission state as on_state_change;
    ///  - IGMPv2 / MLDv1: [Robustness] rounds of Leave / Done for every group we were the
    ///    last to report (RFC 2236 §6 flag); IGMPv1: nothing (it has no leave).
    /// The first transmission goes out at `now`. With Spacing::at_once the others follow
    /// back to back and nothing is left pending. With Spacing::spaced they are sent by
    /// on_timer() as RFC 3376 §5.1 / RFC 3810 §6.1 space retransmissions — each batch at
    /// one random time in (0, [Unsolicited Report Interval]] after the previous — so a
    /// switch that drops one burst does not drop them all; the caller runs the timers
    /// until next_deadline() is time_never (or its own deadline passes).
    /// Afterwards every group is none(); the engine stays usable.
    enum class Spacing : uint8_t { at_once, spaced };
    void leave_all(time_point now, Spacing spacing = Spacing::at_once);
    /// A state-change retransmission or a spaced leave is still to be sent.
    bool reports_pending() const noexcept;

    HostSnapshot snapshot() const;
    std::optional<GroupSnapshot> group_snapshot(const IpAddr& group) const;

    /// Host Compatibility Mode now: IGMP 1/2/3, MLD 1/2.
    uint8_t compat_version() const noexcept { return compat_; }

private:
    struct GroupState {
        FilterState filter;
        bool reportable = true;
        // RFC 3810 §6.1: Filter Mode Retransmission Counter and Retransmission List.
        uint8_t mode_retransmissions = 0;
        std::map<IpAddr, uint8_t> source_retransmissions;
        time_point retransmit_at = time_never;
        // RFC 3376 §5.2: group timer and recorded source list.
        time_point group_timer = time_never;
        SourceSet query_sources;
        // RFC 2236 §6 / RFC 2710 §5.
        time_point legacy_timer = time_never;
        uint8_t unsolicited_left = 0;
        bool last_reporter = false;
        uint8_t leaves_left = 0; // spaced leave_all: Leave / Done messages still to send
        // What timers_ holds for the group: deadline() when it was last reindexed.
        time_point indexed = time_never;

        bool idle() const noexcept;
        // The earliest of the group's timers.
        time_point deadline() const noexcept {
            return std::min({group_timer, retransmit_at, legacy_timer});
        }
    };
    using GroupMap = std::map<IpAddr, GroupState>;

    bool is_reportable(const IpAddr& group) const noexcept;
    bool legacy_mode() const noexcept { return compat_ < newest_version(); }
    uint8_t newest_version() const noexcept { return family_ == Family::v4 ? 3 : 2; }
    duration unsolicited_interval() const noexcept;
    duration random_open(duration bound);   // (0, bound]
    duration random_closed(duration bound); // [0, bound]

    // RFC 3376 §5.1 / RFC 3810 §6.1: g.filter becomes new_state; the difference from the
    // previous g.filter is merged into g's retransmission state.
    void merge_state_change(GroupState& g, const FilterState& new_state);
    // Appends g's current state-change records and counts one transmission.
    void emit_state_change(const IpAddr& group, GroupState& g, std::vector<wire::GroupRecord>& out);
    void schedule_retransmission(time_point now, GroupState& g);
    void legacy_join(time_point now, const IpAddr& group, GroupState& g);
    void legacy_start_timer(time_point now, GroupState& g, duration max_response);
    void send_legacy_report(const IpAddr& group, GroupState& g);
    void send_report(std::vector<wire::GroupRecord> records);
    void announce_all(time_point now);
    void note_older_querier(time_point now, const wire::Query& query);
    void update_compat(time_point now);
    void cancel_pending();
    // After a change to g's timers: timers_ learns its deadline. Every function that
    // changes a group's timers calls it (or settle) before it returns.
    void reindex(const IpAddr& group, GroupState& g);
    // After a change to a group: an idle record is erased (and leaves timers_), any
    // other is reindexed. Returns the next group.
    GroupMap::iterator settle(GroupMap::iterator it);

    Family family_;
    HostConfig config_;
    Random& random_;
    ReportSink& sink_;
    uint8_t max_version_;
    uint8_t compat_;
    uint8_t robustness_;
    duration query_interval_;
    bool address_ready_;
    time_point v1_querier_until_ = time_never;
    time_point v2_querier_until_ = time_never;
    time_point interface_timer_ = time_never;
    GroupMap groups_;
    timer::DeadlineIndex<IpAddr> timers_; // groups with a timer running, by deadline
};

} // namespace mcfwd::host
