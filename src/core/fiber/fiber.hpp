// Fiber: a stackful coroutine on Boost.Context (fcontext backend) for orchestration and
// activity code. The owner resume()s it; code inside calls Fiber::suspend() to hand control
// back until the next resume().
//
// Rules (DESIGN.md §3): fibers never call PostgreSQL; never suspend from a catch block or a
// destructor; an exception escaping the body is captured (error()) and never leaves the fiber;
// destroying a suspended fiber unwinds its stack (its destructors run) with Boost's
// forced_unwind, which must never be swallowed.
#pragma once

#include "core/fiber/stack_pool.hpp"

#include <boost/context/fiber.hpp>

#include <exception>
#include <functional>

namespace duroxide::core {

class Fiber {
public:
    Fiber(StackPool& stacks, std::function<void()> body);
    ~Fiber() = default; // a suspended fiber_ unwinds in its own destructor
    Fiber(const Fiber&) = delete;
    Fiber& operator=(const Fiber&) = delete;

    // Runs the fiber until it suspends or finishes; returns true when finished. Must not be
    // called on a finished fiber or from inside the fiber itself.
    bool resume();

    // From inside a running fiber: return control to whoever resumed it.
    static void suspend();
    // The fiber running on this thread, or nullptr on a plain stack.
    static Fiber* current();

    bool started() const { return started_; }
    bool finished() const { return finished_; }
    // The exception that escaped the body, if any.
    std::exception_ptr error() const { return error_; }

private:
    std::function<void()> body_;
    boost::context::fiber fiber_;  // the fiber's own continuation while it is suspended
    boost::context::fiber caller_; // the resumer's continuation while the fiber runs
    Fiber* resumed_from_ = nullptr;
    bool started_ = false;
    bool finished_ = false;
    std::exception_ptr error_;
};

// Forced unwinding must pass through every catch (...) in code that runs on a fiber:
//   catch (...) { if (is_forced_unwind()) throw; ... }
bool is_forced_unwind() noexcept;

} // namespace duroxide::core
