// mcfwd::ethdev — RCU over DPDK's rte_rcu_qsbr: DpdkQsbr (the QSBR variable and
// the reader API) and DpdkReclaimer (table::Reclaimer over rte_rcu_qsbr_dq).
//
// Mapping (see table/reclaimer.hpp): retire() enqueues a 24-byte element
// {p, free_fn, ctx} on the defer queue, whose free callback calls free_fn(ctx, p); when
// the queue is full (after DPDK's own reclaim attempt) retire() waits for a
// grace period with rte_rcu_qsbr_synchronize() and frees p directly; reclaim()
// is rte_rcu_qsbr_dq_reclaim() (non-blocking); synchronize() is
// rte_rcu_qsbr_synchronize() followed by a reclaim of everything queued.
//
// Reader ids are rte_rcu_qsbr thread ids 0 .. max_readers-1; readers need not
// be EAL lcores (any thread may own an id). The reader contract is
// table::Qsbr's: register once, online before the first lookup, quiescent
// between bursts (never holding a table pointer across it), offline before
// blocking, unregister when done. Every reader function is for that reader's
// own thread only and is a few instructions (inline, as rte_rcu_qsbr's are).
#pragma once

#include "base/errc.hpp"
#include "base/result.hpp"
#include "table/reclaimer.hpp"

#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <memory>

struct rte_rcu_qsbr_dq;

namespace mcfwd::ethdev {

class DpdkQsbr {
public:
    /// Allocates (rte_zmalloc, cache aligned) and initialises a QSBR variable
    /// for max_readers readers. Startup, EAL up. Errors: invalid (0 readers),
    /// no_buffer_space (no memory).
    static Result<std::unique_ptr<DpdkQsbr>> create(unsigned max_readers);
    ~DpdkQsbr();
    DpdkQsbr(const DpdkQsbr&) = delete;
    DpdkQsbr& operator=(const DpdkQsbr&) = delete;

    unsigned max_readers() const noexcept { return max_readers_; }
    rte_rcu_qsbr* get() const noexcept { return v_; }

    /// Claims id for the calling reader thread; it starts offline.
    /// invalid if id >= max_readers.
    errc register_reader(unsigned id) noexcept {
        return rte_rcu_qsbr_thread_register(v_, id) == 0 ? errc::ok : errc::invalid;
    }
    errc unregister_reader(unsigned id) noexcept {
        return rte_rcu_qsbr_thread_unregister(v_, id) == 0 ? errc::ok : errc::invalid;
    }
    void online(unsigned id) noexcept { rte_rcu_qsbr_thread_online(v_, id); }
    void offline(unsigned id) noexcept { rte_rcu_qsbr_thread_offline(v_, id); }
    /// Hot path: one load of the token and one store to the reader's own counter.
    void quiescent(unsigned id) noexcept { rte_rcu_qsbr_quiescent(v_, id); }

    /// Writer: blocks until every reader online now has been quiescent. The
    /// caller must not be an online reader.
    void synchronize() noexcept { rte_rcu_qsbr_synchronize(v_, RTE_QSBR_THRID_INVALID); }

private:
    DpdkQsbr(rte_rcu_qsbr* v, unsigned n) : v_(v), max_readers_(n) {}
    rte_rcu_qsbr* v_;
    unsigned max_readers_;
};

/// table::Reclaimer over an rte_rcu_qsbr defer queue. Writer-thread object: none
/// of its functions may run concurrently (the queue is created MT-unsafe).
class DpdkReclaimer final : public table::Reclaimer {
public:
    /// A defer queue of at least queue_size entries on qsbr (which must outlive
    /// this). Startup: throws std::runtime_error with DPDK's reason on failure.
    explicit DpdkReclaimer(DpdkQsbr& qsbr, uint32_t queue_size = 1u << 14);
    /// Waits for readers, frees everything queued and deletes the queue.
    ~DpdkReclaimer() override;
    DpdkReclaimer(const DpdkReclaimer&) = delete;
    DpdkReclaimer& operator=(const DpdkReclaimer&) = delete;

    using Reclaimer::retire;
    void retire(void* p, FreeCtxFn free_fn, void* ctx) noexcept override;
    size_t reclaim() noexcept override;
    void synchronize() noexcept override;

    /// Objects retired and not yet freed.
    uint64_t pending() const noexcept { return retired_ - freed_; }
    uint64_t freed() const noexcept { return freed_; }
    /// retire() calls that found the queue full and waited for a grace period.
    uint64_t full_waits() const noexcept { return full_waits_; }

private:
    static void free_elements(void* self, void* e, unsigned n);

    DpdkQsbr& qsbr_;
    rte_rcu_qsbr_dq* dq_ = nullptr;
    uint64_t retired_ = 0;
    uint64_t freed_ = 0;
    uint64_t full_waits_ = 0;
};

} // namespace mcfwd::ethdev
