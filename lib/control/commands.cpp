#include "control/commands.hpp"

#include "base/names.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace mcfwd::control {

using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

// ---- the command table -------------------------------------------------------------

namespace {

constexpr std::array<CommandInfo, 19> commands_table{{
    {"ports", false, "[PORT]", "ports: link, groups, NIC filter (MACs, allmulticast and why)"},
    {"groups", false, "[PORT] [start=N] [limit=N]",
     "each port's merged groups: filter, reference count, members, IGMP/MLD state"},
    {"router", false, "[PORT] [start=N] [limit=N]",
     "downstream ports' router state: groups with source timers, querier, counters"},
    {"receivers", false, "[RECEIVER] [start=N] [limit=N]",
     "receivers: memberships with their filters, packets delivered to the outlet"},
    {"filter", false, "RECEIVER GROUP [port=PORT] [start=N] [limit=N]",
     "one membership's filter, every source page by page"},
    {"stats", false, "[lcores [start=N] [limit=N]]",
     "data path counters summed over lcores (per lcore with lcores), control plane counters"},
    {"join", true, "RECEIVER GROUP [port=PORT] ;", "any-source join: (EXCLUDE, {})"},
    {"leave", true, "RECEIVER GROUP [port=PORT] ;", "leave the group, whatever the filter"},
    {"join_source", true, "RECEIVER GROUP SOURCE [port=PORT] ;", "add SOURCE to an INCLUDE filter"},
    {"leave_source", true, "RECEIVER GROUP SOURCE [port=PORT] ;",
     "remove SOURCE from an INCLUDE filter (the last one leaves)"},
    {"block", true, "RECEIVER GROUP SOURCE [port=PORT] ;", "add SOURCE to an EXCLUDE filter"},
    {"unblock", true, "RECEIVER GROUP SOURCE [port=PORT] ;",
     "remove SOURCE from an EXCLUDE filter"},
    {"set_filter", true,
     "RECEIVER GROUP include|exclude [SOURCE...|stage=ID count=N] [port=PORT] ;",
     "replace the whole filter"},
    {"stage_open", true, ";", "open a stage for a long source list: answers its id"},
    {"stage_add", true, "ID SOURCE... ;", "add sources to a stage: answers the stage's count"},
    {"stage_abort", true, "ID ;", "drop a stage"},
    {"add_receiver", true, "RECEIVER [ring=NAME] [size=N] | [tx_port=PORT] ;",
     "a new receiver delivering into a ring (made now) or onto a port"},
    {"close_receiver", true, "RECEIVER ;",
     "leave every group of the receiver, free its sink and its name"},
    {"help", false, "", "the command list"},
}};

constexpr size_t default_limit = 32; // records per answer of a listing command
constexpr size_t max_limit = 200;    // DPDK 22.11: 256 entries per dict
// Sources per /mcfwd/filter page: within 512 array entries, and 256 IPv6 texts
// (at most 42 bytes each in JSON) stay within the 16 KiB answer.
constexpr size_t max_source_page = 256;
constexpr size_t max_listed_macs = 64; // programmed MACs shown (the count is always shown)

// A listing record shows a filter's first max_listed_sources sources and always
// its source_count: one record with a 65,536-source filter would otherwise pass
// telemetry's 16 KiB answer at any page size. /mcfwd/filter lists them all.
constexpr size_t max_listed_sources = 64;

Value sources_value(const SourceSet& s);

void set_listed_sources(Value& record, const SourceSet& s, std::string_view key = "sources") {
    Value list = Value::list();
    for (size_t i = 0; i < s.size() && i < max_listed_sources; ++i)
        list.push(s.as_vector()[i].to_string());
    record.set(key, std::move(list));
    if (key == "sources")
        record.set("source_count", uint64_t(s.size()));
    else
        record.set(std::string(key) + "_count", uint64_t(s.size()));
}

Value sources_value(const SourceSet& s) {
    Value l = Value::list();
    for (const IpAddr& a : s)
        l.push(a.to_string());
    return l;
}

class Executor {
public:
    Executor(CommandContext& ctx) : ctx_(ctx), engine_(ctx.cp->engine()) {}

    Value run(std::string_view name, std::string_view params, const std::vector<IpAddr>* staged);

private:
    using Port = CommandContext::Port;

    const Port* port_by_name(std::string_view name) const {
        for (const Port& p : ctx_.ports)
            if (p.name == name)
                return &p;
        return nullptr;
    }
    const Port* port_by_id(PortId id) const {
        for (const Port& p : ctx_.ports)
            if (p.id == id)
                return &p;
        return nullptr;
    }
    std::string port_name(PortId id) const {
        const Port* p = port_by_id(id);
        return p ? p->name : "port" + std::to_string(id);
    }
    uint64_t ms_until(time_point t) const {
        const time_point now = ctx_.clock ? ctx_.clock->now() : t;
        if (t <= now)
            return 0;
        return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count());
    }
    void timer(Value& obj, std::string_view key, time_point t) const {
        if (t != time_never)
            obj.set(key, ms_until(t));
    }

