// NicFilter against the simulated NIC: reference counting per MAC (mc_multicst(9E),
// ip_mphysaddr_add/_del) and the allmulticast fallback.
#include "nicfilter/nic_filter.hpp"
#include "simnic/sim_nic.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace {

using mcfwd::errc;
using mcfwd::addr::IpAddr;
using mcfwd::addr::MacAddr;
using mcfwd::nicfilter::allmulti_reason_name;
using mcfwd::nicfilter::AllmultiReason;
using mcfwd::nicfilter::NicFilter;
using mcfwd::simnic::SimNic;

IpAddr ip(const std::string& text) {
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddr{});
}

MacAddr mac(const std::string& text) {
    auto m = MacAddr::parse(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m.value_or(MacAddr{});
}

using MacSet = std::set<MacAddr>;

// Distinct MACs: 224.0.1.1, 224.0.1.2, ...
IpAddr nth_group(uint32_t i) {
    return IpAddr::v4(0xe0000100u + i);
}

struct Port {
    explicit Port(size_t capacity) : nic(capacity), filter(nic) {}
    SimNic nic;
    NicFilter filter;
};

// ---- MAC mapping (RFC 1112 §6.4, RFC 2464 §7) -----------------------------------

struct MappingRow {
    const char* group;
    const char* mac;
};

void PrintTo(const MappingRow& row, std::ostream* os) {
    *os << row.group << " -> " << row.mac;
}

class MacMapping : public ::testing::TestWithParam<MappingRow> {};

TEST_P(MacMapping, GroupProgramsItsMulticastMac) {
    Port p(8);
    ASSERT_EQ(p.filter.add_group(ip(GetParam().group)), errc::ok);
    EXPECT_EQ(p.nic.table(), MacSet{mac(GetParam().mac)});
    EXPECT_EQ(p.filter.programmed(), std::vector<MacAddr>{mac(GetParam().mac)});
    EXPECT_FALSE(p.nic.allmulticast());
}

INSTANTIATE_TEST_SUITE_P(
    Rfc1112And2464, MacMapping,
    ::testing::Values(MappingRow{"224.1.2.3", "01:00:5e:01:02:03"},
                      MappingRow{"225.129.2.3", "01:00:5e:01:02:03"}, // high bit of octet 2 lost
                      MappingRow{"239.255.255.250", "01:00:5e:7f:ff:fa"},
                      MappingRow{"232.0.0.1", "01:00:5e:00:00:01"},
                      MappingRow{"ff02::1:ff00:1", "33:33:ff:00:00:01"},
                      MappingRow{"ff0e::1:3", "33:33:00:01:00:03"},
                      MappingRow{"ff35::8000:1", "33:33:80:00:00:01"}));

// ---- reference counting --------------------------------------------------------

struct SharedPair {
    const char* a;
    const char* b;
    const char* mac;
};

void PrintTo(const SharedPair& row, std::ostream* os) {
    *os << row.a << " + " << row.b << " -> " << row.mac;
}

class SharedMac : public ::testing::TestWithParam<SharedPair> {};

TEST_P(SharedMac, DeviceIsAskedOnceToAddAndOnceToRemove) {
    Port p(8);
    const IpAddr a = ip(GetParam().a);
    const IpAddr b = ip(GetParam().b);
    const MacAddr m = mac(GetParam().mac);

    ASSERT_EQ(p.filter.add_group(a), errc::ok);
    ASSERT_EQ(p.filter.add_group(b), errc::ok);
    EXPECT_EQ(p.nic.list_calls(), 1u);
    EXPECT_EQ(p.filter.mac_refcount(m), 2u);

    ASSERT_EQ(p.filter.remove_group(a), errc::ok);
    EXPECT_EQ(p.nic.list_calls(), 1u) << "the MAC is still wanted by the other group";
    EXPECT_EQ(p.nic.table(), MacSet{m});

    ASSERT_EQ(p.filter.remove_group(b), errc::ok);
    EXPECT_EQ(p.nic.list_calls(), 2u);
    EXPECT_TRUE(p.nic.table().empty());
    EXPECT_EQ(p.nic.added(m), 1u);
    EXPECT_EQ(p.nic.removed(m), 1u);
    EXPECT_EQ(p.nic.allmulti_calls(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Ipv4AndIpv6, SharedMac,
    ::testing::Values(SharedPair{"224.1.2.3", "225.129.2.3", "01:00:5e:01:02:03"},
                      SharedPair{"232.1.1.1", "239.129.1.1", "01:00:5e:01:01:01"},
                      SharedPair{"ff05::1:3", "ff0e::1:3", "33:33:00:01:00:03"},
                      SharedPair{"ff02::1:ff12:3456", "ff3e:30:2001:db8::ff12:3456",
                                 "33:33:ff:12:34:56"}));

TEST(NicFilter, SameGroupTwiceNeedsTwoRemoves) {
    Port p(8);
    const IpAddr g = ip("239.1.1.1");
    ASSERT_EQ(p.filter.add_group(g), errc::ok);
    ASSERT_EQ(p.filter.add_group(g), errc::ok);
    EXPECT_EQ(p.filter.group_refcount(g), 2u);
    EXPECT_EQ(p.filter.mac_refcount(g.multicast_mac()), 1u) << "one group on the MAC";
    ASSERT_EQ(p.filter.remove_group(g), errc::ok);
    EXPECT_EQ(p.nic.table(), MacSet{g.multicast_mac()});
    ASSERT_EQ(p.filter.remove_group(g), errc::ok);
    EXPECT_TRUE(p.nic.table().empty());
    EXPECT_EQ(p.filter.remove_group(g), errc::addr_not_avail);
    EXPECT_EQ(p.nic.list_calls(), 2u);
}

TEST(NicFilter, RemoveOfUnknownGroupIsAddrNotAvailAndChangesNothing) {
    Port p(8);
    ASSERT_EQ(p.filter.add_group(ip("224.1.2.3")), errc::ok);
    const auto before = p.filter.snapshot();
    const uint64_t calls = p.nic.calls();

    // Shares the MAC of a joined group: must not steal its reference.
    EXPECT_EQ(p.filter.remove_group(ip("225.129.2.3")), errc::addr_not_avail);
    EXPECT_EQ(p.filter.remove_group(ip("ff02::1:ff00:1")), errc::addr_not_avail);
    EXPECT_EQ(p.filter.remove_group(ip("10.0.0.1")), errc::addr_not_avail);

    const auto after = p.filter.snapshot();
    EXPECT_EQ(after.wanted, before.wanted);
    EXPECT_EQ(after.programmed, before.programmed);
    EXPECT_EQ(after.counters, before.counters);
    EXPECT_EQ(p.nic.calls(), calls);
    EXPECT_EQ(p.filter.mac_refcount(mac("01:00:5e:01:02:03")), 1u);
}

TEST(NicFilter, NonMulticastGroupIsInvalidAndChangesNothing) {
    Port p(8);
    EXPECT_EQ(p.filter.add_group(ip("10.1.2.3")), errc::invalid);
    EXPECT_EQ(p.filter.add_group(ip("2001:db8::1")), errc::invalid);
    EXPECT_EQ(p.filter.group_count(), 0u);
    EXPECT_EQ(p.nic.calls(), 0u);
}

TEST(NicFilter, SnapshotListsWantedMacsWithGroupCountsSorted) {
    Port p(8);
    for (const char* g : {"ff0e::1:3", "224.1.2.3", "225.129.2.3", "ff05::1:3", "239.0.0.9"})
        ASSERT_EQ(p.filter.add_group(ip(g)), errc::ok);
    const auto s = p.filter.snapshot();
    const std::vector<mcfwd::nicfilter::MacRefcount> want{{mac("01:00:5e:00:00:09"), 1},
                                                          {mac("01:00:5e:01:02:03"), 2},
                                                          {mac("33:33:00:01:00:03"), 2}};
    EXPECT_EQ(s.wanted, want);
    EXPECT_EQ(s.programmed,
              (std::vector<MacAddr>{mac("01:00:5e:00:00:09"), mac("01:00:5e:01:02:03"),
                                    mac("33:33:00:01:00:03")}));
    EXPECT_FALSE(s.allmulti);
    EXPECT_EQ(s.reason, AllmultiReason::none);
    EXPECT_EQ(s.counters.list_programs, 3u);
    EXPECT_EQ(p.filter.group_count(), 5u);
    EXPECT_EQ(p.filter.wanted_mac_count(), 3u);
}

// ---- table full ------------------------------------------------------------------

TEST(NicFilter, OverflowFallsBackToAllmultiAndLeavesItWhenTheListFitsAgain) {
    Port p(2);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok);
    EXPECT_FALSE(p.nic.allmulticast());

    EXPECT_EQ(p.filter.add_group(nth_group(3)), errc::ok) << "refusal is handled by fallback";
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_TRUE(p.filter.allmulti());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::table_full);
    EXPECT_EQ(p.filter.last_list_error(), errc::no_space);
    EXPECT_EQ(p.nic.table(), (MacSet{nth_group(1).multicast_mac(), nth_group(2).multicast_mac()}));
    EXPECT_EQ(p.filter.counters().list_failures, 1u);
    EXPECT_EQ(p.filter.counters().allmulti_enables, 1u);

    ASSERT_EQ(p.filter.remove_group(nth_group(1)), errc::ok);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::none);
    EXPECT_EQ(p.filter.last_list_error(), errc::ok);
    EXPECT_EQ(p.nic.table(), (MacSet{nth_group(2).multicast_mac(), nth_group(3).multicast_mac()}));
    EXPECT_EQ(p.filter.counters().allmulti_disables, 1u);
}

