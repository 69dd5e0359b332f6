#include "filter/filter_state.hpp"

namespace mcfwd::filter {

std::string FilterState::to_string() const {
    return std::string(mode_name(mode)) + " " + sources.to_string();
}

std::ostream& operator<<(std::ostream& os, const FilterState& f) {
    return os << f.to_string();
}

void FilterMerger::add(const FilterState& member) {
    if (member.mode == FilterMode::include) {
        ++include_count_;
        if (!include_overflow_) {
            include_ = set_union(include_, member.sources);
            if (include_.size() > max_include_) {
                include_overflow_ = true;
                include_.clear();
            }
        }
        return;
    }
    // The first exclude list is copied; later ones are intersected. An empty
    // master list after the first member means some member excludes nothing.
    if (exclude_count_++ == 0)
        exclude_ = member.sources;
    else if (!exclude_.empty())
        exclude_ = set_intersection(exclude_, member.sources);
}

FilterState FilterMerger::result() const {
    if (unfiltered_ > 0 || include_overflow_)
        return FilterState::any_source();
    if (include_count_ == 0 && exclude_count_ == 0)
        return FilterState::none();
    if (exclude_count_ == 0)
        return {FilterMode::include, include_};
    return {FilterMode::exclude, set_difference(exclude_, include_)};
}

} // namespace mcfwd::filter