    Value ports(const Args& a);
    Value port_value(const Port& p);
    Value host_value(const host::HostEngine& h);
    Value groups(const Args& a);
    Value router(const Args& a);
    Value querier_value(const Port& p, const router::RouterEngine& r);
    Value receivers(const Args& a);
    Value stats();
    Value help();
    Value membership(std::string_view name, const Args& a, const std::vector<IpAddr>* staged);
    // EPERM for the proxy's internal receivers: their filter is the router state
    // of a downstream port, kept by the control plane from the hosts' reports; a
    // change from outside would be undone or, worse, withdraw the hosts' groups
    // upstream while the router still holds them.
    std::optional<Value> refuse_internal(membership::ReceiverId r) {
        const auto port = ctx_.cp->internal_receiver_port(r);
        if (!port)
            return std::nullopt;
        return error_value("EPERM", std::string(engine_.receiver_name(r)) +
                                        " is internal: the router state of downstream port " +
                                        port_name(*port) + " (mcfwdctl router)");
    }
    Value filter(const Args& a);
    Value add_receiver(const Args& a);
    Value close_receiver(const Args& a);
    Value register_receiver(std::string_view params);
    Value unregister_receiver(std::string_view params);
    // Which port a membership command acts on (docs/TELEMETRY.md "Parameters"):
    // port=NAME, the only port, or the one port where the receiver has the group
    // (creating: where it has any group). An error value otherwise.
    std::optional<Value> resolve_port(std::string_view rname, membership::ReceiverId rid,
                                      const IpAddr& group, const Args& a, bool creating,
                                      const Port*& port);

    // Paging of listing commands: start=, limit=.
    std::optional<Value> paging(const Args& a, size_t& start, size_t& limit,
                                size_t most = max_limit);
    // The listing commands' optional PORT argument: that port, or every port in
    // configuration order; an error value for more arguments or an unknown name.
    std::optional<Value> select_ports(std::string_view cmd, const Args& a,
                                      std::vector<const Port*>& which);

    CommandContext& ctx_;
    membership::Engine& engine_;
};

// A page of a listing: {key: list, "total": N[, "next": start of the next page]}.
Value page(const char* key, Value list, size_t total, size_t start, size_t limit) {
    Value v;
    v.set(key, std::move(list));
    v.set("total", uint64_t(total));
    if (start + limit < total)
        v.set("next", uint64_t(start + limit));
    return v;
}

std::optional<Value> Executor::select_ports(std::string_view cmd, const Args& a,
                                            std::vector<const Port*>& which) {
    if (a.pos.size() > 1)
        return error_value("EINVAL", std::string(cmd) + " takes at most one port name");
    if (!a.pos.empty()) {
        const Port* p = port_by_name(a.pos[0]);
        if (!p)
            return error_value("ENXIO", "no port named " + quote(a.pos[0]));
        which.push_back(p);
    } else {
        for (const Port& p : ctx_.ports)
            which.push_back(&p);
    }
    return std::nullopt;
}

std::optional<Value> Executor::paging(const Args& a, size_t& start, size_t& limit, size_t most) {
    start = 0;
    limit = most == max_limit ? default_limit : most; // a source page: all it may hold
    if (auto s = a.opt("start")) {
        auto v = parse_count(*s);
        if (!v)
            return error_value("EINVAL", "start=" + quote(*s) + ": not a number");
        start = *v;
    }
    if (auto s = a.opt("limit")) {
        auto v = parse_count(*s);
        if (!v || *v == 0 || *v > most)
            return error_value("EINVAL",
                               "limit=" + quote(*s) + ": want 1.." + std::to_string(most));
        limit = *v;
    }
    return std::nullopt;
}

Value Executor::run(std::string_view name, std::string_view params,
                    const std::vector<IpAddr>* staged) {
    if (name == register_receiver_cmd)
        return register_receiver(params);
    if (name == unregister_receiver_cmd)
        return unregister_receiver(params);
    const CommandInfo* info = nullptr;
    if (auto e = refuse_early(name, ctx_.read_only, info))
        return *e;
    // The stages live on the telemetry side (gateway.hpp), never here.
    if (name.substr(0, 6) == "stage_")
        return error_value("EINVAL", std::string(name) + " is run by the telemetry side");
    static constexpr std::string_view listing_opts[] = {"start", "limit"};
    static constexpr std::string_view port_opt[] = {"port"};
    static constexpr std::string_view filter_opts[] = {"port", "start", "limit"};
    static constexpr std::string_view set_filter_opts[] = {"port", "stage", "count"};
    static constexpr std::string_view add_receiver_opts[] = {"ring", "size", "tx_port"};
    std::span<const std::string_view> allowed;
    if (name == "groups" || name == "receivers" || name == "router")
        allowed = listing_opts;
    else if (name == "filter")
        allowed = filter_opts;
    else if (name == "set_filter")
        allowed = set_filter_opts;
    else if (name == "add_receiver")
        allowed = add_receiver_opts;
    else if (info->mutates && name != "close_receiver")
        allowed = port_opt;
    Args a;
    if (auto e = tokenize(params, allowed, a))
        return *e;
    if (name == "ports")
        return ports(a);
    if (name == "groups")
        return groups(a);
    if (name == "receivers")
        return receivers(a);
    if (name == "router")
        return router(a);
    if (name == "stats" || name == "help") {
        if (!a.pos.empty()) // stats' own parameters are read on the telemetry side
            return error_value("EINVAL", info->usage.empty()
                                             ? std::string(name) + " takes no parameters"
                                             : "usage: " + std::string(name) + " " +
                                                   std::string(info->usage));
        return name == "stats" ? stats() : help();
    }
    if (name == "add_receiver")
        return add_receiver(a);
    if (name == "close_receiver")
        return close_receiver(a);
    if (name == "filter")
        return filter(a);
    return membership(name, a, staged);
}

// ---- reading --------------------------------------------------------------------------

Value Executor::host_value(const host::HostEngine& h) {
    const host::HostSnapshot s = h.snapshot();
    Value v;
    v.set("compat_version", uint64_t(s.compat_version));
    v.set("max_version", uint64_t(s.max_version));
    v.set("robustness", uint64_t(s.robustness));
    v.set(
        "query_interval_ms",
        uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(s.query_interval).count()));
    timer(v, "v1_querier_ms", s.v1_querier_until);
    timer(v, "v2_querier_ms", s.v2_querier_until);
    timer(v, "general_response_ms", s.interface_timer);
    v.set("address_ready", uint64_t(s.address_ready));
    v.set("groups", uint64_t(s.groups.size()));
    return v;
}

