// The mcfwd application's runtime: from a validated configuration to running
// lcores and back. Wiring only — every rule lives in lib/ and drivers/.
//
//   EAL (lcores from config) -> mempool -> ports (ethdev) -> control plane
//   (engine, NIC filters, IGMP/MLD, tables) -> outlets and receivers -> static
//   joins -> forwarding lcores (dataplane::poll_once) -> control loop on the
//   main lcore (punted IGMP/MLD, timers, link state, RCU reclamation) ->
//   SIGINT/SIGTERM: leave every group on the wire, stop lcores, print counters.
// Packet capture (dpdk-dumpcap) is served from EAL start to exit
// (ethdev/capture.hpp): it costs nothing until a capture attaches.
#include "runtime.hpp"

#include "control/control_plane.hpp"
#include "dataplane/forward.hpp"
#include "dataplane/outlet_registry.hpp"
#include "ethdev/capture.hpp"
#include "ethdev/eal.hpp"
#include "ethdev/ethdev_driver.hpp"
#include "ethdev/kernel_link.hpp"
#include "ethdev/port.hpp"
#include "ethdev/rcu.hpp"
#include "ethdev/rte_allocator.hpp"
#include "ethdev/tsc_clock.hpp"
#include "telemetry.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <sched.h>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcfwd::app {
namespace {

std::atomic<bool> g_signal{false};
void on_signal(int) {
    g_signal.store(true, std::memory_order_relaxed);
}

/// Startup failures: reported as "mcfwd: <what>" and exit status 1.
struct StartupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A configured object that fails while starting, in the form of a configuration error,
/// "FILE:LINE:COL: PATH: MESSAGE", so the user is pointed at the value.
std::string at(const config::Config& c, config::Location where, const std::string& path,
               const std::string& message) {
    return config::ConfigError(c.file, where, path, message).what();
}

std::vector<std::string> eal_arguments(const config::Config& cfg, const Options& opts) {
    // Every control lcore runs a control loop over the ports it owns; the first is
    // the main lcore (docs/CONFIGURATION.md: lcores.control, ports[].control_lcore).
    const unsigned control = cfg.lcores.control.front();
    std::vector<unsigned> ids = cfg.lcores.control;
    ids.insert(ids.end(), cfg.lcores.forwarding.begin(), cfg.lcores.forwarding.end());
    // Lcore i runs on CPU i (-l). An id with no such CPU among the ones this process
    // may use runs as a thread over all of them (--lcores i@(cpus)), said at start.
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        CPU_ZERO(&allowed);
    std::string cpus, cores, homeless;
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &allowed))
            cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
    for (unsigned l : ids) {
        const bool own = l < CPU_SETSIZE && CPU_ISSET(l, &allowed);
        if (!own)
            homeless += (homeless.empty() ? "" : ",") + std::to_string(l);
        cores += (cores.empty() ? "" : ",") + std::to_string(l) +
                 (own || cpus.empty() ? "" : "@(" + cpus + ")");
    }
    std::vector<std::string> args = {"mcfwd"};
    if (homeless.empty() || cpus.empty()) {
        args.insert(args.end(), {"-l", cores});
    } else {
        std::printf("mcfwd: lcore(s) %s have no CPU of their own: threads over CPUs %s\n",
                    homeless.c_str(), cpus.c_str());
        args.push_back("--lcores=" + cores);
    }
    args.push_back("--main-lcore=" + std::to_string(control));
    args.insert(args.end(), cfg.eal.begin(), cfg.eal.end());
    args.insert(args.end(), opts.eal_args.begin(), opts.eal_args.end());
    // DPDK 22.11's telemetry warns on every start "No legacy callbacks, legacy
    // socket not created" (mcfwd serves the v2 socket only): lib.telemetry:error
    // hides that and nothing else (its other messages are errors or debug).
    // For one log type the EAL keeps the first --log-level given, so it is added
    // only when the user's arguments set no global level and none for telemetry.
    bool user_level = false;
    for (size_t i = 1; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--log-level" && i + 1 < args.size())
            a = args[i + 1];
        else if (a.starts_with("--log-level="))
            a.remove_prefix(12);
        else
            continue;
        user_level |= a.find(':') == std::string_view::npos || a.find("telemetry") != a.npos;
    }
    if (!user_level)
        args.push_back("--log-level=lib.telemetry:error");
    return args;
}

struct Lcore {
    unsigned lcore_id = 0;
    unsigned reader_id = 0;
    dataplane::ForwardContext ctx;
    ethdev::DpdkQsbr* qsbr = nullptr;
    std::atomic<bool>* stop = nullptr;
};

int forwarding_main(void* arg) {
    auto& l = *static_cast<Lcore*>(arg);
    l.qsbr->online(l.reader_id);
    while (!l.stop->load(std::memory_order_relaxed))
        dataplane::poll_once(l.ctx);
    dataplane::flush(l.ctx);
    l.qsbr->offline(l.reader_id);
    return 0;
}

static_assert(config::max_outlets == table::max_outlets,
              "the configuration's outlet limit is the tables' mask width");
static_assert(config::max_ports == RTE_MAX_ETHPORTS,
              "the configuration's port limit is the DPDK build's");

struct PortRuntime {
    const config::Port* cfg = nullptr;
    size_t owner = 0; // index in lcores.control of the control lcore that owns the port
    std::unique_ptr<ethdev::EthdevPort> port;
    std::unique_ptr<ethdev::EthdevDriver> driver;
    std::unique_ptr<table::PortTable> table;
    uint16_t control_queue = 0; // TX queue of the control lcore
    bool sink_target = false;   // forwarding lcore i sends on TX queue i
    /// A proxy's ports: the routed outlet onto this port (a downstream port's, or
    /// the upstream port's for the downstream senders' traffic).
    std::optional<table::OutletId> routed_outlet;
    bool proxy_upstream = false; // the upstream port of a proxy (its first upstream port)
    /// net_tap / net_af_packet: the kernel interface, whose state is the link's.
    std::optional<unsigned> ifindex;
    bool link = false;
    /// net_af_packet: a frame the PMD took may still not have left (below).
    bool confirm_tx = false;
    uint64_t control_tx = 0, control_tx_failed = 0, control_tx_retried = 0;
};

