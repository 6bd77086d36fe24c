// The units of work of the background workers: an orchestration turn (fetch an instance's
// messages under a lease, replay with no transaction open, record the turn) and an activity
// (fetch under a lease, run, record its completion). Each fetch commits on its own, so attempt
// counts survive crashes and poison is detected; each record validates the lease in the
// transaction that writes the outcome. A dead worker's leases are free at once.
#pragma once

#include "core/fiber/stack_pool.hpp"
#include "runtime/handlers.hpp"

#include <cstdint>
#include <optional>

namespace duroxide::runtime {

struct WorkOutcome {
    bool processed = false;                 // work was handled: look for more at once
    std::optional<int64_t> next_work_in_ms; // when idle: when queued work becomes visible
};

WorkOutcome run_orchestration_turn(Handlers& handlers, core::StackPool& stacks);
WorkOutcome run_one_activity(Handlers& handlers);

} // namespace duroxide::runtime