Value Executor::port_value(const Port& p) {
    Value v;
    v.set("name", p.name);
    v.set("id", uint64_t(p.id));
    const auto pv = engine_.port(p.id);
    v.set("present", uint64_t(pv && pv->present));
    v.set("up", uint64_t(pv && pv->up));
    v.set("link_changes", ctx_.cp->link_changes(p.id));
    v.set("groups", uint64_t(pv ? pv->groups : 0));
    v.set("join_all", uint64_t(pv ? pv->allmulti_count : 0));
    if (const auto* nf = ctx_.cp->controller().nic_filter(p.id)) {
        const nicfilter::NicFilterSnapshot s = nf->snapshot();
        Value n;
        n.set("macs_wanted", uint64_t(s.wanted.size()));
        n.set("macs_programmed", uint64_t(s.programmed.size()));
        Value macs = Value::list();
        for (size_t i = 0; i < s.programmed.size() && i < max_listed_macs; ++i)
            macs.push(s.programmed[i].to_string());
        n.set("programmed", std::move(macs));
        n.set("allmulti", uint64_t(s.allmulti));
        n.set("allmulti_wanted", uint64_t(s.allmulti_wanted));
        n.set("allmulti_reason", nicfilter::allmulti_reason_name(s.reason));
        n.set("last_list_error", errc_name(s.last_list_error));
        n.set("last_device_error", errc_name(s.last_device_error));
        n.set("no_space_at", uint64_t(s.no_space_at));
        n.set("list_programs", s.counters.list_programs);
        n.set("list_failures", s.counters.list_failures);
        n.set("allmulti_failures", s.counters.allmulti_failures);
        v.set("nic", std::move(n));
    }
    if (const auto* h = ctx_.cp->host(p.id, addr::Family::v4))
        v.set("igmp", host_value(*h));
    if (const auto* h = ctx_.cp->host(p.id, addr::Family::v6))
        v.set("mld", host_value(*h));
    if (const auto* s = ctx_.cp->sink(p.id)) {
        Value r;
        r.set("messages", s->counters().messages);
        r.set("frames", s->counters().frames);
        r.set("encode_errors", s->counters().encode_errors);
        v.set("reports", std::move(r));
    }
    return v;
}

Value Executor::ports(const Args& a) {
    std::vector<const Port*> which;
    if (auto e = select_ports("ports", a, which))
        return *e;
    Value list = Value::list();
    for (const Port* p : which)
        list.push(port_value(*p));
    Value v;
    v.set("ports", std::move(list));
    return v;
}

Value Executor::groups(const Args& a) {
    std::vector<const Port*> which;
    if (auto e = select_ports("groups", a, which))
        return *e;
    size_t start = 0, limit = 0;
    if (auto e = paging(a, start, limit))
        return *e;
    // Stable order: ports in configuration order, groups by address.
    std::vector<std::pair<const Port*, IpAddr>> all;
    for (const Port* p : which) {
        std::vector<IpAddr> gs;
        engine_.for_each_port_group(p->id, [&](const IpAddr& g, const auto&) { gs.push_back(g); });
        std::sort(gs.begin(), gs.end());
        for (const IpAddr& g : gs)
            all.emplace_back(p, g);
    }
    Value list = Value::list();
    for (size_t i = start; i < all.size() && i < start + limit; ++i) {
        const auto& [p, g] = all[i];
        const auto pg = engine_.port_group(p->id, g);
        Value e;
        e.set("port", p->name);
        e.set("group", g.to_string());
        e.set("mode", filter::mode_name(pg->filter.mode));
        set_listed_sources(e, pg->filter.sources);
        e.set("refcount", uint64_t(pg->refcount()));
        e.set("receivers", uint64_t(pg->receivers));
        e.set("unfiltered", uint64_t(pg->unfiltered));
        std::vector<std::string> names;
        engine_.for_each_member(p->id, g, [&](membership::ReceiverId r, const FilterState&) {
            names.emplace_back(engine_.receiver_name(r));
        });
        std::sort(names.begin(), names.end());
        Value members = Value::list();
        for (auto& n : names)
            members.push(std::move(n));
        e.set("members", std::move(members));
        if (const auto* h = ctx_.cp->host(p->id, g.family())) {
            Value host;
            host.set("protocol", g.is_v4() ? "igmp" : "mld");
            host.set("compat_version", uint64_t(h->compat_version()));
            if (auto s = h->group_snapshot(g)) {
                host.set("reportable", uint64_t(s->reportable));
                host.set("pending_reports", uint64_t(s->pending_retransmissions));
                host.set("mode_retransmissions", uint64_t(s->mode_retransmissions));
                set_listed_sources(host, s->pending_allow, "pending_allow");
                set_listed_sources(host, s->pending_block, "pending_block");
                timer(host, "retransmit_ms", s->retransmit_at);
                timer(host, "query_response_ms", s->group_timer);
                timer(host, "legacy_report_ms", s->legacy_timer);
                host.set("unsolicited_left", uint64_t(s->unsolicited_left));
                host.set("last_reporter", uint64_t(s->last_reporter));
            }
            e.set("host", std::move(host));
        }
        list.push(std::move(e));
    }
    return page("groups", std::move(list), all.size(), start, limit);
}