class Runtime;

/// One control lcore: its control plane over the ports it owns, the ring the
/// forwarding lcores punt those ports' IGMP/MLD into, its own defer queue on the
/// shared QSBR variable (it writes its ports' tables), its own netlink socket and
/// telemetry mailbox. Nothing in it is touched by another control lcore; what
/// crosses is the UpstreamChannel of downstream ports to the proxy's upstream port.
struct ControlLcore {
    size_t index = 0;
    unsigned lcore_id = 0;
    Runtime* rt = nullptr;
    rte_ring* punt = nullptr;
    std::unique_ptr<ethdev::DpdkReclaimer> reclaimer; // before cp: outlives its tables
    std::unique_ptr<SplitMix> rng;
    std::unique_ptr<control::ControlPlane> cp;
    std::vector<PortRuntime*> ports;                 // owned, config order
    std::optional<ethdev::KernelLinks> kernel_links; // when an owned port is kernel-backed
    /// Producer: this lcore's downstream ports' changes to the upstream port's owner.
    std::unique_ptr<control::UpstreamChannel> to_upstream;
    /// Consumer (the upstream port's owner): the other lcores' channels.
    std::vector<control::UpstreamChannel*> from_downstream;
    uint64_t last_link_check = 0, last_netlink = 0;
};

class Runtime {
public:
    Runtime(const config::Config& cfg, const Options& opts)
        : cfg_(cfg), opts_(opts), eal_(eal_arguments(cfg, opts)) {}
    ~Runtime() {
        // Also on a startup failure after some lcores were launched.
        stop_control_.store(true, std::memory_order_relaxed);
        stop_.store(true, std::memory_order_relaxed);
        if (launched_)
            rte_eal_mp_wait_lcore();
    }

    int run();

private:
    void make_pool();
    void open_ports();
    void make_lcores();
    table::OutletId checked_outlet(const std::string& who, Result<table::OutletId> id);
    void make_outlets_and_receivers();
    void start_lcores();
    void control_loop();
    static int control_main(void* arg);
    unsigned control_turn(ControlLcore& c, uint64_t now);
    void leave_all(ControlLcore& c);
    bool link_up(const PortRuntime& p) const;
    void set_link(PortRuntime& p, bool up);
    void shutdown();
    void print_summary();
    void transmit(PortRuntime& p, std::span<const uint8_t> frame);
    uint64_t rx_total() const;

    const config::Config& cfg_;
    const Options& opts_;
    ethdev::Eal eal_;
    // Always on: a capture is wanted when something is wrong, without a restart.
    ethdev::PacketCapture capture_;
    ethdev::TscClock clock_;
    rte_mempool* pool_ = nullptr;
    rte_mempool* header_pool_ = nullptr;   // routed copies' headers (downstream ports)
    rte_mempool* indirect_pool_ = nullptr; // routed copies' payload references
    // The forwarding tables' memory: DPDK's, on the forwarding lcores' socket.
    // Declared before the reclaimer, which frees retired table memory into it.
    std::unique_ptr<ethdev::RteAllocator> table_memory_;
    // Every lcore's outlets; declared before the reclaimer, which hands closed
    // outlets back to it.
    std::unique_ptr<dataplane::OutletRegistry> outlets_;
    std::unique_ptr<ethdev::DpdkQsbr> qsbr_;
    std::vector<std::unique_ptr<ControlLcore>> controls_; // lcores.control order
    std::vector<PortRuntime> ports_;            // config order
    std::vector<table::PortTable*> by_port_id_; // DPDK port id -> table
    std::vector<std::unique_ptr<Lcore>> lcores_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> stop_control_{false}; // the control lcores after the first
    bool launched_ = false;
    std::unique_ptr<Telemetry> telemetry_; // last: gone before the counters it reads
};

void Runtime::make_pool() {
    pool_ = rte_pktmbuf_pool_create("mcfwd_pool", cfg_.mempool.mbufs, cfg_.mempool.cache, 0,
                                    static_cast<uint16_t>(cfg_.mempool.data_room),
                                    static_cast<int>(rte_socket_id()));
    if (!pool_)
        throw StartupError(std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno));
    // A routed copy holds one header and one indirect mbuf until its TX queue
    // frees it: per routed outlet (each downstream port, and the upstream port for
    // the downstream senders) and forwarding lcore a queue's worth plus a staged
    // burst, plus every lcore's pool cache.
    size_t downstream = 0;
    for (const config::Port& p : cfg_.ports)
        downstream += p.role == config::PortRole::downstream;
    if (downstream > 0) {
        const size_t nfwd = cfg_.lcores.forwarding.size();
        const unsigned n =
            static_cast<unsigned>((downstream + 1) * nfwd * (1024 + 2 * 32) + nfwd * 256);
        header_pool_ =
            dataplane::create_header_pool("mcfwd_hdr", n, 256, static_cast<int>(rte_socket_id()));
        indirect_pool_ =
            dataplane::create_indirect_pool("mcfwd_ind", n, 256, static_cast<int>(rte_socket_id()));
        if (!header_pool_ || !indirect_pool_)
            throw StartupError(std::string("cannot create the routed-copy pools: ") +
                               rte_strerror(rte_errno));
    }
    // The tables are read by the forwarding lcores: their NUMA socket.
    const unsigned fwd_socket = cfg_.lcores.forwarding.empty()
                                    ? rte_socket_id()
                                    : rte_lcore_to_socket_id(cfg_.lcores.forwarding.front());
    table_memory_ = std::make_unique<ethdev::RteAllocator>(static_cast<int>(fwd_socket));
    auto q = ethdev::DpdkQsbr::create(static_cast<unsigned>(cfg_.lcores.forwarding.size()));
    if (!q)
        throw StartupError("cannot create the RCU variable");
    qsbr_ = std::move(q).value();
    // One control plane per control lcore, each with its own punt ring ("mcfwd_punt",
    // then "mcfwd_punt1", ...) and defer queue.
    for (size_t k = 0; k < cfg_.lcores.control.size(); ++k) {
        auto c = std::make_unique<ControlLcore>();
        c->index = k;
        c->lcore_id = cfg_.lcores.control[k];
        c->rt = this;
        const std::string ring = k == 0 ? "mcfwd_punt" : "mcfwd_punt" + std::to_string(k);
        c->punt = rte_ring_create(ring.c_str(), 1024, static_cast<int>(rte_socket_id()),
                                  RING_F_SC_DEQ);
        if (!c->punt)
            throw StartupError(std::string("cannot create the punt ring: ") +
                               rte_strerror(rte_errno));
        c->reclaimer = std::make_unique<ethdev::DpdkReclaimer>(*qsbr_);
        c->rng = std::make_unique<SplitMix>(rte_get_tsc_cycles() + k);
        c->cp = std::make_unique<control::ControlPlane>(
            membership::Limits{cfg_.limits.max_filter_sources, cfg_.limits.max_merged_sources},
            clock_, *c->rng);
        controls_.push_back(std::move(c));
    }
}

