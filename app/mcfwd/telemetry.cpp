#include "telemetry.hpp"

#include "control/fanout.hpp"
#include "control/gateway.hpp"
#include "ethdev/tsc_clock.hpp"

#include <rte_telemetry.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>

namespace mcfwd::app {

using control::Value;

struct Telemetry::Service {
    // One per control lcore (lcores.control order).
    std::vector<std::shared_ptr<control::Mailbox>> mailboxes;
    // Port name -> index of its control lcore; the lcores' ids; every port in
    // configuration order. Set at construction, read-only afterwards.
    std::map<std::string, size_t, std::less<>> owner;
    std::vector<unsigned> control_lcores;
    std::vector<std::string> port_order;
    // The service's own clock (stage expiry): a handler may outlive the runtime's.
    ethdev::TscClock clock;
    // Framing, stages, hand-over to the mailbox (control/gateway.hpp).
    std::unique_ptr<control::Gateway> gateway;
    // receivers, add_receiver, close_receiver over several control lcores.
    control::Fanout fanout;
    // Readers: handlers summing counters; writer: stop() detaching them.
    std::shared_mutex counters_mutex;
    std::vector<ForwardingLcore> lcores;
};

namespace {

constexpr std::string_view prefix = "/mcfwd/";

std::mutex g_mutex; // guards g_service (the pointer, not the service)
std::shared_ptr<Telemetry::Service> g_service;

std::shared_ptr<Telemetry::Service> current() {
    std::lock_guard lock(g_mutex);
    return g_service;
}

// A forwarding lcore's counters, read while it increments them: every field is
// an aligned uint64_t, loaded relaxed (no tearing on 64-bit targets; a total one
// burst stale is fine).
dataplane::LcoreCounters load_relaxed(const dataplane::LcoreCounters& c) {
    static_assert(sizeof(dataplane::LcoreCounters) % sizeof(uint64_t) == 0);
    constexpr size_t words = sizeof(dataplane::LcoreCounters) / sizeof(uint64_t);
    uint64_t tmp[words];
    const auto* src = reinterpret_cast<const uint64_t*>(&c);
    for (size_t i = 0; i < words; ++i)
        tmp[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    dataplane::LcoreCounters out;
    std::memcpy(static_cast<void*>(&out), tmp, sizeof(out));
    return out;
}

std::vector<dataplane::LcoreCounters> load_all(const std::vector<ForwardingLcore>& lcores) {
    std::vector<dataplane::LcoreCounters> per;
    per.reserve(lcores.size());
    for (const ForwardingLcore& l : lcores)
        per.push_back(load_relaxed(*l.counters));
    return per;
}

Value counters_value(const dataplane::LcoreCounters& c) {
    Value v;
    dataplane::for_each_counter(
        c, [&](std::string_view name, std::string_view, uint64_t value) { v.set(name, value); });
    return v;
}

// ---- Value -> rte_tel_data ----------------------------------------------------------------
// DPDK 22.11 (measured): keys must be [A-Za-z0-9_/]; dicts nest; an array holds
// scalars only (an array of dicts is refused), at most 512 of them; a dict at most
// 256 entries; strings are cut at 127 bytes; the whole answer at 16 KiB. A list
// of objects therefore becomes a dict keyed "0", "1", ...

constexpr size_t max_dict = RTE_TEL_MAX_DICT_ENTRIES;
constexpr size_t max_array = RTE_TEL_MAX_ARRAY_ENTRIES;
constexpr size_t max_json = 16384 - 256; // room for the {"/mcfwd/cmd": ...} envelope

std::string tel_key(std::string_view k) {
    std::string out(k.substr(0, RTE_TEL_MAX_STRING_LEN - 1));
    for (char& c : out)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '/'))
            c = '_';
    return out.empty() ? "_" : out;
}

bool fits(const Value& v) {
    if (v.is_object() || v.is_list()) {
        bool scalars = true;
        for (const Value& i : v.items()) {
            if (!fits(i))
                return false;
            scalars &= i.is_scalar();
        }
        const size_t limit = v.is_list() && scalars ? max_array : max_dict;
        return v.size() <= limit;
    }
    return true;
}

std::string scalar_text(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::uint:
        return std::to_string(v.as_uint());
    case Value::Kind::sint:
        return std::to_string(v.as_int());
    default:
        return v.as_string();
    }
}

