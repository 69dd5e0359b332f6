// mcfwd::table::Reclaimer — deferred freeing for lock-free readers.
//
// The forwarding lcores read published tables without locks; the control lcore
// (the only writer) unpublishes memory and must not free it while a reader may
// still hold a pointer into it. The design's answer is RCU with quiescent-state
// based reclamation (DPDK rte_rcu_qsbr). lib/ includes no DPDK headers, so the
// table talks to this interface:
//  - drivers/ implements it over rte_rcu_qsbr's defer queue: retire() ->
//    rte_rcu_qsbr_dq_enqueue() of a 24-byte element {p, free_fn, ctx} (whose
//    rte_rcu_qsbr_free_resource_t calls free_fn(p)); when the queue is full,
//    rte_rcu_qsbr_synchronize() and then free_fn(p) directly; reclaim() ->
//    rte_rcu_qsbr_dq_reclaim(); synchronize() -> rte_rcu_qsbr_synchronize() followed
//    by a reclaim of everything queued.
//  - tests use QsbrReclaimer (qsbr.hpp), a portable QSBR with the same contract.
//
// Contract, for every implementation:
//  - free_fn runs only after every reader that could have loaded p (i.e. that
//    was online at the time of retire() and had not since reported a quiescent
//    state) has reported a quiescent state or gone offline. The caller must have
//    unpublished p (no reader can newly find it) before calling retire().
//  - free_fn runs on the writer's thread, inside retire(), reclaim() or
//    synchronize() — never on a reader.
//  - Readers never wait on the writer; the writer may wait on readers only in
//    synchronize() and in retire() when the implementation's queue is full.
#pragma once

#include <cstddef>

namespace mcfwd::table {

class Reclaimer {
public:
    using FreeFn = void (*)(void*);
    /// A free function that takes a context too (a table's memory: table_memory.hpp).
    using FreeCtxFn = void (*)(void* ctx, void* p);

    virtual ~Reclaimer() = default;

    /// Frees p with free_fn(ctx, p) once a grace period has passed (see the
    /// contract above). Writer thread only. Never fails: if the implementation's
    /// queue is full it waits for a grace period (blocking) rather than leak or
    /// free early.
    virtual void retire(void* p, FreeCtxFn free_fn, void* ctx) noexcept = 0;
    /// As above, for a free function of p alone.
    void retire(void* p, FreeFn free_fn) noexcept {
        retire(p, &call_free_fn, reinterpret_cast<void*>(free_fn));
    }

    /// Frees every retired object whose grace period has ended; returns how many.
    /// Writer thread only; never blocks. The control loop calls it once per turn.
    virtual size_t reclaim() noexcept = 0;

    /// Waits until everything retired so far has been freed. Writer thread only;
    /// blocks until every online reader reports a quiescent state, so the caller
    /// must not itself be an online reader (it would wait for itself forever).
    virtual void synchronize() noexcept = 0;

private:
    static void call_free_fn(void* fn, void* p) noexcept { reinterpret_cast<FreeFn>(fn)(p); }
};

} // namespace mcfwd::table
