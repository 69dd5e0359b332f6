// mcfwd::timer::DeadlineIndex — which keys have a timer running, by deadline, so that a
// state machine with many timers (a group record each) finds the earliest one and the
// ones due without visiting the others.
//
// The engine keeps its timers where they belong (in each group's state, where the RFC
// tables read and write them) and tells the index, per key, the earliest of them after
// each change. The index holds one (deadline, key) entry per key whose deadline is not
// time_never; the caller remembers the deadline it last gave for a key (a field beside
// the timers) and hands it back as `from`, so the index needs no key -> deadline map.
//
// Cost, n = keys indexed: earliest() O(1); reschedule() O(log n) when the deadline
// moves, nothing when it stays; take_due() O(k log n) for the k keys it returns.
// It is a std::set of (deadline, key): every change is exact (no tombstones to skip), and
// keys due at the same deadline come out in key order.
//
// Thread-safety: none; it belongs to its engine's control lcore.
#pragma once

#include "base/clock.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <set>
#include <utility>
#include <vector>

namespace mcfwd::timer {

template <class Key, class Less = std::less<Key>>
class DeadlineIndex {
public:
    /// key's deadline moves from `from` to `to`; time_never on either side means "not
    /// indexed". Precondition: `from` is the `to` of the previous call for key
    /// (time_never before the first).
    void reschedule(const Key& key, time_point from, time_point to) {
        if (from == to)
            return;
        if (from != time_never)
            entries_.erase(Entry{from, key});
        if (to != time_never)
            entries_.insert(Entry{to, key});
    }

    /// The earliest deadline indexed, or time_never.
    time_point earliest() const noexcept {
        return entries_.empty() ? time_never : entries_.begin()->first;
    }

    /// Removes every key whose deadline is at or before now and returns them in key
    /// order (the order a scan of an ordered map of keys would visit them). The caller's
    /// remembered deadline for each of them is time_never afterwards.
    std::vector<Key> take_due(time_point now) {
        std::vector<Key> due;
        auto it = entries_.begin();
        for (; it != entries_.end() && it->first <= now; ++it)
            due.push_back(it->second);
        entries_.erase(entries_.begin(), it);
        std::sort(due.begin(), due.end(), Less{});
        return due;
    }

    size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    /// Forgets every key: the caller's remembered deadlines are all time_never after it.
    void clear() noexcept { entries_.clear(); }

private:
    using Entry = std::pair<time_point, Key>;
    struct EntryLess {
        bool operator()(const Entry& a, const Entry& b) const {
            if (a.first != b.first)
                return a.first < b.first;
            return Less{}(a.second, b.second);
        }
    };
    std::set<Entry, EntryLess> entries_;
};

} // namespace mcfwd::timer
