// The orchestration loop of a background worker: the core's dispatcher over the PostgreSQL
// provider. Each fetch commits on its own, so attempt counts survive crashes and poison is
// detected; each ack validates the lock in the transaction that writes the turn. A dead
// worker's locks are free at once.
#pragma once

#include "core/engine/resident_cache.hpp"
#include "core/fiber/stack_pool.hpp"
#include "runtime/orchestration/work_outcome.hpp"
#include "runtime/plugins/handlers.hpp"

namespace duroxide::runtime {

// Fetches up to duroxide.dispatch_batch instances, runs their turns, and records them all in
// one transaction (one at a time when that fails).
// Executions left waiting stay resident in `cache` (duroxide.resident_cache_size).
WorkOutcome run_orchestration_turns(Handlers& handlers, core::StackPool& stacks,
                                    core::ResidentCache& cache);

} // namespace duroxide::runtime
