// The units of work of the background workers: an orchestration turn (fetch an instance's
// messages under a lease, replay with no transaction open, record the turn) and an activity
// (fetch under a lease, run, record its completion). Each fetch commits on its own, so attempt
// counts survive crashes and poison is detected; each record validates the lease in the
// transaction that writes the outcome. A dead worker's leases are free at once.
#pragma once

#include "core/engine/resident_cache.hpp"
#include "core/fiber/stack_pool.hpp"
#include "runtime/plugins/handlers.hpp"
#include "runtime/activity/sessions.hpp"

#include <cstdint>
#include <optional>

namespace duroxide::runtime {

struct WorkOutcome {
    std::size_t processed = 0;              // items handled: when any, look for more at once
    std::optional<int64_t> next_work_in_ms; // when idle: when queued work becomes visible
};

// Fetches up to duroxide.dispatch_batch instances, runs their turns, and records them all in
// one transaction.
// Executions left waiting stay resident in `cache` (duroxide.resident_cache_size).
WorkOutcome run_orchestration_turns(Handlers& handlers, core::StackPool& stacks,
                                    core::ResidentCache& cache);
// Fetches and runs activities one at a time, up to duroxide.activity_batch while more are
// waiting, and records their completions in one transaction.
// Activities of sessions go to the worker that owns them (`sessions`).
WorkOutcome run_activities(Handlers& handlers, SessionKeeper& sessions);

} // namespace duroxide::runtime
