// The membership engine against the seed's contract (illumos ip_multi.c):
// the option tables above ip_opt_add_group / ip_opt_delete_group, every error
// code, rollback, detach/reattach, close, join-all. Every test runs for IPv4
// and for IPv6.
#include "engine_fixture.hpp"

#include <gtest/gtest.h>

#include <map>

namespace mcfwd::membership {
namespace {

using addr::Family;
using testing::Event;
using testing::Recorder;

constexpr PortId P0 = 0, P1 = 1, P_UNKNOWN = 9;

class EngineTest : public ::testing::TestWithParam<Family> {
protected:
    void SetUp() override {
        ASSERT_EQ(engine.add_port(P0), errc::ok);
        ASSERT_EQ(engine.add_port(P1), errc::ok);
        a = *engine.open_receiver("a");
        b = *engine.open_receiver("b");
    }
    bool v4() const { return GetParam() == Family::v4; }
    /// Group number i of the family under test.
    IpAddr G(int i) const {
        return v4() ? IpAddr::v4(0xe8010100u + i)
                    : *IpAddr::parse("ff3e::8000:" + std::to_string(i));
    }
    /// Source number i of the family under test.
    IpAddr S(int i) const {
        return v4() ? IpAddr::v4(0x0a000000u + i)
                    : *IpAddr::parse("2001:db8::" + std::to_string(i));
    }
    /// A source of the other family.
    IpAddr other_family_source() const {
        return v4() ? *IpAddr::parse("2001:db8::1") : IpAddr::v4(0x0a000001u);
    }
    FilterState in(std::initializer_list<int> s) const { return {FilterMode::include, set(s)}; }
    FilterState ex(std::initializer_list<int> s) const { return {FilterMode::exclude, set(s)}; }
    SourceSet set(std::initializer_list<int> s) const {
        std::vector<IpAddr> v;
        for (int i : s)
            v.push_back(S(i));
        return SourceSet::from_unsorted(v);
    }
    std::vector<IpAddr> list(std::initializer_list<int> s) const { return set(s).as_vector(); }
    std::string state() const { return testing::dump(engine, {P0, P1, P_UNKNOWN}); }
    Event ev(PortId p, int g, FilterState o, FilterState n) const { return {p, G(g), o, n}; }

    Recorder rec;
    Engine engine{Limits{}, &rec};
    ReceiverId a{}, b{};
};

INSTANTIATE_TEST_SUITE_P(Families, EngineTest, ::testing::Values(Family::v4, Family::v6),
                         [](const auto& info) {
                             return info.param == Family::v4 ? "IPv4" : "IPv6";
                         });

// ---- ip_opt_add_group table ------------------------------------------------------

// IP_ADD_MEMBERSHIP / MCAST_JOIN_GROUP: (EXCLUDE, unspecified source).
TEST_P(EngineTest, JoinAnySourceMakesPortExcludeNothing) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, {}, ex({}))});
    EXPECT_EQ(*engine.get_filter(a, P0, G(1)), ex({}));
    EXPECT_EQ(engine.port_group(P0, G(1))->refcount(), 1u);
}

// "must not have joined already"
TEST_P(EngineTest, SecondJoinOnSameGroupIsAddrInUse) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    rec.take();
    EXPECT_EQ(engine.join(a, P0, G(1)), errc::addr_in_use);
    EXPECT_TRUE(rec.events.empty());
    // Also after a source-specific join: the receiver has a membership.
    ASSERT_EQ(engine.join_source(a, P0, G(2), S(1)), errc::ok);
    EXPECT_EQ(engine.join(a, P0, G(2)), errc::addr_in_use);
}

TEST_P(EngineTest, SameGroupOnAnotherPortOrByAnotherReceiverIsIndependent) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    EXPECT_EQ(engine.join(a, P1, G(1)), errc::ok);
    EXPECT_EQ(engine.join(b, P0, G(1)), errc::ok);
    EXPECT_EQ(engine.port_group(P0, G(1))->refcount(), 2u);
    EXPECT_EQ(engine.port_group(P1, G(1))->refcount(), 1u);
}

