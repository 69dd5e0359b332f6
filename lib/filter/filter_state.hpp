// mcfwd::filter::FilterState — an RFC 3376 §3.2 / RFC 3810 §4.2 filter
// (mode, source list), and the merge of many of them into one (illumos
// ilm_gen_filter).
#pragma once

#include "filter/source_set.hpp"

#include <cstddef>
#include <ostream>
#include <string_view>

namespace mcfwd::filter {

enum class FilterMode : uint8_t { include, exclude };

/// RFC 4604 §2 (SSM): in the source-specific range (IpAddr::is_ssm: 232/8, ff3x::/32
/// per RFC 4607 §1) only (S,G) channels exist, so a filter there is INCLUDE mode:
/// hosts must not ask for EXCLUDE (§2.2.1) and routers ignore EXCLUDE-mode records
/// and IGMPv1/v2 / MLDv1 reports (§2.2.2). The one rule for the configuration
/// (lib/config), telemetry (lib/control) and the router side (lib/router).
constexpr bool ssm_allows(const IpAddr& group, FilterMode mode) noexcept {
    return !group.is_ssm() || mode == FilterMode::include;
}

constexpr std::string_view mode_name(FilterMode m) noexcept {
    return m == FilterMode::include ? "include" : "exclude";
}

struct FilterState {
    FilterMode mode = FilterMode::include;
    SourceSet sources;

    /// (INCLUDE, {}): no reception at all — the state of "not a member".
    static FilterState none() { return {}; }
    /// (EXCLUDE, {}): any-source membership.
    static FilterState any_source() { return {FilterMode::exclude, {}}; }

    /// Whether this filter wants traffic from src.
    bool accepts(const IpAddr& src) const noexcept {
        return sources.contains(src) == (mode == FilterMode::include);
    }
    /// Not (INCLUDE, {}).
    bool is_member() const noexcept { return mode == FilterMode::exclude || !sources.empty(); }

    /// "exclude {}", "include {10.0.0.1}".
    std::string to_string() const;

    friend bool operator==(const FilterState&, const FilterState&) = default;
};

std::ostream& operator<<(std::ostream& os, const FilterState& f);

/// Builds the merge of several members' filters, one member at a time
/// (RFC 3376 §3.2 rules as illumos ilm_gen_filter applies them):
///  - a member without a filter of its own (an "unfiltered" join) makes the
///    result (EXCLUDE, {});
///  - if the union of INCLUDE lists would exceed max_include sources the result
///    is (EXCLUDE, {}) (illumos: include-list overflow);
///  - no members: (INCLUDE, {});
///  - only INCLUDE members: (INCLUDE, union of the include lists);
///  - otherwise (EXCLUDE, intersection of the exclude lists − union of the
///    include lists).
/// Cost: linear in the total number of sources added.
class FilterMerger {
public:
    explicit FilterMerger(size_t max_include) : max_include_(max_include) {}

    void add(const FilterState& member);
    void add_unfiltered() noexcept { ++unfiltered_; }
    /// True once the result is (EXCLUDE, {}) whatever else is added.
    bool settled() const noexcept {
        return unfiltered_ > 0 || include_overflow_ || (exclude_count_ > 0 && exclude_.empty());
    }
    FilterState result() const;

private:
    size_t max_include_;
    size_t unfiltered_ = 0;
    size_t include_count_ = 0;
    size_t exclude_count_ = 0;
    bool include_overflow_ = false;
    SourceSet include_;
    SourceSet exclude_;
};

} // namespace mcfwd::filter
