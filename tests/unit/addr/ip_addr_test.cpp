#include "addr/ip_addr.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

using mcfwd::addr::Family;
using mcfwd::addr::IpAddr;
using mcfwd::addr::MacAddr;

namespace {

IpAddr ip(const char* s) {
    auto a = IpAddr::parse(s);
    EXPECT_TRUE(a.has_value()) << s;
    return a.value_or(IpAddr{});
}

TEST(IpAddr, Ipv4IsHeldV4Mapped) {
    IpAddr a = ip("232.1.2.3");
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a.family(), Family::v4);
    EXPECT_EQ(a.v4_host(), 0xe8010203u);
    EXPECT_EQ(a, ip("::ffff:232.1.2.3"));
    EXPECT_EQ(a.bytes()[10], 0xff);
    EXPECT_EQ(a.bytes()[11], 0xff);
    EXPECT_EQ(a, IpAddr::v4(0xe8010203u));
}

TEST(IpAddr, FormatRoundTrips) {
    for (const char* s : {"0.0.0.0", "224.0.0.1", "255.255.255.255", "ff02::16", "ff3e::8000:1",
                          "fe80::1", "2001:db8::1", "::"}) {
        EXPECT_EQ(ip(s).to_string(), s);
    }
}

TEST(IpAddr, RejectsMalformedText) {
    for (const char* s : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "ff02:::1", "gg::1", "1.2.3.4 ",
                          "224.0.0.1/32", "::ffff:1.2.3"}) {
        EXPECT_FALSE(IpAddr::parse(s).has_value()) << s;
    }
}

TEST(IpAddr, MulticastClassification) {
    EXPECT_TRUE(ip("224.0.0.0").is_multicast());
    EXPECT_TRUE(ip("239.255.255.255").is_multicast());
    EXPECT_FALSE(ip("223.255.255.255").is_multicast());
    EXPECT_FALSE(ip("240.0.0.0").is_multicast());
    EXPECT_TRUE(ip("ff05::1").is_multicast());
    EXPECT_FALSE(ip("fe80::1").is_multicast());
    // A v4-mapped multicast address is IPv4 multicast, not IPv6 (ff..).
    EXPECT_FALSE(ip("::ffff:10.0.0.1").is_multicast());
}

TEST(IpAddr, LinkLocalGroupsAreNeverReported) {
    EXPECT_TRUE(ip("224.0.0.1").is_link_local_group());
    EXPECT_TRUE(ip("224.0.0.255").is_link_local_group());
    EXPECT_FALSE(ip("224.0.1.1").is_link_local_group());
    EXPECT_TRUE(ip("ff02::1").is_link_local_group());
    EXPECT_TRUE(ip("ff01::1").is_link_local_group());
    EXPECT_TRUE(ip("ff12::1").is_link_local_group()); // transient, link scope
    EXPECT_FALSE(ip("ff05::1").is_link_local_group());
    EXPECT_FALSE(ip("ff0e::1").is_link_local_group());
}

TEST(IpAddr, SsmRanges) {
    EXPECT_TRUE(ip("232.0.0.1").is_ssm());
    EXPECT_FALSE(ip("233.0.0.1").is_ssm());
    EXPECT_TRUE(ip("ff3e::1").is_ssm());
    EXPECT_FALSE(ip("ff0e::1").is_ssm());
    EXPECT_TRUE(ip("ff32::8000:1").is_ssm());
    // RFC 4607 §1 reserves all of ff3x::/32, beyond the /96 RFC 3306 allows today.
    EXPECT_TRUE(ip("ff3e::1:0:0:1").is_ssm());
    // Unicast-prefix-based (RFC 3306, plen 64): any-source groups.
    EXPECT_FALSE(ip("ff3e:40:2001:db8::1").is_ssm());
}

TEST(IpAddr, UnspecifiedInBothFamilies) {
    EXPECT_TRUE(IpAddr{}.is_unspecified());
    EXPECT_TRUE(ip("0.0.0.0").is_unspecified());
    EXPECT_FALSE(ip("0.0.0.1").is_unspecified());
    EXPECT_FALSE(IpAddr{}.is_v4());
}

TEST(IpAddr, V6LinkLocalUnicast) {
    EXPECT_TRUE(ip("fe80::1").is_v6_link_local_unicast());
    EXPECT_TRUE(ip("febf::1").is_v6_link_local_unicast());
    EXPECT_FALSE(ip("fec0::1").is_v6_link_local_unicast());
    EXPECT_FALSE(ip("2001:db8::1").is_v6_link_local_unicast());
}

// RFC 1112 §6.4: 01:00:5e and the low 23 bits; the 24th bit is dropped.
TEST(IpAddr, Ipv4GroupMapsToLow23Bits) {
    EXPECT_EQ(ip("224.0.0.1").multicast_mac().to_string(), "01:00:5e:00:00:01");
    EXPECT_EQ(ip("239.129.2.3").multicast_mac().to_string(), "01:00:5e:01:02:03");
    EXPECT_EQ(ip("224.1.2.3").multicast_mac(), ip("225.129.2.3").multicast_mac());
}

// RFC 2464 §7: 33:33 and the low 32 bits.
TEST(IpAddr, Ipv6GroupMapsToLow32Bits) {
    EXPECT_EQ(ip("ff02::1").multicast_mac().to_string(), "33:33:00:00:00:01");
    EXPECT_EQ(ip("ff02::1:ff00:1234").multicast_mac().to_string(), "33:33:ff:00:12:34");
    EXPECT_EQ(ip("ff05::1:2").multicast_mac(), ip("ff0e::1:2").multicast_mac());
}

TEST(IpAddr, OrderingAndHashingAreConsistent) {
    std::unordered_set<IpAddr> set;
    set.insert(ip("10.0.0.1"));
    set.insert(ip("10.0.0.1"));
    set.insert(ip("::ffff:10.0.0.1"));
    set.insert(ip("2001:db8::1"));
    EXPECT_EQ(set.size(), 2u);
    EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
    EXPECT_LT(ip("::1"),
              ip("10.0.0.1")); // v4-mapped (::ffff:0:0/96) sort after ::1, before 2000::/3
}

// RFC 4291 App. A: 02:00:00:00:00:10 -> fe80::ff:fe00:10 (U/L bit inverted).
TEST(IpAddr, LinkLocalFromMacIsModifiedEui64) {
    using mcfwd::addr::link_local_from_mac;
    EXPECT_EQ(link_local_from_mac(*MacAddr::parse("02:00:00:00:00:10")).to_string(),
              "fe80::ff:fe00:10");
    EXPECT_EQ(link_local_from_mac(*MacAddr::parse("00:1b:21:3a:4f:5c")).to_string(),
              "fe80::21b:21ff:fe3a:4f5c");
    EXPECT_TRUE(
        link_local_from_mac(*MacAddr::parse("00:1b:21:3a:4f:5c")).is_v6_link_local_unicast());
}

TEST(MacAddr, ParseAndFormat) {
    auto m = MacAddr::parse("01:00:5E:7f:00:0a");
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->to_string(), "01:00:5e:7f:00:0a");
    EXPECT_TRUE(m->is_multicast());
    EXPECT_FALSE(MacAddr::parse("02:00:00:00:00:01")->is_multicast());
    for (const char* s : {"", "01:00:5e:00:00", "01:00:5e:00:00:01:02", "01-00-5e-00-00-01",
                          "01:00:5e:00:00:0g", "001:00:5e:00:00:01"}) {
        EXPECT_FALSE(MacAddr::parse(s).has_value()) << s;
    }
}

} // namespace
