// mcfwd::table::Qsbr — portable quiescent-state-based reclamation (QSBR), the
// scheme of DPDK rte_rcu_qsbr, for tests and for builds without DPDK; and
// QsbrReclaimer, the Reclaimer built on it.
//
// How it works. The writer owns a 64-bit token. Each reader owns a counter on
// its own cache line holding the last token it saw at a quiescent state (a point
// where it holds no pointer into shared tables), or 0 while offline. After
// unpublishing memory the writer takes a new token with start(); once every
// online reader's counter is >= that token (check()), no reader can still hold
// the unpublished memory, and it may be freed.
//
// Reader contract (a forwarding lcore):
//  - register_reader(id) once with its own id < max_readers, then online(id)
//    before the first lookup; quiescent(id) at points where it holds no table
//    pointer (once per RX burst loop is the intended rate); offline(id) before
//    blocking or sleeping for long, so the writer does not wait for it;
//    unregister_reader(id) when done.
//  - quiescent() is one acquire load of the shared token and one release store
//    to the reader's own line: no atomic read-modify-write, no shared write.
//  - Every reader function is for that reader's own thread only.
// Writer contract (the control lcore, a single thread):
//  - start() after unpublishing; check(token) polls without blocking;
//    synchronize() blocks until all online readers pass a fresh token. A thread
//    must not call synchronize() while it is itself an online reader.
#pragma once

#include "base/errc.hpp"
#include "table/reclaimer.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>

namespace mcfwd::table {

class Qsbr {
public:
    /// Readers get ids 0 .. max_readers-1.
    explicit Qsbr(unsigned max_readers);
    Qsbr(const Qsbr&) = delete;
    Qsbr& operator=(const Qsbr&) = delete;

    unsigned max_readers() const noexcept { return n_; }

    /// Claims reader id. errc::invalid if id >= max_readers, errc::addr_in_use if taken.
    /// The reader starts offline.
    errc register_reader(unsigned id) noexcept;
    /// Releases id (goes offline first). errc::invalid if id is not registered.
    errc unregister_reader(unsigned id) noexcept;

    /// The reader will access shared tables from now on. Costs a full fence (rare).
    void online(unsigned id) noexcept {
        readers_[id].counter.store(token_.load(std::memory_order_relaxed),
                                   std::memory_order_relaxed);
        // The store above must be visible before this reader loads any table
        // pointer; otherwise the writer could see it offline and free what it loads.
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    /// The reader holds no table pointer and will not access tables until online().
    void offline(unsigned id) noexcept {
        readers_[id].counter.store(offline_value, std::memory_order_release);
    }
    /// The reader holds no table pointer at this point. Hot path: cheap, no RMW.
    void quiescent(unsigned id) noexcept {
        const uint64_t t = token_.load(std::memory_order_acquire);
        // Release: every read this reader made of shared memory happens before the
        // writer's acquire load of this counter in check().
        readers_[id].counter.store(t, std::memory_order_release);
    }

    /// Writer: a token for memory unpublished before this call.
    uint64_t start() noexcept;
    /// Writer: true if every reader online at start() has since been quiescent or offline.
    bool check(uint64_t token) const noexcept;
    /// Writer: blocks until check(start()) holds.
    void synchronize() noexcept;

private:
    static constexpr uint64_t offline_value = 0;

    struct alignas(64) Reader {
        std::atomic<uint64_t> counter{offline_value}; // written by its reader only
        std::atomic<bool> registered{false};
    };

    // Written by the writer, read by every reader: its own line, apart from the
    // readers' counters.
    alignas(64) std::atomic<uint64_t> token_{1};
    unsigned n_;
    std::unique_ptr<Reader[]> readers_;
};

/// A Reclaimer over Qsbr. Writer-thread object: none of its functions may be
/// called concurrently. Retired objects wait in FIFO order of their tokens; when
/// more than queue_limit are waiting, retire() first reclaims what it can and,
/// if still over, waits for a grace period (as DPDK's defer queue does when full).
class QsbrReclaimer final : public Reclaimer {
public:
    explicit QsbrReclaimer(Qsbr& qsbr, size_t queue_limit = 1u << 16)
        : qsbr_(qsbr), limit_(queue_limit) {}
    /// Waits for readers and frees everything still queued.
    ~QsbrReclaimer() override { QsbrReclaimer::synchronize(); }

    using Reclaimer::retire;
    void retire(void* p, FreeCtxFn free_fn, void* ctx) noexcept override;
    size_t reclaim() noexcept override;
    void synchronize() noexcept override;

    /// Objects retired and not yet freed.
    size_t pending() const noexcept { return queue_.size(); }
    /// Objects freed so far.
    uint64_t freed() const noexcept { return freed_; }

private:
    struct Retired {
        uint64_t token;
        void* p;
        FreeCtxFn free_fn;
        void* ctx;
    };
    Qsbr& qsbr_;
    size_t limit_;
    uint64_t freed_ = 0;
    std::deque<Retired> queue_;
};

} // namespace mcfwd::table