// RFC 3376 §6.2 / RFC 3810 §7.2: the router side's records, as the engine keeps them.
// Sources are split the way the RFCs name them: those with a running timer (INCLUDE's
// list, EXCLUDE's Requested List) and the timer-zero ones (EXCLUDE's Exclude List).
// Parallel scalar lists rather than one object per source keep a group's record
// within telemetry's 256-keys-per-object limit up to 512 sources.
Value Executor::router(const Args& a) {
    std::vector<const Port*> which;
    if (auto e = select_ports("router", a, which))
        return *e;
    size_t start = 0, limit = 0;
    if (auto e = paging(a, start, limit))
        return *e;
    static constexpr addr::Family families[] = {addr::Family::v4, addr::Family::v6};
    // A port named on purpose that keeps no router state: say so rather than
    // answer empty lists, which read as "no group yet". Without a name, every
    // port is asked and ports without a router add nothing.
    if (!a.pos.empty() && !ctx_.cp->router(which[0]->id, addr::Family::v4) &&
        !ctx_.cp->router(which[0]->id, addr::Family::v6))
        return error_value("EINVAL", "port " + which[0]->name +
                                         (ctx_.cp->downstream_receiver(which[0]->id)
                                              ? " has IGMP and MLD disabled: no router state"
                                              : " is not downstream: router state is kept only "
                                                "on ports with role: downstream"));
    // Ports in configuration order, IGMP before MLD, groups by address (groups()
    // is ordered). Snapshots are taken whole: the page is cut afterwards.
    struct Row {
        const Port* port;
        router::GroupSnapshot g;
    };
    std::vector<Row> all;
    Value queriers = Value::list();
    for (const Port* p : which)
        for (addr::Family f : families)
            if (const router::RouterEngine* r = ctx_.cp->router(p->id, f)) {
                queriers.push(querier_value(*p, *r));
                for (router::GroupSnapshot& g : r->groups())
                    all.push_back({p, std::move(g)});
            }
    Value list = Value::list();
    for (size_t i = start; i < all.size() && i < start + limit; ++i) {
        const auto& [p, g] = all[i];
        Value e;
        e.set("port", p->name);
        e.set("protocol", g.group.is_v4() ? "igmp" : "mld");
        e.set("group", g.group.to_string());
        e.set("mode", filter::mode_name(g.mode));
        Value sources = Value::list(), timers = Value::list(), blocked = Value::list();
        for (const router::SourceSnapshot& s : g.sources) {
            if (s.timer) {
                sources.push(s.source.to_string());
                timers.push(ms_until(*s.timer));
            } else {
                blocked.push(s.source.to_string());
            }
        }
        e.set("sources", std::move(sources));
        e.set("source_timers_ms", std::move(timers));
        e.set("blocked", std::move(blocked));
        timer(e, "group_timer_ms", g.group_timer);
        e.set("compat_version", uint64_t(g.compat_version));
        timer(e, "v1_host_ms", g.v1_host_until);
        timer(e, "v2_host_ms", g.v2_host_until);
        e.set("forwarding_mode", filter::mode_name(g.forwarding.mode));
        e.set("forwarding_sources", sources_value(g.forwarding.sources));
        e.set("group_retransmissions", uint64_t(g.group_retransmissions));
        timer(e, "next_query_ms", g.next_query);
        list.push(std::move(e));
    }
    Value v = page("groups", std::move(list), all.size(), start, limit);
    v.set("queriers", std::move(queriers));
    return v;
}

Value Executor::querier_value(const Port& p, const router::RouterEngine& r) {
    const router::QuerierSnapshot q = r.querier();
    const router::RouterConfig& cfg = r.config();
    const router::RouterCounters& c = r.counters();
    auto ms = [](duration d) {
        return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    };
    Value v;
    v.set("port", p.name);
    v.set("protocol", cfg.address.is_v4() ? "igmp" : "mld");
    v.set("querier", uint64_t(q.querier));
    v.set("version", uint64_t(q.version)); // queried with (RFC 3376 §7.3.1)
    v.set("address", cfg.address.to_string());
    v.set("querier_address", q.querier_address.to_string());
    // RFC 4605 §4.2: traffic goes onto the link only while we are its querier.
    const addr::Family family = cfg.address.family();
    v.set("forwarding", uint64_t(ctx_.cp->forwarding(p.id, family)));
    v.set("forwarding_changes", ctx_.cp->forwarding_changes(p.id, family));
    timer(v, "other_querier_ms", q.other_querier_until);
    timer(v, "general_query_ms", q.next_general_query);
    v.set("startup_left", uint64_t(q.startup_left));
    v.set("robustness", uint64_t(q.robustness));
    v.set("query_interval_ms", ms(q.query_interval));
    v.set("query_response_interval_ms", ms(q.query_response_interval));
    v.set("group_membership_interval_ms", ms(q.group_membership_interval));
    v.set("last_member_query_time_ms", ms(q.last_member_query_time));
    v.set("groups", uint64_t(r.group_count()));
    v.set("sources", uint64_t(r.source_count()));
    v.set("max_groups", uint64_t(cfg.max_groups));
    v.set("max_sources", uint64_t(cfg.max_sources));
    Value cv;
    router::for_each_counter(
        c, [&](std::string_view name, std::string_view, uint64_t value) { cv.set(name, value); });
    v.set("counters", std::move(cv));
    return v;
}

