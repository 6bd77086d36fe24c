// Fiber stacks: mmap'd, with a PROT_NONE guard page below each so that an overflow faults at
// once instead of corrupting the neighbouring memory, and pooled so that starting a fiber costs
// no system call in the steady state.
#pragma once

#include <boost/context/stack_context.hpp>

#include <cstddef>
#include <vector>

namespace duroxide::core {

class StackPool {
public:
    // `stack_size` is rounded up to whole pages; `max_free` bounds the stacks kept for reuse.
    explicit StackPool(std::size_t stack_size = 256 * 1024, std::size_t max_free = 64);
    ~StackPool();
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;

    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& stack) noexcept;

    std::size_t stack_size() const { return stack_size_; }
    std::size_t free_stacks() const { return free_.size(); }
    std::size_t mapped_stacks() const { return mapped_; }

private:
    std::size_t stack_size_;
    std::size_t page_size_;
    std::size_t max_free_;
    std::size_t mapped_ = 0;
    std::vector<void*> free_; // base addresses (guard page first)
};

// The stack allocator Boost.Context takes by value: a handle on a pool that outlives the fiber.
class PooledStackAllocator {
public:
    explicit PooledStackAllocator(StackPool& pool) : pool_(&pool) {}
    boost::context::stack_context allocate() { return pool_->allocate(); }
    void deallocate(boost::context::stack_context& stack) noexcept { pool_->deallocate(stack); }

private:
    StackPool* pool_;
};

} // namespace duroxide::core
