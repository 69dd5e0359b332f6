// mcfwd::SpscRing — a bounded first-in first-out queue of owned values between
// exactly two threads: one producer, one consumer. The control lcores use it to
// hand each other state changes (control/upstream_link.hpp); it is not a hot-path
// structure (it moves values, which may own heap memory).
//
// Thread-safety: try_push from one thread (the producer) and try_pop from one
// other thread (the consumer) may run at the same time; anything else (two
// producers, two consumers) is a data race. A value moved in by try_push is
// moved out by try_pop on the consumer's thread, which then owns (and frees) it.
// Lock-free: the producer alone writes tail_, the consumer alone writes head_;
// a slot's value is published by the release store of tail_ (acquired by the
// consumer) and the slot is handed back by the release store of head_.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <utility>
#include <vector>

namespace mcfwd {

template <class T>
class SpscRing {
public:
    /// Holds up to capacity values (rounded up to a power of two, at least 1).
    /// T must be default-constructible and move-assignable: a slot holds a
    /// moved-from T while free.
    explicit SpscRing(size_t capacity)
        : slots_(std::bit_ceil(capacity == 0 ? size_t{1} : capacity)), mask_(slots_.size() - 1) {}
    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    size_t capacity() const noexcept { return slots_.size(); }

    /// Producer only. Moves v in and returns true; false when the ring is full
    /// (v is left as it was).
    bool try_push(T& v) {
        const size_t tail = tail_.load(std::memory_order_relaxed);
        if (tail - head_cache_ == slots_.size()) {
            head_cache_ = head_.load(std::memory_order_acquire);
            if (tail - head_cache_ == slots_.size())
                return false;
        }
        slots_[tail & mask_] = std::move(v);
        tail_.store(tail + 1, std::memory_order_release);
        return true;
    }
    bool try_push(T&& v) { return try_push(v); }

    /// Consumer only. Moves the oldest value into out and returns true; false
    /// when the ring is empty (out is left as it was).
    bool try_pop(T& out) {
        const size_t head = head_.load(std::memory_order_relaxed);
        if (head == tail_cache_) {
            tail_cache_ = tail_.load(std::memory_order_acquire);
            if (head == tail_cache_)
                return false;
        }
        out = std::move(slots_[head & mask_]);
        slots_[head & mask_] = T{}; // what out owns is the consumer's alone now
        head_.store(head + 1, std::memory_order_release);
        return true;
    }

    /// Either side: a snapshot, exact only while the other side is idle.
    bool empty() const noexcept {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }

private:
    std::vector<T> slots_;
    const size_t mask_;
    // Each index on its own cache line with the other side's cached copy of it,
    // so the two threads do not write the same line.
    alignas(64) std::atomic<size_t> head_{0}; // written by the consumer
    size_t tail_cache_ = 0;                   // consumer's last look at tail_
    alignas(64) std::atomic<size_t> tail_{0}; // written by the producer
    size_t head_cache_ = 0;                   // producer's last look at head_
};

} // namespace mcfwd