Value Executor::receivers(const Args& a) {
    if (a.pos.size() > 1)
        return error_value("EINVAL", "receivers takes at most one receiver name");
    size_t start = 0, limit = 0;
    if (auto e = paging(a, start, limit))
        return *e;
    std::vector<std::pair<std::string, membership::ReceiverId>> all;
    if (!a.pos.empty()) {
        auto r = engine_.find_receiver(a.pos[0]);
        if (!r)
            return error_value("ENOENT", "no receiver named " + quote(a.pos[0]));
        all.emplace_back(std::string(a.pos[0]), *r);
    } else {
        engine_.for_each_receiver([&](membership::ReceiverId r, std::string_view n) {
            all.emplace_back(std::string(n), r);
        });
        std::sort(all.begin(), all.end());
    }
    // Memberships in port configuration order, then by group.
    std::map<PortId, size_t> port_rank;
    for (size_t i = 0; i < ctx_.ports.size(); ++i)
        port_rank[ctx_.ports[i].id] = i;
    Value list = Value::list();
    for (size_t i = start; i < all.size() && i < start + limit; ++i) {
        const auto& [name, rid] = all[i];
        Value e;
        e.set("name", name);
        e.set("id", uint64_t(rid));
        // The proxy's own receivers (one per downstream port): shown, never changed.
        e.set("internal", uint64_t(ctx_.cp->internal_receiver_port(rid).has_value()));
        if (auto outlet = ctx_.cp->publisher().outlet_of(rid)) {
            e.set("outlet", uint64_t(*outlet));
            if (ctx_.sinks) {
                e.set("sink", ctx_.sinks->describe(*outlet));
                e.set("delivered", ctx_.sinks->delivered(*outlet));
            }
        }
        struct M {
            size_t rank;
            IpAddr group;
            PortId port;
            FilterState filter;
            bool attached;
        };
        std::vector<M> ms;
        engine_.for_each_membership(rid, [&](const membership::MembershipView& m) {
            auto it = port_rank.find(m.port);
            ms.push_back({it == port_rank.end() ? SIZE_MAX : it->second, m.group, m.port, m.filter,
                          m.attached});
        });
        std::sort(ms.begin(), ms.end(), [](const M& x, const M& y) {
            return std::tie(x.rank, x.port, x.group) < std::tie(y.rank, y.port, y.group);
        });
        Value mlist = Value::list();
        for (const M& m : ms) {
            Value mv;
            mv.set("port", port_name(m.port));
            mv.set("group", m.group.to_string());
            mv.set("mode", filter::mode_name(m.filter.mode));
            set_listed_sources(mv, m.filter.sources);
            mv.set("attached", uint64_t(m.attached));
            mlist.push(std::move(mv));
        }
        e.set("memberships", std::move(mlist));
        list.push(std::move(e));
    }
    return page("receivers", std::move(list), all.size(), start, limit);
}

Value Executor::stats() {
    Value v;
    // Every counter by its name (MCFWD_CONTROL_COUNTERS, decode_<reason>); the
    // router engines' summed over downstream ports and families (per port:
    // /mcfwd/router's queriers).
    Value cv;
    for_each_counter(ctx_.cp->counters(), [&](std::string_view name, std::string_view,
                                              uint64_t value) { cv.set(name, value); });
    v.set("control", std::move(cv));
    router::RouterCounters rsum;
    for (const Port& p : ctx_.ports)
        for (addr::Family f : {addr::Family::v4, addr::Family::v6})
            if (const router::RouterEngine* r = ctx_.cp->router(p.id, f))
                rsum += r->counters();
    Value rv;
    router::for_each_counter(rsum, [&](std::string_view name, std::string_view, uint64_t value) {
        rv.set(name, value);
    });
    v.set("router", std::move(rv));
    const membership::Stats& s = engine_.stats();
    Value ev;
    ev.set("calls_ok", s.ok);
    ev.set("calls_failed", s.failed);
    ev.set("group_events", s.events);
    ev.set("member_events", s.member_events);
    v.set("engine", std::move(ev));
    const PublisherStats& p = ctx_.cp->publisher().stats();
    Value tv;
    tv.set("published", p.published);
    tv.set("removed", p.removed);
    tv.set("refused", p.refused);
    tv.set("unbound_skipped", p.unbound_skipped);
    v.set("tables", std::move(tv));
    // Each outlet by id: the receiver delivering through it (a downstream port's
    // is its internal receiver) and what it delivered.
    if (ctx_.sinks) {
        std::map<table::OutletId, std::string> by_outlet;
        engine_.for_each_receiver([&](membership::ReceiverId r, std::string_view n) {
            if (auto o = ctx_.cp->publisher().outlet_of(r))
                by_outlet[*o] = std::string(n);
        });
        Value names = Value::list(), delivered = Value::list();
        for (const auto& [o, n] : by_outlet) {
            names.push(n);
            delivered.push(ctx_.sinks->delivered(o));
        }
        v.set("outlets", std::move(names));
        v.set("delivered", std::move(delivered));
    }
    return v;
}

Value Executor::help() {
    Value v;
    for (const CommandInfo& c : command_list()) {
        std::string line(c.usage);
        if (c.mutates)
            line += line.empty() ? "(changes state)" : " (changes state)";
        v.set(c.name, std::move(line));
    }
    return v;
}

// ---- changing -------------------------------------------------------------------------

// A change's answer shows the filter after it. The source list is shown up to
// max_answer_sources (a longer list would pass telemetry's 16 KiB answer and turn
// a done change into an E2BIG answer); source_count is always there, and
// /mcfwd/filter pages through the rest.
constexpr size_t max_answer_sources = 64;

Value filter_answer(std::string_view command, std::string_view receiver, std::string_view port,
                    const IpAddr& group, const std::optional<FilterState>& f) {
    Value v;
    v.set("ok", command);
    v.set("receiver", receiver);
    v.set("port", port);
    v.set("group", group.to_string());
    v.set("mode", f ? filter::mode_name(f->mode) : "none");
    const size_t n = f ? f->sources.size() : 0;
    v.set("source_count", uint64_t(n));
    if (n <= max_answer_sources)
        v.set("sources", f ? sources_value(f->sources) : Value::list());
    return v;
}

std::optional<IpAddr> parse_addr(std::string_view s) {
    return IpAddr::parse(s);
}