TEST(NicFilter, NoListRetryWhileTheListIsNotShorterThanTheRefusedSize) {
    Port p(2);
    for (uint32_t i = 1; i <= 3; ++i)
        ASSERT_EQ(p.filter.add_group(nth_group(i)), errc::ok);
    ASSERT_EQ(p.nic.list_calls(), 3u); // 1, 2 accepted; 3 refused
    EXPECT_EQ(p.filter.snapshot().no_space_at, 3u);

    for (uint32_t i = 4; i <= 6; ++i)
        ASSERT_EQ(p.filter.add_group(nth_group(i)), errc::ok);
    ASSERT_EQ(p.filter.remove_group(nth_group(6)), errc::ok);
    ASSERT_EQ(p.filter.remove_group(nth_group(5)), errc::ok);
    ASSERT_EQ(p.filter.remove_group(nth_group(4)), errc::ok); // back to 3 MACs
    EXPECT_EQ(p.nic.list_calls(), 3u);
    EXPECT_EQ(p.nic.allmulti_calls(), 1u);
    EXPECT_TRUE(p.nic.allmulticast());

    ASSERT_EQ(p.filter.remove_group(nth_group(3)), errc::ok); // 2 < 3: try again, fits
    EXPECT_EQ(p.nic.list_calls(), 4u);
    EXPECT_FALSE(p.nic.allmulticast());

    // The refused size is still remembered: growing past the table again costs one
    // refusal at most... none, in fact, since 3 is known not to fit.
    ASSERT_EQ(p.filter.add_group(nth_group(3)), errc::ok);
    EXPECT_EQ(p.nic.list_calls(), 4u);
    EXPECT_TRUE(p.nic.allmulticast());
}

