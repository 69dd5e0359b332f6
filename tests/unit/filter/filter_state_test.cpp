#include "filter/filter_state.hpp"

#include <gtest/gtest.h>

using mcfwd::addr::IpAddr;
using mcfwd::filter::FilterMerger;
using mcfwd::filter::FilterMode;
using mcfwd::filter::FilterState;
using mcfwd::filter::SourceSet;

namespace {

IpAddr s(int x) {
    return IpAddr::v4(0x0a000000u + x);
}
FilterState in(SourceSet set) {
    return {FilterMode::include, std::move(set)};
}
FilterState ex(SourceSet set) {
    return {FilterMode::exclude, std::move(set)};
}

FilterState merge(std::initializer_list<FilterState> members, size_t max = 64) {
    FilterMerger m(max);
    for (auto& f : members)
        m.add(f);
    return m.result();
}

TEST(FilterState, AcceptsPerMode) {
    EXPECT_TRUE(in({s(1)}).accepts(s(1)));
    EXPECT_FALSE(in({s(1)}).accepts(s(2)));
    EXPECT_FALSE(ex({s(1)}).accepts(s(1)));
    EXPECT_TRUE(ex({s(1)}).accepts(s(2)));
    EXPECT_FALSE(FilterState::none().accepts(s(1)));
    EXPECT_TRUE(FilterState::any_source().accepts(s(1)));
    EXPECT_FALSE(FilterState::none().is_member());
    EXPECT_TRUE(FilterState::any_source().is_member());
}

// RFC 3376 §3.2 merge rules, row by row.
TEST(FilterMerge, NoMembersIsIncludeNothing) {
    EXPECT_EQ(merge({}), FilterState::none());
}

TEST(FilterMerge, IncludeOnlyIsUnion) {
    EXPECT_EQ(merge({in({s(1), s(2)}), in({s(2), s(3)})}), in({s(1), s(2), s(3)}));
}

TEST(FilterMerge, ExcludeOnlyIsIntersection) {
    EXPECT_EQ(merge({ex({s(1), s(2)}), ex({s(2), s(3)})}), ex({s(2)}));
}

TEST(FilterMerge, MixedIsExclusionIntersectionMinusInclusionUnion) {
    EXPECT_EQ(merge({ex({s(1), s(2), s(3)}), ex({s(2), s(3), s(4)}), in({s(3)})}), ex({s(2)}));
}

TEST(FilterMerge, AnyEmptyExcludeWins) {
    EXPECT_EQ(merge({ex({s(1)}), ex({}), in({s(5)})}), FilterState::any_source());
    // Order does not matter: the empty exclude list first.
    EXPECT_EQ(merge({ex({}), ex({s(1)})}), FilterState::any_source());
}

TEST(FilterMerge, UnfilteredMemberForcesExcludeNothing) {
    FilterMerger m(64);
    m.add(in({s(1)}));
    m.add_unfiltered();
    EXPECT_TRUE(m.settled());
    EXPECT_EQ(m.result(), FilterState::any_source());
}

TEST(FilterMerge, IncludeOverflowBecomesExcludeNothing) {
    EXPECT_EQ(merge({in({s(1), s(2)}), in({s(3)})}, 3), in({s(1), s(2), s(3)}));
    EXPECT_EQ(merge({in({s(1), s(2)}), in({s(3), s(4)})}, 3), FilterState::any_source());
}

} // namespace
