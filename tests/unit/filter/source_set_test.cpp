#include "filter/source_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

using mcfwd::addr::IpAddr;
using mcfwd::filter::SourceSet;

namespace {

IpAddr v4(uint32_t x) {
    return IpAddr::v4(0x0a000000u + x);
}

TEST(SourceSet, FromUnsortedSortsAndDropsDuplicates) {
    auto s = SourceSet::from_unsorted({v4(3), v4(1), v4(3), v4(2)});
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s.as_vector(), (std::vector<IpAddr>{v4(1), v4(2), v4(3)}));
}

TEST(SourceSet, InsertEraseContains) {
    SourceSet s;
    EXPECT_TRUE(s.insert(v4(5)));
    EXPECT_FALSE(s.insert(v4(5)));
    EXPECT_TRUE(s.insert(v4(1)));
    EXPECT_TRUE(s.contains(v4(5)));
    EXPECT_FALSE(s.contains(v4(2)));
    EXPECT_TRUE(s.erase(v4(5)));
    EXPECT_FALSE(s.erase(v4(5)));
    EXPECT_EQ(s, SourceSet({v4(1)}));
}

// Oracle: std::set gives the same answers for random operands.
TEST(SourceSet, AlgebraMatchesStdSet) {
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        std::set<IpAddr> a, b;
        std::vector<IpAddr> va, vb;
        int na = rng() % 20, nb = rng() % 20;
        for (int i = 0; i < na; ++i) {
            va.push_back(v4(rng() % 30));
            a.insert(va.back());
        }
        for (int i = 0; i < nb; ++i) {
            vb.push_back(v4(rng() % 30));
            b.insert(vb.back());
        }
        auto sa = SourceSet::from_unsorted(va), sb = SourceSet::from_unsorted(vb);
        std::set<IpAddr> u = a, in, d;
        u.insert(b.begin(), b.end());
        for (auto& x : a) {
            if (b.count(x))
                in.insert(x);
            else
                d.insert(x);
        }
        auto as_vec = [](const std::set<IpAddr>& s) {
            return std::vector<IpAddr>(s.begin(), s.end());
        };
        EXPECT_EQ(set_union(sa, sb).as_vector(), as_vec(u));
        EXPECT_EQ(set_intersection(sa, sb).as_vector(), as_vec(in));
        EXPECT_EQ(set_difference(sa, sb).as_vector(), as_vec(d));
    }
}

TEST(SourceSet, MixedFamiliesKeepDistinct) {
    auto s = SourceSet::from_unsorted(
        {*IpAddr::parse("2001:db8::1"), *IpAddr::parse("10.0.0.1"), *IpAddr::parse("::1")});
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(s.to_string(), "{::1, 10.0.0.1, 2001:db8::1}");
}

} // namespace