TEST(NicFilter, RetriesEachShorterSizeAfterARefusalAtALargeSize) {
    // I/O errors hide the table size while the list grows; the first refusal comes
    // at 5 MACs and says nothing about 4.
    Port p(2);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok);
    for (uint32_t i = 3; i <= 4; ++i) {
        p.nic.fail_next(errc::io);
        ASSERT_EQ(p.filter.add_group(nth_group(i)), errc::ok);
    }
    ASSERT_EQ(p.filter.add_group(nth_group(5)), errc::ok);
    EXPECT_EQ(p.filter.snapshot().no_space_at, 5u);
    EXPECT_EQ(p.filter.reason(), AllmultiReason::table_full);
    const uint64_t calls = p.nic.list_calls();
    ASSERT_EQ(p.filter.remove_group(nth_group(5)), errc::ok); // 4 < 5: asked again
    EXPECT_EQ(p.nic.list_calls(), calls + 1);
    EXPECT_EQ(p.filter.snapshot().no_space_at, 4u);
    ASSERT_EQ(p.filter.add_group(nth_group(5)), errc::ok); // 5 >= 4: not asked
    EXPECT_EQ(p.nic.list_calls(), calls + 1);
    EXPECT_TRUE(p.nic.allmulticast());
}

TEST(NicFilter, HundredThousandGroupsOnASmallTableDoNotCallTheDevice) {
    Port p(32);
    constexpr uint32_t n = 100'000;
    for (uint32_t i = 0; i < n; ++i)
        ASSERT_EQ(p.filter.add_group(IpAddr::v4(0xe8000000u + i)), errc::ok);
    // 32 accepted lists, one refusal at 33, then nothing: O(1) per add.
    EXPECT_EQ(p.nic.list_calls(), 33u);
    EXPECT_EQ(p.nic.allmulti_calls(), 1u);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.wanted_mac_count(), n);

    for (uint32_t i = n; i-- > 32;)
        ASSERT_EQ(p.filter.remove_group(IpAddr::v4(0xe8000000u + i)), errc::ok);
    // Down to 32: the list fits again, one call, allmulticast left.
    EXPECT_EQ(p.nic.list_calls(), 34u);
    EXPECT_EQ(p.nic.allmulti_calls(), 2u);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.nic.table().size(), 32u);
}

