// The units of work of the background workers, each one transaction: an orchestration turn
// (claim an instance's messages, replay, record the turn) and an activity (claim, run, record
// its completion). A worker that dies in the middle aborts the transaction, so its work is
// claimable again at once.
#pragma once

#include "core/fiber/stack_pool.hpp"
#include "runtime/handlers.hpp"

#include <cstdint>
#include <optional>

namespace duroxide::runtime {

struct TurnOutcome {
    bool processed = false;                  // a batch was handled: look for more at once
    std::optional<int64_t> next_timer_in_ms; // when idle: the next timer's distance
};

TurnOutcome run_orchestration_turn(Handlers& handlers, core::StackPool& stacks);

// Returns true when an activity was run.
bool run_one_activity(Handlers& handlers);

} // namespace duroxide::runtime