void Runtime::open_ports() {
    const auto nfwd = static_cast<uint16_t>(cfg_.lcores.forwarding.size());
    // A proxy's upstream port (the first upstream one) takes what its downstream
    // ports' senders send (RFC 4605 §4.2).
    const config::Port* proxy_upstream = nullptr;
    auto has_role = [](config::PortRole r) {
        return [r](const config::Port& p) { return p.role == r; };
    };
    if (std::ranges::any_of(cfg_.ports, has_role(config::PortRole::downstream)))
        proxy_upstream = &*std::ranges::find_if(cfg_.ports, has_role(config::PortRole::upstream));
    for (size_t i = 0; i < cfg_.ports.size(); ++i) {
        const config::Port& pc = cfg_.ports[i];
        PortRuntime pr;
        pr.cfg = &pc;
        pr.owner = static_cast<size_t>(
            std::find(cfg_.lcores.control.begin(), cfg_.lcores.control.end(), pc.control_lcore) -
            cfg_.lcores.control.begin());
        if (pr.owner >= controls_.size()) // the configuration checked it
            throw StartupError("port " + pc.name + ": control lcore " +
                               std::to_string(pc.control_lcore) + " is not in lcores.control");
        ControlLcore& owner = *controls_[pr.owner];
        ethdev::PortSpec spec;
        spec.name = pc.name;
        spec.device = pc.device;
        spec.rx_queues = pc.rx_queues;
        // DPDK TX queues are not thread-safe: every lcore that sends on a port gets
        // its own queue. Forwarding lcore k sends on queue k of a port some receiver
        // uses as its sink; the control lcore sends reports on the next queue of a
        // port that speaks IGMP or MLD. (net_pcap has one queue per tx_pcap file.)
        // A downstream port receives the upstream traffic its hosts asked for
        // (RFC 4605 proxy): every forwarding lcore sends on it too.
        bool sink_target = pc.role == config::PortRole::downstream;
        for (const config::Receiver& r : cfg_.receivers)
            sink_target |= r.sink.kind == config::SinkKind::port && r.sink.port_index == i;
        const bool speaks = pc.igmp.enabled || pc.mld.enabled;
        auto tx_queues = [&](bool sink) {
            const uint16_t n = static_cast<uint16_t>((sink ? nfwd : 0) + (speaks ? 1 : 0));
            return std::max<uint16_t>({pc.tx_queues, n, 1});
        };
        spec.tx_queues = tx_queues(sink_target);
        // The proxy's upstream port takes its downstream senders' traffic (RFC 4605
        // §4.2): the forwarding lcores send on it too, when the device has the
        // queues; without them (net_af_packet qpairs=1, net_pcap with one tx_pcap)
        // mcfwd runs as before and says so.
        const bool upstream_sink = &pc == proxy_upstream && !sink_target;
        if (upstream_sink) {
            spec.tx_queues_fallback = spec.tx_queues;
            spec.tx_queues = tx_queues(true);
            sink_target = true;
        }
        const uint16_t needed = tx_queues(sink_target);
        pr.control_queue = sink_target ? nfwd : 0;
        spec.mtu = pc.mtu;
        // A port that speaks neither protocol has no control traffic to steer.
        spec.steering =
            pc.flow_steering == config::FlowSteering::off || !speaks ? ethdev::Steering::off
            : pc.flow_steering == config::FlowSteering::on           ? ethdev::Steering::required
                                                                     : ethdev::Steering::automatic;
        std::string why;
        auto port = ethdev::open_port(spec, pool_, &why);
        if (!port) {
            // Where the TX queues come from: they are not in the configuration.
            std::string tx_why;
            if (spec.tx_queues == needed && needed > 1) {
                if (sink_target)
                    tx_why = ", " + std::to_string(nfwd) + " for the forwarding lcore(s) (" +
                             (pc.role == config::PortRole::downstream ? "a downstream port"
                              : &pc == proxy_upstream                 ? "the proxy's upstream port"
                                                                      : "a receiver's sink") +
                             ")";
                if (speaks)
                    tx_why += ", 1 for IGMP/MLD";
                if (!tx_why.empty())
                    tx_why[0] = ':';
            }
            const std::string entry = "ports[" + std::to_string(i) + "]";
            // A device that did not probe (or is not there) is the device value's fault;
            // anything later is the port's settings.
            if (port.error() == errc::no_device)
                throw StartupError(
                    at(cfg_, pc.device_location,
                       entry + (pc.kind == config::DeviceKind::pci ? ".pci" : ".device"), why));
            throw StartupError(at(cfg_, pc.location, entry,
                                  why + " (asked for " + std::to_string(spec.rx_queues) +
                                      " RX and " + std::to_string(spec.tx_queues) +
                                      " TX queues" + tx_why + ")"));
        }
        pr.port = std::make_unique<ethdev::EthdevPort>(std::move(port).value());
        if (upstream_sink && pr.port->tx_queues() < spec.tx_queues) {
            sink_target = false;
            pr.control_queue = 0;
            const std::string driver = ethdev::driver_name(pr.port->port_id());
            const std::string n = std::to_string(spec.tx_queues);
            const std::string fix = driver == "net_af_packet"
                                        ? " (give it qpairs=" + n + " and rx_queues: " + n + ")"
                                    : driver == "net_pcap" ? " (give it " + n + " tx_pcap files)"
                                                           : "";
            std::printf("mcfwd: port %s: %u TX queue(s), %s needed to forward what the "
                        "downstream ports' senders send upstream (RFC 4605 §4.2): not "
                        "forwarded upstream%s\n",
                        pc.name.c_str(), unsigned(pr.port->tx_queues()), n.c_str(), fix.c_str());
        }
        pr.sink_target = sink_target;
        pr.proxy_upstream = &pc == proxy_upstream;
        if (auto cq = pr.port->control_queue())
            std::printf("mcfwd: port %s: IGMP/MLD steered by rte_flow to RX queue %u\n",
                        pc.name.c_str(), unsigned(*cq));
        else if (spec.steering != ethdev::Steering::off)
            std::printf("mcfwd: port %s: rte_flow steering refused, IGMP/MLD punted in "
                        "software (%s)\n",
                        pc.name.c_str(), pr.port->steering_note().c_str());
        pr.driver = std::make_unique<ethdev::EthdevDriver>(pr.port->port_id());
        // net_tap / net_af_packet: the kernel interface's multicast list is the
        // filter that decides what reaches the port (ethdev/kernel_mc.hpp).
        if (auto ifindex = ethdev::kernel_ifindex(pr.port->port_id())) {
            // Its link state is the kernel interface's (ethdev/kernel_link.hpp).
            // One netlink socket per control lcore, for the ports it owns.
            if (!owner.kernel_links) {
                auto links = ethdev::KernelLinks::open(&why);
                if (!links)
                    throw StartupError("port " + pc.name +
                                       ": cannot follow kernel link state: " + why);
                owner.kernel_links.emplace(std::move(links).value());
            }
            owner.kernel_links->watch(*ifindex);
            pr.ifindex = ifindex;
            auto list = ethdev::KernelMcList::open(*ifindex, &why);
            if (list)
                pr.driver->attach_kernel(std::move(list).value());
            else
                std::printf("mcfwd: port %s: cannot program the kernel interface's multicast "
                            "list (%s): allmulticast stays the PMD's\n",
                            pc.name.c_str(), why.c_str());
        }
        pr.confirm_tx = ethdev::driver_name(pr.port->port_id()) == "net_af_packet";
        pr.table = std::make_unique<table::PortTable>(
            *owner.reclaimer, table::PortTableOptions{.allocator = table_memory_.get()});
        pr.link = link_up(pr);
        ports_.push_back(std::move(pr));
    }
    for (PortRuntime& pr : ports_)
        controls_[pr.owner]->ports.push_back(&pr);
    // The proxy's upstream port (the first upstream port): its owner merges every
    // downstream port's state. A downstream port on another control lcore reaches it
    // through that lcore's channel (control/upstream_link.hpp).
    std::optional<size_t> upstream_owner;
    for (PortRuntime& pr : ports_)
        if (pr.cfg->role == config::PortRole::upstream && !upstream_owner)
            upstream_owner = pr.owner;
    // The proxy's upstream port (the first upstream one) must exist before any
    // downstream port joins on it: upstream ports are added first.
    std::vector<PortRuntime*> order;
    for (PortRuntime& pr : ports_)
        if (pr.cfg->role == config::PortRole::upstream)
            order.push_back(&pr);
    for (PortRuntime& pr : ports_)
        if (pr.cfg->role == config::PortRole::downstream)
            order.push_back(&pr);
    for (PortRuntime* prp : order) {
        PortRuntime& pr = *prp;
        const uint16_t id = pr.port->port_id();
        if (id >= by_port_id_.size())
            by_port_id_.resize(size_t(id) + 1, nullptr);
        by_port_id_[id] = pr.table.get();
        const config::Port& pc = *pr.cfg;
        control::PortSetup s;
        s.id = id;
        s.name = pc.name;
        s.driver = pr.driver.get();
        s.table = pr.table.get();
        s.frame.src_mac = pr.port->mac();
        s.frame.ipv4_src = pc.ipv4_address.value_or(addr::IpAddr::v4(0));
        s.frame.ipv6_src = pc.ipv6_link_local.value_or(addr::link_local_from_mac(pr.port->mac()));
        s.frame.vlan = pc.vlan;
        s.frame.mtu = pc.mtu;
        s.igmp = pc.igmp.enabled;
        s.mld = pc.mld.enabled;
        auto host_config = [](const config::ProtocolConfig& p) {
            host::HostConfig h;
            h.max_version = p.version;
            h.robustness = p.robustness;
            if (p.unsolicited_report_interval_ms)
                h.unsolicited_report_interval =
                    std::chrono::milliseconds(*p.unsolicited_report_interval_ms);
            h.report_link_local_groups = p.report_link_local_groups;
            return h;
        };
        s.igmp_config = host_config(pc.igmp);
        s.mld_config = host_config(pc.mld);
        PortRuntime* raw = &pr;
        s.transmit = [this, raw](std::span<const uint8_t> f) { transmit(*raw, f); };
        s.up = pr.link;
        if (pc.role == config::PortRole::downstream) {
            s.role = control::PortRole::downstream;
            auto router_config = [&](const config::ProtocolConfig& p, uint8_t version) {
                const config::QuerierConfig& q = pc.querier;
                router::RouterConfig r;
                r.querier = q.enabled;
                r.version = version;
                r.robustness = p.robustness;
                r.query_interval = std::chrono::milliseconds(q.query_interval_ms);
                r.query_response_interval = std::chrono::milliseconds(q.query_response_interval_ms);
                r.last_member_query_interval =
                    std::chrono::milliseconds(q.last_member_query_interval_ms);
                r.last_member_query_count = q.last_member_query_count;
                r.startup_query_count = q.startup_query_count;
                if (q.startup_query_interval_ms)
                    r.startup_query_interval =
                        std::chrono::milliseconds(*q.startup_query_interval_ms);
                r.max_groups = q.max_groups;
                r.max_sources = q.max_sources;
                return r;
            };
            s.igmp_router = router_config(pc.igmp, pc.querier.igmp_version);
            s.mld_router = router_config(pc.mld, pc.querier.mld_version);
            // Routed copies: TTL / hop limit minus one and this port's MAC and VLAN
            // in a private header in front of the shared payload (dataplane).
            s.outlet = checked_outlet(
                "downstream port " + pc.name,
                outlets_->open_routed("downstream:" + pc.name, id, pc.name, pr.port->mac(),
                                      pc.vlan));
            pr.routed_outlet = s.outlet;
            if (upstream_owner && *upstream_owner != pr.owner) {
                ControlLcore& down = *controls_[pr.owner];
                ControlLcore& up = *controls_[*upstream_owner];
                if (!down.to_upstream) {
                    down.to_upstream = std::make_unique<control::UpstreamChannel>();
                    up.from_downstream.push_back(down.to_upstream.get());
                }
                if (errc e = up.cp->add_remote_downstream(id, pc.name, s.outlet); e != errc::ok)
                    throw StartupError("port " + pc.name + ": " + std::string(errc_name(e)));
                s.upstream_link = down.to_upstream.get();
                s.outlet.reset(); // bound on the upstream port's control plane
            }
        } else if (pr.proxy_upstream && pr.sink_target) {
            // Routed copies of the downstream senders' packets (RFC 4605 §4.2): no
            // table entry names this outlet; a downstream port's RX queues add it
            // to every packet (dataplane/forward.hpp, "Downstream senders").
            pr.routed_outlet = checked_outlet(
                "upstream port " + pc.name,
                outlets_->open_routed("upstream:" + pc.name, id, pc.name, pr.port->mac(), pc.vlan));
        }
        if (errc e = controls_[pr.owner]->cp->add_port(std::move(s)); e != errc::ok)
            throw StartupError(
                "port " + pc.name + ": " + std::string(errc_name(e)) +
                (e == errc::no_device ? " (a downstream port needs an upstream port)" : ""));
    }
}

