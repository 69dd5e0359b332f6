#include "control/gateway.hpp"

#include <charconv>

namespace mcfwd::control {

namespace {

bool is_separator(char c) {
    return c == ',' || c == ' ' || c == '\t';
}

// Tokens as commands.cpp splits them (commas and blanks).
std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        if (is_separator(s[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < s.size() && !is_separator(s[j]))
            ++j;
        out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
        return std::nullopt;
    return v;
}


std::string seconds(duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

} // namespace

// ---- framing ---------------------------------------------------------------------------

size_t telemetry_wire_length(const char* cmd, const char* params) {
    const size_t c = cmd ? std::char_traits<char>::length(cmd) : 0;
    return c + (params ? 1 + std::char_traits<char>::length(params) : 0);
}

std::optional<Value> check_framing(const CommandInfo& info, std::string_view params,
                                   size_t wire_length, std::string_view& body) {
    // Rule 1: DPDK read as much as it ever reads; the sender may have sent more.
    if (wire_length >= telemetry_read_limit)
        return error_value("EMSGSIZE",
                           "request of " + std::to_string(wire_length) +
                               " bytes reached telemetry's 1023-byte read: it may have been cut; "
                               "stage long source lists");
    // Rule 2/3: the marker, then only separators.
    size_t end = params.size();
    while (end > 0 && is_separator(params[end - 1]))
        --end;
    const bool marked = end > 0 && params[end - 1] == end_marker;
    body = params.substr(0, marked ? end - 1 : params.size());
    if (body.find(end_marker) != std::string_view::npos)
        return error_value("EINVAL", "';' may only end a request");
    if (info.mutates && !marked)
        return error_value("EINVAL", "incomplete request: a changing command ends with ';' (cut at "
                                     "1023 bytes or by a NUL byte?)");
    return std::nullopt;
}

// ---- Staging ---------------------------------------------------------------------------

void Staging::expire(time_point now) {
    for (auto it = stages_.begin(); it != stages_.end();)
        it = now - it->second.last_use >= limits_.idle_timeout ? stages_.erase(it) : std::next(it);
}

Result<uint64_t> Staging::open(time_point now) {
    std::lock_guard lock(mutex_);
    expire(now);
    if (stages_.size() >= limits_.max_stages)
        return errc::no_space;
    const uint64_t id = next_id_++;
    stages_[id].last_use = now;
    return id;
}

Result<size_t> Staging::add(uint64_t id, std::span<const IpAddr> sources, time_point now) {
    std::lock_guard lock(mutex_);
    expire(now);
    auto it = stages_.find(id);
    if (it == stages_.end())
        return errc::not_found;
    Stage& st = it->second;
    if (sources.size() > limits_.max_sources - st.sources.size())
        return errc::no_buffer_space;
    const auto family = st.sources.empty()
                            ? (sources.empty() ? addr::Family::v4 : sources.front().family())
                            : st.sources.front().family();
    for (const IpAddr& s : sources)
        if (s.family() != family)
            return errc::invalid;
    st.sources.insert(st.sources.end(), sources.begin(), sources.end());
    st.last_use = now;
    return st.sources.size();
}

Result<std::vector<IpAddr>> Staging::take(uint64_t id, time_point now) {
    std::lock_guard lock(mutex_);
    expire(now);
    auto it = stages_.find(id);
    if (it == stages_.end())
        return errc::not_found;
    std::vector<IpAddr> out = std::move(it->second.sources);
    stages_.erase(it);
    return out;
}

errc Staging::abort(uint64_t id, time_point now) {
    std::lock_guard lock(mutex_);
    expire(now);
    return stages_.erase(id) ? errc::ok : errc::not_found;
}

size_t Staging::open_count(time_point now) {
    std::lock_guard lock(mutex_);
    expire(now);
    return stages_.size();
}

// ---- Gateway ---------------------------------------------------------------------------

Value Gateway::handle(std::string_view name, std::string_view params, size_t wire_length) {
    const CommandInfo* info = nullptr;
    if (auto e = refuse_early(name, setup_.read_only, info))
        return *e;
    std::string_view body;
    if (auto e = check_framing(*info, params, wire_length, body))
        return *e;
    if (name.substr(0, 6) == "stage_")
        return stage_command(name, body);
    if (local_)
        if (auto v = local_(name, body))
            return *v;
    if (name == "set_filter")
        for (std::string_view tok : split(body))
            if (tok.substr(0, 6) == "stage=")
                return commit(body);
    Mailbox& mailbox = route_ ? route_(name, body) : mailbox_;
    auto t = mailbox.submit(std::string(name), std::string(body));
    return mailbox.wait(t, setup_.timeout);
}

Value Gateway::stage_command(std::string_view name, std::string_view body) {
    const auto toks = split(body);
    const time_point now = clock_.now();
    const auto usage = [&] {
        return error_value("EINVAL", "usage: " + std::string(name) + " " +
                                         std::string(find_command(name)->usage));
    };
    if (name == "stage_open") {
        if (!toks.empty())
            return usage();
        auto id = staging_.open(now);
        if (!id)
            return error_value("ENOSPC", std::to_string(staging_.limits().max_stages) +
                                             " stages open: commit or abort one, or wait " +
                                             seconds(staging_.limits().idle_timeout));
        Value v;
        v.set("ok", "stage_open");
        v.set("stage", *id);
        v.set("max_sources", uint64_t(staging_.limits().max_sources));
        v.set("idle_timeout_ms", uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              staging_.limits().idle_timeout)
                                              .count()));
        return v;
    }
    if (toks.empty())
        return usage();
    const auto id = parse_u64(toks[0]);
    if (!id)
        return error_value("EINVAL", "stage " + quote(toks[0]) + ": not a number");
    const std::string which = "stage " + std::to_string(*id);
    const auto gone = [&] {
        return error_value("ENOENT", "no " + which + " (committed, aborted or idle " +
                                         seconds(staging_.limits().idle_timeout) + ")");
    };
    if (name == "stage_abort") {
        if (toks.size() != 1)
            return usage();
        if (staging_.abort(*id, now) != errc::ok)
            return gone();
        Value v;
        v.set("ok", "stage_abort");
        v.set("stage", *id);
        return v;
    }
    // stage_add: each source checked as set_filter checks it; the chunk is
    // added whole or not at all.
    std::vector<IpAddr> sources;
    sources.reserve(toks.size() - 1);
    for (size_t i = 1; i < toks.size(); ++i) {
        const auto s = IpAddr::parse(toks[i]);
        if (!s)
            return error_value("EINVAL", "source " + quote(toks[i]) + " is not an IP address");
        if (s->is_multicast() || s->is_unspecified())
            return error_value("EINVAL", "source " + s->to_string() + " is not a unicast address");
        sources.push_back(*s);
    }
    auto n = staging_.add(*id, sources, now);
    if (!n) {
        if (n.error() == errc::not_found)
            return gone();
        if (n.error() == errc::no_buffer_space)
            return error_value("ENOBUFS", which + " would pass " +
                                              std::to_string(staging_.limits().max_sources) +
                                              " sources (limits.max_filter_sources)");
        return error_value("EINVAL", which + " holds sources of the other family");
    }
    Value v;
    v.set("ok", "stage_add");
    v.set("stage", *id);
    v.set("added", uint64_t(sources.size()));
    v.set("count", uint64_t(*n));
    return v;
}

// set_filter R G MODE stage=ID count=N [port=P]: the stage is taken here (it ends
// now, whatever the outcome) and its list goes with the one request the control
// lcore runs; the executor checks count=N against it.
Value Gateway::commit(std::string_view body) {
    std::optional<uint64_t> id;
    for (std::string_view tok : split(body))
        if (tok.substr(0, 6) == "stage=") {
            if (id)
                return error_value("EINVAL", "option stage given twice");
            id = parse_u64(tok.substr(6));
            if (!id)
                return error_value("EINVAL", "stage=" + quote(tok.substr(6)) + ": not a number");
        }
    auto sources = staging_.take(*id, clock_.now());
    if (!sources)
        return error_value("ENOENT", "no stage " + std::to_string(*id) +
                                         " (committed, aborted or idle " +
                                         seconds(staging_.limits().idle_timeout) + ")");
    Mailbox& mailbox = route_ ? route_("set_filter", body) : mailbox_;
    auto t = mailbox.submit("set_filter", std::string(body), std::move(sources).value());
    return mailbox.wait(t, setup_.timeout);
}

} // namespace mcfwd::control