// IP_ADD_SOURCE_MEMBERSHIP: (INCLUDE, source), "may have joined already".
TEST_P(EngineTest, JoinSourceCreatesThenGrowsInclude) {
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::ok);
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(2)), errc::ok);
    EXPECT_EQ(rec.take(),
              (std::vector<Event>{ev(P0, 1, {}, in({1})), ev(P0, 1, in({1}), in({1, 2}))}));
    EXPECT_EQ(*engine.get_filter(a, P0, G(1)), in({1, 2}));
}

TEST_P(EngineTest, JoinSourceTwiceIsAddrNotAvail) {
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::ok);
    EXPECT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::addr_not_avail);
}

// "Changing the filter mode is not allowed".
TEST_P(EngineTest, JoinSourceOnExcludeMembershipIsInvalid) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    EXPECT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::invalid);
}

// IP_BLOCK_SOURCE: (EXCLUDE, source), "must have joined already".
TEST_P(EngineTest, BlockWithoutJoinIsAddrNotAvail) {
    EXPECT_EQ(engine.block(a, P0, G(1), S(1)), errc::addr_not_avail);
    EXPECT_TRUE(rec.events.empty());
}

TEST_P(EngineTest, BlockGrowsExcludeList) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.block(a, P0, G(1), S(1)), errc::ok);
    EXPECT_EQ(rec.take(), (std::vector<Event>{ev(P0, 1, {}, ex({})), ev(P0, 1, ex({}), ex({1}))}));
    EXPECT_EQ(engine.block(a, P0, G(1), S(1)), errc::addr_not_avail);
}

TEST_P(EngineTest, BlockOnIncludeMembershipIsInvalid) {
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::ok);
    EXPECT_EQ(engine.block(a, P0, G(1), S(2)), errc::invalid);
}

// Seed ilg_add: SLIST_CNT == MAX_FILTER_SIZE is ENOBUFS, checked before the mode.
TEST_P(EngineTest, FullSourceListIsNoBufs) {
    Engine small{Limits{2, 64}, &rec};
    ASSERT_EQ(small.add_port(P0), errc::ok);
    ReceiverId r = *small.open_receiver("r");
    ASSERT_EQ(small.join_source(r, P0, G(1), S(1)), errc::ok);
    ASSERT_EQ(small.join_source(r, P0, G(1), S(2)), errc::ok);
    EXPECT_EQ(small.join_source(r, P0, G(1), S(3)), errc::no_buffer_space);
    ASSERT_EQ(small.join(r, P0, G(2)), errc::ok);
    ASSERT_EQ(small.block(r, P0, G(2), S(1)), errc::ok);
    ASSERT_EQ(small.block(r, P0, G(2), S(2)), errc::ok);
    EXPECT_EQ(small.block(r, P0, G(2), S(3)), errc::no_buffer_space);
    EXPECT_EQ(small.join_source(r, P0, G(2), S(3)), errc::no_buffer_space); // before EINVAL
    EXPECT_EQ(*small.get_filter(r, P0, G(1)), in({1, 2}));
    EXPECT_EQ(*small.get_filter(r, P0, G(2)), ex({1, 2}));
}

// ---- ip_opt_delete_group table ---------------------------------------------------

// IP_DROP_MEMBERSHIP: "will leave".
TEST_P(EngineTest, LeaveRemovesMembershipOfEitherMode) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.join_source(a, P0, G(2), S(1)), errc::ok);
    rec.take();
    EXPECT_EQ(engine.leave(a, P0, G(1)), errc::ok);
    EXPECT_EQ(engine.leave(a, P0, G(2)), errc::ok);
    EXPECT_EQ(rec.take(), (std::vector<Event>{ev(P0, 1, ex({}), {}), ev(P0, 2, in({1}), {})}));
    EXPECT_FALSE(engine.port_group(P0, G(1)));
    EXPECT_EQ(engine.get_filter(a, P0, G(1)).error(), errc::addr_not_avail);
}

TEST_P(EngineTest, LeaveWithoutJoinIsAddrNotAvail) {
    EXPECT_EQ(engine.leave(a, P0, G(1)), errc::addr_not_avail);
    ASSERT_EQ(engine.join(b, P0, G(1)), errc::ok); // another receiver's membership is not a's
    EXPECT_EQ(engine.leave(a, P0, G(1)), errc::addr_not_avail);
}