void fill_dict(rte_tel_data* d, const Value& obj);

void add_to_dict(rte_tel_data* d, const std::string& key, const Value& v) {
    switch (v.kind()) {
    case Value::Kind::uint:
        rte_tel_data_add_dict_u64(d, key.c_str(), v.as_uint());
        return;
    case Value::Kind::sint:
        if (v.as_int() >= INT32_MIN && v.as_int() <= INT32_MAX)
            rte_tel_data_add_dict_int(d, key.c_str(), int(v.as_int()));
        else
            rte_tel_data_add_dict_string(d, key.c_str(), scalar_text(v).c_str());
        return;
    case Value::Kind::string:
        rte_tel_data_add_dict_string(d, key.c_str(), v.as_string().c_str());
        return;
    case Value::Kind::object:
    case Value::Kind::list:
        break;
    }
    rte_tel_data* child = rte_tel_data_alloc();
    if (!child)
        return;
    bool scalars = true, all_uint = true;
    for (const Value& i : v.items()) {
        scalars &= i.is_scalar();
        all_uint &= i.kind() == Value::Kind::uint;
    }
    if (v.is_list() && scalars) {
        rte_tel_data_start_array(child, all_uint ? RTE_TEL_U64_VAL : RTE_TEL_STRING_VAL);
        for (const Value& i : v.items()) {
            if (all_uint)
                rte_tel_data_add_array_u64(child, i.as_uint());
            else
                rte_tel_data_add_array_string(child, scalar_text(i).c_str());
        }
    } else if (v.is_list()) {
        rte_tel_data_start_dict(child);
        for (size_t n = 0; n < v.size(); ++n)
            add_to_dict(child, std::to_string(n), v.items()[n]);
    } else {
        fill_dict(child, v);
    }
    if (rte_tel_data_add_dict_container(d, key.c_str(), child, 0) != 0)
        rte_tel_data_free(child);
}

void fill_dict(rte_tel_data* d, const Value& obj) {
    rte_tel_data_start_dict(d);
    for (size_t i = 0; i < obj.size(); ++i)
        add_to_dict(d, tel_key(obj.keys()[i]), obj.items()[i]);
}

void answer(rte_tel_data* d, const Value& v) {
    if (!v.is_object() || !fits(v) || v.to_json().size() > max_json) {
        fill_dict(d, control::error_value("E2BIG", "the answer exceeds DPDK telemetry's limits "
                                                   "(16 KiB, 256 keys): use start= and limit="));
        return;
    }
    fill_dict(d, v);
}

// /mcfwd/stats: the data path's part ("lcores", "dataplane"), then the control
// plane's answer (an error as "control_error").
Value stats_value(const std::vector<dataplane::LcoreCounters>& per_lcore, const Value& cp) {
    Value v;
    v.set("lcores", uint64_t(per_lcore.size()));
    v.set("dataplane", counters_value(dataplane::sum(per_lcore)));
    if (control::is_error(cp)) {
        v.set("control_error", *cp.find("error"));
    } else {
        for (size_t i = 0; i < cp.size(); ++i)
            v.set(cp.keys()[i], cp.items()[i]);
    }
    return v;
}

// Parameters split at commas and blanks, as the control commands split them.
std::vector<std::string_view> tokens(std::string_view s) {
    std::vector<std::string_view> out;
    for (size_t i = s.find_first_not_of(", \t"); i != std::string_view::npos;) {
        const size_t j = std::min(s.find_first_of(", \t", i), s.size());
        out.push_back(s.substr(i, j - i));
        i = s.find_first_not_of(", \t", j);
    }
    return out;
}

