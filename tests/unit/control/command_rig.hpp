// A real control plane for command tests (commands_test.cpp, gateway_test.cpp):
// two simulated ports ("uplink" id 0, "side" id 3) and two receivers ("feedA"
// outlet 0, "feedB" outlet 1), sinks that record what was opened and closed,
// plus helpers to read answers.
#pragma once

#include "control/commands.hpp"
#include "simnic/sim_nic.hpp"
#include "table/qsbr.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace mcfwd::control::testing {

inline IpAddr ip(const char* s) {
    return *IpAddr::parse(s);
}

// Sinks as the data path keeps them, without DPDK: the lowest free id, rings by
// name (a name in use is EEXIST), ports that may be sinks, and what was closed.
// Outlet o has delivered 100 + o packets.
struct FakeSinks final : Sinks {
    std::map<table::OutletId, std::string> open_ids; // id -> describe()
    std::vector<table::OutletId> closed;
    std::set<PortId> sink_ports{3};
    size_t capacity = table::max_outlets;

    Result<table::OutletId> open(std::string_view, const SinkRequest& r) override {
        std::string what = r.kind == SinkRequest::Kind::ring ? "ring " + r.ring
                                                             : "port " + std::to_string(r.port);
        if (r.kind == SinkRequest::Kind::port && !sink_ports.count(r.port))
            return errc::invalid;
        for (const auto& [id, w] : open_ids)
            if (w == what && r.kind == SinkRequest::Kind::ring)
                return errc::exists;
        for (table::OutletId id = 0; id < capacity; ++id)
            if (!open_ids.count(id)) {
                open_ids[id] = what;
                return id;
            }
        return errc::no_buffer_space;
    }
    void close(table::OutletId id) override {
        EXPECT_EQ(open_ids.erase(id), 1u) << "closed an outlet that was not open: " << id;
        closed.push_back(id);
    }
    uint64_t delivered(table::OutletId id) const override { return 100 + id; }
    std::string describe(table::OutletId id) const override {
        auto it = open_ids.find(id);
        return it == open_ids.end() ? "" : it->second;
    }
};

struct Rig {
    explicit Rig(membership::Limits limits = {})
        : reclaimer(qsbr), up_table(reclaimer), side_table(reclaimer), cp(limits, clock, rng) {
        add(0, "uplink", up_nic, up_table, "02:00:00:00:00:10");
        add(3, "side", side_nic, side_table, "02:00:00:00:00:13");
        a = *cp.engine().open_receiver("feedA");
        b = *cp.engine().open_receiver("feedB");
        cp.publisher().bind_receiver(a, 0);
        cp.publisher().bind_receiver(b, 1);
        ctx.cp = &cp;
        ctx.clock = &clock;
        ctx.ports = {{"uplink", 0}, {"side", 3}};
        sinks.open_ids = {{0, "ring feedA"}, {1, "ring feedB"}};
        ctx.sinks = &sinks;
    }
    void add(PortId id, const char* name, simnic::SimNic& nic, table::PortTable& t,
             const char* mac) {
        PortSetup s;
        s.id = id;
        s.name = name;
        s.driver = &nic;
        s.table = &t;
        s.frame.src_mac = *addr::MacAddr::parse(mac);
        s.frame.ipv4_src = ip("192.0.2.10");
        s.frame.ipv6_src = ip("fe80::10");
        s.transmit = [this](std::span<const uint8_t>) { ++frames_sent; };
        EXPECT_EQ(cp.add_port(s), errc::ok);
    }
    Value run(std::string_view name, std::string_view params = "") {
        return execute(ctx, name, params);
    }
    // Everything a command could change, as text: merged groups with host state,
    // receivers' filters, NIC filters, frames on the wire.
    std::string state() {
        return run("groups", "limit=200").to_json() + run("receivers").to_json() +
               run("ports").to_json() + std::to_string(frames_sent) + "/" +
               std::to_string(up_nic.table().size()) + "/" +
               std::to_string(side_nic.table().size());
    }

    VirtualClock clock;
    SplitMix rng{3};
    simnic::SimNic up_nic{16}, side_nic{16};
    table::Qsbr qsbr{1};
    table::QsbrReclaimer reclaimer;
    table::PortTable up_table, side_table;
    ControlPlane cp;
    FakeSinks sinks;
    CommandContext ctx;
    membership::ReceiverId a{}, b{};
    size_t frames_sent = 0;
};

inline std::string err(const Value& v) {
    const Value* e = v.find("error");
    return e ? e->as_string() : "";
}
inline std::string str(const Value& v, std::string_view key) {
    const Value* e = v.find(key);
    return e && e->kind() == Value::Kind::string ? e->as_string() : "<missing>";
}
inline uint64_t num(const Value& v, std::string_view key) {
    const Value* e = v.find(key);
    return e && e->kind() == Value::Kind::uint ? e->as_uint() : ~uint64_t(0);
}

} // namespace mcfwd::control::testing