// IP_LEAVE_SOURCE_GROUP: "may leave (if leaving last source)".
TEST_P(EngineTest, LeaveSourceShrinksIncludeAndLastSourceLeaves) {
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::ok);
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(2)), errc::ok);
    rec.take();
    ASSERT_EQ(engine.leave_source(a, P0, G(1), S(1)), errc::ok);
    EXPECT_EQ(*engine.get_filter(a, P0, G(1)), in({2}));
    ASSERT_EQ(engine.leave_source(a, P0, G(1), S(2)), errc::ok);
    EXPECT_EQ(engine.get_filter(a, P0, G(1)).error(), errc::addr_not_avail);
    EXPECT_EQ(rec.take(),
              (std::vector<Event>{ev(P0, 1, in({1, 2}), in({2})), ev(P0, 1, in({2}), {})}));
}

TEST_P(EngineTest, LeaveSourceErrors) {
    EXPECT_EQ(engine.leave_source(a, P0, G(1), S(1)), errc::addr_not_avail);
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::ok);
    EXPECT_EQ(engine.leave_source(a, P0, G(1), S(2)), errc::addr_not_avail);
    ASSERT_EQ(engine.join(a, P0, G(2)), errc::ok);
    EXPECT_EQ(engine.leave_source(a, P0, G(2), S(1)), errc::invalid); // mode change
}

// IP_UNBLOCK_SOURCE: "will not leave".
TEST_P(EngineTest, UnblockShrinksExcludeAndNeverLeaves) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.block(a, P0, G(1), S(1)), errc::ok);
    rec.take();
    ASSERT_EQ(engine.unblock(a, P0, G(1), S(1)), errc::ok);
    EXPECT_EQ(*engine.get_filter(a, P0, G(1)), ex({}));
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, ex({1}), ex({}))});
}

TEST_P(EngineTest, UnblockErrors) {
    EXPECT_EQ(engine.unblock(a, P0, G(1), S(1)), errc::addr_not_avail);
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    EXPECT_EQ(engine.unblock(a, P0, G(1), S(1)), errc::addr_not_avail);
    ASSERT_EQ(engine.join_source(a, P0, G(2), S(1)), errc::ok);
    EXPECT_EQ(engine.unblock(a, P0, G(2), S(1)), errc::invalid);
}

// ---- argument checks (seed ip_opt_check) ------------------------------------------

TEST_P(EngineTest, NonMulticastGroupIsInvalidForEveryCall) {
    IpAddr unicast = S(7);
    EXPECT_EQ(engine.join(a, P0, unicast), errc::invalid);
    EXPECT_EQ(engine.leave(a, P0, unicast), errc::invalid);
    EXPECT_EQ(engine.join_source(a, P0, unicast, S(1)), errc::invalid);
    EXPECT_EQ(engine.leave_source(a, P0, unicast, S(1)), errc::invalid);
    EXPECT_EQ(engine.block(a, P0, unicast, S(1)), errc::invalid);
    EXPECT_EQ(engine.unblock(a, P0, unicast, S(1)), errc::invalid);
    EXPECT_EQ(engine.set_filter(a, P0, unicast, FilterMode::exclude, {}), errc::invalid);
    EXPECT_EQ(engine.get_filter(a, P0, unicast).error(), errc::invalid);
    EXPECT_EQ(engine.join_unfiltered(P0, unicast), errc::invalid);
    EXPECT_TRUE(rec.events.empty());
}

TEST_P(EngineTest, MulticastUnspecifiedOrOtherFamilySourceIsInvalid) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    const std::string before = state();
    for (IpAddr bad : {G(2), IpAddr{}, IpAddr::v4(0), other_family_source()}) {
        EXPECT_EQ(engine.join_source(a, P0, G(3), bad), errc::invalid) << bad.to_string();
        EXPECT_EQ(engine.block(a, P0, G(1), bad), errc::invalid) << bad.to_string();
        EXPECT_EQ(engine.unblock(a, P0, G(1), bad), errc::invalid) << bad.to_string();
        EXPECT_EQ(engine.leave_source(a, P0, G(1), bad), errc::invalid) << bad.to_string();
        EXPECT_EQ(engine.set_filter(a, P0, G(1), FilterMode::include, {S(1), bad}), errc::invalid);
    }
    EXPECT_EQ(state(), before);
}