// ---- device without a multicast filter -------------------------------------------

TEST(NicFilter, NotSupportedDeviceIsInAllmultiOnlyWhileGroupsExist) {
    Port p(0);
    EXPECT_EQ(p.nic.calls(), 0u);
    ASSERT_EQ(p.filter.add_group(ip("239.1.1.1")), errc::ok);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::not_supported);
    EXPECT_EQ(p.filter.last_list_error(), errc::not_supported);
    EXPECT_EQ(p.nic.list_calls(), 1u);

    ASSERT_EQ(p.filter.add_group(ip("239.1.1.2")), errc::ok);
    ASSERT_EQ(p.filter.remove_group(ip("239.1.1.2")), errc::ok);
    EXPECT_EQ(p.nic.list_calls(), 1u) << "not asked again until reprogram()";
    EXPECT_TRUE(p.nic.allmulticast());

    ASSERT_EQ(p.filter.remove_group(ip("239.1.1.1")), errc::ok);
    EXPECT_FALSE(p.nic.allmulticast()) << "nothing wanted: no allmulticast";
    EXPECT_EQ(p.filter.reason(), AllmultiReason::none);
    EXPECT_EQ(p.nic.list_calls(), 1u) << "an empty list is not pushed to a device without one";

    ASSERT_EQ(p.filter.add_group(ip("ff0e::1")), errc::ok);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.nic.list_calls(), 1u);

    EXPECT_EQ(p.filter.reprogram(), errc::not_supported);
    EXPECT_EQ(p.nic.list_calls(), 2u) << "reprogram() asks again";
    EXPECT_TRUE(p.nic.allmulticast());
}

// ---- forced allmulticast ---------------------------------------------------------

TEST(NicFilter, ForcedAllmultiKeepsProgrammingTheListSoLeavingIsImmediate) {
    Port p(4);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    p.filter.force_allmulticast(true);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::forced);

    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok);
    EXPECT_EQ(p.nic.table(), (MacSet{nth_group(1).multicast_mac(), nth_group(2).multicast_mac()}));

    const uint64_t list_calls = p.nic.list_calls();
    p.filter.force_allmulticast(true); // no transition: nothing happens
    EXPECT_EQ(p.nic.allmulti_calls(), 1u);
    p.filter.force_allmulticast(false);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::none);
    EXPECT_EQ(p.nic.list_calls(), list_calls) << "the list was already in place";
}