bool parse_size(std::string_view s, size_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// The paging options of a listing, start=N and limit=N (1..max_limit), into start
// and limit; false at any other token (the caller answers its usage).
bool parse_paging(std::span<const std::string_view> toks, size_t max_limit, size_t& start,
                  size_t& limit) {
    for (std::string_view tok : toks) {
        const size_t eq = tok.find('=');
        const std::string_view key = tok.substr(0, eq);
        size_t n = 0;
        const bool number = eq != std::string_view::npos && parse_size(tok.substr(eq + 1), n);
        if (key == "start" && number)
            start = n;
        else if (key == "limit" && number && n >= 1 && n <= max_limit)
            limit = n;
        else
            return false;
    }
    return true;
}

// /mcfwd/stats,lcores [start=N] [limit=N]: each forwarding lcore's data path
// counters, paged as the listings are ({"per_lcore", "total", "next"}): a record
// takes up to ~800 bytes, so 16 stay within the 16 KiB answer.
constexpr size_t lcores_default_limit = 16;
constexpr size_t lcores_max_limit = 64;

Value stats_per_lcore(Telemetry::Service& svc, std::span<const std::string_view> options) {
    size_t start = 0, limit = lcores_default_limit;
    if (!parse_paging(options, lcores_max_limit, start, limit))
        return control::error_value("EINVAL", "usage: stats [lcores [start=N] [limit=1.." +
                                                  std::to_string(lcores_max_limit) + "]]");
    std::shared_lock lock(svc.counters_mutex);
    const size_t total = svc.lcores.size();
    start = std::min(start, total);
    const size_t end = std::min(total, start + limit);
    Value list = Value::list();
    for (size_t i = start; i < end; ++i) {
        Value rec;
        rec.set("lcore", uint64_t(svc.lcores[i].lcore_id));
        rec.set("counters", counters_value(load_relaxed(*svc.lcores[i].counters)));
        list.push(std::move(rec));
    }
    Value v;
    v.set("per_lcore", std::move(list));
    v.set("total", uint64_t(total));
    if (end < total)
        v.set("next", uint64_t(end));
    return v;
}

// Several control lcores' answers to one command, asked at once.
std::vector<Value> ask_all(Telemetry::Service& svc, std::string_view name, std::string_view body) {
    std::vector<control::Mailbox::Ticket> tickets;
    for (auto& mb : svc.mailboxes)
        tickets.push_back(mb->submit(std::string(name), std::string(body)));
    std::vector<Value> out;
    for (size_t k = 0; k < tickets.size(); ++k)
        out.push_back(svc.mailboxes[k]->wait(tickets[k], Telemetry::request_timeout));
    return out;
}

const Value* first_error(const std::vector<Value>& answers) {
    for (const Value& a : answers)
        if (control::is_error(a))
            return &a;
    return nullptr;
}

// Adds b's unsigned counters into a, key by key (objects recursively).
void add_counters(Value& a, const Value& b) {
    for (size_t i = 0; i < b.size(); ++i) {
        const std::string& key = b.keys()[i];
        const Value& bv = b.items()[i];
        const Value* av = a.find(key);
        if (!av) {
            a.set(key, bv);
        } else if (av->is_object() && bv.is_object()) {
            Value sum = *av;
            add_counters(sum, bv);
            a.set(key, std::move(sum));
        } else if (av->kind() == Value::Kind::uint && bv.kind() == Value::Kind::uint) {
            a.set(key, av->as_uint() + bv.as_uint());
        }
    }
}

// The control part of /mcfwd/stats over several control planes: counters summed;
// the outlets (the same receivers are on every control plane) once each.
Value merge_stats(const std::vector<Value>& answers) {
    if (const Value* e = first_error(answers))
        return *e;
    Value v = answers.front();
    std::map<std::string, uint64_t> delivered;
    Value names = Value::list(), counts = Value::list();
    for (const Value& a : answers) {
        const Value* n = a.find("outlets");
        const Value* d = a.find("delivered");
        if (!n || !d)
            continue;
        for (size_t i = 0; i < n->size() && i < d->size(); ++i)
            if (delivered.emplace(n->items()[i].as_string(), d->items()[i].as_uint()).second) {
                names.push(n->items()[i]);
                counts.push(d->items()[i]);
            }
    }
    for (size_t k = 1; k < answers.size(); ++k)
        for (std::string_view part : {"control", "router", "engine", "tables"})
            if (const Value* b = answers[k].find(part)) {
                Value sum = v.find(part) ? *v.find(part) : Value();
                add_counters(sum, *b);
                v.set(part, std::move(sum));
            }
    if (answers.front().find("outlets")) {
        v.set("outlets", std::move(names));
        v.set("delivered", std::move(counts));
    }
    return v;
}

// /mcfwd/ports over the control lcores that own the ports asked for: each record
// with its control_lcore, in configuration order.
Value merged_ports(Telemetry::Service& svc, const std::vector<Value>& answers,
                   const std::vector<size_t>& from) {
    if (const Value* e = first_error(answers))
        return *e;
    std::vector<std::pair<size_t, Value>> recs;
    for (size_t i = 0; i < answers.size(); ++i)
        if (const Value* list = answers[i].find("ports"))
            for (const Value& r : list->items()) {
                Value rec = r;
                rec.set("control_lcore", uint64_t(svc.control_lcores[from[i]]));
                const Value* n = r.find("name");
                const auto at = std::find(svc.port_order.begin(), svc.port_order.end(),
                                          n ? n->as_string() : std::string());
                recs.emplace_back(size_t(at - svc.port_order.begin()), std::move(rec));
            }
    std::stable_sort(recs.begin(), recs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    Value list = Value::list();
    for (auto& [i, r] : recs)
        list.push(std::move(r));
    Value v;
    v.set("ports", std::move(list));
    return v;
}

// On a telemetry thread: the data path's counters read here, the control plane's
// from the control lcores through their mailboxes.
Value stats(Telemetry::Service& svc) {
    const Value cp = merge_stats(ask_all(svc, "stats", ""));
    std::vector<dataplane::LcoreCounters> per_lcore;
    {
        std::shared_lock lock(svc.counters_mutex);
        per_lcore = load_all(svc.lcores);
    }
    return stats_value(per_lcore, cp);
}

// DPDK 22.11 (lib/telemetry/telemetry.c, client_handler) hands over what one
// read() of at most 1023 bytes brought, split at the first comma; params is null
// when nothing follows it. What it received, up to the first NUL, is therefore
// cmd + "," + params: the gateway checks that length and the end marker.
int on_command(const char* cmd, const char* params, rte_tel_data* d) {
    try {
        const std::string_view full(cmd ? cmd : "");
        const std::string_view p(params ? params : "");
        const size_t wire_length = control::telemetry_wire_length(cmd, params);
        std::string_view name = full;
        if (name.substr(0, prefix.size()) == prefix)
            name.remove_prefix(prefix.size());
        auto svc = current();
        if (!svc) {
            answer(d, control::error_value("ESHUTDOWN", "mcfwd is not running"));
            return 0;
        }
        answer(d, svc->gateway->handle(name, p, wire_length));
        return 0;
    } catch (...) { // bad_alloc: never into DPDK's C thread
        return -1;
    }
}

void register_commands() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (const control::CommandInfo& c : control::command_list()) {
            const std::string path = std::string(prefix) + std::string(c.name);
            std::string help = std::string(c.help);
            if (!c.usage.empty())
                help += ". Parameters: " + std::string(c.usage);
            // DPDK 22.11 refuses the whole registration (-EINVAL) for a help text of
            // RTE_TEL_MAX_STRING_LEN bytes or more: the command would not exist.
            if (help.size() >= RTE_TEL_MAX_STRING_LEN)
                help = help.substr(0, RTE_TEL_MAX_STRING_LEN - 4) + "...";
            if (rte_telemetry_register_cmd(path.c_str(), on_command, help.c_str()) != 0)
                fprintf(stderr, "mcfwd: telemetry command %s not registered\n", path.c_str());
        }
    });
}

} // namespace

