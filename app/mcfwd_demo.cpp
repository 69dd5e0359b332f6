// mcfwd-demo — the membership engine, NIC filter manager and IGMP/MLD host
// engines driven through a scripted day on two simulated ports, on a virtual
// clock. Everything it prints is read back from the engine's own state; every
// frame it "sends" is written to a pcap file per port for tshark.
//
//   mcfwd-demo [--out DIR]     (default DIR: ./out)
//
// Ports: "uplink" (a NIC whose multicast filter holds 4 MACs) and "lab" (a NIC
// with no multicast filter, like net_null / net_ring). Receivers: feedA,
// feedB, recorder. No DPDK is needed: this is the engine the mcfwd application
// runs on its control lcore.
#include "control/control_plane.hpp"
#include "pcapfile/pcap_file.hpp"
#include "simnic/sim_nic.hpp"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

using namespace mcfwd;
using addr::Family;
using addr::IpAddr;
using filter::FilterMode;
using membership::PortId;

IpAddr ip(const char* s) {
    auto a = IpAddr::parse(s);
    if (!a) {
        std::fprintf(stderr, "mcfwd-demo: bad address in script: %s\n", s);
        std::exit(2);
    }
    return *a;
}

std::string secs(time_point t) {
    char b[32];
    std::snprintf(b, sizeof b, "%7.3f s", std::chrono::duration<double>(t.since_origin).count());
    return b;
}

struct Port {
    PortId id;
    std::string name;
    std::unique_ptr<simnic::SimNic> nic;
    pcapfile::Writer pcap;
    uint64_t frames = 0;
};

class Demo {
public:
    explicit Demo(const std::string& out) : cp_(membership::Limits{}, clock_, rng_) {
        add_port(0, "uplink", 4, "02:00:00:00:00:10", "192.0.2.10", "fe80::10", out);
        add_port(1, "lab", 0, "02:00:00:00:00:20", "198.51.100.10", "fe80::20", out);
        for (const char* n : {"feedA", "feedB", "recorder"})
            receivers_[n] = *cp_.engine().open_receiver(n);
    }

    void add_port(PortId id, const char* name, size_t nic_capacity, const char* mac, const char* v4,
                  const char* v6, const std::string& out) {
        auto p = std::make_unique<Port>();
        p->id = id;
        p->name = name;
        p->nic = std::make_unique<simnic::SimNic>(nic_capacity);
        const std::string path = out + "/" + name + ".pcap";
        if (!p->pcap.open(path)) {
            std::fprintf(stderr, "mcfwd-demo: cannot write %s: %s\n", path.c_str(),
                         std::strerror(errno));
            std::exit(1);
        }
        control::PortSetup setup;
        setup.id = id;
        setup.name = name;
        setup.driver = p->nic.get();
        setup.frame.src_mac = *addr::MacAddr::parse(mac);
        setup.frame.ipv4_src = ip(v4);
        setup.frame.ipv6_src = ip(v6);
        Port* raw = p.get();
        setup.transmit = [this, raw](std::span<const uint8_t> f) {
            raw->pcap.write(clock_.now(), f);
            ++raw->frames;
            describe_frame(*raw, f);
        };
        if (cp_.add_port(std::move(setup)) != errc::ok) {
            std::fprintf(stderr, "mcfwd-demo: cannot add port %s\n", name);
            std::exit(1);
        }
        ports_.push_back(std::move(p));
    }

    // ---- the script's vocabulary -----------------------------------------------------

    void say(const char* text) { std::printf("\n== %s  [%s]\n", text, secs(clock_.now()).c_str()); }

    void result(const std::string& what, errc e) {
        std::printf("   %-58s -> %s\n", what.c_str(), std::string(errc_name(e)).c_str());
        ++(e == errc::ok ? ok_ : refused_);
    }

    membership::ReceiverId r(const char* name) { return receivers_.at(name); }

    void join(const char* who, PortId p, const char* g) {
        result(std::string(who) + " join " + port_name(p) + " " + g,
               cp_.engine().join(r(who), p, ip(g)));
    }
    void join_source(const char* who, PortId p, const char* g, const char* s) {
        result(std::string(who) + " join " + port_name(p) + " " + g + " source " + s,
               cp_.engine().join_source(r(who), p, ip(g), ip(s)));
    }
    void block(const char* who, PortId p, const char* g, const char* s) {
        result(std::string(who) + " block " + port_name(p) + " " + g + " source " + s,
               cp_.engine().block(r(who), p, ip(g), ip(s)));
    }
    void leave(const char* who, PortId p, const char* g) {
        result(std::string(who) + " leave " + port_name(p) + " " + g,
               cp_.engine().leave(r(who), p, ip(g)));
    }
    void set_filter(const char* who, PortId p, const char* g, FilterMode m,
                    std::vector<const char*> srcs) {
        std::vector<IpAddr> v;
        std::string text = std::string(who) + " set-filter " + port_name(p) + " " + g + " " +
                           std::string(filter::mode_name(m)) + " {";
        for (auto* s : srcs) {
            v.push_back(ip(s));
            text += std::string(v.size() > 1 ? " " : "") + s;
        }
        result(text + "}", cp_.engine().set_filter(r(who), p, ip(g), m, v));
    }

