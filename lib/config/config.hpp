// mcfwd::config — the YAML configuration of mcfwd, parsed into plain validated structs.
//
// The reference for every key (type, default, range, meaning) is docs/CONFIGURATION.md;
// this header states the C++ contract. Loading is the one place in mcfwd where errors are
// exceptions (house rule): load_file / load_string either return a Config in which every
// rule below already holds, or throw ConfigError naming the file, line, column and key path
// of the first problem, e.g.
//   mcfwd.yaml:14:7: ports[0].igmp.version: must be 1, 2 or 3, got 4
// main() catches ConfigError, prints what() and exits with status 2 before touching a port.
//
// What a loaded Config guarantees (so that the app and engine need not check again):
//  - every name is unique in its list, every port reference names a configured port and
//    carries that port's index;
//  - every join's group is multicast, every source unicast and of the group's family; the
//    filter is never (INCLUDE, {}), has no more than limits.max_filter_sources sources, and
//    a group in the SSM range (RFC 4607) is joined in INCLUDE mode with sources;
//  - no (receiver, port, group) is joined twice; ring names are unique;
//  - there is at least one control and one forwarding lcore, no lcore is listed twice or in
//    both roles, and every port's control_lcore is one of lcores.control;
//  - at most max_ports ports and max_outlets receivers plus downstream ports;
//  - every vdev device string names a driver mcfwd runs on (net_af_packet, net_null,
//    net_pcap, net_ring, net_tap), an instance name DPDK takes, and only the devargs that
//    driver takes, with the ones its probe needs. What the string names on this machine
//    (capture files, interfaces) is check_host()'s, not load_*'s.
// Values a message repeats are cut after 64 bytes ("…" and the length).
//
// Thread-safety: the functions are reentrant; a Config is a plain value.
// Depends on yaml-cpp inside the .cpp only; this header does not include it.
#pragma once

#include "addr/ip_addr.hpp"
#include "filter/filter_state.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::config {

/// Where a value was written: 1-based line and column of the configuration text.
struct Location {
    int line = 0;
    int column = 0;
    friend bool operator==(const Location&, const Location&) = default;
};

/// The one error type of configuration loading. what() is
/// "FILE:LINE:COL: PATH: MESSAGE" (PATH is "(syntax)" for YAML syntax errors, "(document)"
/// for the top level); "FILE: PATH: MESSAGE" when there is no position (line 0). The app may also
/// throw it for a configured object that fails later while still starting (a device that does not
/// probe), so the user is pointed at the line.
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string file, Location where, std::string path, std::string message);

    const std::string& file() const noexcept { return file_; }
    Location where() const noexcept { return where_; }
    /// "ports[0].igmp.version".
    const std::string& path() const noexcept { return path_; }
    /// The message alone, without file, position and path.
    const std::string& message() const noexcept { return message_; }

private:
    std::string file_;
    Location where_;
    std::string path_;
    std::string message_;
};

/// Lcore roles. Ids are DPDK lcore ids (0..127, RTE_MAX_LCORE of Debian's DPDK build); the
/// app passes them to the EAL as -l / --main-lcore, so eal: may not set those itself.
struct Lcores {
    /// Non-empty, unique; `control: N` (a scalar) is {N}. The first is the EAL's main
    /// lcore. Each runs its own control plane for the ports assigned to it
    /// (Port::control_lcore).
    std::vector<unsigned> control{0};
    std::vector<unsigned> forwarding{1}; // non-empty, unique, disjoint from control
};

/// The packet mbuf pool (rte_pktmbuf_pool_create arguments).
struct Mempool {
    uint32_t mbufs = 8191;     // 2^q - 1 is the most memory-efficient size
    uint32_t cache = 256;      // per-lcore cache, 0..512
    uint32_t data_room = 2176; // bytes per mbuf including the 128-byte headroom
};

/// Engine limits (membership::Limits).
struct Limits {
    uint32_t max_filter_sources = 64; // sources in one receiver's filter, 1..65536
    uint32_t max_merged_sources = 64; // INCLUDE union per port and group before EXCLUDE {}
};

