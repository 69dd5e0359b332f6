#include "ethdev/rte_allocator.hpp"

#include <rte_malloc.h>
#include <rte_memory.h>


namespace mcfwd::ethdev {

void* RteAllocator::allocate(size_t bytes, size_t align) noexcept {
    void* p = rte_malloc_socket("mcfwd_table", bytes, unsigned(align), socket_);
    if (p == nullptr) {
        ++failures_;
        return nullptr;
    }
    // Counted as rte_malloc rounded it, so deallocate() subtracts the same.
    size_t size = bytes;
    rte_malloc_validate(p, &size);
    in_use_ += size;
    return p;
}

void RteAllocator::deallocate(void* p) noexcept {
    if (p == nullptr)
        return;
    size_t size = 0;
    if (rte_malloc_validate(p, &size) == 0)
        in_use_ -= size;
    rte_free(p);
}

bool RteAllocator::is_dpdk_memory(const void* p) noexcept {
    return rte_mem_virt2memseg_list(p) != nullptr;
}

uint64_t RteAllocator::page_size(const void* p) noexcept {
    const rte_memseg_list* msl = rte_mem_virt2memseg_list(p);
    return msl == nullptr ? 0 : msl->page_sz;
}

} // namespace mcfwd::ethdev
