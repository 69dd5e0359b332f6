// mcfwd::control commands — what telemetry (and mcfwdctl) may ask of the control
// plane: read its state and change receivers' memberships.
//
// A command is a name ("groups", "join", ...) and an untrusted parameter string.
// execute() parses the parameters, checks everything, runs the command against
// the ControlPlane and answers a Value: a small JSON-like tree that the
// application turns into rte_tel_data (app/mcfwd/telemetry.cpp) and tests read
// directly. Every answer is an object. A mutation answers {"ok": "<command>", ...}
// or {"error": "<ERRNO NAME>", "message": "..."}; an error changes nothing
// (parameters are checked before the engine is called, and the engine validates
// before it commits — see membership/engine.hpp).
//
// Parameter syntax: tokens separated by commas and/or blanks; positional tokens
// first, then options as key=value (port=NAME). Receivers and ports are named
// as in the configuration. docs/TELEMETRY.md lists every command. The end
// marker (";") and the transport's length rule are checked before execute() by
// the telemetry side (control/gateway.hpp); execute() sees the parameters
// without the marker.
//
// Answer shapes are chosen to fit DPDK 22.11 telemetry: object keys are
// [A-Za-z0-9_]; strings are short (< 128 bytes); lists hold either scalars or
// objects (the application turns a list of objects into an object keyed "0",
// "1", ...).
//
// Mailbox: the hand-over from telemetry threads (several may call at once, one
// per client connection) to the control lcore, which alone may run commands.
//
// Thread-safety: execute() runs on the control lcore only. Mailbox is safe for
// any number of submitting threads and one draining thread.
#pragma once

#include "base/clock.hpp"
#include "control/control_plane.hpp"
#include "control/sinks.hpp"
#include "table/group_entry.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::control {

/// A JSON-like value: unsigned or signed integer, string, list, or object (keys
/// kept in insertion order). Built by commands, read by the app and by tests.
class Value {
public:
    enum class Kind : uint8_t { uint, sint, string, list, object };

    Value() : kind_(Kind::object) {} // an empty object
    static Value object() { return Value(); }
    static Value list() {
        Value v;
        v.kind_ = Kind::list;
        return v;
    }
    Value(uint64_t u) : kind_(Kind::uint), u_(u) {}
    Value(uint32_t u) : Value(uint64_t(u)) {}
    Value(int64_t i) : kind_(Kind::sint), i_(i) {}
    Value(int i) : Value(int64_t(i)) {}
    Value(std::string s) : kind_(Kind::string), s_(std::move(s)) {}
    Value(std::string_view s) : Value(std::string(s)) {}
    Value(const char* s) : Value(std::string(s)) {}

    Kind kind() const noexcept { return kind_; }
    bool is_object() const noexcept { return kind_ == Kind::object; }
    bool is_list() const noexcept { return kind_ == Kind::list; }
    bool is_scalar() const noexcept { return kind_ != Kind::object && kind_ != Kind::list; }
    uint64_t as_uint() const noexcept { return u_; }
    int64_t as_int() const noexcept { return i_; }
    const std::string& as_string() const noexcept { return s_; }

    /// Object: appends key (replaces an existing key's value). Returns the stored value.
    Value& set(std::string_view key, Value v);
    /// List: appends. Returns the stored value.
    Value& push(Value v);
    /// Object: the value of key, or null.
    const Value* find(std::string_view key) const;
    /// Elements of a list or values of an object.
    const std::vector<Value>& items() const noexcept { return items_; }
    /// Keys of an object (parallel to items()).
    const std::vector<std::string>& keys() const noexcept { return keys_; }
    size_t size() const noexcept { return items_.size(); }

    /// Compact JSON (for tests, logs and size checks).
    std::string to_json() const;

    friend bool operator==(const Value&, const Value&) = default;

private:
    Kind kind_;
    uint64_t u_ = 0;
    int64_t i_ = 0;
    std::string s_;
    std::vector<std::string> keys_;
    std::vector<Value> items_;
};