    /// A router's query arrives on a port: encoded, decoded, handed to the host engine,
    /// just as a punted packet will be.
    void query(PortId p, wire::Query q) {
        wire::FrameParams router;
        router.src_mac = *addr::MacAddr::parse("02:00:00:00:00:fe");
        router.ipv4_src = ip("192.0.2.1");
        router.ipv6_src = ip("fe80::fe");
        std::vector<wire::Frame> frames;
        if (wire::encode_query(q, router, frames) != errc::ok || frames.empty()) {
            std::printf("   (query could not be encoded)\n");
            return;
        }
        Port& port = *ports_[p];
        port.pcap.write(clock_.now(), frames[0]);
        std::printf(
            "   <- %s %s query v%u for %s, max response %lld ms\n", port.name.c_str(),
            q.family == Family::v4 ? "IGMP" : "MLD", unsigned(q.version),
            q.group.is_unspecified() ? "all groups" : q.group.to_string().c_str(),
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(q.max_response).count()));
        // As the data path will: the frame is punted to the control plane, which
        // decodes it and hands it to the port's host engine.
        cp_.on_control_frame(p, frames[0]);
    }

    /// Lets virtual time pass, firing every timer that falls due on the way.
    void wait(duration d) {
        const time_point until = clock_.now() + d;
        for (time_point next = cp_.poll(); next <= until; next = cp_.poll())
            clock_.set(std::max(next, clock_.now()));
        clock_.set(until);
    }

    void describe_frame(const Port& p, std::span<const uint8_t> f) {
        auto d = wire::decode(f);
        auto* df = std::get_if<wire::DecodedFrame>(&d);
        if (!df) {
            std::printf("   -> %s frame the decoder refuses (bug)\n", p.name.c_str());
            return;
        }
        std::string text;
        if (auto* rep = std::get_if<wire::Report>(&df->message)) {
            for (auto& rec : rep->records) {
                text += " " + std::string(wire::record_type_name(rec.type)) + "(" +
                        rec.group.to_string() + " {";
                for (size_t i = 0; i < rec.sources.size(); ++i)
                    text += (i ? " " : "") + rec.sources[i].to_string();
                text += "})";
            }
            std::printf("   -> %s %s report to %s:%s\n", p.name.c_str(),
                        rep->family == Family::v4 ? "IGMPv3" : "MLDv2",
                        df->ip_dst.to_string().c_str(), text.c_str());
        } else if (auto* lr = std::get_if<wire::LegacyReport>(&df->message)) {
            std::printf("   -> %s %sv%u report for %s\n", p.name.c_str(),
                        lr->family == Family::v4 ? "IGMP" : "MLD", unsigned(lr->version),
                        lr->group.to_string().c_str());
        } else if (auto* lv = std::get_if<wire::Leave>(&df->message)) {
            std::printf("   -> %s %s for %s\n", p.name.c_str(),
                        lv->family == Family::v4 ? "IGMPv2 leave" : "MLDv1 done",
                        lv->group.to_string().c_str());
        }
    }

    /// The state a person reads: each port's merged groups and its NIC filter.
    void show_state() {
        for (auto& pp : ports_) {
            const Port& p = *pp;
            std::vector<std::pair<IpAddr, std::string>> rows;
            cp_.engine().for_each_port_group(p.id, [&](const IpAddr& g,
                                                       const membership::PortGroupView& v) {
                rows.emplace_back(g,
                                  v.filter.to_string() + "  refs " + std::to_string(v.refcount()));
            });
            std::sort(rows.begin(), rows.end());
            auto view = cp_.engine().port(p.id);
            std::printf("   port %s (%s): %zu group(s)\n", p.name.c_str(), view->up ? "up" : "down",
                        rows.size());
            for (auto& [g, s] : rows)
                std::printf("      %-22s %s\n", g.to_string().c_str(), s.c_str());
            const auto* nf = cp_.controller().nic_filter(p.id);
            std::printf("      NIC: %zu MAC(s) wanted, %zu programmed, allmulticast %s%s%s\n",
                        nf->wanted_mac_count(), nf->programmed().size(),
                        p.nic->allmulticast() ? "on" : "off",
                        nf->reason() == nicfilter::AllmultiReason::none ? "" : " because ",
                        nf->reason() == nicfilter::AllmultiReason::none
                            ? ""
                            : std::string(nicfilter::allmulti_reason_name(nf->reason())).c_str());
        }
    }

    void shutdown() {
        cp_.leave_all();
        wait(std::chrono::seconds(3));
    }

    void summary() {
        std::printf("\n== summary\n");
        std::printf(
            "   membership calls: %llu succeeded, %llu refused (each refusal changed nothing)\n",
            (unsigned long long)ok_, (unsigned long long)refused_);
        std::printf("   merged-state changes announced: %llu\n",
                    (unsigned long long)cp_.engine().stats().events);
        for (auto& p : ports_) {
            const auto& c = cp_.controller().nic_filter(p->id)->counters();
            std::printf("   %-7s frames sent %llu (pcap: %zu packets incl. queries); NIC list "
                        "programs %llu, "
                        "refusals %llu, allmulticast on %llu / off %llu\n",
                        p->name.c_str(), (unsigned long long)p->frames, p->pcap.packets(),
                        (unsigned long long)c.list_programs, (unsigned long long)c.list_failures,
                        (unsigned long long)c.allmulti_enables,
                        (unsigned long long)c.allmulti_disables);
        }
    }

    std::string port_name(PortId p) const {
        return p < ports_.size() ? ports_[p]->name : "port" + std::to_string(p);
    }