// The control lcore's own frames (reports, leaves, queries): copied into an
// mbuf and sent on the port's control TX queue. Rare.
//
// net_af_packet takes a frame into its TX ring and then asks the kernel to send
// the ring; when that sendto() fails (after the interface went down and up the
// socket still holds ENETDOWN, once), the PMD counts an output error but reports
// the frame as sent, and the frame leaves only with the next transmission —
// a query answer could wait until the next report. So on such a port the
// control queue's own sent count must grow, or the frame is sent again (the
// retry's successful kick sends both: the peer sees the frame twice, which IGMP
// and MLD treat as a repeated report). Only a frame that left is counted sent.
//
// Nothing is sent while the link is down: a frame queued there would leave when
// the link returns, after the fact (a stale leave before the new reports).
void Runtime::transmit(PortRuntime& p, std::span<const uint8_t> frame) {
    constexpr int attempts = 3;
    if (!p.link) {
        ++p.control_tx_failed;
        return;
    }
    auto queue_sent = [&]() -> uint64_t {
        rte_eth_stats st{};
        if (p.control_queue >= RTE_ETHDEV_QUEUE_STAT_CNTRS ||
            rte_eth_stats_get(p.port->port_id(), &st) != 0)
            return 0;
        return st.q_opackets[p.control_queue];
    };
    // A failed attempt leaves the count as it was: one read before them all.
    const uint64_t before = p.confirm_tx ? queue_sent() : 0;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        char* data = m ? rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())) : nullptr;
        if (!data) {
            rte_pktmbuf_free(m);
            break;
        }
        std::memcpy(data, frame.data(), frame.size());
        if (rte_eth_tx_burst(p.port->port_id(), p.control_queue, &m, 1) != 1) {
            rte_pktmbuf_free(m);
            break;
        }
        if (!p.confirm_tx || queue_sent() > before) {
            // The attempts that did not kick left with this one: the wire saw
            // control_tx + control_tx_retried frames.
            ++p.control_tx;
            p.control_tx_retried += unsigned(attempt);
            return;
        }
    }
    ++p.control_tx_failed;
}

