// control::Fanout: add_receiver, close_receiver and receivers over several control
// planes (several control lcores). Each plane is a command Rig (uplink and side,
// feedA and feedB on outlets 0 and 1, as configured receivers are on every plane);
// plane 0's FakeSinks is the one registry.
#include "command_rig.hpp"
#include "control/fanout.hpp"

#include <memory>

namespace mcfwd::control::testing {
namespace {

struct Planes {
    explicit Planes(size_t n) {
        for (size_t k = 0; k < n; ++k) {
            rigs.push_back(std::make_unique<Rig>());
            rigs.back()->ctx.sinks = &rigs.front()->sinks;
        }
        fan.planes = n;
        fan.port_order = {"uplink", "side"};
        fan.ask = [this](size_t k, std::string_view name, std::string_view params) {
            asked.push_back(std::to_string(k) + " " + std::string(name));
            return execute(rigs.at(k)->ctx, name, params);
        };
    }
    bool has(size_t k, std::string_view name) const {
        return bool(rigs[k]->cp.engine().find_receiver(name));
    }
    FakeSinks& sinks() { return rigs.front()->sinks; }

    std::vector<std::unique_ptr<Rig>> rigs;
    Fanout fan;
    std::vector<std::string> asked;
};

TEST(Fanout, AddReceiverIsMadeOnEveryPlaneWithPlaneZerosOutlet) {
    Planes p(2);
    const Value v = p.fan.add_receiver("feedc size=4096");
    EXPECT_EQ(str(v, "ok"), "add_receiver") << v.to_json();
    EXPECT_EQ(str(v, "receiver"), "feedc");
    EXPECT_EQ(num(v, "outlet"), 2u);
    EXPECT_EQ(str(v, "sink"), "ring feedc");
    EXPECT_EQ(v.size(), 4u) << "the one-plane answer, unchanged: " << v.to_json();
    ASSERT_TRUE(p.has(0, "feedc") && p.has(1, "feedc"));
    const auto r1 = *p.rigs[1]->cp.engine().find_receiver("feedc");
    EXPECT_EQ(p.rigs[1]->cp.publisher().outlet_of(r1), table::OutletId(2));
    EXPECT_EQ(p.sinks().open_ids.size(), 3u) << "one sink, opened once";
    // A refusal of plane 0 (the name in use) asks nobody else.
    p.asked.clear();
    EXPECT_EQ(err(p.fan.add_receiver("feedc")), "EADDRINUSE");
    EXPECT_EQ(p.asked, std::vector<std::string>{"0 add_receiver"});
}

TEST(Fanout, AFailedRegistrationLeavesNothingBehind) {
    Planes p(3);
    // A name only plane 2 has: plane 0 and 1 accept it, plane 2 refuses.
    ASSERT_TRUE(bool(p.rigs[2]->cp.engine().open_receiver("feedc")));
    const std::string before0 = p.rigs[0]->state(), before1 = p.rigs[1]->state();
    const Value v = p.fan.add_receiver("feedc");
    EXPECT_EQ(err(v), "EADDRINUSE") << v.to_json();
    EXPECT_NE(str(v, "message").find("nothing was made"), std::string::npos) << v.to_json();
    EXPECT_FALSE(p.has(0, "feedc"));
    EXPECT_FALSE(p.has(1, "feedc"));
    EXPECT_TRUE(p.has(2, "feedc")) << "plane 2's own receiver is not touched";
    EXPECT_EQ(p.sinks().open_ids.size(), 2u) << "the sink was given back";
    EXPECT_EQ(p.sinks().closed, std::vector<table::OutletId>{2});
    EXPECT_EQ(p.rigs[0]->state(), before0);
    EXPECT_EQ(p.rigs[1]->state(), before1);
    EXPECT_EQ(p.asked, (std::vector<std::string>{"0 add_receiver", "1 _register_receiver",
                                                 "2 _register_receiver",
                                                 "1 _unregister_receiver", "0 close_receiver"}));
}

TEST(Fanout, ReceiversMergesEveryPlanesMemberships) {
    Planes p(2);
    ASSERT_FALSE(is_error(p.fan.add_receiver("feedc")));
    // Plane 0 owns uplink, plane 1 side (each rig has both; each is asked of one).
    ASSERT_FALSE(is_error(p.rigs[1]->run("join", "feedc 239.1.1.2 port=side")));
    ASSERT_FALSE(is_error(p.rigs[0]->run("join", "feedc 239.1.1.9 port=uplink")));
    ASSERT_FALSE(is_error(p.rigs[0]->run("join", "feedc 239.1.1.1 port=uplink")));
    Value v = p.fan.receivers("");
    ASSERT_FALSE(is_error(v)) << v.to_json();
    EXPECT_EQ(num(v, "total"), 3u);
    const Value& list = *v.find("receivers");
    ASSERT_EQ(list.size(), 3u);
    const Value& c = list.items()[2];
    EXPECT_EQ(str(c, "name"), "feedc");
    EXPECT_EQ(num(c, "id"), uint64_t(*p.rigs[0]->cp.engine().find_receiver("feedc")));
    EXPECT_EQ(str(c, "sink"), "ring feedc");
    std::vector<std::string> ms;
    for (const Value& m : c.find("memberships")->items())
        ms.push_back(str(m, "port") + " " + str(m, "group"));
    EXPECT_EQ(ms, (std::vector<std::string>{"uplink 239.1.1.1", "uplink 239.1.1.9",
                                            "side 239.1.1.2"}));
    // The same record by name; paged as one plane pages.
    Value one = p.fan.receivers("feedc");
    EXPECT_EQ(one.find("receivers")->items().at(0).to_json(), c.to_json());
    EXPECT_EQ(num(one, "total"), 1u);
    Value pg = p.fan.receivers("start=1 limit=1");
    EXPECT_EQ(num(pg, "total"), 3u);
    EXPECT_EQ(num(pg, "next"), 2u);
    ASSERT_EQ(pg.find("receivers")->size(), 1u);
    EXPECT_EQ(str(pg.find("receivers")->items()[0], "name"), "feedB");
    EXPECT_EQ(err(p.fan.receivers("nobody")), "ENOENT");
    EXPECT_EQ(err(p.fan.receivers("limit=0")), "EINVAL");
    EXPECT_EQ(err(p.fan.receivers("a b")), "EINVAL");
}

TEST(Fanout, CloseReceiverLeavesEveryPlaneThenGivesTheSinkBack) {
    Planes p(2);
    ASSERT_FALSE(is_error(p.fan.add_receiver("feedc")));
    ASSERT_FALSE(is_error(p.rigs[0]->run("join", "feedc 239.1.1.1 port=uplink")));
    ASSERT_FALSE(is_error(p.rigs[1]->run("join", "feedc 239.1.1.2 port=side")));
    p.asked.clear();
    const Value v = p.fan.close_receiver("feedc");
    EXPECT_EQ(str(v, "ok"), "close_receiver") << v.to_json();
    EXPECT_EQ(num(v, "memberships_left"), 2u);
    EXPECT_EQ(str(v, "sink"), "ring feedc");
    EXPECT_EQ(num(v, "delivered"), 102u);
    EXPECT_EQ(p.asked, (std::vector<std::string>{"1 _unregister_receiver", "0 close_receiver"}));
    EXPECT_FALSE(p.has(0, "feedc"));
    EXPECT_FALSE(p.has(1, "feedc"));
    EXPECT_EQ(p.sinks().closed, std::vector<table::OutletId>{2});
    EXPECT_EQ(num(p.rigs[1]->run("groups", "side"), "total"), 0u) << "plane 1 left its group";
    EXPECT_EQ(err(p.fan.close_receiver("feedc")), "ENOENT");
    // The name can be used again.
    EXPECT_EQ(str(p.fan.add_receiver("feedc"), "ok"), "add_receiver");
}

TEST(Fanout, InternalNamesAreNotTelemetryCommands) {
    EXPECT_EQ(find_command(register_receiver_cmd), nullptr);
    EXPECT_EQ(find_command(unregister_receiver_cmd), nullptr);
    Rig rig;
    EXPECT_EQ(err(rig.run(register_receiver_cmd, "feedc")), "EINVAL");
    EXPECT_EQ(err(rig.run(register_receiver_cmd, "feedc 64")), "EINVAL");
    EXPECT_EQ(err(rig.run(unregister_receiver_cmd, "nobody")), "ENOENT");
}

} // namespace
} // namespace mcfwd::control::testing