private:
    VirtualClock clock_;
    SplitMix rng_{20261123};
    control::ControlPlane cp_;
    std::vector<std::unique_ptr<Port>> ports_;
    std::map<std::string, membership::ReceiverId> receivers_;
    uint64_t ok_ = 0, refused_ = 0;
};

void script(Demo& d) {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    constexpr PortId uplink = 0, lab = 1;

    // 233.1.1.1 (GLOP, RFC 3180) is an any-source group: the mix of INCLUDE and EXCLUDE
    // filters below is not allowed in the SSM range (RFC 4604 §2.2.1), where configuration
    // and telemetry refuse EXCLUDE. The script calls the engine directly, which leaves that
    // rule to its callers. 233.1.1.1 shares its MAC 01:00:5e:01:01:01 with 239.1.1.1 below
    // (RFC 1112 §6.4 maps only 23 bits), so the NIC table counts one MAC for the two.
    d.say("Source-specific joins (RFC 3678 IP_ADD_SOURCE_MEMBERSHIP)");
    d.join_source("feedA", uplink, "233.1.1.1", "10.1.1.1");
    d.join_source("feedA", uplink, "233.1.1.1", "10.1.1.2");
    d.wait(seconds(2));
    d.show_state();

    d.say("An any-source join on the same group switches the port to EXCLUDE");
    d.join("feedB", uplink, "233.1.1.1");
    d.block("feedB", uplink, "233.1.1.1", "10.1.1.9");
    d.block("feedB", uplink, "233.1.1.1", "10.1.1.1"); // feedA includes it: port unchanged
    d.wait(seconds(2));
    d.show_state();

    d.say("The seed's error contract: refused calls change nothing");
    d.join("feedB", uplink, "233.1.1.1");                        // EADDRINUSE
    d.join_source("feedB", uplink, "233.1.1.1", "10.1.1.3");     // EINVAL: mode change
    d.block("recorder", uplink, "233.1.1.1", "10.1.1.3");        // EADDRNOTAVAIL: no join
    d.join("recorder", uplink, "10.1.1.1");                      // EINVAL: not multicast
    d.join_source("recorder", uplink, "233.1.1.1", "233.0.0.1"); // EINVAL: multicast source
    d.join("recorder", 7, "233.1.1.1");                          // ENXIO: no such port

    d.say("IPv6 SSM through set-filter (MLDv2)");
    d.set_filter("recorder", uplink, "ff3e::8000:1", FilterMode::include,
                 {"2001:db8::2", "2001:db8::1"});
    d.wait(seconds(2));

    d.say("More groups than the uplink NIC's 4-entry filter: allmulticast");
    for (const char* g : {"239.1.1.1", "239.1.1.2", "239.1.1.3", "239.1.1.4"})
        d.join("feedA", uplink, g);
    d.wait(seconds(2));
    d.show_state();

    d.say("A router's general query is answered within Max Resp Time");
    d.wait(seconds(5));
    wire::Query gq;
    gq.family = Family::v4;
    gq.version = 3;
    gq.max_response = seconds(2);
    d.query(uplink, gq);
    d.wait(seconds(3));

    d.say("Leaving groups: the filter fits again, allmulticast off");
    d.leave("feedA", uplink, "239.1.1.3");
    d.leave("feedA", uplink, "239.1.1.4");
    d.wait(seconds(2));
    d.show_state();

    d.say("An IGMPv2 querier appears: the port speaks IGMPv2 for a while");
    wire::Query v2q;
    v2q.family = Family::v4;
    v2q.version = 2;
    v2q.max_response = seconds(1);
    d.query(uplink, v2q);
    d.wait(seconds(2));
    d.join("feedB", uplink, "239.2.2.2");
    d.leave("feedB", uplink, "239.2.2.2");
    d.wait(milliseconds(500));

    d.say("The lab port has no multicast filter at all");
    d.join("recorder", lab, "239.9.9.9");
    d.wait(seconds(2));
    d.show_state();

    d.say("Shutdown: every group is left on the wire");
    d.shutdown();
}

} // namespace

int main(int argc, char** argv) {
    std::string out = "out";
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--out DIR]\n", argv[0]);
            return 2;
        }
    }
    mkdir(out.c_str(), 0755);
    Demo demo(out);
    script(demo);
    demo.summary();
    std::printf("   pcap files: %s/uplink.pcap %s/lab.pcap\n", out.c_str(), out.c_str());
    return 0;
}