void Runtime::make_lcores() {
    std::vector<const dataplane::LcoreCounters*> counters;
    for (size_t i = 0; i < cfg_.lcores.forwarding.size(); ++i) {
        auto l = std::make_unique<Lcore>();
        l->lcore_id = cfg_.lcores.forwarding[i];
        l->reader_id = static_cast<unsigned>(i);
        l->qsbr = qsbr_.get();
        l->stop = &stop_;
        counters.push_back(&l->ctx.counters);
        lcores_.push_back(std::move(l));
    }
    outlets_ = std::make_unique<dataplane::OutletRegistry>(std::move(counters), *controls_[0]->reclaimer,
                                                           static_cast<int>(rte_socket_id()));
}

table::OutletId Runtime::checked_outlet(const std::string& who, Result<table::OutletId> id) {
    if (!id)
        throw StartupError(who + ": " +
                           (id.error() == errc::no_buffer_space
                                ? "more than " + std::to_string(table::max_outlets) +
                                      " receivers and downstream ports"
                                : std::string(errc_name(id.error()))));
    return *id;
}

// The configured receivers, as add_receiver makes them at run time: the sink,
// then the receiver, then its joins. With several control lcores the receiver is
// opened on every control plane (it may join on any port) with the same outlet,
// and each join is made on the control plane that owns its port.
void Runtime::make_outlets_and_receivers() {
    for (PortRuntime& pr : ports_)
        if (pr.sink_target)
            outlets_->allow_port_sink(pr.port->port_id(), pr.cfg->name);
    for (const config::Receiver& rc : cfg_.receivers) {
        control::SinkRequest req;
        if (rc.sink.kind == config::SinkKind::ring) {
            req.ring = rc.sink.name;
            req.ring_size = rc.sink.ring_size;
        } else {
            req.kind = control::SinkRequest::Kind::port;
            req.port = ports_[rc.sink.port_index].port->port_id();
        }
        auto sink = outlets_->open(rc.name, req);
        if (!sink && sink.error() != errc::no_buffer_space)
            throw StartupError("receiver " + rc.name + ": cannot create " +
                               (rc.sink.kind == config::SinkKind::ring
                                    ? "ring " + rc.sink.name + ": " + rte_strerror(rte_errno)
                                    : "a sink on port " + rc.sink.name + ": " +
                                          std::string(errc_name(sink.error()))));
        const table::OutletId id = checked_outlet("receiver " + rc.name, std::move(sink));
        std::vector<membership::ReceiverId> rids;
        for (auto& c : controls_) {
            auto rid = c->cp->engine().open_receiver(rc.name);
            if (!rid)
                throw StartupError("receiver " + rc.name + ": " +
                                   std::string(errc_name(rid.error())));
            c->cp->publisher().bind_receiver(*rid, id);
            rids.push_back(*rid);
        }
        for (const config::Join& j : rc.joins) {
            const PortRuntime& pr = ports_[j.port_index];
            const uint16_t port = pr.port->port_id();
            errc e = controls_[pr.owner]->cp->engine().set_filter(
                rids[pr.owner], port, j.group, j.filter.mode, j.filter.sources.as_vector());
            if (e != errc::ok)
                throw StartupError(at(cfg_, j.location,
                                      "receivers[" + std::to_string(&rc - cfg_.receivers.data()) +
                                          "].joins[" +
                                          std::to_string(&j - rc.joins.data()) + "]",
                                      "join of " + j.group.to_string() +
                                          " refused: " + std::string(errc_name(e))));
        }
    }
}