/// What mcfwd does on SIGINT/SIGTERM (and at --duration / --idle-exit).
struct Shutdown {
    /// Every group is left on the wire: the first copy at once, the [Robustness]
    /// retransmissions spaced as RFC 3376 §5.1 / RFC 3810 §6.1 space them, for at
    /// most this long; 0: every copy at once.
    uint32_t leave_deadline_ms = 3000; // 0..60000
};

struct Telemetry {
    bool read_only = false; // refuse join / leave / block / unblock / set-filter commands
};

enum class PortRole : uint8_t { upstream, downstream };
enum class FlowSteering : uint8_t { automatic, on, off };
enum class DeviceKind : uint8_t { vdev, pci };

std::string_view role_name(PortRole r) noexcept;
std::string_view flow_steering_name(FlowSteering f) noexcept;

/// IGMP or MLD host parameters of one port (maps onto host::HostConfig).
struct ProtocolConfig {
    bool enabled = true;
    /// Highest version spoken: IGMP 1..3 (default 3), MLD 1..2 (default 2).
    uint8_t version = 0;
    /// [Robustness Variable], 1..7 (the QRV field has 3 bits; RFC 3376 §4.1.6).
    uint8_t robustness = 2;
    /// Unset: the RFC default of the mode in use (1 s for IGMPv3/MLDv2, 10 s for older).
    std::optional<uint32_t> unsolicited_report_interval_ms;
    bool report_link_local_groups = false;

    static ProtocolConfig igmp_defaults() { return {true, 3, 2, std::nullopt, false}; }
    static ProtocolConfig mld_defaults() { return {true, 2, 2, std::nullopt, false}; }
};

/// The router side of a downstream port (`ports[].querier`; RFC 3376 §8 / RFC 3810
/// §9 names). Robustness comes from the port's igmp / mld `robustness`. Maps onto
/// router::RouterConfig; unset optionals take the RFC defaults there.
struct QuerierConfig {
    bool enabled = true;                               // take part in the election, send queries
    uint32_t query_interval_ms = 125'000;              // [Query Interval], 1 s .. 31744 s
    uint32_t query_response_interval_ms = 10'000;      // 100 ms .. 3174.4 s, < query interval
    uint32_t last_member_query_interval_ms = 1'000;    // 100 ms .. 25.5 s (LMQT)
    std::optional<uint8_t> last_member_query_count;    // 1..7, default robustness
    std::optional<uint8_t> startup_query_count;        // 1..7, default robustness
    std::optional<uint32_t> startup_query_interval_ms; // 100 ms .. 31744 s, default QI / 4
    uint32_t max_groups = 4096;                        // per family, 1..1,000,000
    uint32_t max_sources = 65536;                      // per family, over all groups, 1..10,000,000
    /// The version queried with (RFC 3376 §7.3.1, RFC 3810 §8.3.1: the lowest on the link):
    /// IGMP 1..3, MLD 1..2. An older version also caps query_response_interval_ms at what
    /// its queries carry (IGMPv2 25.5 s, MLDv1 65.535 s); IGMPv1 hosts always use 10 s.
    uint8_t igmp_version = 3;
    uint8_t mld_version = 2;
};

