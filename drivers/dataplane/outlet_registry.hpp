// mcfwd::dataplane::OutletRegistry — every forwarding lcore's outlets, and the
// sinks behind them, opened at startup and while mcfwd runs.
//
// One outlet id means the same sink on every forwarding lcore (each lcore has its
// own OutletSet because a TX queue belongs to one lcore: lcore i sends on queue i
// of a sink port). The registry hands out ids, makes the sinks (rte_rings on the
// given socket) and implements control::Sinks for the add_receiver and
// close_receiver commands, with the lifetime that interface states: close()
// retires the outlet through RCU, and when the grace period has passed the ring
// is drained (its mbufs freed), freed, and the id and the ring's name are free
// for the next receiver.
//
// A ring is freed while nobody may use it any more from mcfwd's side; a consumer
// process must have stopped dequeuing before its receiver is closed (mcfwd-consumer
// closes its own receiver on exit, after its last dequeue).
//
// Thread-safety: written (open, close, the grace period's end) by one control
// lcore; delivered(), describe() and for_each() may be called from any control
// lcore at the same time (several control lcores list receivers and outlets): the
// slots are guarded by a mutex, never taken on the data path. lcore(i) is read by
// lcore i under OutletSet's rules.
#pragma once

#include "addr/mac_addr.hpp"
#include "control/sinks.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/outlet.hpp"
#include "table/reclaimer.hpp"

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

struct rte_ring;

namespace mcfwd::dataplane {

class OutletRegistry final : public control::Sinks {
public:
    /// lcores: the forwarding lcores (their counters, for delivered()); retired
    /// outlets go through reclaimer, which must be synchronized (or destroyed)
    /// before this registry is. Rings are made on socket.
    OutletRegistry(std::vector<const LcoreCounters*> lcores, table::Reclaimer& reclaimer,
                   int socket);
    ~OutletRegistry() override;
    OutletRegistry(const OutletRegistry&) = delete;
    OutletRegistry& operator=(const OutletRegistry&) = delete;

    /// Lcore i's outlets (ForwardContext::outlets).
    const OutletSet& lcore(size_t i) const noexcept { return sets_[i]; }

    /// Lets receivers send on port: lcore i transmits on its queue i, which the
    /// port was configured with. Startup.
    void allow_port_sink(uint16_t port, std::string name);
    /// A downstream port's routed copies (Outlet::routed_tx, queue i on lcore i).
    /// Startup; errors as open().
    Result<table::OutletId> open_routed(std::string_view owner, uint16_t port, std::string name,
                                        const addr::MacAddr& mac, std::optional<uint16_t> vlan);

    // control::Sinks
    Result<table::OutletId> open(std::string_view owner,
                                 const control::SinkRequest& request) override;
    void close(table::OutletId id) override;
    uint64_t delivered(table::OutletId id) const override;
    std::string describe(table::OutletId id) const override;

    struct Info {
        std::string owner;             // the receiver, or "downstream:PORT"
        std::string sink;              // describe()
        const rte_ring* ring;          // ring sinks: the ring (for a waiting count)
        uint64_t delivered;            // since open()
    };
    /// Every open outlet by id (not those closing).
    void for_each(const std::function<void(table::OutletId, const Info&)>& fn) const;
    /// Outlets closed whose grace period has not ended yet.
    size_t closing() const noexcept { return closing_; }

private:
    enum class State : uint8_t { free, open, closing };
    struct Slot {
        State state = State::free;
        std::string owner, sink;
        rte_ring* ring = nullptr; // made here; freed after close()
        uint64_t base = 0;        // lcores' delivered count when opened
    };

    Result<table::OutletId> install(std::string_view owner, std::string sink, rte_ring* ring,
                                    const std::function<Outlet(size_t lcore)>& make);
    std::optional<table::OutletId> free_id() const noexcept;
    uint64_t delivered_total(table::OutletId id) const noexcept;
    uint64_t delivered_locked(table::OutletId id) const noexcept; // caller holds mutex_
    static void free_slot(void* self, void* slot) noexcept;

    std::vector<const LcoreCounters*> lcores_;
    std::unique_ptr<OutletSet[]> sets_;
    table::Reclaimer& reclaimer_;
    int socket_;
    mutable std::mutex mutex_; // guards slots_ and closing_ (control lcores only)
    std::array<Slot, table::max_outlets> slots_{};
    std::unordered_map<uint16_t, std::string> sink_ports_;
    size_t closing_ = 0;
};

} // namespace mcfwd::dataplane
