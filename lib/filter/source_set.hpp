// mcfwd::filter::SourceSet — a set of source addresses.
//
// Held as a sorted vector without duplicates: lookups are binary searches and
// union / intersection / difference are single linear merges, so building a
// filter of n sources costs O(n log n) and combining two costs O(n + m).
// Sizes are not limited here; limits belong to the caller (the membership
// engine's per-filter maximum).
#pragma once

#include "addr/ip_addr.hpp"

#include <initializer_list>
#include <string>
#include <vector>

namespace mcfwd::filter {

using addr::IpAddr;

class SourceSet {
public:
    using const_iterator = std::vector<IpAddr>::const_iterator;

    SourceSet() = default;
    SourceSet(std::initializer_list<IpAddr> list);
    /// Takes any list; sorts it and drops duplicates.
    static SourceSet from_unsorted(std::vector<IpAddr> list);

    bool contains(const IpAddr& a) const noexcept;
    /// Adds a; false if it was already there.
    bool insert(const IpAddr& a);
    /// Removes a; false if it was not there.
    bool erase(const IpAddr& a);
    void clear() noexcept { v_.clear(); }

    size_t size() const noexcept { return v_.size(); }
    bool empty() const noexcept { return v_.empty(); }
    const_iterator begin() const noexcept { return v_.begin(); }
    const_iterator end() const noexcept { return v_.end(); }
    const std::vector<IpAddr>& as_vector() const noexcept { return v_; }

    /// "{10.0.0.1, 10.0.0.2}".
    std::string to_string() const;

    friend bool operator==(const SourceSet&, const SourceSet&) = default;

    friend SourceSet set_union(const SourceSet& a, const SourceSet& b);
    friend SourceSet set_intersection(const SourceSet& a, const SourceSet& b);
    /// a - b.
    friend SourceSet set_difference(const SourceSet& a, const SourceSet& b);

private:
    std::vector<IpAddr> v_; // sorted, unique
};

SourceSet set_union(const SourceSet& a, const SourceSet& b);
SourceSet set_intersection(const SourceSet& a, const SourceSet& b);
SourceSet set_difference(const SourceSet& a, const SourceSet& b);

} // namespace mcfwd::filter