TEST(NicFilter, ForcedWinsOverTableFullAndTableFullRemainsAfterIt) {
    Port p(1);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok);
    ASSERT_EQ(p.filter.reason(), AllmultiReason::table_full);
    const uint64_t calls = p.nic.calls();

    p.filter.force_allmulticast(true);
    EXPECT_EQ(p.filter.reason(), AllmultiReason::forced);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.nic.calls(), calls) << "already in allmulticast, list known not to fit";

    p.filter.force_allmulticast(false);
    EXPECT_EQ(p.filter.reason(), AllmultiReason::table_full);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.nic.calls(), calls);

    ASSERT_EQ(p.filter.remove_group(nth_group(2)), errc::ok);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.nic.table(), MacSet{nth_group(1).multicast_mac()});
}

TEST(NicFilter, ForcedWithoutGroupsOnADeviceWithoutFilter) {
    Port p(0);
    p.filter.force_allmulticast(true);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.nic.list_calls(), 0u);
    p.filter.force_allmulticast(false);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.nic.list_calls(), 0u);
}

// ---- device failures -------------------------------------------------------------

TEST(NicFilter, SetAllmulticastFailureIsRecordedAndRetriedAtTheNextChange) {
    Port p(4);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    p.nic.fail_next(errc::io);
    p.filter.force_allmulticast(true);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_FALSE(p.filter.allmulti()) << "reports what the device has";
    EXPECT_TRUE(p.filter.allmulti_wanted());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::forced);
    EXPECT_EQ(p.filter.counters().allmulti_failures, 1u);
    EXPECT_EQ(p.filter.last_device_error(), errc::io);

    // Same MAC: not a change, no device call.
    ASSERT_EQ(p.filter.add_group(ip("225.128.1.1")), errc::ok);
    EXPECT_EQ(p.nic.allmulti_calls(), 1u);

    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok); // a change: retried
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_TRUE(p.filter.allmulti());
    EXPECT_EQ(p.filter.counters().allmulti_enables, 1u);
    EXPECT_EQ(p.nic.table(), (MacSet{nth_group(1).multicast_mac(), nth_group(2).multicast_mac()}));
}

TEST(NicFilter, FailedAllmultiDisableIsRetried) {
    Port p(4);
    p.filter.force_allmulticast(true);
    p.nic.fail_next(errc::io);
    p.filter.force_allmulticast(false);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_TRUE(p.filter.allmulti());
    EXPECT_FALSE(p.filter.allmulti_wanted());
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_FALSE(p.filter.allmulti());
    EXPECT_EQ(p.filter.counters().allmulti_failures, 1u);
    EXPECT_EQ(p.filter.counters().allmulti_disables, 1u);
}

TEST(NicFilter, AllmultiLostInAResetIsReassertedAtTheNextChangeIfReprogramFailed) {
    Port p(1);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok);
    ASSERT_TRUE(p.nic.allmulticast());
    p.nic.reset();
    p.nic.fail_next(errc::io);
    EXPECT_EQ(p.filter.reprogram(), errc::io); // list known not to fit: only allmulti asked
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.counters().allmulti_failures, 1u);

    // The manager wanted allmulticast before and still does; the failed call means
    // the device may not have it, so the next change asks again.
    ASSERT_EQ(p.filter.add_group(nth_group(3)), errc::ok);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_TRUE(p.filter.allmulti());
}

struct ListFaultRow {
    errc fault;
    AllmultiReason reason;
};

void PrintTo(const ListFaultRow& row, std::ostream* os) {
    *os << mcfwd::errc_name(row.fault) << " -> " << allmulti_reason_name(row.reason);
}

class ListFault : public ::testing::TestWithParam<ListFaultRow> {};

TEST_P(ListFault, FallsBackAndRetriesTheListAtTheNextChange) {
    Port p(8);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    p.nic.fail_next(GetParam().fault);
    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok);
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), GetParam().reason);
    EXPECT_EQ(p.filter.last_list_error(), GetParam().fault);
    EXPECT_EQ(p.filter.programmed(), std::vector<MacAddr>{nth_group(1).multicast_mac()});
    EXPECT_EQ(p.nic.table(), MacSet{nth_group(1).multicast_mac()});
    EXPECT_EQ(p.filter.counters().list_failures, 1u);

    ASSERT_EQ(p.filter.add_group(nth_group(3)), errc::ok);
    EXPECT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::none);
    EXPECT_EQ(p.filter.last_list_error(), errc::ok);
    EXPECT_EQ(p.nic.table(), (MacSet{nth_group(1).multicast_mac(), nth_group(2).multicast_mac(),
                                     nth_group(3).multicast_mac()}));
}