TEST_P(EngineTest, UnknownPortIsNoDevice) {
    EXPECT_EQ(engine.join(a, P_UNKNOWN, G(1)), errc::no_device);
    EXPECT_EQ(engine.join_source(a, P_UNKNOWN, G(1), S(1)), errc::no_device);
    EXPECT_EQ(engine.block(a, P_UNKNOWN, G(1), S(1)), errc::no_device);
    EXPECT_EQ(engine.leave(a, P_UNKNOWN, G(1)), errc::no_device);
    EXPECT_EQ(engine.leave_source(a, P_UNKNOWN, G(1), S(1)), errc::no_device);
    EXPECT_EQ(engine.unblock(a, P_UNKNOWN, G(1), S(1)), errc::no_device);
    EXPECT_EQ(engine.set_filter(a, P_UNKNOWN, G(1), FilterMode::include, {}), errc::no_device);
    EXPECT_EQ(engine.get_filter(a, P_UNKNOWN, G(1)).error(), errc::no_device);
    EXPECT_EQ(engine.join_all(P_UNKNOWN), errc::no_device);
    EXPECT_EQ(engine.join_unfiltered(P_UNKNOWN, G(1)), errc::no_device);
    EXPECT_EQ(engine.set_port_up(P_UNKNOWN, false), errc::no_device);
    EXPECT_EQ(engine.remove_port(P_UNKNOWN), errc::no_device);
}

TEST_P(EngineTest, UnknownReceiverIsNotFound) {
    EXPECT_EQ(engine.join(999, P0, G(1)), errc::not_found);
    EXPECT_EQ(engine.leave(999, P0, G(1)), errc::not_found);
    EXPECT_EQ(engine.set_filter(999, P0, G(1), FilterMode::exclude, {}), errc::not_found);
    EXPECT_EQ(engine.close_receiver(999), errc::not_found);
}

// ---- set / get filter (seed ip_set_srcfilter / ip_get_srcfilter) -------------------

TEST_P(EngineTest, SetFilterCreatesReplacesAndSwitchesMode) {
    ASSERT_EQ(engine.set_filter(a, P0, G(1), FilterMode::include, list({1, 2})), errc::ok);
    ASSERT_EQ(engine.set_filter(a, P0, G(1), FilterMode::exclude, list({3})), errc::ok);
    ASSERT_EQ(engine.set_filter(a, P0, G(1), FilterMode::exclude, list({3})), errc::ok); // same
    EXPECT_EQ(rec.take(),
              (std::vector<Event>{ev(P0, 1, {}, in({1, 2})), ev(P0, 1, in({1, 2}), ex({3}))}));
    EXPECT_EQ(*engine.get_filter(a, P0, G(1)), ex({3}));
}

TEST_P(EngineTest, SetFilterIncludeNothingIsLeave) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    rec.take();
    ASSERT_EQ(engine.set_filter(a, P0, G(1), FilterMode::include, {}), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, ex({}), {})});
    EXPECT_EQ(engine.get_filter(a, P0, G(1)).error(), errc::addr_not_avail);
    // Nothing to leave is still a success, as in the seed.
    EXPECT_EQ(engine.set_filter(a, P0, G(1), FilterMode::include, {}), errc::ok);
    EXPECT_TRUE(rec.events.empty());
}

TEST_P(EngineTest, SetFilterMergesDuplicateSources) {
    ASSERT_EQ(engine.set_filter(a, P0, G(1), FilterMode::include, {S(2), S(1), S(2)}), errc::ok);
    EXPECT_EQ(*engine.get_filter(a, P0, G(1)), in({1, 2}));
}

TEST_P(EngineTest, SetFilterTooLargeIsNoBufsAndKeepsOldFilter) {
    Engine small{Limits{2, 64}, &rec};
    ASSERT_EQ(small.add_port(P0), errc::ok);
    ReceiverId r = *small.open_receiver("r");
    ASSERT_EQ(small.set_filter(r, P0, G(1), FilterMode::exclude, list({1})), errc::ok);
    rec.take();
    EXPECT_EQ(small.set_filter(r, P0, G(1), FilterMode::include, list({1, 2, 3})),
              errc::no_buffer_space);
    EXPECT_EQ(*small.get_filter(r, P0, G(1)), ex({1}));
    EXPECT_TRUE(rec.events.empty());
}

