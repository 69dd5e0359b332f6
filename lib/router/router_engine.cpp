// RouterEngine: the router side of IGMPv3 / MLDv2 (see router_engine.hpp for the map of
// rules to functions). Section numbers are RFC 3376's; RFC 3810's equivalents are in the
// header.
#include "router/router_engine.hpp"

#include <algorithm>
#include <utility>

namespace mcfwd::router {

using wire::RecordType;

namespace {

uint8_t clamp_count(uint8_t v) {
    return v == 0 ? 1 : v;
}
duration clamp_interval(duration d, duration fallback) {
    return d > duration{0} ? d : fallback;
}

} // namespace

RouterEngine::RouterEngine(Family family, RouterConfig config, RouterSink& sink)
    : family_(family), config_(std::move(config)), sink_(sink) {
    using namespace std::chrono_literals;
    if (config_.version == 0 || config_.version > newest())
        config_.version = newest();
    config_.robustness = clamp_count(config_.robustness);
    config_.query_interval = clamp_interval(config_.query_interval, 125s);
    config_.query_response_interval = clamp_interval(config_.query_response_interval, 10s);
    // §8.3: the Query Response Interval must be less than the Query Interval.
    if (config_.query_response_interval >= config_.query_interval)
        config_.query_response_interval = config_.query_interval / 2;
    config_.last_member_query_interval = clamp_interval(config_.last_member_query_interval, 1s);
    if (config_.last_member_query_count)
        config_.last_member_query_count = clamp_count(*config_.last_member_query_count);
    if (config_.startup_query_count)
        config_.startup_query_count = clamp_count(*config_.startup_query_count);
    if (config_.startup_query_interval)
        config_.startup_query_interval =
            clamp_interval(*config_.startup_query_interval, config_.query_interval / 4);
    querier_address_ = config_.address;
}

// ---- values in use (§8) --------------------------------------------------------------

uint8_t RouterEngine::robustness() const noexcept {
    return !querier_ && adopted_robustness_ != 0 ? adopted_robustness_ : config_.robustness;
}

duration RouterEngine::query_interval() const noexcept {
    return !querier_ && adopted_query_interval_ > duration{0} ? adopted_query_interval_
                                                              : config_.query_interval;
}

// The Query Response Interval the hosts actually get, which the timers below must use.
// IGMPv1 queries carry no time: hosts wait up to 10 s (RFC 1112, RFC 2236 §4), so §7.3.1's
// v1 mode counts 10 s whatever is configured. IGMPv2's Max Resp Time carries 25.5 s at most
// (RFC 2236 §2.2) and MLDv1's Maximum Response Delay 65.535 s (RFC 2710 §3.4): the encoder
// clamps there, and so do the timers.
duration RouterEngine::query_response_interval() const noexcept {
    using namespace std::chrono_literals;
    if (config_.version == newest())
        return config_.query_response_interval;
    if (family_ == Family::v4)
        return config_.version == 1 ? duration(10s)
                                    : std::min<duration>(config_.query_response_interval, 25500ms);
    return std::min<duration>(config_.query_response_interval, 65535ms);
}

duration RouterEngine::gmi() const noexcept {
    return robustness() * query_interval() + query_response_interval();
}

uint8_t RouterEngine::lmqc() const noexcept {
    return config_.last_member_query_count.value_or(robustness());
}

duration RouterEngine::lmqt() const noexcept {
    return lmqc() * config_.last_member_query_interval;
}

duration RouterEngine::other_querier_interval() const noexcept {
    return robustness() * query_interval() + query_response_interval() / 2;
}

duration RouterEngine::older_host_interval() const noexcept {
    return robustness() * query_interval() + query_response_interval();
}

// §7.3.2 table: the oldest version whose Host Present timer runs, and never newer than the
// version we query with: §7.3.1 has an older-version querier treat every group as its
// version's hosts would be treated (no source filtering; in IGMPv1 mode no leaves).
uint8_t RouterEngine::compat_version(const GroupState& g, time_point now) const noexcept {
    // time_never: not running.
    if (g.v1_host_until != time_never && g.v1_host_until > now)
        return 1;
    if (family_ == Family::v4 && g.v2_host_until != time_never && g.v2_host_until > now)
        return std::min<uint8_t>(2, config_.version);
    return config_.version;
}

// ---- validation and bookkeeping ------------------------------------------------------

bool RouterEngine::valid_group(const IpAddr& group) const noexcept {
    if (group.family() != family_ || !group.is_multicast())
        return false;
    // 224.0.0.1 / ff02::1 are never reported (RFC 3376 §5, RFC 3810 §6); state for them
    // would be meaningless.
    static const IpAddr all_systems = IpAddr::v4(0xe0000001);
    static const IpAddr all_nodes = *IpAddr::parse("ff02::1");
    return group != (family_ == Family::v4 ? all_systems : all_nodes);
}

SourceSet RouterEngine::valid_sources(const std::vector<IpAddr>& sources) {
    std::vector<IpAddr> ok;
    ok.reserve(sources.size());
    for (const IpAddr& s : sources) {
        if (s.family() == family_ && !s.is_multicast() && !s.is_unspecified())
            ok.push_back(s);
        else
            ++counters_.sources_ignored;
    }
    return SourceSet::from_unsorted(std::move(ok));
}

RouterEngine::GroupMap::iterator RouterEngine::find_or_create(const IpAddr& group) {
    auto it = groups_.find(group);
    if (it != groups_.end())
        return it;
    if (groups_.size() >= config_.max_groups) {
        ++counters_.groups_refused;
        return groups_.end();
    }
    return groups_.emplace(group, GroupState{}).first;
}

RouterEngine::SourceState* RouterEngine::add_source(GroupState& g, const IpAddr& source) {
    auto it = g.sources.find(source);
    if (it != g.sources.end())
        return &it->second;
    // Departure: the RFCs keep every source; a port keeps at most max_sources and refuses the
    // rest (as Linux's bridge does past its per-port limit).
    if (source_count_ >= config_.max_sources) {
        ++counters_.sources_refused;
        return nullptr;
    }
    ++source_count_;
    return &g.sources.emplace(source, SourceState{}).first->second;
}

void RouterEngine::erase_source(GroupState& g, std::map<IpAddr, SourceState>::iterator it) {
    g.sources.erase(it);
    --source_count_;
}

bool RouterEngine::erase_if_empty(GroupMap::iterator it) {
    GroupState& g = it->second;
    if (g.mode != FilterMode::include || !g.sources.empty()) {
        reindex(it->first, g);
        return false;
    }
    timers_.reschedule(it->first, g.indexed, time_never);
    groups_.erase(it);
    return true;
}

void RouterEngine::reindex(const IpAddr& group, GroupState& g) {
    const time_point due = group_deadline(g);
    timers_.reschedule(group, g.indexed, due);
    g.indexed = due;
}

FilterState RouterEngine::forwarding_of(const GroupState& g) {
    // §6.3: INCLUDE forwards the listed sources (all have running timers); EXCLUDE forwards
    // everything but the sources whose timer is zero.
    std::vector<IpAddr> list;
    for (const auto& [addr, s] : g.sources)
        if (g.mode == FilterMode::include || !s.timer)
            list.push_back(addr);
    return FilterState{g.mode, SourceSet::from_unsorted(std::move(list))};
}

void RouterEngine::notify(const IpAddr& group, const FilterState& old_state,
                          const FilterState& new_state) {
    if (old_state != new_state)
        sink_.on_forwarding_change(group, old_state, new_state);
}

FilterState RouterEngine::forwarding(const IpAddr& group) const {
    auto it = groups_.find(group);
    return it == groups_.end() ? FilterState::none() : forwarding_of(it->second);
}

bool RouterEngine::forwards(const IpAddr& source, const IpAddr& group) const {
    return forwarding(group).accepts(source);
}

// ---- reports ---------------------------------------------------------------------------

void RouterEngine::on_report(time_point now, const wire::Report& report) {
    if (report.family != family_)
        return;
    ++counters_.reports;
    on_timer(now);
    for (const wire::GroupRecord& rec : report.records) {
        if (!valid_group(rec.group)) {
            ++counters_.records_ignored;
            continue;
        }
        const bool exclude_mode =
            rec.type == RecordType::mode_is_exclude || rec.type == RecordType::change_to_exclude;
        if (exclude_mode && !filter::ssm_allows(rec.group, FilterMode::exclude)) {
            ++counters_.ssm_ignored;
            continue;
        }
        apply_record(now, rec.type, rec.group, valid_sources(rec.sources));
    }
}

void RouterEngine::on_legacy_report(time_point now, const wire::LegacyReport& report) {
    if (report.family != family_)
        return;
    ++counters_.legacy_reports;
    if (!valid_group(report.group)) {
        ++counters_.legacy_ignored;
        return;
    }
    // An any-source join in the SSM range (RFC 4604 §2.2.2).
    if (!filter::ssm_allows(report.group, FilterMode::exclude)) {
        ++counters_.ssm_ignored;
        return;
    }
    on_timer(now);
    auto it = find_or_create(report.group);
    if (it == groups_.end())
        return;
    // §7.3.2: the Older Version Host Present timer of the report's version, then the v3
    // equivalent IS_EX({}) in the (now older) compatibility mode.
    GroupState& g = it->second;
    if (family_ == Family::v4 && report.version == 2)
        g.v2_host_until = now + older_host_interval();
    else
        g.v1_host_until = now + older_host_interval();
    reindex(report.group, g);
    apply_record(now, RecordType::mode_is_exclude, report.group, {});
}

void RouterEngine::on_leave(time_point now, const wire::Leave& leave) {
    if (leave.family != family_)
        return;
    ++counters_.leaves;
    if (!valid_group(leave.group)) {
        ++counters_.legacy_ignored;
        return;
    }
    if (!filter::ssm_allows(leave.group, FilterMode::exclude)) { // as its report was
        ++counters_.ssm_ignored;
        return;
    }
    on_timer(now);
    auto it = groups_.find(leave.group);
    if (it == groups_.end())
        return; // INCLUDE({}) + TO_IN({}) changes nothing
    // §7.3.2: in IGMPv1 mode leaves are ignored. Departure: the RFCs translate a leave /
    // done only in the older mode; it is translated here in every mode (a v2 host whose
    // report timer lapsed still means "last member left").
    if (family_ == Family::v4 && compat_version(it->second, now) == 1) {
        ++counters_.leaves_ignored;
        return;
    }
    apply_record(now, RecordType::change_to_include, leave.group, {});
}

void RouterEngine::apply_record(time_point now, RecordType type, const IpAddr& group, SourceSet b) {
    auto it = groups_.find(group);
    const uint8_t newest = this->newest();
    const uint8_t compat = it == groups_.end() ? config_.version : compat_version(it->second, now);
    // §7.3.2 / RFC 3810 §8.3.2: older hosts cannot see source filtering, so BLOCK is ignored
    // and TO_EX loses its sources; in IGMPv1 mode TO_IN is ignored as well.
    if (compat < newest) {
        if (type == RecordType::block_old_sources ||
            (family_ == Family::v4 && compat == 1 && type == RecordType::change_to_include)) {
            ++counters_.records_ignored;
            return;
        }
        if (type == RecordType::change_to_exclude)
            b.clear();
    }
    ++counters_.records;
    if (it == groups_.end()) {
        // The router state of a group without a record is INCLUDE({}); only records that
        // add sources or switch to EXCLUDE create one.
        const bool creates = type == RecordType::mode_is_exclude ||
                             type == RecordType::change_to_exclude ||
                             (type != RecordType::block_old_sources && !b.empty());
        if (!creates)
            return;
        it = find_or_create(group);
        if (it == groups_.end())
            return;
    }
    GroupState& g = it->second;
    const FilterState old_state = forwarding_of(g);
    const time_point gmi_at = now + gmi();
    SourceSet query_sources;  // Q(G, ...)
    bool query_group = false; // Q(G)

    if (g.mode == FilterMode::include) {
        SourceSet a;
        for (const auto& [addr, s] : g.sources)
            a.insert(addr);
        switch (type) {
        case RecordType::mode_is_include:   // §6.4.1 row 1: INCLUDE(A+B), (B)=GMI
        case RecordType::allow_new_sources: // §6.4.2 row 1: INCLUDE(A+B), (B)=GMI
        case RecordType::change_to_include: // §6.4.2 row 4: + Send Q(G,A-B)
            for (const IpAddr& s : b)
                if (SourceState* src = add_source(g, s))
                    src->timer = gmi_at;
            if (type == RecordType::change_to_include)
                query_sources = set_difference(a, b);
            break;
        case RecordType::block_old_sources: // §6.4.2 row 2: INCLUDE(A), Send Q(G,A*B)
            query_sources = set_intersection(a, b);
            break;
        case RecordType::mode_is_exclude:   // §6.4.1 row 2: EXCLUDE(A*B, B-A), (B-A)=0,
        case RecordType::change_to_exclude: // Delete(A-B), GT=GMI; §6.4.2 row 3: + Q(G,A*B)
            for (auto s = g.sources.begin(); s != g.sources.end();) {
                auto next = std::next(s);
                if (!b.contains(s->first))
                    erase_source(g, s);
                s = next;
            }
            for (const IpAddr& s : b)
                if (!a.contains(s))
                    if (SourceState* src = add_source(g, s))
                        src->timer.reset();
            g.mode = FilterMode::exclude;
            g.group_timer = gmi_at;
            if (type == RecordType::change_to_exclude)
                query_sources = set_intersection(a, b);
            break;
        }
    } else {
        SourceSet x, y;
        for (const auto& [addr, s] : g.sources)
            (s.timer ? x : y).insert(addr);
        const SourceSet& a = b; // the tables call the record's list A in EXCLUDE mode
        switch (type) {
        case RecordType::mode_is_include:   // §6.4.1 row 3: EXCLUDE(X+A, Y-A), (A)=GMI
        case RecordType::allow_new_sources: // §6.4.2 row 5: same
        case RecordType::change_to_include: // §6.4.2 row 8: + Send Q(G,X-A), Send Q(G)
            for (const IpAddr& s : a)
                if (SourceState* src = add_source(g, s))
                    src->timer = gmi_at;
            if (type == RecordType::change_to_include) {
                query_sources = set_difference(x, a);
                query_group = true;
            }
            break;
        case RecordType::block_old_sources: // §6.4.2 row 6: EXCLUDE(X+(A-Y), Y),
                                            // (A-X-Y)=Group Timer, Send Q(G,A-Y)
            for (const IpAddr& s : a)
                if (!x.contains(s) && !y.contains(s))
                    if (SourceState* src = add_source(g, s))
                        src->timer = g.group_timer;
            query_sources = set_difference(a, y);
            break;
        case RecordType::mode_is_exclude:   // §6.4.1 row 4: EXCLUDE(A-Y, Y*A), (A-X-Y)=GMI,
        case RecordType::change_to_exclude: // Delete(X-A), Delete(Y-A), GT=GMI; §6.4.2 row 7:
                                            // (A-X-Y)=Group Timer, Send Q(G,A-Y)
            for (const IpAddr& s : a)
                if (!x.contains(s) && !y.contains(s))
                    if (SourceState* src = add_source(g, s))
                        src->timer = type == RecordType::mode_is_exclude ? gmi_at : g.group_timer;
            for (auto s = g.sources.begin(); s != g.sources.end();) {
                auto next = std::next(s);
                if (!a.contains(s->first))
                    erase_source(g, s);
                s = next;
            }
            if (type == RecordType::change_to_exclude)
                query_sources = set_difference(a, y);
            g.group_timer = gmi_at;
            break;
        }
    }

    // §6.6.3: the marked queries go out at once, retransmissions follow from on_timer().
    const bool sources_marked = !query_sources.empty() && send_source_query(now, g, query_sources);
    const bool group_marked = query_group && send_group_query(now, g);
    if (sources_marked || group_marked)
        retransmit(now, group, g, group_marked);

    const FilterState new_state = forwarding_of(g);
    if (erase_if_empty(it))
        notify(group, old_state, FilterState::none());
    else
        notify(group, old_state, new_state);
}

// ---- specific queries (§6.6.3) ----------------------------------------------------------

// §6.6.3.1: "Send Q(G)" lowers the group timer to LMQT and arms [LMQC] transmissions.
// Departure: only a querier does this; a non-querier waits for the querier's Q(G), whose
// clear S flag lowers the timer (§6.6.1), as RFC 2236 §6 has non-queriers ignore leaves.
bool RouterEngine::send_group_query(time_point now, GroupState& g) {
    if (!querier_)
        return false;
    const time_point lowered = now + lmqt();
    if (g.mode == FilterMode::exclude && g.group_timer > lowered)
        g.group_timer = lowered;
    g.group_retransmissions = lmqc();
    return true;
}

// §6.6.3.2: for each source of X whose timer is above LMQT: retransmissions = [LMQC], timer
// lowered to LMQT. Only a querier (the section says "encountered by a querier"), and only
// one that speaks the newest version: IGMPv1/v2 and MLDv1 have no such query (§7.3.1), so
// the sources a report stops listing run out at GMI.
bool RouterEngine::send_source_query(time_point now, GroupState& g, const SourceSet& sources) {
    if (!querier_ || config_.version != newest())
        return false;
    const time_point lowered = now + lmqt();
    bool marked = false;
    for (const IpAddr& s : sources) {
        auto it = g.sources.find(s);
        if (it == g.sources.end() || !it->second.timer || *it->second.timer <= lowered)
            continue;
        it->second.retransmissions = lmqc();
        it->second.timer = lowered;
        marked = true;
    }
    return marked;
}

// Sends what is pending for g at t: Q(G) when group_query (S set while the group timer is
// above LMQT, §6.6.3.1), then the group-and-source-specific pair of §6.6.3.2 — S set for the
// sources whose timer is above LMQT, S clear for the rest, an empty one not sent. The S-set
// message is left out when Q(G) goes at the same moment (the §6.6.3.2 note allows it: the
// group query already asks everyone). Every source with retransmission state counts one
// transmission; the next round is due LMQI later while any remains.
void RouterEngine::retransmit(time_point t, const IpAddr& group, GroupState& g, bool group_query) {
    const time_point limit = t + lmqt();
    auto make = [&](bool s_flag) {
        return make_query(group, config_.last_member_query_interval, s_flag);
    };
    bool sent_group = false;
    if (group_query && g.group_retransmissions > 0) {
        const bool s_flag = g.mode == FilterMode::exclude && g.group_timer > limit;
        sink_.send_query(t, make(s_flag));
        ++counters_.group_queries_sent;
        --g.group_retransmissions;
        sent_group = true;
    }
    wire::Query with_s = make(true), without_s = make(false);
    for (auto& [addr, s] : g.sources) {
        if (s.retransmissions == 0)
            continue;
        (s.timer && *s.timer > limit ? with_s : without_s).sources.push_back(addr);
        --s.retransmissions;
    }
    if (!with_s.sources.empty() && !sent_group) {
        sink_.send_query(t, with_s);
        ++counters_.source_queries_sent;
    }
    if (!without_s.sources.empty()) {
        sink_.send_query(t, without_s);
        ++counters_.source_queries_sent;
    }
    const bool more = g.group_retransmissions > 0 ||
                      std::any_of(g.sources.begin(), g.sources.end(),
                                  [](const auto& s) { return s.second.retransmissions > 0; });
    g.next_query = more ? t + config_.last_member_query_interval : time_never;
}

// ---- general queries and the querier (§6.6, §6.6.2) -------------------------------------

void RouterEngine::start(time_point now) {
    if (started_)
        return;
    started_ = true;
    // A lower-addressed querier heard before start keeps us quiet until it goes away.
    if (!config_.querier || (other_querier_until_ != time_never && other_querier_until_ > now))
        return;
    querier_ = true;
    querier_address_ = config_.address;
    startup_left_ = config_.startup_query_count.value_or(config_.robustness);
    sink_.on_querier_change(true);
    send_general_query(now);
}

wire::Query RouterEngine::make_query(const IpAddr& group, duration max_response,
                                     bool s_flag) const {
    wire::Query q;
    q.family = family_;
    q.version = config_.version;
    q.group = group;
    q.max_response = max_response;
    // The S flag, QRV and QQIC exist in IGMPv3 / MLDv2 only; older queries are the first 8
    // (IGMP) / 24 (MLD) octets (RFC 2236 §2, RFC 2710 §3), and an IGMPv1 query's time is 0,
    // which hosts read as 10 s (RFC 3376 §7.1).
    if (q.version == newest()) {
        q.suppress_router_processing = s_flag;
        q.qrv = robustness();
        q.qqi = query_interval();
    } else if (family_ == Family::v4 && q.version == 1) {
        q.max_response = std::chrono::seconds(10);
    }
    return q;
}

void RouterEngine::send_general_query(time_point due) {
    const wire::Query q = make_query(family_ == Family::v4 ? IpAddr::v4(0) : IpAddr{},
                                     query_response_interval(), false);
    sink_.send_query(due, q);
    ++counters_.general_queries_sent;
    // §8.6-7: the first [Startup Query Count] queries are [Startup Query Interval] apart.
    if (startup_left_ > 0)
        --startup_left_;
    const duration sqi = config_.startup_query_interval.value_or(config_.query_interval / 4);
    next_general_query_ = due + (startup_left_ > 0 ? sqi : config_.query_interval);
}

void RouterEngine::on_query(time_point now, const wire::Query& query, const IpAddr& source) {
    if (query.family != family_)
        return;
    if (source == config_.address) {
        ++counters_.own_queries;
        return;
    }
    ++counters_.queries_received;
    // §7.3.1: the querier must use the lowest version on the link. A query older than ours
    // means an older router the administrator should configure us down to; a newer one while
    // we are older means the configuration is lower than it needs to be. Both "SHOULD log a
    // warning (rate-limited)": counted here, the operator reads the counters. The query still
    // counts for the election and timers (an IGMPv2 router reads any query's first 8 octets,
    // RFC 2236 §3; mcfwd does the same in IGMPv1 mode, where RFC 1112 has no election).
    if (query.version < config_.version)
        ++counters_.older_queries;
    else if (query.version > config_.version)
        ++counters_.newer_queries;
    on_timer(now);
    // §6.6.2: a query from a lower address makes us a non-querier until Other Querier
    // Present Interval passes without one. With config.querier false we never query and
    // simply follow whoever does.
    if (!config_.querier || source < config_.address) {
        const bool lost = querier_;
        if (lost) {
            querier_ = false;
            ++counters_.querier_lost;
            startup_left_ = 0;
            next_general_query_ = time_never;
        }
        querier_address_ = source;
        // §4.1.6-7: adopt the querier's QRV and QQI (not zero: "not given").
        if (query.version == newest()) {
            if (query.qrv != 0)
                adopted_robustness_ = query.qrv;
            if (query.qqi > duration{0})
                adopted_query_interval_ = query.qqi;
        }
        other_querier_until_ = now + other_querier_interval();
        if (lost)
            sink_.on_querier_change(false);
    }
    // §6.6.1: a received group(-and-source)-specific query with S clear lowers our timers.
    if (query.group.is_unspecified() || query.suppress_router_processing)
        return;
    auto it = groups_.find(query.group);
    if (it == groups_.end())
        return;
    GroupState& g = it->second;
    const time_point lowered = now + lmqt();
    if (query.sources.empty()) {
        if (g.mode == FilterMode::exclude && g.group_timer > lowered)
            g.group_timer = lowered;
    } else {
        for (const IpAddr& s : query.sources) {
            auto src = g.sources.find(s);
            if (src != g.sources.end() && src->second.timer && *src->second.timer > lowered)
                src->second.timer = lowered;
        }
    }
    reindex(it->first, g);
}

void RouterEngine::on_message(time_point now, const wire::Message& message, const IpAddr& source) {
    if (const auto* q = std::get_if<wire::Query>(&message))
        on_query(now, *q, source);
    else if (const auto* r = std::get_if<wire::Report>(&message))
        on_report(now, *r);
    else if (const auto* l = std::get_if<wire::LegacyReport>(&message))
        on_legacy_report(now, *l);
    else if (const auto* v = std::get_if<wire::Leave>(&message))
        on_leave(now, *v);
}

// ---- timers ------------------------------------------------------------------------------

time_point RouterEngine::group_deadline(const GroupState& g) const {
    // The Host Present timers count too, so the compatibility mode a snapshot shows is
    // current after on_timer(now).
    time_point t = std::min({g.next_query, g.v1_host_until, g.v2_host_until});
    if (g.mode == FilterMode::exclude)
        t = std::min(t, g.group_timer);
    for (const auto& [addr, s] : g.sources)
        if (s.timer)
            t = std::min(t, *s.timer);
    return t;
}

time_point RouterEngine::next_deadline() const {
    time_point t = time_never;
    if (querier_)
        t = next_general_query_;
    else if (config_.querier && started_)
        t = other_querier_until_;
    return std::min(t, timers_.earliest());
}

// §6.5 and the source timers, for one group at t.
void RouterEngine::run_group(time_point t, GroupMap::iterator it) {
    const IpAddr group = it->first;
    GroupState& g = it->second;
    const FilterState old_state = forwarding_of(g);
    if (g.v1_host_until <= t)
        g.v1_host_until = time_never;
    if (g.v2_host_until <= t)
        g.v2_host_until = time_never;
    if (g.next_query <= t)
        retransmit(t, group, g, g.group_retransmissions > 0);
    // §6.3 / §6.5: an expired source is deleted in INCLUDE mode; in EXCLUDE mode it stays
    // with a zero timer and is no longer forwarded.
    for (auto s = g.sources.begin(); s != g.sources.end();) {
        auto next = std::next(s);
        if (s->second.timer && *s->second.timer <= t) {
            if (g.mode == FilterMode::include) {
                erase_source(g, s);
            } else {
                s->second.timer.reset();
                s->second.retransmissions = 0;
            }
        }
        s = next;
    }
    // §6.5: group timer expiry in EXCLUDE mode: the sources with running timers become an
    // INCLUDE list, the zero-timer ones are deleted; no source left deletes the record.
    if (g.mode == FilterMode::exclude && g.group_timer <= t) {
        for (auto s = g.sources.begin(); s != g.sources.end();) {
            auto next = std::next(s);
            if (!s->second.timer)
                erase_source(g, s);
            s = next;
        }
        g.mode = FilterMode::include;
        g.group_timer = time_never;
        g.group_retransmissions = 0;
    }
    const FilterState new_state = forwarding_of(g);
    if (erase_if_empty(it)) {
        ++counters_.groups_expired;
        notify(group, old_state, FilterState::none());
    } else {
        notify(group, old_state, new_state);
    }
}

void RouterEngine::on_timer(time_point now) {
    for (;;) {
        const time_point t = next_deadline();
        if (t > now)
            return;
        // §6.6.2: Other Querier Present expired: we are the querier again and query at once.
        if (!querier_ && config_.querier && started_ && other_querier_until_ <= t) {
            querier_ = true;
            querier_address_ = config_.address;
            other_querier_until_ = time_never;
            adopted_robustness_ = 0;
            adopted_query_interval_ = duration{0};
            ++counters_.querier_won;
            sink_.on_querier_change(true);
            send_general_query(t);
        } else if (querier_ && next_general_query_ <= t) {
            send_general_query(t);
        }
        // Only the groups due, in address order as a scan of groups_ would visit them.
        for (const IpAddr& due : timers_.take_due(t)) {
            const auto it = groups_.find(due);
            it->second.indexed = time_never; // take_due dropped it
            run_group(t, it);
        }
    }
}

// ---- introspection -----------------------------------------------------------------------

std::optional<GroupSnapshot> RouterEngine::group_snapshot(const IpAddr& group) const {
    auto it = groups_.find(group);
    if (it == groups_.end())
        return std::nullopt;
    const GroupState& g = it->second;
    GroupSnapshot s;
    s.group = group;
    s.mode = g.mode;
    s.group_timer = g.mode == FilterMode::exclude ? g.group_timer : time_never;
    for (const auto& [addr, src] : g.sources)
        s.sources.push_back({addr, src.timer, src.retransmissions});
    // Lapsed Host Present timers are cleared by on_timer() (they are deadlines), so "now"
    // is any time before the earliest of them.
    s.compat_version = compat_version(g, time_point{duration::min()});
    s.v1_host_until = g.v1_host_until;
    s.v2_host_until = g.v2_host_until;
    s.group_retransmissions = g.group_retransmissions;
    s.next_query = g.next_query;
    s.forwarding = forwarding_of(g);
    return s;
}

std::vector<GroupSnapshot> RouterEngine::groups() const {
    std::vector<GroupSnapshot> out;
    out.reserve(groups_.size());
    for (const auto& [group, g] : groups_)
        out.push_back(*group_snapshot(group));
    return out;
}

QuerierSnapshot RouterEngine::querier() const {
    QuerierSnapshot s;
    s.querier = querier_;
    s.version = config_.version;
    s.querier_address = querier_address_;
    s.other_querier_until = other_querier_until_;
    s.next_general_query = querier_ ? next_general_query_ : time_never;
    s.startup_left = startup_left_;
    s.robustness = robustness();
    s.query_interval = query_interval();
    s.query_response_interval = query_response_interval();
    s.group_membership_interval = gmi();
    s.last_member_query_time = lmqt();
    return s;
}

} // namespace mcfwd::router