void Runtime::start_lcores() {
    const PortRuntime* upstream = nullptr;
    for (const PortRuntime& pr : ports_)
        if (pr.proxy_upstream)
            upstream = &pr;
    // RX queues are spread over the forwarding lcores, round robin.
    size_t next = 0;
    for (PortRuntime& pr : ports_)
        for (uint16_t q = 0; q < pr.cfg->rx_queues; ++q) {
            auto& ctx = lcores_[next++ % lcores_.size()]->ctx;
            if (ctx.rx_count == dataplane::max_rx_queues)
                throw StartupError("too many RX queues for the forwarding lcores");
            dataplane::DownstreamQueue& dq = ctx.downstream[ctx.rx_count];
            dataplane::RxQueue& rq = ctx.rx[ctx.rx_count++];
            rq = {pr.port->port_id(), q, pr.cfg->vlan ? int32_t(*pr.cfg->vlan) : -1};
            // The port's punt rate, shared out over its queues.
            if (pr.cfg->punt_rate_pps != 0)
                rq.punt_rate = std::max<uint32_t>(1, pr.cfg->punt_rate_pps / pr.cfg->rx_queues);
            rq.punt_burst = pr.cfg->punt_burst;
            rq.punt_ring = controls_[pr.owner]->punt; // the port's control lcore
            // RFC 4605 §4.2: a downstream port's senders reach the upstream port and
            // every other port whose subscriptions the upstream table holds.
            // (Not to the upstream port itself when it lacks the TX queues.)
            if (pr.cfg->role == config::PortRole::downstream && upstream) {
                dq.upstream_port = upstream->port->port_id();
                dq.own_outlets = uint64_t{1} << *pr.routed_outlet;
                if (upstream->routed_outlet)
                    dq.upstream_outlets = uint64_t{1} << *upstream->routed_outlet;
            }
        }
    for (auto& l : lcores_) {
        l->ctx.tables = by_port_id_.data();
        l->ctx.table_count = by_port_id_.size();
        l->ctx.outlets = &outlets_->lcore(l->reader_id);
        l->ctx.punt_ring = controls_[0]->punt;
        l->ctx.header_pool = header_pool_;
        l->ctx.indirect_pool = indirect_pool_;
        l->ctx.qsbr = qsbr_->get();
        l->ctx.qsbr_thread_id = l->reader_id;
        if (qsbr_->register_reader(l->reader_id) != errc::ok)
            throw StartupError("cannot register a forwarding lcore with RCU");
        if (rte_eal_remote_launch(forwarding_main, l.get(), l->lcore_id) != 0)
            throw StartupError("cannot launch lcore " + std::to_string(l->lcore_id));
        launched_ = true;
    }
    // The other control lcores, after the forwarding lcores (their punts arrive).
    for (size_t k = 1; k < controls_.size(); ++k) {
        if (rte_eal_remote_launch(control_main, controls_[k].get(), controls_[k]->lcore_id) != 0)
            throw StartupError("cannot launch control lcore " +
                               std::to_string(controls_[k]->lcore_id));
    }
}

uint64_t Runtime::rx_total() const {
    uint64_t n = 0;
    for (auto& l : lcores_)
        n += reinterpret_cast<const volatile uint64_t&>(l->ctx.counters.rx_packets);
    return n;
}