/// {"error": code, "message": message}. code is an errno name ("EINVAL").
Value error_value(std::string_view code, std::string message);
/// Whether v is an error answer.
bool is_error(const Value& v);

struct CommandInfo {
    std::string_view name;  // without the "/mcfwd/" prefix
    bool mutates;           // refused (EPERM) when telemetry is read-only
    std::string_view usage; // parameters, e.g. "RECEIVER GROUP [port=NAME]"
    std::string_view help;  // one line
};

/// Every command execute() knows, in documentation order. "stats" is listed but
/// executed by the application (it reads the data path's counters directly);
/// execute() answers its control-plane part.
std::span<const CommandInfo> command_list();
const CommandInfo* find_command(std::string_view name);
/// The refusals every entry point gives before reading parameters: an unknown
/// command (EINVAL) and, with read_only, any change (EPERM). Sets info to the
/// command when it answers nullopt.
std::optional<Value> refuse_early(std::string_view name, bool read_only,
                                  const CommandInfo*& info);

/// What commands run against. Everything referenced must outlive the context.
struct CommandContext {
    struct Port {
        std::string name;
        PortId id;
    };
    ControlPlane* cp = nullptr;
    const Clock* clock = nullptr; // timers are shown as milliseconds from now
    std::vector<Port> ports;      // configuration order
    bool read_only = false;       // refuse every mutating command with EPERM
    /// Receivers' sinks: add_receiver makes one, close_receiver gives it back,
    /// listings show what each delivered. Null: add_receiver is ENOTSUP and no
    /// delivered counts are shown.
    Sinks* sinks = nullptr;
};

/// Longest parameter string execute() takes: what fits one DPDK telemetry read
/// after the shortest command name (control/gateway.hpp). Longer is EMSGSIZE.
inline constexpr size_t max_params_bytes = 1023;

/// Runs one command on the control lcore. Never throws for bad input (only
/// std::bad_alloc); an unknown name is EINVAL.
///
/// staged: the sources of a committed stage (set_filter ... stage=ID count=N),
/// resolved by the telemetry side (control/gateway.hpp), or null. set_filter with
/// stage= and no staged list is EINVAL; staged with any other command is ignored.
Value execute(CommandContext& ctx, std::string_view name, std::string_view params,
              const std::vector<IpAddr>* staged = nullptr);

/// Telemetry threads -> control lcore. submit() queues a command and returns a
/// ticket; wait() blocks up to a timeout for the answer. On timeout a request the
/// control lcore has not started is withdrawn (it will never run), so
/// ETIMEDOUT means "not applied". A request the control lcore already started is
/// waited for until it ends (commands take microseconds). Shared ownership keeps
/// a request alive for whichever side finishes last.
class Mailbox {
public:
    struct Request;
    using Ticket = std::shared_ptr<Request>;
    /// staged: see execute(); null when the request has none.
    using Runner = std::function<Value(std::string_view name, std::string_view params,
                                       const std::vector<IpAddr>* staged)>;

    /// Queues (name, params[, staged sources]). After close(), answers at once
    /// with ESHUTDOWN.
    Ticket submit(std::string name, std::string params,
                  std::optional<std::vector<IpAddr>> staged = std::nullopt);
    /// The answer, or ETIMEDOUT if the control lcore did not take the request in time.
    Value wait(const Ticket& ticket, std::chrono::milliseconds timeout);
    /// Control lcore: runs every queued request with run and wakes its waiter.
    /// Returns the number run. Never blocks longer than a submit's push.
    size_t drain(const Runner& run);
    /// No more requests run: queued ones and later submits answer ESHUTDOWN.
    void close();
    size_t pending() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable done_;
    std::deque<Ticket> queue_;
    bool closed_ = false;
};

/// Untrusted text (a name, an argument) as an error message may echo it: the
/// first 40 bytes, anything unprintable as '?', "..." when cut.
std::string quote(std::string_view s);

} // namespace mcfwd::control