struct Port {
    std::string name; // [a-z0-9_-]{1,32}, unique
    DeviceKind kind = DeviceKind::vdev;
    /// kind == vdev: the --vdev string ("net_pcap0,rx_pcap=in.pcap") of a known driver with
    /// only the devargs that driver takes; kind == pci: the canonical lower-case DBDF
    /// ("0000:01:00.0"; "01:00.0" is read as domain 0000).
    std::string device;
    /// Of the `device` (or `pci`) value, for errors about the device found later (check_host,
    /// a probe that fails after the EAL started).
    Location device_location;
    uint16_t rx_queues = 1;       // 1..16
    uint16_t tx_queues = 1;       // 1..16
    uint16_t mtu = 1500;          // 68..9600
    std::optional<uint16_t> vlan; // 1..4094: the port sends and receives with this tag
    PortRole role = PortRole::upstream;
    /// IGMP source address (unicast IPv4). Unset: 0.0.0.0, which RFC 3376 §4.2.13 allows.
    std::optional<addr::IpAddr> ipv4_address;
    /// MLD source address, fe80::/10 (RFC 3810 §5). Unset: derived from the MAC (EUI-64).
    std::optional<addr::IpAddr> ipv6_link_local;
    ProtocolConfig igmp = ProtocolConfig::igmp_defaults();
    ProtocolConfig mld = ProtocolConfig::mld_defaults();
    FlowSteering flow_steering = FlowSteering::automatic;
    /// IGMP/MLD the data path hands to the control lcore from this port, per second
    /// (0: no limit) and in bursts of up to punt_burst; more is dropped and counted
    /// (punt_limited), so a report flood on one port cannot crowd out the others.
    uint32_t punt_rate_pps = 1000; // 0..1,000,000
    uint32_t punt_burst = 64;      // 1..65535
    /// role == downstream: the router/querier parameters (an error on an upstream port).
    QuerierConfig querier;
    /// The control lcore that owns the port (its engines, timers, NIC filter, punted
    /// frames): one of lcores.control. Unset in the file: lcores.control[i % n] for
    /// ports[i] (round robin in port order).
    unsigned control_lcore = 0;
    Location location; // of the port's entry, for errors found while starting
};

enum class SinkKind : uint8_t { ring, port };

struct Sink {
    SinkKind kind = SinkKind::ring;
    /// kind == ring: the rte_ring name (unique over all receivers), 1..29 characters of
    /// [A-Za-z0-9_.-] (RTE_RING_NAMESIZE); kind == port: the port's name.
    std::string name;
    uint32_t ring_size = 1024; // kind == ring: power of two, 32..16777216
    size_t port_index = 0;     // kind == port: index into Config::ports
};

/// A static join: the receiver's filter for (port, group) (RFC 3678 setsourcefilter).
struct Join {
    std::string port;
    size_t port_index = 0; // into Config::ports
    addr::IpAddr group;
    filter::FilterState filter; // never (INCLUDE, {})
    Location location;
};

struct Receiver {
    std::string name; // [a-z0-9_-]{1,32}, unique
    Sink sink;
    std::vector<Join> joins;
    Location location;
};

/// Receivers plus downstream ports at the most: each is one outlet of every
/// forwarding lcore, and a port's forwarding table addresses outlets by the bits
/// of a 64-bit mask (table::max_outlets; app/mcfwd checks the two agree).
inline constexpr size_t max_outlets = 64;

/// Ports at the most: DPDK port ids are below RTE_MAX_ETHPORTS (32 in Debian's DPDK
/// build; app/mcfwd checks the two agree).
inline constexpr size_t max_ports = 32;

struct Config {
    std::string file; // the name used in messages
    std::vector<std::string> eal;
    Lcores lcores;
    Mempool mempool;
    Limits limits;
    Telemetry telemetry;
    Shutdown shutdown;
    std::vector<Port> ports;         // at least one, at most max_ports
    std::vector<Receiver> receivers; // may be empty

    /// The port of that name, or nullptr.
    const Port* find_port(std::string_view name) const noexcept;
};

/// Parses text; name_for_messages is the FILE part of error messages and Config::file.
/// Throws ConfigError (never another exception type, except std::bad_alloc).
Config load_string(std::string_view text, std::string_view name_for_messages);

/// Reads and parses a file. An unreadable file is a ConfigError without position (line 0)
/// with path "(file)" and the strerror text.
Config load_file(const std::string& path);

/// Checks what the ports' device strings name on this machine, as far as that is known
/// before DPDK opens it: every net_pcap rx_pcap file exists and is readable, every tx_pcap
/// file's directory exists and is writable, every interface a net_pcap or net_af_packet
/// port opens (iface, rx_iface, rx_iface_in, tx_iface; net_tap's remote) exists. Relative
/// paths are taken from the current directory, as the PMD takes them. Throws ConfigError
/// at ports[i].device (its line and column) for the first problem.
/// Not part of load_file: the answer depends on the machine and the moment, not on the
/// text (the shipped examples name captures that exist only while the demo runs). The app
/// calls it after loading, before the EAL.
void check_host(const Config& c);

} // namespace mcfwd::config
