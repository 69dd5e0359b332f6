#include "ethdev/rcu.hpp"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mcfwd::ethdev {

namespace {

// What one defer-queue element holds (esize 24, a multiple of 4 as DPDK asks).
struct Element {
    void* p;
    table::Reclaimer::FreeCtxFn free_fn;
    void* ctx;
};
static_assert(sizeof(Element) == 24);

std::atomic<unsigned> dq_serial{0};

} // namespace

Result<std::unique_ptr<DpdkQsbr>> DpdkQsbr::create(unsigned max_readers) {
    if (max_readers == 0)
        return errc::invalid;
    const size_t sz = rte_rcu_qsbr_get_memsize(max_readers);
    auto* v = static_cast<rte_rcu_qsbr*>(rte_zmalloc("mcfwd_qsbr", sz, RTE_CACHE_LINE_SIZE));
    if (v == nullptr)
        return errc::no_buffer_space;
    if (rte_rcu_qsbr_init(v, max_readers) != 0) {
        rte_free(v);
        return errc::invalid;
    }
    return std::unique_ptr<DpdkQsbr>(new DpdkQsbr(v, max_readers));
}

DpdkQsbr::~DpdkQsbr() {
    rte_free(v_);
}

void DpdkReclaimer::free_elements(void* self, void* e, unsigned n) {
    auto* r = static_cast<DpdkReclaimer*>(self);
    auto* bytes = static_cast<unsigned char*>(e);
    for (unsigned i = 0; i < n; ++i) {
        Element el;
        std::memcpy(&el, bytes + i * sizeof(Element), sizeof el);
        el.free_fn(el.ctx, el.p);
        ++r->freed_;
    }
}

DpdkReclaimer::DpdkReclaimer(DpdkQsbr& qsbr, uint32_t queue_size) : qsbr_(qsbr) {
    // The ring name must be unique in the process; DPDK prefixes it.
    const std::string name = "mcfwd_dq" + std::to_string(dq_serial.fetch_add(1));
    rte_rcu_qsbr_dq_parameters params{};
    params.name = name.c_str();
    params.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE; // one writer: no ring atomics needed
    params.size = queue_size;
    params.esize = sizeof(Element);
    // Let enqueue reclaim in passing once a quarter of the queue waits, so a
    // writer that forgets reclaim() still rarely hits "full".
    params.trigger_reclaim_limit = queue_size / 4;
    params.max_reclaim_size = queue_size;
    params.free_fn = &DpdkReclaimer::free_elements;
    params.p = this;
    params.v = qsbr_.get();
    dq_ = rte_rcu_qsbr_dq_create(&params);
    if (dq_ == nullptr)
        throw std::runtime_error("rte_rcu_qsbr_dq_create failed: " +
                                 std::string(rte_strerror(rte_errno)));
}

DpdkReclaimer::~DpdkReclaimer() {
    DpdkReclaimer::synchronize();
    rte_rcu_qsbr_dq_delete(dq_);
}

void DpdkReclaimer::retire(void* p, FreeCtxFn free_fn, void* ctx) noexcept {
    Element el{p, free_fn, ctx};
    ++retired_;
    if (rte_rcu_qsbr_dq_enqueue(dq_, &el) == 0)
        return;
    // Full even after DPDK's reclaim attempt: wait for a grace period (the
    // Reclaimer contract: block rather than leak or free early). The grace
    // period covers p and everything queued before it.
    ++full_waits_;
    qsbr_.synchronize();
    free_fn(ctx, p);
    ++freed_;
    reclaim();
}

size_t DpdkReclaimer::reclaim() noexcept {
    const uint64_t before = freed_;
    unsigned freed = 0, pending = 0, available = 0;
    rte_rcu_qsbr_dq_reclaim(dq_, UINT_MAX, &freed, &pending, &available);
    return static_cast<size_t>(freed_ - before);
}

void DpdkReclaimer::synchronize() noexcept {
    qsbr_.synchronize();
    // Every queued token is older than the one synchronize() waited for, so
    // one pass frees them all.
    reclaim();
}

} // namespace mcfwd::ethdev