// ---- the port merge (RFC 3376 §3.2, seed ilm_gen_filter) ---------------------------

TEST_P(EngineTest, PortMergesReceiversAndAnnouncesOnlyRealChanges) {
    ASSERT_EQ(engine.set_filter(a, P0, G(1), FilterMode::include, list({1, 2})), errc::ok);
    ASSERT_EQ(engine.set_filter(b, P0, G(1), FilterMode::exclude, list({2, 3})), errc::ok);
    EXPECT_EQ(engine.port_filter(P0, G(1)), ex({3}));
    rec.take();
    // b blocking 1 more changes nothing on the port: a includes 1.
    ASSERT_EQ(engine.block(b, P0, G(1), S(1)), errc::ok);
    EXPECT_TRUE(rec.take().empty());
    EXPECT_EQ(engine.port_filter(P0, G(1)), ex({3}));
    ASSERT_EQ(engine.leave(a, P0, G(1)), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, ex({3}), ex({1, 2, 3}))});
    ASSERT_EQ(engine.leave(b, P0, G(1)), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, ex({1, 2, 3}), {})});
}

TEST_P(EngineTest, MergedIncludeOverflowBecomesExcludeNothing) {
    Engine e{Limits{64, 3}, &rec};
    ASSERT_EQ(e.add_port(P0), errc::ok);
    ReceiverId r1 = *e.open_receiver("r1"), r2 = *e.open_receiver("r2");
    ASSERT_EQ(e.set_filter(r1, P0, G(1), FilterMode::include, list({1, 2})), errc::ok);
    ASSERT_EQ(e.set_filter(r2, P0, G(1), FilterMode::include, list({3})), errc::ok);
    EXPECT_EQ(e.port_filter(P0, G(1)), in({1, 2, 3}));
    ASSERT_EQ(e.join_source(r2, P0, G(1), S(4)), errc::ok);
    EXPECT_EQ(e.port_filter(P0, G(1)), ex({}));
    ASSERT_EQ(e.leave_source(r2, P0, G(1), S(4)), errc::ok);
    EXPECT_EQ(e.port_filter(P0, G(1)), in({1, 2, 3}));
}

TEST_P(EngineTest, UnfilteredJoinForcesExcludeNothing) {
    ASSERT_EQ(engine.join_source(a, P0, G(1), S(1)), errc::ok);
    ASSERT_EQ(engine.join_unfiltered(P0, G(1)), errc::ok);
    ASSERT_EQ(engine.join_unfiltered(P0, G(1)), errc::ok);
    EXPECT_EQ(engine.port_filter(P0, G(1)), ex({}));
    EXPECT_EQ(engine.port_group(P0, G(1))->refcount(), 3u);
    ASSERT_EQ(engine.leave_unfiltered(P0, G(1)), errc::ok);
    EXPECT_EQ(engine.port_filter(P0, G(1)), ex({}));
    ASSERT_EQ(engine.leave_unfiltered(P0, G(1)), errc::ok);
    EXPECT_EQ(engine.port_filter(P0, G(1)), in({1}));
    EXPECT_EQ(engine.leave_unfiltered(P0, G(1)), errc::addr_not_avail);
}

// ---- rollback: a failed call changes nothing ---------------------------------------