Value Executor::membership(std::string_view name, const Args& a,
                           const std::vector<IpAddr>* staged) {
    const bool one_source =
        name == "join_source" || name == "leave_source" || name == "block" || name == "unblock";
    const bool set_filter = name == "set_filter";
    const std::string usage = std::string(name) + " " + std::string(find_command(name)->usage);
    if (set_filter ? a.pos.size() < 3 : a.pos.size() != (one_source ? 3u : 2u))
        return error_value("EINVAL", "usage: " + usage);
    const auto stage = a.opt("stage");
    const auto count = a.opt("count");
    if (set_filter && (stage || count)) {
        // A commit of staged sources: the telemetry side resolved stage=ID into
        // the list and checked count=N against it; checked again here so the one
        // request that changes the filter is self-contained.
        if (!stage || !count)
            return error_value("EINVAL", "stage=ID and count=N go together");
        if (a.pos.size() > 3)
            return error_value("EINVAL", "give sources or stage=ID, not both");
        if (!staged)
            return error_value("EINVAL", "stage=" + quote(*stage) + " was not resolved");
        const auto n = parse_count(*count);
        if (!n || *n != staged->size())
            return error_value("EINVAL", "count=" + quote(*count) + " but the stage holds " +
                                             std::to_string(staged->size()) + " sources");
    }
    const std::string_view rname = a.pos[0];
    // Arguments first (as the engine does), so a bad address is EINVAL even for
    // an unknown receiver.
    const auto group = parse_addr(a.pos[1]);
    if (!group)
        return error_value("EINVAL", quote(a.pos[1]) + " is not an IP address");
    if (!group->is_multicast())
        return error_value("EINVAL", group->to_string() + " is not a multicast group");
    auto check_source = [&](std::string_view text,
                            std::optional<IpAddr>& out) -> std::optional<Value> {
        out = parse_addr(text);
        if (!out)
            return error_value("EINVAL", "source " + quote(text) + " is not an IP address");
        if (out->is_multicast() || out->is_unspecified())
            return error_value("EINVAL",
                               "source " + out->to_string() + " is not a unicast address");
        if (out->family() != group->family())
            return error_value("EINVAL", "source " + out->to_string() + " and group " +
                                             group->to_string() + " differ in family");
        return std::nullopt;
    };
    std::optional<IpAddr> source;
    FilterMode mode = FilterMode::include;
    std::vector<IpAddr> sources;
    if (one_source) {
        if (auto e = check_source(a.pos[2], source))
            return *e;
    } else if (set_filter) {
        if (a.pos[2] == "include")
            mode = FilterMode::include;
        else if (a.pos[2] == "exclude")
            mode = FilterMode::exclude;
        else
            return error_value("EINVAL", "mode " + quote(a.pos[2]) + ": want include or exclude");
        for (size_t i = 3; i < a.pos.size(); ++i) {
            std::optional<IpAddr> s;
            if (auto e = check_source(a.pos[i], s))
                return *e;
            sources.push_back(*s);
        }
        if (stage) {
            // The stage checked each address; the family needs the group.
            for (const IpAddr& s : *staged)
                if (s.family() != group->family() || s.is_multicast() || s.is_unspecified())
                    return error_value("EINVAL", "staged source " + s.to_string() +
                                                     " is not a unicast source for " +
                                                     group->to_string());
            sources = *staged;
        }
        if (sources.size() > engine_.limits().max_filter_sources)
            return error_value("ENOBUFS", std::to_string(sources.size()) + " sources, limit " +
                                              std::to_string(engine_.limits().max_filter_sources));
    }
    // RFC 4604 §2.2.1: no any-source (EXCLUDE-mode) filter on an SSM group. join
    // and block make or extend one; set_filter exclude sets one.
    const bool wants_exclude =
        name == "join" || name == "block" || (set_filter && mode == FilterMode::exclude);
    if (wants_exclude && !filter::ssm_allows(*group, FilterMode::exclude))
        return error_value("EINVAL", group->to_string() + " is a source-specific group (RFC 4604): "
                                                          "include mode with sources only");
    const auto rid = engine_.find_receiver(rname);
    if (!rid)
        return error_value("ENOENT", "no receiver named " + quote(rname));
    if (auto e = refuse_internal(*rid))
        return *e;

    const Port* port = nullptr;
    const bool creating = name == "join" || name == "join_source" || set_filter;
    if (auto e = resolve_port(rname, *rid, *group, a, creating, port))
        return *e;

    const std::string where = group->to_string() + " on " + port->name;
    const auto before = engine_.get_filter(*rid, port->id, *group);
    errc e = errc::ok;
    if (name == "join")
        e = engine_.join(*rid, port->id, *group);
    else if (name == "leave")
        e = engine_.leave(*rid, port->id, *group);
    else if (name == "join_source")
        e = engine_.join_source(*rid, port->id, *group, *source);
    else if (name == "leave_source")
        e = engine_.leave_source(*rid, port->id, *group, *source);
    else if (name == "block")
        e = engine_.block(*rid, port->id, *group, *source);
    else if (name == "unblock")
        e = engine_.unblock(*rid, port->id, *group, *source);
    else
        e = engine_.set_filter(*rid, port->id, *group, mode, sources);

    if (e != errc::ok) {
        std::string msg;
        switch (e) {
        case errc::addr_in_use:
            msg = std::string(rname) + " is already a member of " + where;
            break;
        case errc::addr_not_avail:
            if (!before)
                msg = std::string(rname) + " is not a member of " + where;
            else if (name == "join_source" || name == "block")
                msg = "source " + source->to_string() + " is already in the filter of " + where;
            else
                msg = "source " + source->to_string() + " is not in the filter of " + where;
            break;
        case errc::invalid:
            msg = before ? std::string(rname) + "'s filter of " + where + " is " +
                               std::string(filter::mode_name(before->mode))
                         : "invalid arguments for " + where;
            break;
        case errc::no_buffer_space:
            msg = "source list of " + where + " is full (limit " +
                  std::to_string(engine_.limits().max_filter_sources) + ")";
            break;
        case errc::no_device:
            msg = "port " + port->name + " is not present";
            break;
        default:
            msg = std::string(name) + " " + where + " failed";
        }
        return error_value(errc_name(e), std::move(msg));
    }
    const auto after = engine_.get_filter(*rid, port->id, *group);
    return filter_answer(name, rname, port->name, *group,
                         after ? std::optional<FilterState>(*after) : std::nullopt);
}

