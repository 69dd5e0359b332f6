#include "table/qsbr.hpp"

#include <thread>

namespace mcfwd::table {

Qsbr::Qsbr(unsigned max_readers) : n_(max_readers), readers_(new Reader[max_readers]) {}

errc Qsbr::register_reader(unsigned id) noexcept {
    if (id >= n_)
        return errc::invalid;
    if (readers_[id].registered.exchange(true, std::memory_order_acq_rel))
        return errc::addr_in_use;
    return errc::ok;
}

errc Qsbr::unregister_reader(unsigned id) noexcept {
    if (id >= n_ || !readers_[id].registered.load(std::memory_order_relaxed))
        return errc::invalid;
    offline(id);
    readers_[id].registered.store(false, std::memory_order_release);
    return errc::ok;
}

uint64_t Qsbr::start() noexcept {
    const uint64_t t = token_.fetch_add(1, std::memory_order_seq_cst) + 1;
    // Pairs with the fence in online(): either the reader's counter store is
    // visible to check(), or the reader's later loads see what was published
    // before this call (Dekker-style store/load ordering on both sides).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return t;
}

bool Qsbr::check(uint64_t token) const noexcept {
    for (unsigned i = 0; i < n_; ++i) {
        const uint64_t c = readers_[i].counter.load(std::memory_order_acquire);
        if (c != offline_value && c < token)
            return false;
    }
    return true;
}

void Qsbr::synchronize() noexcept {
    const uint64_t t = start();
    while (!check(t))
        std::this_thread::yield();
}

void QsbrReclaimer::retire(void* p, FreeCtxFn free_fn, void* ctx) noexcept {
    if (queue_.size() >= limit_ && reclaim() == 0)
        synchronize();
    queue_.push_back(Retired{qsbr_.start(), p, free_fn, ctx});
}

size_t QsbrReclaimer::reclaim() noexcept {
    size_t n = 0;
    // Tokens grow along the queue, so the first one not yet passed ends the scan.
    while (!queue_.empty() && qsbr_.check(queue_.front().token)) {
        const Retired r = queue_.front();
        queue_.pop_front();
        r.free_fn(r.ctx, r.p);
        ++n;
    }
    freed_ += n;
    return n;
}

void QsbrReclaimer::synchronize() noexcept {
    if (queue_.empty())
        return;
    qsbr_.synchronize();
    reclaim();
}

} // namespace mcfwd::table