TEST_P(EngineTest, EveryFailedCallLeavesStateExactlyAsItWas) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.block(a, P0, G(1), S(1)), errc::ok);
    ASSERT_EQ(engine.join_source(a, P0, G(2), S(1)), errc::ok);
    ASSERT_EQ(engine.join_source(b, P0, G(2), S(2)), errc::ok);
    rec.take();
    const std::string before = state();
    const Stats stats_before = engine.stats();
    EXPECT_NE(engine.join(a, P0, G(1)), errc::ok);
    EXPECT_NE(engine.join_source(a, P0, G(1), S(2)), errc::ok);
    EXPECT_NE(engine.join_source(a, P0, G(2), S(1)), errc::ok);
    EXPECT_NE(engine.block(a, P0, G(2), S(3)), errc::ok);
    EXPECT_NE(engine.block(a, P0, G(1), S(1)), errc::ok);
    EXPECT_NE(engine.unblock(a, P0, G(1), S(5)), errc::ok);
    EXPECT_NE(engine.leave_source(a, P0, G(2), S(5)), errc::ok);
    EXPECT_NE(engine.leave(a, P0, G(3)), errc::ok);
    EXPECT_NE(engine.set_filter(a, P0, G(2), FilterMode::include, {S(1), G(9)}), errc::ok);
    EXPECT_NE(engine.set_filter(a, P_UNKNOWN, G(2), FilterMode::include, {S(1)}), errc::ok);
    EXPECT_EQ(state(), before);
    EXPECT_TRUE(rec.events.empty());
    EXPECT_EQ(engine.stats().failed, stats_before.failed + 10);
    EXPECT_EQ(engine.stats().ok, stats_before.ok);
}

// ---- ports: detach and reattach (seed ilg_check_detach / ilg_check_reattach) --------

TEST_P(EngineTest, PortDownDetachesAndUpReattaches) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.join_source(b, P0, G(2), S(1)), errc::ok);
    ASSERT_EQ(engine.join(b, P1, G(1)), errc::ok);
    rec.take();
    ASSERT_EQ(engine.set_port_up(P0, false), errc::ok);
    auto down = rec.take();
    EXPECT_EQ(down.size(), 2u);
    for (auto& e : down) {
        EXPECT_EQ(e.port, P0);
        EXPECT_EQ(e.new_filter, FilterState::none());
    }
    EXPECT_FALSE(engine.port_group(P0, G(1)));
    EXPECT_TRUE(engine.port_group(P1, G(1))); // other ports untouched
    // The receivers keep their wish.
    EXPECT_EQ(*engine.get_filter(b, P0, G(2)), in({1}));
    ASSERT_EQ(engine.set_port_up(P0, true), errc::ok);
    auto up = rec.take();
    ASSERT_EQ(up.size(), 2u);
    EXPECT_EQ(engine.port_filter(P0, G(1)), ex({}));
    EXPECT_EQ(engine.port_filter(P0, G(2)), in({1}));
}

// Seed ilg_add with ENETDOWN: the membership is kept and joins when the port comes up.
TEST_P(EngineTest, JoinOnDownPortSucceedsAndAttachesOnUp) {
    ASSERT_EQ(engine.set_port_up(P0, false), errc::ok);
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    EXPECT_TRUE(rec.events.empty());
    EXPECT_EQ(engine.join(a, P0, G(1)), errc::addr_in_use);
    ASSERT_EQ(engine.set_port_up(P0, true), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, {}, ex({}))});
}

TEST_P(EngineTest, ChangesWhileDownApplyOnUp) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.set_port_up(P0, false), errc::ok);
    rec.take();
    ASSERT_EQ(engine.block(a, P0, G(1), S(1)), errc::ok);
    ASSERT_EQ(engine.join_source(b, P0, G(2), S(1)), errc::ok);
    ASSERT_EQ(engine.leave_source(b, P0, G(2), S(1)), errc::ok);
    EXPECT_TRUE(rec.events.empty());
    ASSERT_EQ(engine.set_port_up(P0, true), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, {}, ex({1}))});
}

TEST_P(EngineTest, RemovedPortKeepsDetachedMembershipsUntilReadded) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.join_source(a, P0, G(2), S(1)), errc::ok);
    ASSERT_EQ(engine.join_all(P0), errc::ok);
    rec.take();
    rec.allmulti.clear();
    ASSERT_EQ(engine.remove_port(P0), errc::ok);
    EXPECT_EQ(rec.take().size(), 2u);
    EXPECT_EQ(rec.allmulti, (std::vector<std::pair<PortId, bool>>{{P0, false}})); // purged
    // New joins need the port; leaving a detached membership does not.
    EXPECT_EQ(engine.join(a, P0, G(3)), errc::no_device);
    EXPECT_EQ(engine.leave(a, P0, G(2)), errc::ok);
    EXPECT_EQ(engine.leave(a, P0, G(2)), errc::no_device);
    EXPECT_EQ(engine.add_port(P0, true), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P0, 1, {}, ex({}))});
    EXPECT_EQ(engine.port(P0)->allmulti_count, 0u);
    EXPECT_EQ(engine.add_port(P0), errc::addr_in_use);
}