std::optional<Value> Executor::resolve_port(std::string_view rname, membership::ReceiverId rid,
                                            const IpAddr& group, const Args& a, bool creating,
                                            const Port*& port) {
    port = nullptr;
    if (auto pn = a.opt("port")) {
        port = port_by_name(*pn);
        if (!port)
            return error_value("ENXIO", "no port named " + quote(*pn));
        return std::nullopt;
    }
    if (ctx_.ports.size() == 1) {
        port = &ctx_.ports[0];
        return std::nullopt;
    }
    std::set<PortId> with_group, with_any;
    engine_.for_each_membership(rid, [&](const membership::MembershipView& m) {
        with_any.insert(m.port);
        if (m.group == group)
            with_group.insert(m.port);
    });
    const std::set<PortId>& pick = with_group.empty() && creating ? with_any : with_group;
    if (pick.size() == 1)
        port = port_by_id(*pick.begin());
    if (port)
        return std::nullopt;
    if (pick.empty() && !creating)
        return error_value("EADDRNOTAVAIL", std::string(rname) + " is not a member of " +
                                                group.to_string() + " on any port");
    return error_value("EINVAL", "which port? give port=NAME");
}

// One membership's filter with its sources page by page: the listings cap what
// one answer holds (16 KiB), a filter holds up to 65,536 sources.
Value Executor::filter(const Args& a) {
    if (a.pos.size() != 2)
        return error_value("EINVAL", "usage: filter " + std::string(find_command("filter")->usage));
    const auto group = parse_addr(a.pos[1]);
    if (!group || !group->is_multicast())
        return error_value("EINVAL", quote(a.pos[1]) + " is not a multicast group");
    size_t start = 0, limit = 0;
    if (auto e = paging(a, start, limit, max_source_page))
        return *e;
    const auto rid = engine_.find_receiver(a.pos[0]);
    if (!rid)
        return error_value("ENOENT", "no receiver named " + quote(a.pos[0]));
    const Port* port = nullptr;
    if (auto e = resolve_port(a.pos[0], *rid, *group, a, false, port))
        return *e;
    const auto f = engine_.get_filter(*rid, port->id, *group);
    if (!f)
        return error_value("EADDRNOTAVAIL", std::string(a.pos[0]) + " is not a member of " +
                                                group->to_string() + " on " + port->name);
    const auto& all = f->sources.as_vector();
    Value list = Value::list();
    for (size_t i = start; i < all.size() && i < start + limit; ++i)
        list.push(all[i].to_string());
    Value v = page("sources", std::move(list), all.size(), start, limit);
    Value out;
    out.set("receiver", a.pos[0]);
    out.set("port", port->name);
    out.set("group", group->to_string());
    out.set("mode", filter::mode_name(f->mode));
    for (size_t i = 0; i < v.size(); ++i)
        out.set(v.keys()[i], v.items()[i]);
    return out;
}

// A receiver made while running, as a socket is opened (the seed's conn_t): its
// sink first, so a refused name or a full outlet table leaves nothing behind.
Value Executor::add_receiver(const Args& a) {
    if (a.pos.size() != 1)
        return error_value("EINVAL", "usage: add_receiver RECEIVER [ring=NAME] [size=N] | "
                                     "[tx_port=PORT] ;");
    const std::string_view name = a.pos[0];
    if (!is_object_name(name))
        return error_value("EINVAL", quote(name) + " is not a valid receiver name: 1 to " +
                                         std::to_string(object_name_max) +
                                         " characters of [a-z0-9_-]");
    if (!ctx_.sinks)
        return error_value("ENOTSUP", "receivers cannot be added here (no data path)");
    if (engine_.find_receiver(name))
        return error_value("EADDRINUSE", "a receiver named " + quote(name) + " exists");
    SinkRequest req;
    const auto ring = a.opt("ring"), size = a.opt("size"), tx_port = a.opt("tx_port");
    std::string what;
    if (tx_port) {
        if (ring || size)
            return error_value("EINVAL", "tx_port= and ring=/size= exclude each other");
        const Port* p = port_by_name(*tx_port);
        for (const Port& sp : ctx_.sink_ports)
            if (!p && sp.name == *tx_port)
                p = &sp;
        if (!p)
            return error_value("ENXIO", "no port named " + quote(*tx_port));
        req.kind = SinkRequest::Kind::port;
        req.port = p->id;
        what = "port " + p->name;
    } else {
        req.ring = std::string(ring.value_or(name));
        if (!is_ring_name(req.ring))
            return error_value("EINVAL", "ring=" + quote(req.ring) + ": not a ring name: 1 to " +
                                             std::to_string(ring_name_max) +
                                             " characters of [A-Za-z0-9_.-]" +
                                             (ring ? "" : " (give ring=NAME)"));
        if (size) {
            const auto n = parse_count(*size);
            if (!n || !is_ring_size(*n))
                return error_value("EINVAL", "size=" + quote(*size) + ": want a power of two in " +
                                                 std::to_string(ring_size_min) + ".." +
                                                 std::to_string(ring_size_max));
            req.ring_size = static_cast<uint32_t>(*n);
        }
        what = "ring " + req.ring;
    }
    auto outlet = ctx_.sinks->open(name, req);
    if (!outlet) {
        const errc e = outlet.error();
        std::string why = e == errc::no_buffer_space
                              ? "all " + std::to_string(table::max_outlets) +
                                    " outlets are in use (receivers and downstream ports)"
                          : e == errc::exists ? "a ring of that name exists"
                          : e == errc::invalid && req.kind == SinkRequest::Kind::port
                              ? "not a sink port (no TX queues for the forwarding lcores)"
                              : "the sink could not be made";
        return error_value(errc_name(e), "add_receiver " + quote(name) + ": " + what + ": " + why);
    }
    auto rid = engine_.open_receiver(name);
    if (!rid) {
        ctx_.sinks->close(*outlet);
        return error_value(errc_name(rid.error()), "add_receiver " + quote(name) + " failed");
    }
    ctx_.cp->publisher().bind_receiver(*rid, *outlet);
    Value v;
    v.set("ok", "add_receiver");
    v.set("receiver", name);
    v.set("outlet", uint64_t(*outlet));
    v.set("sink", ctx_.sinks->describe(*outlet));
    return v;
}