TEST_P(ListFault, AForceTransitionIsAChangeThatRetriesTheList) {
    Port p(8);
    p.nic.fail_next(GetParam().fault);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    ASSERT_TRUE(p.nic.allmulticast());
    p.filter.force_allmulticast(true);
    EXPECT_EQ(p.nic.table(), MacSet{nth_group(1).multicast_mac()});
    p.filter.force_allmulticast(false);
    EXPECT_FALSE(p.nic.allmulticast());
}

INSTANTIATE_TEST_SUITE_P(InvalidAndIo, ListFault,
                         ::testing::Values(ListFaultRow{errc::io, AllmultiReason::device_error},
                                           ListFaultRow{errc::invalid, AllmultiReason::invalid},
                                           ListFaultRow{errc::no_device,
                                                        AllmultiReason::device_error}));

TEST(NicFilter, FailureToEmptyTheListNeedsNoAllmulti) {
    Port p(4);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    p.nic.fail_next(errc::io);
    ASSERT_EQ(p.filter.remove_group(nth_group(1)), errc::ok);
    EXPECT_FALSE(p.nic.allmulticast()) << "no wanted group can be missed";
    EXPECT_EQ(p.filter.reason(), AllmultiReason::none);
    EXPECT_EQ(p.nic.table(), MacSet{nth_group(1).multicast_mac()});
    ASSERT_EQ(p.filter.add_group(nth_group(2)), errc::ok);
    EXPECT_EQ(p.nic.table(), MacSet{nth_group(2).multicast_mac()});
    EXPECT_EQ(p.nic.removed(nth_group(1).multicast_mac()), 1u);
}

// ---- device reset ----------------------------------------------------------------

TEST(NicFilter, ReprogramAfterResetRestoresTableAndAllmulti) {
    Port p(4);
    ASSERT_EQ(p.filter.add_group(ip("224.1.2.3")), errc::ok);
    ASSERT_EQ(p.filter.add_group(ip("ff0e::1:3")), errc::ok);
    p.filter.force_allmulticast(true);
    const MacSet want{mac("01:00:5e:01:02:03"), mac("33:33:00:01:00:03")};
    ASSERT_EQ(p.nic.table(), want);

    p.nic.reset();
    ASSERT_TRUE(p.nic.table().empty());
    ASSERT_FALSE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reprogram(), errc::ok);
    EXPECT_EQ(p.nic.table(), want);
    EXPECT_TRUE(p.nic.allmulticast());
    for (const MacAddr& m : want)
        EXPECT_EQ(p.nic.added(m) - p.nic.removed(m), 1u);

    // Pushed regardless of belief: reprogram() on an intact device calls it again.
    const uint64_t calls = p.nic.calls();
    EXPECT_EQ(p.filter.reprogram(), errc::ok);
    EXPECT_EQ(p.nic.calls(), calls + 2);
}

TEST(NicFilter, ReprogramAfterResetInOverflowReentersAllmulti) {
    Port p(2);
    for (uint32_t i = 1; i <= 3; ++i)
        ASSERT_EQ(p.filter.add_group(nth_group(i)), errc::ok);
    const uint64_t list_calls = p.nic.list_calls();
    p.nic.reset();
    EXPECT_EQ(p.filter.reprogram(), errc::ok);
    EXPECT_EQ(p.nic.list_calls(), list_calls) << "3 MACs are known not to fit";
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::table_full);
    EXPECT_TRUE(p.filter.programmed().empty()) << "the reset device holds no list";
    ASSERT_EQ(p.filter.remove_group(nth_group(3)), errc::ok);
    EXPECT_EQ(p.nic.table(), (MacSet{nth_group(1).multicast_mac(), nth_group(2).multicast_mac()}));
    EXPECT_FALSE(p.nic.allmulticast());
}

