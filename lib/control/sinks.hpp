// mcfwd::control::Sinks — where a receiver's packets go, made and unmade while
// mcfwd runs (the add_receiver and close_receiver commands, docs/TELEMETRY.md).
//
// A receiver delivers through one outlet (a table::OutletId, a bit of every
// forwarding-table entry's accept mask): a ring a consumer process dequeues from,
// or a TX port. The control plane decides who delivers where; the sinks
// themselves (rte_rings, TX queues, the forwarding lcores' outlet arrays) belong
// to the data path, which implements this interface (dataplane::OutletRegistry).
// Tests implement it with a fake.
//
// Lifetime of an outlet id, the contract both sides keep:
//   open()   the sink exists and every forwarding lcore knows the id before
//            open() returns, so the id may be bound to a receiver (TablePublisher)
//            and appear in published entries at once;
//   close()  the caller has already removed the id from every table (the
//            receiver was closed and its groups republished). Lcores may still
//            hold an old entry naming it until their next quiescent state, so
//            the sink keeps working until a grace period has passed; then it is
//            drained, freed, and the id (and a ring's name) can be given out again.
//
// Thread-safety: control lcore only.
#pragma once

#include "base/result.hpp"
#include "membership/engine.hpp"
#include "table/group_entry.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace mcfwd::control {

struct SinkRequest {
    enum class Kind : uint8_t { ring, port };
    Kind kind = Kind::ring;
    /// kind == ring: the rte_ring's name, 1..29 of [A-Za-z0-9_.-] (RTE_RING_NAMESIZE).
    std::string ring;
    /// kind == ring: slots, a power of two in 32..16,777,216.
    uint32_t ring_size = 1024;
    /// kind == port: the port the frames are transmitted on, unchanged.
    membership::PortId port = 0;
};

class Sinks {
public:
    virtual ~Sinks() = default;
    /// Makes the sink for receiver `owner` and an outlet for it on every
    /// forwarding lcore. Errors: no_buffer_space (every outlet id is in use,
    /// table::max_outlets), exists (a ring of that name exists, in this or another
    /// DPDK process), invalid (a bad ring name or size; a port without TX queues
    /// for the forwarding lcores), no_memory. On an error nothing was made.
    virtual Result<table::OutletId> open(std::string_view owner, const SinkRequest& request) = 0;
    /// See the lifetime above. Precondition: id came from open() and is in no table.
    virtual void close(table::OutletId id) = 0;
    /// Packets delivered through id since open(), summed over the lcores.
    virtual uint64_t delivered(table::OutletId id) const = 0;
    /// "ring NAME" or "port NAME", for listings.
    virtual std::string describe(table::OutletId id) const = 0;
};

} // namespace mcfwd::control
