// mcfwd::control gateway — the telemetry side of the commands: what a request
// must look like to be run (framing), the stages that carry long source lists,
// and the hand-over of each request to the control lcore (Mailbox).
//
// Why framing: DPDK 22.11's telemetry socket (lib/telemetry/telemetry.c,
// client_handler) reads a request with read(s, buffer, 1023) on a SOCK_SEQPACKET
// socket — one message, of which bytes past the 1023rd are discarded — writes a
// NUL after what it read, splits it with strtok(buffer, ",") and strtok(NULL, "\0")
// and calls the handler with the command and the parameters as C strings. A
// request over 1023 bytes therefore arrives cut, and a NUL byte ends the
// parameters; neither is reported to the handler. So:
//
//   1. A request whose received length (command, comma, parameters up to the
//      first NUL) reaches 1023 bytes may have been cut: refused, EMSGSIZE.
//   2. A changing command's parameters end with the end marker ";" (blanks may
//      follow). A cut or a NUL anywhere before it removes it: refused, EINVAL.
//      ";" anywhere else is refused, so a prefix can never end with a marker it
//      did not end with as sent.
//   3. A read may end with the marker (mcfwdctl always sends it, and then it is
//      checked as for a change) or not (dpdk-telemetry.py typed by hand). A read
//      request is at most ~130 bytes, so only a NUL can cut it, and every answer
//      names what it shows (receiver, port, group): a cut read cannot show one
//      thing as another.
//
// Stages: a filter of up to limits.max_filter_sources sources (65,536) does not
// fit one request. stage_open answers an id; stage_add ID S... adds sources (each
// request within the read limit); set_filter R G MODE stage=ID count=N commits:
// the gateway takes the stage, checks that it holds N sources and hands ONE
// set_filter with the whole list to the control lcore, so the filter changes in
// one step or not at all. A commit ends the stage whatever its outcome. Stages are
// bounded in number and size and expire when idle.
//
// Thread-safety: DPDK runs one telemetry thread per client connection, so
// handle() may run on several threads at once; the stages are guarded by a mutex
// (held for microseconds: never while waiting for the control lcore).
#pragma once

#include "base/clock.hpp"
#include "base/result.hpp"
#include "control/commands.hpp"

#include <functional>
#include <map>
#include <mutex>

namespace mcfwd::control {

/// Bytes DPDK 22.11's telemetry reads of one request (buffer[1024], one for the NUL).
inline constexpr size_t telemetry_read_limit = 1023;
/// The end marker of a request's parameters.
inline constexpr char end_marker = ';';

/// The bytes DPDK received of a request up to its first NUL, from what its
/// handler gets: the command and the parameters (null when nothing followed the
/// first comma): strlen(cmd) + (params ? 1 + strlen(params) : 0). Commas before
/// the command (strtok skips them) are not seen, so such a request may be cut
/// below 1023 counted bytes: rule 2 (the marker) still refuses it.
size_t telemetry_wire_length(const char* cmd, const char* params);

/// Checks a request's framing (rules 1-3 above). wire_length: the bytes DPDK
/// received up to the first NUL: strlen(cmd) + (params ? 1 + strlen(params) : 0).
/// On success body holds the parameters without the marker and nullopt is
/// returned; else the error answer.
std::optional<Value> check_framing(const CommandInfo& info, std::string_view params,
                                   size_t wire_length, std::string_view& body);

struct StagingLimits {
    size_t max_stages = 8;                            // open at once, over all clients
    size_t max_sources = 65536;                       // per stage: limits.max_filter_sources
    duration idle_timeout = std::chrono::seconds(30); // since the stage's last use
};

/// Source lists being staged for a set_filter commit. Safe for concurrent callers.
class Staging {
public:
    explicit Staging(StagingLimits limits = {}) : limits_(limits) {}

    /// A new empty stage. ENOSPC when max_stages are open and none has expired.
    Result<uint64_t> open(time_point now);
    /// Appends sources; the stage's count after. ENOENT: unknown or expired;
    /// ENOBUFS: over max_sources (nothing appended); EINVAL: a family other than
    /// the stage's first source (nothing appended).
    Result<size_t> add(uint64_t id, std::span<const IpAddr> sources, time_point now);
    /// Removes the stage and returns its sources. ENOENT: unknown or expired.
    Result<std::vector<IpAddr>> take(uint64_t id, time_point now);
    /// Removes the stage. ENOENT: unknown or expired.
    errc abort(uint64_t id, time_point now);
    /// Stages open (expired ones are dropped first).
    size_t open_count(time_point now);
    const StagingLimits& limits() const noexcept { return limits_; }

private:
    struct Stage {
        std::vector<IpAddr> sources;
        time_point last_use;
    };
    void expire(time_point now); // caller holds mutex_

    const StagingLimits limits_;
    std::mutex mutex_; // guards stages_ and next_id_
    std::map<uint64_t, Stage> stages_;
    uint64_t next_id_ = 1;
};

struct GatewaySetup {
    bool read_only = false;
    StagingLimits staging;
    std::chrono::milliseconds timeout{1000}; // waiting for the control lcore
};

/// One request from a telemetry thread to an answer.
class Gateway {
public:
    /// Commands answered on the telemetry thread (e.g. stats reading the data
    /// path's counters): return an answer, or nullopt to go to the control lcore.
    using Local = std::function<std::optional<Value>(std::string_view name, std::string_view body)>;
    /// The mailbox of the control lcore that runs a request (several control lcores:
    /// the owner of the port it names); body without the end marker. Null: mailbox.
    using Route = std::function<Mailbox&(std::string_view name, std::string_view body)>;

    Gateway(Mailbox& mailbox, const Clock& clock, GatewaySetup setup, Local local = {},
            Route route = {})
        : mailbox_(mailbox), clock_(clock), setup_(setup), staging_(setup.staging),
          local_(std::move(local)), route_(std::move(route)) {}

    /// name without the "/mcfwd/" prefix; params as DPDK passed them (may be
    /// empty); wire_length as for check_framing(). Blocks up to the timeout.
    Value handle(std::string_view name, std::string_view params, size_t wire_length);

    Staging& staging() noexcept { return staging_; }

private:
    Value stage_command(std::string_view name, std::string_view body);
    Value commit(std::string_view body);

    Mailbox& mailbox_;
    const Clock& clock_;
    const GatewaySetup setup_;
    Staging staging_;
    Local local_;
    Route route_;
};

} // namespace mcfwd::control