// The seed's ilg_delete_all, then the sink: the engine republishes every group
// without the receiver before its outlet is given back (Sinks' lifetime rule).
Value Executor::close_receiver(const Args& a) {
    if (a.pos.size() != 1)
        return error_value("EINVAL", "usage: close_receiver RECEIVER");
    const auto rid = engine_.find_receiver(a.pos[0]);
    if (!rid)
        return error_value("ENOENT", "no receiver named " + quote(a.pos[0]));
    if (auto e = refuse_internal(*rid))
        return *e;
    uint64_t n = 0;
    engine_.for_each_membership(*rid, [&](const membership::MembershipView&) { ++n; });
    const errc e = engine_.close_receiver(*rid);
    if (e != errc::ok)
        return error_value(errc_name(e), "close_receiver " + quote(a.pos[0]) + " failed");
    Value v;
    v.set("ok", "close_receiver");
    v.set("receiver", a.pos[0]);
    v.set("memberships_left", n);
    if (auto outlet = ctx_.cp->publisher().unbind_receiver(*rid)) {
        if (ctx_.sinks) {
            v.set("sink", ctx_.sinks->describe(*outlet));
            v.set("delivered", ctx_.sinks->delivered(*outlet));
            ctx_.sinks->close(*outlet);
        }
    }
    return v;
}

// Several control lcores: the receiver another control plane made, here too.
Value Executor::register_receiver(std::string_view params) {
    Args a;
    if (auto e = tokenize(params, {}, a))
        return *e;
    const auto& toks = a.pos;
    const auto outlet = toks.size() == 2 ? parse_count(toks[1]) : std::nullopt;
    if (!outlet || *outlet >= table::max_outlets)
        return error_value("EINVAL", "usage: " + std::string(register_receiver_cmd) +
                                         " RECEIVER OUTLET");
    const std::string_view name = toks[0];
    if (engine_.find_receiver(name))
        return error_value("EADDRINUSE", "a receiver named " + quote(name) + " exists");
    auto rid = engine_.open_receiver(name);
    if (!rid)
        return error_value(errc_name(rid.error()), "add_receiver " + quote(name) + " failed");
    ctx_.cp->publisher().bind_receiver(*rid, static_cast<table::OutletId>(*outlet));
    Value v;
    v.set("ok", "add_receiver");
    v.set("receiver", name);
    v.set("outlet", *outlet);
    return v;
}

// Several control lcores: the receiver closed here, its sink left to the control
// plane that opened it (the tables here no longer name the outlet when it closes).
Value Executor::unregister_receiver(std::string_view params) {
    Args a;
    if (auto e = tokenize(params, {}, a))
        return *e;
    const auto& toks = a.pos;
    if (toks.size() != 1)
        return error_value("EINVAL", "usage: " + std::string(unregister_receiver_cmd) +
                                         " RECEIVER");
    const auto rid = engine_.find_receiver(toks[0]);
    if (!rid)
        return error_value("ENOENT", "no receiver named " + quote(toks[0]));
    if (auto e = refuse_internal(*rid))
        return *e;
    uint64_t n = 0;
    engine_.for_each_membership(*rid, [&](const membership::MembershipView&) { ++n; });
    const errc e = engine_.close_receiver(*rid);
    if (e != errc::ok)
        return error_value(errc_name(e), "close_receiver " + quote(toks[0]) + " failed");
    ctx_.cp->publisher().unbind_receiver(*rid);
    Value v;
    v.set("ok", "close_receiver");
    v.set("receiver", toks[0]);
    v.set("memberships_left", n);
    return v;
}

} // namespace

std::span<const CommandInfo> command_list() {
    return commands_table;
}

const CommandInfo* find_command(std::string_view name) {
    for (const CommandInfo& c : commands_table)
        if (c.name == name)
            return &c;
    return nullptr;
}

std::optional<Value> refuse_early(std::string_view name, bool read_only, const CommandInfo*& info) {
    info = find_command(name);
    if (!info)
        return error_value("EINVAL", "unknown command " + quote(name));
    // Refused before the parameters are even read: read-only means no change at all.
    if (info->mutates && read_only)
        return error_value("EPERM", "telemetry is read-only (telemetry.read_only in the "
                                    "configuration)");
    return std::nullopt;
}

Value execute(CommandContext& ctx, std::string_view name, std::string_view params,
              const std::vector<IpAddr>* staged) {
    if (!ctx.cp)
        return error_value("ENXIO", "no control plane");
    return Executor(ctx).run(name, params, staged);
}

} // namespace mcfwd::control
