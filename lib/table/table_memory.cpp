#include "table/table_memory.hpp"

#include <cstring>
#include <new>

// Under AddressSanitizer a freed slab object is poisoned until it is handed out
// again, so a reader touching an entry after a too-early free is reported as
// use-after-poison, as a heap object would be (the slab would hide it otherwise).
#if defined(__SANITIZE_ADDRESS__)
#define MCFWD_TABLE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MCFWD_TABLE_ASAN 1
#endif
#endif
#ifdef MCFWD_TABLE_ASAN
#include <sanitizer/asan_interface.h>
#define MCFWD_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define MCFWD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define MCFWD_POISON(p, n) ((void)(p), (void)(n))
#define MCFWD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace mcfwd::table {

namespace {

class HeapAllocator final : public Allocator {
public:
    // Aligned delete must name the alignment new was given: always a cache line.
    void* allocate(size_t bytes, size_t align) noexcept override {
        if (align > 64)
            return nullptr;
        return ::operator new (bytes, std::align_val_t{64}, std::nothrow);
    }
    void deallocate(void* p) noexcept override { ::operator delete (p, std::align_val_t{64}); }
};

} // namespace

Allocator& heap_allocator() noexcept {
    static HeapAllocator heap;
    return heap;
}

TableMemory::~TableMemory() {
    for (void* c : chunks_) {
        MCFWD_UNPOISON(c, chunk_bytes);
        allocator_->deallocate(c);
    }
}

void* TableMemory::slab_allocate(Slab& s) noexcept {
    if (s.free != nullptr) {
        FreeObject* o = s.free;
        MCFWD_UNPOISON(o, s.size);
        s.free = o->next;
        return o;
    }
    if (s.bump == s.end) {
        // chunks_ grows on the writer's thread at start-up and during churn,
        // never on a forwarding lcore; its allocation failing is out of memory.
        try {
            chunks_.reserve(chunks_.size() + 1);
        } catch (...) {
            return nullptr;
        }
        void* c = allocator_->allocate(chunk_bytes, 64);
        if (c == nullptr)
            return nullptr;
        chunks_.push_back(c);
        reserved_ += chunk_bytes;
        s.bump = static_cast<char*>(c);
        s.end = s.bump + chunk_bytes;
    }
    void* p = s.bump;
    s.bump += s.size;
    return p;
}

void* TableMemory::allocate(size_t bytes) noexcept {
    const size_t n = rounded(bytes);
    void* p;
    if (n == 32)
        p = slab_allocate(small_);
    else if (n == 64)
        p = slab_allocate(line_);
    else if ((p = allocator_->allocate(n, 64)) != nullptr)
        reserved_ += n;
    if (p != nullptr)
        used_ += n;
    return p;
}

void TableMemory::free(void* p, size_t bytes) noexcept {
    if (p == nullptr)
        return;
    const size_t n = rounded(bytes);
    if (poison_)
        std::memset(p, 0xdb, n);
    used_ -= n;
    if (n <= 64) {
        Slab& s = n == 32 ? small_ : line_;
        auto* o = static_cast<FreeObject*>(p);
        o->next = s.free;
        s.free = o;
        MCFWD_POISON(o, n);
        return;
    }
    reserved_ -= n;
    allocator_->deallocate(p);
}

void TableMemory::retired_free(void* p, size_t bytes) noexcept {
    free(p, bytes);
    if (--retired_ == 0 && orphaned_)
        delete this;
}

void TableMemory::orphan() noexcept {
    orphaned_ = true;
    if (retired_ == 0)
        delete this;
}

} // namespace mcfwd::table
