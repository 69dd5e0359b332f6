#include "control/fanout.hpp"

#include "control/commands.hpp"
#include "control/request.hpp"

#include <algorithm>
#include <map>

namespace mcfwd::control {

namespace {

std::string code_of(const Value& v) {
    const Value* e = v.find("error");
    return e ? e->as_string() : "";
}

std::string message_of(const Value& v) {
    const Value* m = v.find("message");
    return m ? m->as_string() : "";
}

} // namespace

Value Fanout::add_receiver(std::string_view body) const {
    std::lock_guard lock(changes_);
    // Plane 0 checks everything a client can get wrong and makes the sink.
    Value made = ask(0, "add_receiver", body);
    if (is_error(made) || planes < 2)
        return made;
    const Value* n = made.find("receiver");
    const Value* o = made.find("outlet");
    if (!n || !o)
        return made;
    const std::string name = n->as_string();
    const std::string reg = name + " " + std::to_string(o->as_uint());
    for (size_t k = 1; k < planes; ++k) {
        const Value r = ask(k, register_receiver_cmd, reg);
        if (!is_error(r))
            continue;
        // Undo, newest first: the planes registered, then plane 0 (receiver, sink).
        for (size_t j = k - 1; j >= 1; --j)
            ask(j, unregister_receiver_cmd, name);
        ask(0, "close_receiver", name);
        return error_value(code_of(r), message_of(r) + " (control lcore " + std::to_string(k) +
                                           " of " + std::to_string(planes) +
                                           "; nothing was made)");
    }
    return made;
}

Value Fanout::close_receiver(std::string_view body) const {
    Args a;
    if (planes < 2 || tokenize(body, {}, a) || a.pos.size() != 1)
        return ask(0, "close_receiver", body); // its usage error
    std::lock_guard lock(changes_);
    const std::string name(a.pos[0]);
    uint64_t left = 0;
    // The other planes first: plane 0 frees the outlet once no table names it.
    for (size_t k = 1; k < planes; ++k) {
        const Value r = ask(k, unregister_receiver_cmd, name);
        if (code_of(r) == "ENOENT")
            continue; // e.g. plane 0's internal receiver: plane 0 refuses it
        if (is_error(r))
            return r;
        if (const Value* m = r.find("memberships_left"))
            left += m->as_uint();
    }
    Value v = ask(0, "close_receiver", body);
    if (is_error(v))
        return v;
    if (const Value* m = v.find("memberships_left"))
        v.set("memberships_left", m->as_uint() + left);
    return v;
}

Value Fanout::receivers(std::string_view body) const {
    static constexpr std::string_view listing_opts[] = {"start", "limit"};
    constexpr size_t default_limit = 32, max_limit = 200; // commands.cpp's
    Args a;
    if (planes < 2 || tokenize(body, listing_opts, a) || a.pos.size() > 1)
        return ask(0, "receivers", body); // its answer or its usage error
    size_t start = 0, limit = default_limit;
    std::optional<size_t> s, l;
    if (auto o = a.opt("start"))
        s = parse_count(*o);
    if (auto o = a.opt("limit"))
        l = parse_count(*o);
    if ((a.opt("start") && !s) || (a.opt("limit") && (!l || *l == 0 || *l > max_limit)))
        return ask(0, "receivers", body); // its paging error
    start = s.value_or(0);
    limit = l.value_or(default_limit);

    // Every plane's records, all pages; the first plane's record of a name wins.
    std::map<std::string, Value> recs;
    std::map<std::string, std::vector<Value>> memberships;
    const std::string who = a.pos.empty() ? "" : std::string(a.pos[0]) + " ";
    Value plane0_error;
    for (size_t k = 0; k < planes; ++k) {
        for (size_t from = 0;;) {
            const Value r = ask(k, "receivers",
                                who + "start=" + std::to_string(from) +
                                    " limit=" + std::to_string(max_limit));
            if (is_error(r)) {
                if (!who.empty() && code_of(r) == "ENOENT") {
                    if (k == 0)
                        plane0_error = r;
                    break; // not on this plane
                }
                return r;
            }
            if (const Value* list = r.find("receivers"))
                for (const Value& rec : list->items()) {
                    const Value* n = rec.find("name");
                    if (!n)
                        continue;
                    recs.emplace(n->as_string(), rec);
                    auto& ms = memberships[n->as_string()];
                    if (const Value* m = rec.find("memberships"))
                        ms.insert(ms.end(), m->items().begin(), m->items().end());
                }
            const Value* next = r.find("next");
            if (!next || next->as_uint() <= from)
                break;
            from = next->as_uint();
        }
    }
    if (recs.empty() && !who.empty())
        return plane0_error;
    auto rank = [&](const Value& m) {
        const Value* p = m.find("port");
        const auto at = std::find(port_order.begin(), port_order.end(),
                                  p ? p->as_string() : std::string());
        return size_t(at - port_order.begin());
    };
    Value list = Value::list();
    size_t i = 0;
    for (auto& [name, rec] : recs) { // by name, as one plane lists them
        if (i >= start && i < start + limit) {
            std::vector<Value>& ms = memberships[name];
            std::stable_sort(ms.begin(), ms.end(),
                             [&](const Value& x, const Value& y) { return rank(x) < rank(y); });
            Value mlist = Value::list();
            for (Value& m : ms)
                mlist.push(std::move(m));
            Value out = rec;
            out.set("memberships", std::move(mlist));
            list.push(std::move(out));
        }
        ++i;
    }
    Value v;
    v.set("receivers", std::move(list));
    v.set("total", uint64_t(recs.size()));
    if (start + limit < recs.size())
        v.set("next", uint64_t(start + limit));
    return v;
}

} // namespace mcfwd::control
