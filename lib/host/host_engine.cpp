// HostEngine: see host_engine.hpp for the contract and the map of RFC sections.
#include "host/host_engine.hpp"

#include <algorithm>
#include <utility>

namespace mcfwd::host {

namespace {

using namespace std::chrono_literals;

constexpr duration default_query_interval = 125s;         // RFC 3376 §8.2, RFC 3810 §9.2
constexpr duration default_query_response_interval = 10s; // RFC 3376 §8.3, RFC 3810 §9.3
constexpr duration v1_router_present_timeout = 400s;      // RFC 2236 §8.11

wire::GroupRecord make_record(wire::RecordType type, const IpAddr& group, const SourceSet& src) {
    return wire::GroupRecord{type, group, src.as_vector()};
}

// RFC 3376 §5.2 / RFC 3810 §6.2: a Current-State Record of the whole filter.
wire::GroupRecord current_state_record(const IpAddr& group, const FilterState& f) {
    return make_record(f.mode == FilterMode::include ? wire::RecordType::mode_is_include
                                                     : wire::RecordType::mode_is_exclude,
                       group, f.sources);
}

} // namespace

bool HostEngine::GroupState::idle() const noexcept {
    return !filter.is_member() && mode_retransmissions == 0 && source_retransmissions.empty() &&
           leaves_left == 0;
}

HostEngine::HostEngine(Family family, HostConfig config, Random& random, ReportSink& sink)
    : family_(family), config_(std::move(config)), random_(random), sink_(sink),
      max_version_(newest_version()), compat_(0), robustness_(1),
      query_interval_(default_query_interval), address_ready_(family == Family::v4) {
    if (config_.max_version != 0)
        max_version_ = std::min(config_.max_version, newest_version());
    config_.robustness = std::max<uint8_t>(config_.robustness, 1);
    robustness_ = config_.robustness;
    compat_ = max_version_;
}

// RFC 3376 §5: "reports are never sent for 224.0.0.1"; RFC 3810 §6: never for ff02::1 nor
// for scopes 0 (reserved) and 1 (interface-local). Other link-local scope groups (224.0.0.x
// routing protocols, ff02:: solicited-node) are the business of the kernel or of the switch,
// not of this data plane, so they are reported only when configured.
bool HostEngine::is_reportable(const IpAddr& group) const noexcept {
    if (!group.is_multicast() || group.family() != family_)
        return false;
    const auto& b = group.bytes();
    if (family_ == Family::v4) {
        if (group.v4_host() == 0xe0000001u)
            return false;
        return !group.is_link_local_group() || config_.report_link_local_groups;
    }
    const uint8_t scope = b[1] & 0x0f;
    if (scope == 0 || scope == 1)
        return false;
    if (scope == 2) {
        static constexpr std::array<uint8_t, 16> all_nodes{0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                           0,    0,    0, 0, 0, 0, 0, 1};
        return b != all_nodes && config_.report_link_local_groups;
    }
    return true;
}

duration HostEngine::unsolicited_interval() const noexcept {
    if (config_.unsolicited_report_interval)
        return *config_.unsolicited_report_interval;
    return legacy_mode() ? duration(10s) : duration(1s);
}

// Delays in nanoseconds. (0, bound] is 1 ns + below(bound); [0, bound] is below(bound + 1).
duration HostEngine::random_open(duration bound) {
    if (bound.count() <= 0)
        return duration(0);
    return duration(1 + static_cast<duration::rep>(random_.below(bound.count())));
}

duration HostEngine::random_closed(duration bound) {
    if (bound.count() < 0)
        return duration(0);
    return duration(static_cast<duration::rep>(random_.below(bound.count() + 1)));
}

void HostEngine::send_report(std::vector<wire::GroupRecord> records) {
    if (records.empty())
        return;
    sink_.send(wire::Report{family_, std::move(records)});
}

// ---- RFC 3376 §5.1 / RFC 3810 §6.1: state-change reports ----------------------------------

// The difference report of the §5.1 table is not kept as records but as retransmission
// state, exactly as RFC 3810 §6.1 describes it (RFC 3376 §5.1 says the same less formally):
//  - a filter-mode change sets the Filter Mode Retransmission Counter to [Robustness];
//    while it is non-zero each report carries TO_IN / TO_EX of the *current* state. The
//    per-source list is dropped: a Filter-Mode-Change record states every source anyway,
//    and sources added later are counted afresh (Linux does the same);
//  - a source-list change puts each source of ALLOW(..) and BLOCK(..) in the Retransmission
//    List with its counter set to [Robustness] (reset if it was there already). A report
//    without a mode record carries ALLOW / BLOCK of the listed sources the current state
//    forwards / blocks — so "ALLOW s pending, then BLOCK s" reports BLOCK s [Robustness]
//    times, and a change back to the original state reports the reversal;
//  - every report sent decrements the mode counter and every source counter.
// The merged report goes out at once and restarts the retransmission timer.
void HostEngine::merge_state_change(GroupState& g, const FilterState& new_state) {
    const FilterState old_state = std::exchange(g.filter, new_state);
    if (old_state == new_state)
        return;
    if (old_state.mode != new_state.mode) {
        // INCLUDE(A) -> EXCLUDE(B): TO_EX(B); EXCLUDE(A) -> INCLUDE(B): TO_IN(B).
        g.mode_retransmissions = robustness_;
        g.source_retransmissions.clear();
        return;
    }
    // INCLUDE(A) -> INCLUDE(B): ALLOW(B-A), BLOCK(A-B);
    // EXCLUDE(A) -> EXCLUDE(B): ALLOW(A-B), BLOCK(B-A). Either way: the symmetric difference.
    for (const IpAddr& s : set_difference(old_state.sources, new_state.sources))
        g.source_retransmissions[s] = robustness_;
    for (const IpAddr& s : set_difference(new_state.sources, old_state.sources))
        g.source_retransmissions[s] = robustness_;
}

void HostEngine::emit_state_change(const IpAddr& group, GroupState& g,
                                   std::vector<wire::GroupRecord>& out) {
    if (g.mode_retransmissions > 0) {
        out.push_back(make_record(g.filter.mode == FilterMode::include
                                      ? wire::RecordType::change_to_include
                                      : wire::RecordType::change_to_exclude,
                                  group, g.filter.sources));
        --g.mode_retransmissions;
    } else if (!g.source_retransmissions.empty()) {
        wire::GroupRecord allow{wire::RecordType::allow_new_sources, group, {}};
        wire::GroupRecord block{wire::RecordType::block_old_sources, group, {}};
        for (const auto& [s, count] : g.source_retransmissions)
            (g.filter.accepts(s) ? allow : block).sources.push_back(s);
        // Empty ALLOW / BLOCK records are omitted (RFC 3376 §5.1, RFC 3810 §6.1).
        if (!allow.sources.empty())
            out.push_back(std::move(allow));
        if (!block.sources.empty())
            out.push_back(std::move(block));
    }
    for (auto it = g.source_retransmissions.begin(); it != g.source_retransmissions.end();) {
        if (--it->second == 0)
            it = g.source_retransmissions.erase(it);
        else
            ++it;
    }
}

void HostEngine::schedule_retransmission(time_point now, GroupState& g) {
    if (g.mode_retransmissions > 0 || !g.source_retransmissions.empty())
        g.retransmit_at = now + random_open(unsolicited_interval());
    else
        g.retransmit_at = time_never;
}

// ---- RFC 2236 §3, §6 / RFC 1112 App. I / RFC 2710 §4: legacy host -------------------------

void HostEngine::send_legacy_report(const IpAddr& group, GroupState& g) {
    const uint8_t version = family_ == Family::v4 ? compat_ : 1;
    sink_.send(wire::LegacyReport{family_, version, group});
    g.last_reporter = true; // RFC 2236 §6 "set flag"
}

// A join sends a report at once and repeats it so that [Robustness] unsolicited reports go
// out in all, at random (0, [Unsolicited Report Interval]] spacing — RFC 2236 §3 "repeated
// once or twice", which Linux ties to the robustness variable, as RFC 3376 §5.1 does.
void HostEngine::legacy_join(time_point now, const IpAddr& group, GroupState& g) {
    send_legacy_report(group, g);
    g.unsolicited_left = static_cast<uint8_t>(robustness_ - 1);
    g.legacy_timer =
        g.unsolicited_left > 0 ? now + random_open(unsolicited_interval()) : time_never;
}

// RFC 2236 §3: start a timer at random [0, Max Resp Time]; a running timer is reset to a new
// random value only if Max Resp Time is less than its remaining value.
void HostEngine::legacy_start_timer(time_point now, GroupState& g, duration max_response) {
    if (g.legacy_timer != time_never && g.legacy_timer - now <= max_response)
        return;
    g.legacy_timer = now + random_closed(max_response);
}

// ---- events -------------------------------------------------------------------------------

void HostEngine::reindex(const IpAddr& group, GroupState& g) {
    const time_point due = g.deadline();
    timers_.reschedule(group, g.indexed, due);
    g.indexed = due;
}

HostEngine::GroupMap::iterator HostEngine::settle(GroupMap::iterator it) {
    GroupState& g = it->second;
    if (!g.idle()) {
        reindex(it->first, g);
        return std::next(it);
    }
    timers_.reschedule(it->first, g.indexed, time_never);
    return groups_.erase(it);
}

void HostEngine::on_state_change(time_point now, const IpAddr& group,
                                 const FilterState& /*old_state*/, const FilterState& new_state) {
    if (!group.is_multicast() || group.family() != family_)
        return;
    auto it = groups_.find(group);
    if (it == groups_.end()) {
        if (!new_state.is_member())
            return;
        GroupState fresh;
        fresh.reportable = is_reportable(group);
        it = groups_.emplace(group, std::move(fresh)).first;
    }
    GroupState& g = it->second;
    const FilterState previous = g.filter;
    if (!address_ready_ || !g.reportable) {
        g.filter = new_state;
        settle(it);
        return;
    }
    if (legacy_mode()) {
        // RFC 3376 §7.2.1 / RFC 3810 §8.2.1: old modes ignore source lists; only joining
        // and leaving show.
        g.filter = new_state;
        if (!previous.is_member() && new_state.is_member()) {
            legacy_join(now, group, g);
        } else if (previous.is_member() && !new_state.is_member()) {
            // RFC 2236 §6: leave only if we sent the last report; IGMPv1 has no leave.
            const bool has_leave = family_ == Family::v6 || compat_ == 2;
            if (has_leave && g.last_reporter)
                sink_.send(wire::Leave{family_, group});
            g.legacy_timer = time_never;
            g.unsolicited_left = 0;
            g.last_reporter = false;
        }
        settle(it);
        return;
    }
    if (previous == new_state)
        return;
    std::vector<wire::GroupRecord> records;
    merge_state_change(g, new_state);
    emit_state_change(group, g, records);
    schedule_retransmission(now, g);
    send_report(std::move(records));
    settle(it);
}

// RFC 3376 §7.2.1 / RFC 3810 §8.2.1: the mode is the lowest version of a querier heard within
// the Older Version Querier Present Timeout, capped by max_version.
void HostEngine::update_compat(time_point now) {
    if (v1_querier_until_ <= now)
        v1_querier_until_ = time_never;
    if (v2_querier_until_ <= now)
        v2_querier_until_ = time_never;
    uint8_t mode = newest_version();
    if (v1_querier_until_ != time_never)
        mode = 1;
    else if (v2_querier_until_ != time_never)
        mode = 2;
    mode = std::min(mode, max_version_);
    if (mode != compat_) {
        compat_ = mode;
        // RFC 3810 §8.2.1: "Whenever a node changes its compatibility mode, it cancels all its
        // pending response and retransmission timers." Applied to IGMP too (RFC 3376 is
        // silent; Linux does the same).
        cancel_pending();
    }
}

void HostEngine::cancel_pending() {
    interface_timer_ = time_never;
    timers_.clear(); // every group's timers stop
    for (auto it = groups_.begin(); it != groups_.end();) {
        GroupState& g = it->second;
        g.indexed = time_never;
        g.mode_retransmissions = 0;
        g.source_retransmissions.clear();
        g.retransmit_at = time_never;
        g.group_timer = time_never;
        g.query_sources.clear();
        g.legacy_timer = time_never;
        g.unsolicited_left = 0;
        if (g.idle())
            it = groups_.erase(it);
        else
            ++it;
    }
}

// RFC 3376 §7.2.1 / §8.12, RFC 3810 §8.2.1 / §9.12.
void HostEngine::note_older_querier(time_point now, const wire::Query& q) {
    if (q.version >= newest_version() || q.version >= max_version_ || q.version == 0)
        return;
    duration timeout;
    if (config_.older_querier_timeout) {
        timeout = *config_.older_querier_timeout;
    } else if (family_ == Family::v4 && max_version_ == 2) {
        timeout = v1_router_present_timeout; // an IGMPv2 host hearing IGMPv1, RFC 2236 §4
    } else {
        const duration qri =
            q.max_response > duration(0) ? q.max_response : default_query_response_interval;
        timeout = robustness_ * query_interval_ + qri;
    }
    if (q.version == 1)
        v1_querier_until_ = now + timeout;
    else
        v2_querier_until_ = now + timeout;
}

void HostEngine::on_query(time_point now, const wire::Query& q) {
    if (q.family != family_)
        return;
    const bool general = q.group.is_unspecified();
    if (!general && (!q.group.is_multicast() || q.group.family() != family_))
        return;
    if (q.version == newest_version()) {
        // RFC 3376 §4.1.6-7 / RFC 3810 §5.1.8-9, §9.1: adopt the querier's QRV and QQI;
        // zero means "use the default / configured value".
        robustness_ = q.qrv != 0 ? q.qrv : config_.robustness;
        query_interval_ = q.qqi > duration(0) ? q.qqi : default_query_interval;
    }
    note_older_querier(now, q);
    update_compat(now);
    if (!address_ready_)
        return;

    if (legacy_mode()) {
        // RFC 2236 §3 / RFC 2710 §4: per-group delayed reports. A version-3 query heard in a
        // legacy mode is answered the same way; its source list is ignored.
        for (auto& [group, g] : groups_) {
            if ((general || group == q.group) && g.reportable && g.filter.is_member()) {
                legacy_start_timer(now, g, q.max_response);
                reindex(group, g);
            }
        }
        return;
    }

    // RFC 3376 §5.2 / RFC 3810 §6.2: respond only if there is state to report.
    GroupMap::iterator g_it = groups_.end();
    if (general) {
        const bool any = std::any_of(groups_.begin(), groups_.end(), [](const auto& kv) {
            return kv.second.reportable && kv.second.filter.is_member();
        });
        if (!any)
            return;
    } else {
        auto it = groups_.find(q.group);
        if (it == groups_.end() || !it->second.reportable || !it->second.filter.is_member())
            return;
        g_it = it;
    }
    const time_point at = now + random_closed(q.max_response);
    // Rule 1: a pending general response due no later than the selected delay covers it
    // ("sooner than"; at the same moment it would carry the same record).
    if (interface_timer_ <= at)
        return;
    // Rule 2: a general query (re)schedules the interface timer.
    if (general) {
        interface_timer_ = at;
        return;
    }
    GroupState& g = g_it->second;
    if (g.group_timer == time_never) {
        // Rule 3: no pending response for the group; record the queried sources.
        g.group_timer = at;
        g.query_sources = SourceSet::from_unsorted(q.sources);
    } else {
        g.group_timer = std::min(g.group_timer, at);
        if (q.sources.empty() || g.query_sources.empty()) {
            // Rule 4: a group-specific query, or one pending: answer for the whole group.
            g.query_sources.clear();
        } else {
            // Rule 5: both source-specific: augment the recorded list.
            g.query_sources = set_union(g.query_sources, SourceSet::from_unsorted(q.sources));
        }
    }
    reindex(g_it->first, g);
}

void HostEngine::on_legacy_report(time_point /*now*/, const wire::LegacyReport& r) {
    if (r.family != family_ || !legacy_mode())
        return;
    auto it = groups_.find(r.group);
    if (it == groups_.end())
        return;
    GroupState& g = it->second;
    // RFC 2236 §6, Delaying Member, "report received": stop timer, clear flag.
    if (g.legacy_timer != time_never) {
        g.legacy_timer = time_never;
        g.unsolicited_left = 0;
        g.last_reporter = false;
        reindex(it->first, g);
    }
}

void HostEngine::on_timer(time_point now) {
    update_compat(now);
    std::vector<wire::GroupRecord> records;
    // RFC 3376 §5.2 / RFC 3810 §6.2, response rule 1: the interface timer reports every
    // group with state.
    if (interface_timer_ <= now) {
        interface_timer_ = time_never;
        for (const auto& [group, g] : groups_) {
            if (g.reportable && g.filter.is_member())
                records.push_back(current_state_record(group, g.filter));
        }
    }
    // Only the groups with a timer due, in address order as a scan of groups_ would visit
    // them: the records' order and the random draws are the same as the scan's.
    for (const IpAddr& due : timers_.take_due(now)) {
        const auto it = groups_.find(due);
        const IpAddr& group = it->first;
        GroupState& g = it->second;
        g.indexed = time_never; // take_due dropped it
        if (g.group_timer <= now) {
            g.group_timer = time_never;
            // Response rules 2 and 3: only if the interface has reception state.
            if (g.reportable && g.filter.is_member()) {
                if (g.query_sources.empty()) {
                    records.push_back(current_state_record(group, g.filter));
                } else {
                    // INCLUDE(B): IS_IN(A*B); EXCLUDE(B): IS_IN(A-B); nothing if empty.
                    const SourceSet a = g.filter.mode == FilterMode::include
                                            ? set_intersection(g.query_sources, g.filter.sources)
                                            : set_difference(g.query_sources, g.filter.sources);
                    if (!a.empty())
                        records.push_back(make_record(wire::RecordType::mode_is_include, group, a));
                }
            }
            g.query_sources.clear();
        }
        if (g.retransmit_at <= now) {
            emit_state_change(group, g, records);
            schedule_retransmission(now, g);
        }
        if (g.legacy_timer <= now) {
            g.legacy_timer = time_never;
            if (g.leaves_left > 0) { // a spaced leave_all's repeats
                sink_.send(wire::Leave{family_, group});
                if (--g.leaves_left > 0)
                    g.legacy_timer = now + random_open(unsolicited_interval());
            } else if (g.reportable && g.filter.is_member()) {
                send_legacy_report(group, g);
                if (g.unsolicited_left > 0)
                    --g.unsolicited_left;
                if (g.unsolicited_left > 0)
                    g.legacy_timer = now + random_open(unsolicited_interval());
            }
        }
        settle(it);
    }
    send_report(std::move(records));
}

time_point HostEngine::next_deadline() const {
    return std::min({v1_querier_until_, v2_querier_until_, interface_timer_, timers_.earliest()});
}

// RFC 3810 §5.2.13: reports come from a link-local source address; until the port has one
// the engine is silent. Once it has, every membership is announced as a fresh join.
void HostEngine::set_address_ready(time_point now, bool ready) {
    if (ready == address_ready_)
        return;
    address_ready_ = ready;
    cancel_pending();
    if (!ready)
        return;
    announce_all(now);
}

void HostEngine::announce_all(time_point now) {
    std::vector<wire::GroupRecord> records;
    for (auto& [group, g] : groups_) {
        if (!g.reportable || !g.filter.is_member())
            continue;
        if (legacy_mode()) {
            legacy_join(now, group, g);
        } else {
            const FilterState current = g.filter;
            g.filter = FilterState::none();
            merge_state_change(g, current);
            emit_state_change(group, g, records);
            schedule_retransmission(now, g);
        }
        reindex(group, g);
    }
    send_report(std::move(records));
}

void HostEngine::leave_all(time_point now, Spacing spacing) {
    const bool spaced = spacing == Spacing::spaced;
    // Every later batch of a spaced leave goes out at one time, so the groups'
    // records stay together in as few reports as at once.
    const time_point next = spaced ? now + random_open(unsolicited_interval()) : time_never;
    if (address_ready_ && !legacy_mode()) {
        std::vector<wire::GroupRecord> records;
        for (auto& [group, g] : groups_) {
            if (!g.reportable)
                continue;
            merge_state_change(g, FilterState::none());
            emit_state_change(group, g, records);
            g.group_timer = time_never;
            g.legacy_timer = time_never;
            g.retransmit_at = g.mode_retransmissions > 0 || !g.source_retransmissions.empty()
                                  ? next
                                  : time_never;
        }
        send_report(std::move(records));
        // At once: the retransmissions, back to back, until every counter is spent.
        for (bool pending = !spaced; pending;) {
            pending = false;
            records.clear();
            for (auto& [group, g] : groups_) {
                if (g.reportable &&
                    (g.mode_retransmissions > 0 || !g.source_retransmissions.empty()))
                    emit_state_change(group, g, records);
                pending =
                    pending || g.mode_retransmissions > 0 || !g.source_retransmissions.empty();
            }
            send_report(std::move(records));
        }
    } else if (address_ready_) {
        const bool has_leave = family_ == Family::v6 || compat_ == 2;
        // Spaced: one round now, the other Robustness - 1 from on_timer().
        const uint8_t rounds = spaced ? 1 : robustness_;
        for (uint8_t round = 0; has_leave && round < rounds; ++round) {
            for (auto& [group, g] : groups_) {
                if (!(g.reportable && g.filter.is_member() && g.last_reporter))
                    continue;
                sink_.send(wire::Leave{family_, group});
                if (spaced && robustness_ > 1) {
                    g.leaves_left = static_cast<uint8_t>(robustness_ - 1);
                    g.legacy_timer = next;
                }
            }
        }
    }
    if (!spaced) {
        groups_.clear();
        timers_.clear();
    } else {
        // What is left is only the leaves still to send.
        for (auto it = groups_.begin(); it != groups_.end();) {
            GroupState& g = it->second;
            g.filter = FilterState::none();
            g.group_timer = time_never;
            g.last_reporter = false;
            if (g.leaves_left == 0)
                g.legacy_timer = time_never;
            it = settle(it);
        }
    }
    interface_timer_ = time_never;
}

bool HostEngine::reports_pending() const noexcept {
    return std::any_of(groups_.begin(), groups_.end(), [](const auto& e) {
        const GroupState& g = e.second;
        return g.mode_retransmissions > 0 || !g.source_retransmissions.empty() ||
               g.leaves_left > 0;
    });
}

HostSnapshot HostEngine::snapshot() const {
    HostSnapshot s;
    s.family = family_;
    s.compat_version = compat_;
    s.max_version = max_version_;
    s.robustness = robustness_;
    s.query_interval = query_interval_;
    s.v1_querier_until = v1_querier_until_;
    s.v2_querier_until = v2_querier_until_;
    s.interface_timer = interface_timer_;
    s.address_ready = address_ready_;
    s.groups.reserve(groups_.size());
    for (const auto& [group, g] : groups_)
        s.groups.push_back(*group_snapshot(group));
    return s;
}

std::optional<GroupSnapshot> HostEngine::group_snapshot(const IpAddr& group) const {
    auto it = groups_.find(group);
    if (it == groups_.end())
        return std::nullopt;
    const GroupState& g = it->second;
    GroupSnapshot s;
    s.group = group;
    s.filter = g.filter;
    s.reportable = g.reportable;
    s.mode_retransmissions = g.mode_retransmissions;
    s.pending_retransmissions = g.mode_retransmissions;
    for (const auto& [src, count] : g.source_retransmissions) {
        s.pending_retransmissions = std::max(s.pending_retransmissions, count);
        (g.filter.accepts(src) ? s.pending_allow : s.pending_block).insert(src);
    }
    s.retransmit_at = g.retransmit_at;
    s.group_timer = g.group_timer;
    s.query_sources = g.query_sources;
    s.legacy_timer = g.legacy_timer;
    s.unsolicited_left = g.unsolicited_left;
    s.last_reporter = g.last_reporter;
    return s;
}

} // namespace mcfwd::host
