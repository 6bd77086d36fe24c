#include "core/fiber/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace duroxide::core {

StackPool::StackPool(std::size_t stack_size, std::size_t max_free)
    : page_size_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))), max_free_(max_free) {
    stack_size_ = (stack_size + page_size_ - 1) / page_size_ * page_size_;
    if (stack_size_ < 4 * page_size_) {
        stack_size_ = 4 * page_size_;
    }
}

StackPool::~StackPool() {
    for (void* base : free_) {
        munmap(base, stack_size_ + page_size_);
    }
}

boost::context::stack_context StackPool::allocate() {
    void* base = nullptr;
    if (!free_.empty()) {
        base = free_.back();
        free_.pop_back();
    } else {
        // MAP_NORESERVE: pages are committed only when touched.
        base = mmap(nullptr, stack_size_ + page_size_, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) {
            throw std::bad_alloc();
        }
        if (mprotect(base, page_size_, PROT_NONE) != 0) { // stacks grow down: guard at the bottom
            munmap(base, stack_size_ + page_size_);
            throw std::bad_alloc();
        }
        ++mapped_;
    }
    boost::context::stack_context stack;
    stack.size = stack_size_;
    stack.sp = static_cast<char*>(base) + page_size_ + stack_size_;
    return stack;
}

void StackPool::deallocate(boost::context::stack_context& stack) noexcept {
    void* base = static_cast<char*>(stack.sp) - stack_size_ - page_size_;
    if (free_.size() < max_free_) {
        try {
            free_.push_back(base);
            return;
        } catch (...) {
            // Could not remember it: give it back to the system instead.
        }
    }
    munmap(base, stack_size_ + page_size_);
    --mapped_;
}

} // namespace duroxide::core