TEST(NicFilter, ReprogramAfterResetWithNothingWantedLeavesAllmultiOff) {
    Port p(2);
    ASSERT_EQ(p.filter.add_group(nth_group(1)), errc::ok);
    ASSERT_EQ(p.filter.remove_group(nth_group(1)), errc::ok);
    p.nic.reset();
    EXPECT_EQ(p.filter.reprogram(), errc::ok);
    EXPECT_TRUE(p.nic.table().empty());
    EXPECT_FALSE(p.nic.allmulticast());
}

} // namespace

// ---- batching (hold / release) --------------------------------------------------

namespace {

TEST(NicFilterBatch, HeldChangesProgramTheDeviceOnceAtTheLastRelease) {
    Port p(256);
    p.filter.hold();
    p.filter.hold(); // holds nest
    MacSet want;
    for (uint32_t i = 0; i < 100; ++i) {
        ASSERT_EQ(p.filter.add_group(nth_group(i)), errc::ok);
        want.insert(nth_group(i).multicast_mac());
    }
    ASSERT_EQ(p.filter.remove_group(nth_group(99)), errc::ok);
    want.erase(nth_group(99).multicast_mac());
    EXPECT_EQ(p.nic.calls(), 0u) << "nothing is programmed while held";
    EXPECT_TRUE(p.nic.table().empty());
    EXPECT_EQ(p.filter.wanted_mac_count(), 99u) << "the wanted state is kept meanwhile";
    EXPECT_EQ(p.filter.release(), errc::ok);
    EXPECT_EQ(p.nic.calls(), 0u) << "still held once";
    EXPECT_EQ(p.filter.release(), errc::ok);
    EXPECT_EQ(p.nic.list_calls(), 1u);
    EXPECT_EQ(p.nic.table(), want);
    EXPECT_EQ(p.filter.counters().list_programs, 1u);
    EXPECT_FALSE(p.filter.held());
}

TEST(NicFilterBatch, AReleaseWithoutChangesCallsNothing) {
    Port p(4);
    ASSERT_EQ(p.filter.add_group(nth_group(0)), errc::ok);
    ASSERT_EQ(p.nic.list_calls(), 1u);
    p.filter.hold();
    ASSERT_EQ(p.filter.add_group(nth_group(0)), errc::ok); // a second reference: no new MAC
    EXPECT_EQ(p.filter.release(), errc::ok);
    EXPECT_EQ(p.nic.calls(), 1u);
    EXPECT_EQ(p.filter.release(), errc::ok) << "an unmatched release is harmless";
    EXPECT_EQ(p.nic.calls(), 1u);
}

TEST(NicFilterBatch, HeldOverflowAndForcedAllmulticastEndInOneStateAtRelease) {
    Port p(4); // a table of 4: 6 MACs do not fit
    p.filter.hold();
    for (uint32_t i = 0; i < 6; ++i)
        ASSERT_EQ(p.filter.add_group(nth_group(i)), errc::ok);
    p.filter.force_allmulticast(true);
    p.filter.force_allmulticast(false);
    EXPECT_EQ(p.nic.calls(), 0u);
    p.filter.release();
    EXPECT_EQ(p.nic.list_calls(), 1u) << "one list, refused as full";
    EXPECT_EQ(p.nic.allmulti_calls(), 1u) << "one allmulticast call for the fallback";
    EXPECT_TRUE(p.nic.allmulticast());
    EXPECT_EQ(p.filter.reason(), AllmultiReason::table_full);
    // Back under the size: held removals, one release, the list programmed and
    // allmulticast left.
    p.filter.hold();
    for (uint32_t i = 2; i < 6; ++i)
        ASSERT_EQ(p.filter.remove_group(nth_group(i)), errc::ok);
    p.filter.release();
    EXPECT_EQ(p.nic.list_calls(), 2u);
    EXPECT_EQ(p.nic.table(), (MacSet{nth_group(0).multicast_mac(), nth_group(1).multicast_mac()}));
    EXPECT_FALSE(p.nic.allmulticast());
}

} // namespace