// ---- close (seed ilg_delete_all) and join-all (seed ip_join_allmulti) -------------

TEST_P(EngineTest, CloseReceiverLeavesEverything) {
    ASSERT_EQ(engine.join(a, P0, G(1)), errc::ok);
    ASSERT_EQ(engine.join_source(a, P1, G(2), S(1)), errc::ok);
    ASSERT_EQ(engine.join(b, P0, G(1)), errc::ok);
    rec.take();
    ASSERT_EQ(engine.close_receiver(a), errc::ok);
    EXPECT_EQ(rec.take(), std::vector<Event>{ev(P1, 2, in({1}), {})});
    EXPECT_EQ(engine.port_group(P0, G(1))->refcount(), 1u);
    EXPECT_EQ(engine.join(a, P0, G(1)), errc::not_found);
    EXPECT_EQ(engine.find_receiver("a").error(), errc::not_found);
    // The name is free again; the id is not reused.
    auto again = engine.open_receiver("a");
    ASSERT_TRUE(again);
    EXPECT_NE(*again, a);
}

TEST_P(EngineTest, ReceiverNamesAreUnique) {
    EXPECT_EQ(engine.open_receiver("a").error(), errc::addr_in_use);
    EXPECT_EQ(engine.open_receiver("").error(), errc::invalid);
    EXPECT_EQ(*engine.find_receiver("b"), b);
    EXPECT_EQ(engine.receiver_name(b), "b");
}

TEST_P(EngineTest, JoinAllIsReferenceCounted) {
    ASSERT_EQ(engine.join_all(P0), errc::ok);
    ASSERT_EQ(engine.join_all(P0), errc::ok);
    ASSERT_EQ(engine.leave_all(P0), errc::ok);
    EXPECT_EQ(rec.allmulti, (std::vector<std::pair<PortId, bool>>{{P0, true}}));
    ASSERT_EQ(engine.leave_all(P0), errc::ok);
    ASSERT_EQ(engine.leave_all(P0), errc::ok); // nothing left: still a success
    EXPECT_EQ(rec.allmulti, (std::vector<std::pair<PortId, bool>>{{P0, true}, {P0, false}}));
    EXPECT_EQ(engine.port(P0)->allmulti_count, 0u);
}

} // namespace
} // namespace mcfwd::membership

namespace mcfwd::membership {
namespace {

// The forwarding tables deliver per receiver, so they must hear of receiver-level
// changes even when the port's merged filter stays the same.
TEST(EngineMembers, ReceiverChangesAreAnnouncedEvenWhenTheMergeIsUnchanged) {
    testing::Recorder rec;
    Engine e(Limits{}, &rec);
    ASSERT_EQ(e.add_port(0), errc::ok);
    auto a = *e.open_receiver("a"), b = *e.open_receiver("b");
    const IpAddr g = *IpAddr::parse("232.1.1.1"), s1 = *IpAddr::parse("10.0.0.1");
    ASSERT_EQ(e.join_source(a, 0, g, s1), errc::ok);
    ASSERT_EQ(e.join(b, 0, g), errc::ok);
    rec.take();
    rec.members.clear();
    ASSERT_EQ(e.block(b, 0, g, s1), errc::ok); // a includes s1: merged stays EXCLUDE {}
    EXPECT_TRUE(rec.take().empty());
    ASSERT_EQ(rec.members.size(), 1u);
    EXPECT_EQ(rec.members[0], std::make_pair(PortId{0}, g));
    std::map<ReceiverId, FilterState> seen;
    e.for_each_member(0, g, [&](ReceiverId r, const FilterState& f) { seen[r] = f; });
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[b], (FilterState{FilterMode::exclude, {s1}}));
    // Setting the same filter again announces nothing at all.
    rec.members.clear();
    ASSERT_EQ(e.set_filter(b, 0, g, FilterMode::exclude, {s1}), errc::ok);
    EXPECT_TRUE(rec.members.empty());
    EXPECT_TRUE(rec.events.empty());
}

} // namespace
} // namespace mcfwd::membership
