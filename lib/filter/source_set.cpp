#include "filter/source_set.hpp"

#include <algorithm>
#include <iterator>

namespace mcfwd::filter {

SourceSet::SourceSet(std::initializer_list<IpAddr> list)
    : SourceSet(from_unsorted(std::vector<IpAddr>(list))) {}

SourceSet SourceSet::from_unsorted(std::vector<IpAddr> list) {
    SourceSet s;
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    s.v_ = std::move(list);
    return s;
}

bool SourceSet::contains(const IpAddr& a) const noexcept {
    return std::binary_search(v_.begin(), v_.end(), a);
}

bool SourceSet::insert(const IpAddr& a) {
    auto it = std::lower_bound(v_.begin(), v_.end(), a);
    if (it != v_.end() && *it == a)
        return false;
    v_.insert(it, a);
    return true;
}

bool SourceSet::erase(const IpAddr& a) {
    auto it = std::lower_bound(v_.begin(), v_.end(), a);
    if (it == v_.end() || *it != a)
        return false;
    v_.erase(it);
    return true;
}

std::string SourceSet::to_string() const {
    std::string s = "{";
    for (size_t i = 0; i < v_.size(); ++i) {
        if (i)
            s += ", ";
        s += v_[i].to_string();
    }
    return s + "}";
}

SourceSet set_union(const SourceSet& a, const SourceSet& b) {
    SourceSet r;
    r.v_.reserve(a.size() + b.size());
    std::set_union(a.v_.begin(), a.v_.end(), b.v_.begin(), b.v_.end(), std::back_inserter(r.v_));
    return r;
}

SourceSet set_intersection(const SourceSet& a, const SourceSet& b) {
    SourceSet r;
    r.v_.reserve(std::min(a.size(), b.size()));
    std::set_intersection(a.v_.begin(), a.v_.end(), b.v_.begin(), b.v_.end(),
                          std::back_inserter(r.v_));
    return r;
}

SourceSet set_difference(const SourceSet& a, const SourceSet& b) {
    SourceSet r;
    r.v_.reserve(a.size());
    std::set_difference(a.v_.begin(), a.v_.end(), b.v_.begin(), b.v_.end(),
                        std::back_inserter(r.v_));
    return r;
}

} // namespace mcfwd::filter