// One turn of a control lcore's loop over the ports it owns; returns the frames
// it took (0: the loop may sleep a little).
unsigned Runtime::control_turn(ControlLcore& c, uint64_t now) {
    const uint64_t hz = rte_get_tsc_hz();
    control::ControlPlane& cp = *c.cp;
    rte_mbuf* burst[32];
    // IGMP / MLD: punted by the forwarding lcores, or steered by rte_flow
    // to a port's control RX queue (only its owner polls that queue).
    auto take = [&](unsigned count) {
        for (unsigned i = 0; i < count; ++i) {
            cp.on_control_frame(burst[i]->port, {rte_pktmbuf_mtod(burst[i], const uint8_t*),
                                                 burst[i]->data_len});
            rte_pktmbuf_free(burst[i]);
        }
    };
    unsigned n = rte_ring_dequeue_burst(c.punt, reinterpret_cast<void**>(burst), 32, nullptr);
    take(n);
    for (PortRuntime* pr : c.ports)
        if (auto cq = pr->port->control_queue()) {
            const uint16_t got = rte_eth_rx_burst(pr->port->port_id(), *cq, burst, 32);
            take(got);
            n += got;
        }
    // Link state: the kernel's notifications for kernel-backed ports, the
    // PMD's events where it raises them, and polling once a second anyway.
    const bool check_links = now - c.last_link_check > hz;
    if (c.kernel_links && now - c.last_netlink > hz / 100) {
        c.last_netlink = now;
        for (unsigned ifindex : c.kernel_links->poll())
            for (PortRuntime* pr : c.ports)
                if (pr->ifindex == ifindex)
                    set_link(*pr, c.kernel_links->up(ifindex));
    }
    for (PortRuntime* pr : c.ports) {
        ethdev::PortEvents ev = pr->port->take_events();
        if (ev.reset_requested && pr->port->restart() == errc::ok)
            if (auto* nic = cp.controller().nic_filter(pr->port->port_id()))
                nic->reprogram();
        if (ev.lsc_changed || check_links)
            set_link(*pr, link_up(*pr));
    }
    if (check_links)
        c.last_link_check = now;
    telemetry_->poll(c.index);
    // Downstream ports' changes: the other lcores' into this one's upstream merge,
    // this one's held-back changes into its channel.
    for (control::UpstreamChannel* ch : c.from_downstream)
        n += unsigned(ch->deliver(cp));
    cp.poll();
    if (c.to_upstream)
        c.to_upstream->flush();
    c.reclaimer->reclaim();
    return n;
}

int Runtime::control_main(void* arg) {
    auto& c = *static_cast<ControlLcore*>(arg);
    Runtime& rt = *c.rt;
    c.last_link_check = c.last_netlink = rte_get_tsc_cycles();
    while (!rt.stop_control_.load(std::memory_order_relaxed))
        if (rt.control_turn(c, rte_get_tsc_cycles()) == 0)
            rte_delay_us_sleep(100);
    rt.leave_all(c);
    return 0;
}

void Runtime::control_loop() {
    ControlLcore& c = *controls_[0];
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t start = rte_get_tsc_cycles();
    uint64_t last_rx = rx_total(), last_rx_change = start;
    c.last_link_check = c.last_netlink = start;
    while (!g_signal.load(std::memory_order_relaxed)) {
        const uint64_t now = rte_get_tsc_cycles();
        if (opts_.duration && double(now - start) / double(hz) >= *opts_.duration)
            break;
        const unsigned n = control_turn(c, now);
        // --idle-exit: stop once the ports have been quiet that long (a replayed
        // capture has ended).
        const uint64_t rx = rx_total();
        if (rx != last_rx) {
            last_rx = rx;
            last_rx_change = now;
        } else if (opts_.idle_exit &&
                   double(now - last_rx_change) / double(hz) >= *opts_.idle_exit) {
            break;
        }
        if (n == 0)
            rte_delay_us_sleep(100);
    }
}

// DPDK 22.11's net_af_packet says "up" forever; the kernel interface knows.
bool Runtime::link_up(const PortRuntime& p) const {
    return p.ifindex ? controls_[p.owner]->kernel_links->up(*p.ifindex) : p.port->link_up();
}

void Runtime::set_link(PortRuntime& p, bool up) {
    if (up == p.link)
        return;
    p.link = up;
    std::printf("mcfwd: port %s link %s\n", p.cfg->name.c_str(), up ? "up" : "down");
    std::fflush(stdout);
    // Down detaches the port's memberships; up announces every one again
    // (state-change reports with their retransmissions) and restarts a
    // downstream port's queriers (startup queries): control/control_plane.hpp.
    controls_[p.owner]->cp->set_link(p.port->port_id(), up);
}

// A control lcore's part of the shutdown: every group of its ports left on the
// wire (RFC 3376 §5.1: TO_IN {} / leave, Robustness copies) while the ports still
// run. The copies after the first are spaced by the unsolicited report interval,
// up to shutdown.leave_deadline_ms; forwarding goes on meanwhile.
void Runtime::leave_all(ControlLcore& c) {
    control::ControlPlane& cp = *c.cp;
    const uint64_t deadline =
        rte_get_tsc_cycles() + cfg_.shutdown.leave_deadline_ms * (rte_get_tsc_hz() / 1000);
    const bool spaced = cfg_.shutdown.leave_deadline_ms > 0;
    cp.leave_all(spaced ? host::HostEngine::Spacing::spaced : host::HostEngine::Spacing::at_once);
    cp.poll();
    while (cp.leaving() && rte_get_tsc_cycles() < deadline) {
        // Control frames still arrive; they no longer matter.
        rte_mbuf* burst[32];
        const unsigned n =
            rte_ring_dequeue_burst(c.punt, reinterpret_cast<void**>(burst), 32, nullptr);
        rte_pktmbuf_free_bulk(burst, n);
        rte_delay_us_sleep(1000);
        cp.poll();
    }
    if (cp.leaving()) {
        // Not all copies went out by the deadline: say so rather than hide it.
        std::printf("mcfwd: shutdown: leave retransmissions still pending at the %u ms deadline\n",
                    cfg_.shutdown.leave_deadline_ms);
    }
}

void Runtime::shutdown() {
    // Each control lcore leaves its ports' groups, then the data path stops.
    telemetry_->stop(); // no more requests: the leaves below are the last changes
    stop_control_.store(true, std::memory_order_relaxed);
    leave_all(*controls_[0]);
    for (size_t k = 1; k < controls_.size(); ++k)
        rte_eal_wait_lcore(controls_[k]->lcore_id);
    stop_.store(true, std::memory_order_relaxed);
    rte_eal_mp_wait_lcore();
    launched_ = false;
    for (auto& l : lcores_)
        qsbr_->unregister_reader(l->reader_id);
    for (auto& c : controls_)
        c->reclaimer->synchronize();
}