namespace {

// The control lcore a request goes to: the owner of the port it names (port=NAME,
// or the first positional token of ports, groups and router), else the first.
size_t route_index(const Telemetry::Service& svc, std::string_view name, std::string_view body) {
    const std::vector<std::string_view> toks = tokens(body);
    std::optional<std::string_view> port;
    for (std::string_view t : toks)
        if (t.substr(0, 5) == "port=")
            port = t.substr(5);
    if (!port && (name == "ports" || name == "groups" || name == "router"))
        for (std::string_view t : toks)
            if (t.find('=') == std::string_view::npos) {
                port = t;
                break;
            }
    if (port)
        if (auto it = svc.owner.find(*port); it != svc.owner.end())
            return it->second;
    return 0; // an unknown port: the first control lcore answers ENXIO
}

// groups / router without a port over several control lcores: each port asked in
// configuration order (its owner answers one port's page and its total), the lists
// concatenated and paged as one control lcore pages them. router skips the ports
// that keep no router state, as one control lcore does.
Value listing_over_ports(Telemetry::Service& svc, std::string_view name,
                         const std::vector<std::string_view>& toks) {
    constexpr size_t default_limit = 32, max_limit = 200; // control/commands.cpp's
    size_t start = 0, limit = default_limit;
    if (!parse_paging(toks, max_limit, start, limit))
        return control::error_value("EINVAL", "usage: " + std::string(name) +
                                                  " [PORT] [start=N] [limit=1.." +
                                                  std::to_string(max_limit) + "]");
    const bool router = name == "router";
    Value list = Value::list(), queriers = Value::list();
    size_t total = 0;
    for (const std::string& port : svc.port_order) {
        auto& mb = *svc.mailboxes[svc.owner.at(port)];
        const size_t from = start > total ? start - total : 0;
        const size_t want = limit > list.size() ? limit - list.size() : 0;
        // A port whose page is not wanted is still asked for its total (one record).
        const std::string body = port + " start=" + std::to_string(want ? from : 0) +
                                 " limit=" + std::to_string(want ? want : 1);
        auto t = mb.submit(std::string(name), body);
        const Value a = mb.wait(t, Telemetry::request_timeout);
        if (control::is_error(a)) {
            const Value* e = a.find("error");
            if (router && e && e->as_string() == "EINVAL")
                continue; // no router state on this port
            return a;
        }
        const Value* items = a.find("groups");
        const Value* n = a.find("total");
        if (want && items)
            for (const Value& i : items->items())
                if (list.size() < limit)
                    list.push(i);
        if (router)
            if (const Value* q = a.find("queriers"))
                for (const Value& i : q->items())
                    queriers.push(i);
        total += n ? n->as_uint() : 0;
    }
    Value v;
    v.set("groups", std::move(list));
    v.set("total", uint64_t(total));
    if (start + limit < total)
        v.set("next", uint64_t(start + limit));
    if (router)
        v.set("queriers", std::move(queriers));
    return v;
}

// Several control lcores: what cannot go to one port's owner.
std::optional<Value> several(Telemetry::Service& svc, std::string_view name,
                             std::string_view body) {
    const std::vector<std::string_view> toks = tokens(body);
    const bool has_port_opt = std::any_of(
        toks.begin(), toks.end(), [](std::string_view t) { return t.substr(0, 5) == "port="; });
    const bool positional = std::any_of(toks.begin(), toks.end(), [](std::string_view t) {
        return t.find('=') == std::string_view::npos;
    });
    if (name == "ports" && !positional) {
        std::vector<size_t> from;
        for (size_t k = 0; k < svc.mailboxes.size(); ++k)
            from.push_back(k);
        return merged_ports(svc, ask_all(svc, name, body), from);
    }
    if ((name == "groups" || name == "router") && !positional)
        return listing_over_ports(svc, name, toks);
    if (name == "receivers")
        return svc.fanout.receivers(body);
    if (name == "add_receiver")
        return svc.fanout.add_receiver(body);
    if (name == "close_receiver")
        return svc.fanout.close_receiver(body);
    const control::CommandInfo* info = control::find_command(name);
    const bool takes_port = info && info->usage.find("port=PORT") != std::string_view::npos;
    if (takes_port && !has_port_opt)
        return control::error_value("EINVAL",
                                    "which port? give port=NAME (several control lcores)");
    return std::nullopt;
}

} // namespace

