// mcfwd::dataplane::Outlet — what a table outlet id (table::OutletId) means to the
// data path: the index of an Outlet in the forwarding lcore's OutletSet.
//
// An outlet is either
//  - a ring sink: an rte_ring a consumer (typically a secondary DPDK process, the
//    multi-process consumer pattern) dequeues whole frames from; or
//  - a TX port/queue: the frame is transmitted unchanged on (port, queue).
//
// Thread-safety: an OutletSet is built at startup and read-only afterwards.
// Ring sinks may be shared by several forwarding lcores only if the ring is
// multi-producer (the default of rte_ring_create without RING_F_SP_ENQ). A TX
// queue is not thread-safe in DPDK, so an OutletSet naming TX queues belongs to
// one lcore: give each lcore its own set, the same ids mapping to the same ports
// with that lcore's queue.
#pragma once

#include "base/errc.hpp"
#include "table/group_entry.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

struct rte_ring;

namespace mcfwd::dataplane {

enum class OutletKind : uint8_t { ring, port };

struct Outlet {
    OutletKind kind = OutletKind::ring;
    rte_ring* ring = nullptr; // kind == ring
    uint16_t port = 0;        // kind == port
    uint16_t queue = 0;       // kind == port

    static Outlet ring_sink(rte_ring* r) noexcept { return {OutletKind::ring, r, 0, 0}; }
    static Outlet tx(uint16_t port, uint16_t queue) noexcept {
        return {OutletKind::port, nullptr, port, queue};
    }
};

/// The outlets table::OutletId values index, at most table::max_outlets.
class OutletSet {
public:
    /// Appends o; its id is the returned index. errc::no_buffer_space when full,
    /// errc::invalid for a ring outlet without a ring. Startup only.
    errc add(const Outlet& o, table::OutletId& id) noexcept {
        if (count_ == outlets_.size())
            return errc::no_buffer_space;
        if (o.kind == OutletKind::ring && o.ring == nullptr)
            return errc::invalid;
        outlets_[count_] = o;
        id = table::OutletId(count_++);
        return errc::ok;
    }
    size_t size() const noexcept { return count_; }
    /// Precondition: id < size().
    const Outlet& operator[](table::OutletId id) const noexcept { return outlets_[id]; }

private:
    std::array<Outlet, table::max_outlets> outlets_{};
    size_t count_ = 0;
};

} // namespace mcfwd::dataplane
