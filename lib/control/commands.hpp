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
// The pieces around the executor have their own files: value.hpp (the answer),
// request.hpp (tokens of the parameter string), mailbox.hpp (telemetry threads
// to the control lcore).
//
// Thread-safety: execute() runs on the control lcore only.
#pragma once

#include "base/clock.hpp"
#include "control/control_plane.hpp"
#include "control/mailbox.hpp"
#include "control/request.hpp"
#include "control/sinks.hpp"
#include "control/value.hpp"
#include "table/group_entry.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::control {

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
std::optional<Value> refuse_early(std::string_view name, bool read_only, const CommandInfo*& info);

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
    /// Ports add_receiver's tx_port= may name when they are not in `ports`: with
    /// several control lcores, every port (the sink is one registry, any port's
    /// TX queues may carry a receiver's packets). Empty: `ports` only.
    std::vector<Port> sink_ports;
};

/// Internal requests of several control lcores (control/fanout.hpp), never a
/// telemetry command (not in command_list(), so no client can send them):
///   register_receiver  "NAME OUTLET": opens NAME on this control plane and binds
///                      it to OUTLET, a sink another control plane opened;
///   unregister_receiver "NAME": closes NAME here (its memberships are left,
///                      reports go out) and unbinds its outlet without closing it.
/// Answers as add_receiver / close_receiver do (EPERM for an internal receiver).
inline constexpr std::string_view register_receiver_cmd = "_register_receiver";
inline constexpr std::string_view unregister_receiver_cmd = "_unregister_receiver";

/// Runs one command on the control lcore. Never throws for bad input (only
/// std::bad_alloc); an unknown name is EINVAL.
///
/// staged: the sources of a committed stage (set_filter ... stage=ID count=N),
/// resolved by the telemetry side (control/gateway.hpp), or null. set_filter with
/// stage= and no staged list is EINVAL; staged with any other command is ignored.
Value execute(CommandContext& ctx, std::string_view name, std::string_view params,
              const std::vector<IpAddr>* staged = nullptr);

} // namespace mcfwd::control