Telemetry::Telemetry(TelemetrySetup setup) : service_(std::make_shared<Service>()) {
    service_->lcores = setup.lcores;
    service_->port_order = setup.port_order;
    for (size_t k = 0; k < setup.control.size(); ++k) {
        service_->mailboxes.push_back(std::make_shared<control::Mailbox>());
        service_->control_lcores.push_back(setup.control[k].lcore_id);
        for (const auto& p : setup.control[k].ports)
            service_->owner.emplace(p.name, k);
    }
    service_->fanout.planes = setup.control.size();
    service_->fanout.port_order = setup.port_order;
    {
        Service* svc = service_.get();
        service_->fanout.ask = [svc](size_t k, std::string_view name, std::string_view params) {
            auto& mb = *svc->mailboxes[k];
            auto t = mb.submit(std::string(name), std::string(params));
            return mb.wait(t, request_timeout);
        };
    }
    control::GatewaySetup gs;
    gs.read_only = setup.read_only;
    gs.staging.max_sources = setup.max_filter_sources;
    gs.timeout = request_timeout;
    // /mcfwd/stats reads the data path here: summed without parameters, per lcore
    // with "lcores [start=N] [limit=N]". Anything else goes on to the control
    // lcore, which refuses it. /mcfwd/ports adds each port's control lcore.
    const bool many = setup.control.size() > 1;
    Service* svc = service_.get();
    control::Gateway::Route route;
    if (many)
        route = [svc](std::string_view name, std::string_view body) -> control::Mailbox& {
            return *svc->mailboxes[route_index(*svc, name, body)];
        };
    service_->gateway = std::make_unique<control::Gateway>(
        *service_->mailboxes.front(), service_->clock, gs,
        [svc, many](std::string_view name, std::string_view body) -> std::optional<Value> {
            const std::vector<std::string_view> toks = tokens(body);
            if (name == "stats") {
                if (toks.empty())
                    return stats(*svc);
                if (toks[0] == "lcores")
                    return stats_per_lcore(*svc, std::span(toks).subspan(1));
                return std::nullopt;
            }
            if (many)
                if (auto v = several(*svc, name, body))
                    return v;
            if (name == "ports") { // one control lcore: the port's owner
                const size_t k = route_index(*svc, name, body);
                auto t = svc->mailboxes[k]->submit(std::string(name), std::string(body));
                return merged_ports(*svc, {svc->mailboxes[k]->wait(t, request_timeout)}, {k});
            }
            return std::nullopt;
        },
        std::move(route));
    std::vector<control::CommandContext::Port> every_port;
    if (many)
        for (const ControlLcoreView& c : setup.control)
            every_port.insert(every_port.end(), c.ports.begin(), c.ports.end());
    for (ControlLcoreView& c : setup.control) {
        control::CommandContext ctx;
        ctx.sink_ports = every_port;
        ctx.cp = c.cp;
        ctx.clock = setup.clock;
        ctx.ports = std::move(c.ports);
        ctx.read_only = setup.read_only;
        ctx.sinks = setup.sinks;
        ctx_.push_back(std::move(ctx));
    }
    register_commands();
    std::lock_guard lock(g_mutex);
    g_service = service_;
}

Telemetry::~Telemetry() {
    stop();
}

size_t Telemetry::poll(size_t k) {
    return service_->mailboxes[k]->drain([this, k](std::string_view name, std::string_view params,
                                                   const std::vector<addr::IpAddr>* staged) {
        return control::execute(ctx_[k], name, params, staged);
    });
}

Value Telemetry::stats_now(const std::vector<const dataplane::LcoreCounters*>& lcores) {
    std::vector<dataplane::LcoreCounters> per_lcore;
    for (const auto* c : lcores)
        per_lcore.push_back(*c); // the lcores have stopped
    std::vector<Value> answers;
    for (control::CommandContext& ctx : ctx_)
        answers.push_back(control::execute(ctx, "stats", ""));
    return stats_value(per_lcore, merge_stats(answers));
}

void Telemetry::stop() {
    {
        std::lock_guard lock(g_mutex);
        if (g_service == service_)
            g_service.reset();
    }
    for (auto& mb : service_->mailboxes)
        mb->close();
    std::unique_lock lock(service_->counters_mutex);
    service_->lcores.clear();
}

} // namespace mcfwd::app
