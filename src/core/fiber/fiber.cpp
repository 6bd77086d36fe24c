#include "core/fiber/fiber.hpp"

#include <stdexcept>

namespace duroxide::core {

namespace {
thread_local Fiber* running = nullptr;
} // namespace

Fiber::Fiber(StackPool& stacks, std::function<void()> body) : body_(std::move(body)) {
    fiber_ = boost::context::fiber(std::allocator_arg, PooledStackAllocator(stacks),
                                   [this](boost::context::fiber&& caller) {
                                       caller_ = std::move(caller);
                                       try {
                                           body_();
                                       } catch (const boost::context::detail::forced_unwind&) {
                                           throw; // the fiber is being destroyed: keep unwinding
                                       } catch (...) {
                                           error_ = std::current_exception();
                                       }
                                       finished_ = true;
                                       return std::move(caller_);
                                   });
}

bool Fiber::resume() {
    if (finished_) {
        throw std::logic_error("resume() of a finished fiber");
    }
    if (running == this) {
        throw std::logic_error("a fiber cannot resume itself");
    }
    started_ = true;
    resumed_from_ = running;
    running = this;
    fiber_ = std::move(fiber_).resume();
    running = resumed_from_;
    return finished_;
}

void Fiber::suspend() {
    Fiber* self = running;
    if (self == nullptr) {
        throw std::logic_error("Fiber::suspend() outside a fiber");
    }
    running = self->resumed_from_;
    self->caller_ = std::move(self->caller_).resume();
    running = self;
}

Fiber* Fiber::current() {
    return running;
}

bool is_forced_unwind() noexcept {
    try {
        throw;
    } catch (const boost::context::detail::forced_unwind&) {
        return true;
    } catch (...) {
        return false;
    }
}

} // namespace duroxide::core