void Runtime::print_summary() {
    std::vector<dataplane::LcoreCounters> per;
    for (auto& l : lcores_)
        per.push_back(l->ctx.counters);
    const dataplane::LcoreCounters total = dataplane::sum(per);
    std::printf("mcfwd: stopped\n");
    std::printf("  data path:");
    dataplane::for_each_counter(total, [](std::string_view name, std::string_view, uint64_t v) {
        if (v)
            std::printf(" %.*s=%llu", int(name.size()), name.data(), (unsigned long long)v);
    });
    std::printf("\n");
    outlets_->for_each([](table::OutletId, const dataplane::OutletRegistry::Info& o) {
        if (o.owner.starts_with("downstream:"))
            return; // the port's line below
        if (o.owner.starts_with("upstream:")) {
            std::printf("  %s: from downstream senders, delivered %llu\n", o.owner.c_str(),
                        (unsigned long long)o.delivered);
            return;
        }
        std::printf("  receiver %s: delivered %llu", o.owner.c_str(),
                    (unsigned long long)o.delivered);
        if (o.ring)
            std::printf(", %u waiting in %s", rte_ring_count(o.ring), o.sink.c_str());
        std::printf("\n");
    });
    std::printf("  control:");
    bool any_control = false;
    // Summed over the control lcores, in the list's order.
    std::vector<std::pair<std::string, uint64_t>> control_total;
    for (auto& c : controls_) {
        size_t i = 0;
        control::for_each_counter(c->cp->counters(),
                                  [&](std::string_view name, std::string_view, uint64_t v) {
                                      if (i == control_total.size())
                                          control_total.emplace_back(std::string(name), 0);
                                      control_total[i++].second += v;
                                  });
    }
    for (const auto& [name, v] : control_total) {
        if (v)
            std::printf(" %s=%llu", name.c_str(), (unsigned long long)v);
        any_control |= v != 0;
    }
    std::printf(any_control ? "\n" : " no control frames\n");
    for (PortRuntime& pr : ports_) {
        control::ControlPlane& cp = *controls_[pr.owner]->cp;
        const auto* nf = cp.controller().nic_filter(pr.port->port_id());
        // "retried": frames net_af_packet took but the kernel did not send at first.
        const std::string retried =
            pr.control_tx_retried ? ", retried " + std::to_string(pr.control_tx_retried) : "";
        std::printf("  port %s: %zu group(s) at exit, %s sent %llu (failed %llu%s), NIC %zu MAC(s) "
                    "programmed, allmulticast %s (%s)\n",
                    pr.cfg->name.c_str(), cp.engine().port(pr.port->port_id())->groups,
                    pr.cfg->role == config::PortRole::downstream ? "queries" : "reports",
                    (unsigned long long)pr.control_tx, (unsigned long long)pr.control_tx_failed,
                    retried.c_str(),
                    nf->programmed().size(), nf->allmulti() ? "on" : "off",
                    std::string(nicfilter::allmulti_reason_name(nf->reason())).c_str());
        if (const size_t groups = pr.table->group_count(); groups > 0) {
            // Memory per (S,G): every listed source, an any-source group as one.
            size_t sg = 0;
            pr.table->for_each(
                [&](const table::GroupEntry& e) { sg += std::max<size_t>(1, e.source_count()); });
            std::printf("  port %s: forwarding table: %zu group(s), %zu (S,G), %zu bytes of DPDK "
                        "memory (%.1f per (S,G); %zu in objects)\n",
                        pr.cfg->name.c_str(), groups, sg, pr.table->memory_bytes(),
                        double(pr.table->memory_bytes()) / double(sg), pr.table->used_bytes());
        }
        for (addr::Family f : {addr::Family::v4, addr::Family::v6})
            if (const router::RouterEngine* r = cp.router(pr.port->port_id(), f))
                std::printf("  port %s: %s router: %zu group(s) learned, %s, general queries sent "
                            "%llu\n",
                            pr.cfg->name.c_str(), f == addr::Family::v4 ? "IGMP" : "MLD",
                            r->group_count(), r->querier().querier ? "querier" : "not querier",
                            (unsigned long long)r->counters().general_queries_sent);
    }
}

int Runtime::run() {
    make_pool();
    make_lcores();
    open_ports();
    make_outlets_and_receivers();
    { // Telemetry commands (docs/TELEMETRY.md), served in control_loop.
        TelemetrySetup t;
        t.clock = &clock_;
        t.read_only = cfg_.telemetry.read_only;
        t.sinks = outlets_.get();
        t.max_filter_sources = cfg_.limits.max_filter_sources;
        for (auto& c : controls_) {
            ControlLcoreView v{c->lcore_id, c->cp.get(), {}};
            for (PortRuntime* pr : c->ports)
                v.ports.push_back({pr->cfg->name, pr->port->port_id()});
            t.control.push_back(std::move(v));
        }
        for (PortRuntime& pr : ports_)
            t.port_order.push_back(pr.cfg->name);
        for (auto& l : lcores_)
            t.lcores.push_back({l->lcore_id, &l->ctx.counters});
        telemetry_ = std::make_unique<Telemetry>(std::move(t));
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    start_lcores();
    std::vector<std::pair<std::string, uint16_t>> named;
    for (const PortRuntime& pr : ports_)
        named.emplace_back(pr.cfg->name, pr.port->port_id());
    std::printf("mcfwd: %s\n", capture_.how_to(named).c_str());
    std::printf("mcfwd: running: %zu port(s), %zu receiver(s), %zu forwarding lcore(s)",
                ports_.size(), cfg_.receivers.size(), lcores_.size());
    if (controls_.size() > 1)
        std::printf(", %zu control lcores", controls_.size());
    std::printf("\n");
    std::fflush(stdout);
    control_loop();
    shutdown();
    print_summary();
    if (opts_.stats) { // the counters once more, for scripts: the last line on stdout
        std::vector<const dataplane::LcoreCounters*> counters;
        for (auto& l : lcores_)
            counters.push_back(&l->ctx.counters);
        std::printf("%s\n", telemetry_->stats_now(counters).to_json().c_str());
    }
    // Ports close (EthdevPort destructors) before the tables and the EAL go.
    ports_.clear();
    return 0;
}

} // namespace

int run(const config::Config& cfg, const Options& opts) {
    try {
        Runtime rt(cfg, opts);
        return rt.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mcfwd: %s\n", e.what());
        return 1;
    }
}

} // namespace mcfwd::app
