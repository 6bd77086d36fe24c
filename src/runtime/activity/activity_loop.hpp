// The activity loop of a background worker: fetch under a lease, run, record the completion.
// Each fetch commits on its own (attempt counts survive crashes, poison is detected); each
// record validates the lease in the transaction that writes the completion.
#pragma once

#include "core/engine/resident_cache.hpp"
#include "core/fiber/stack_pool.hpp"
#include "runtime/activity/sessions.hpp"
#include "runtime/orchestration/work_outcome.hpp"
#include "runtime/plugins/handlers.hpp"

namespace duroxide::runtime {

// Fetches activities (up to duroxide.activity_fetch_batch per fetch statement) and runs them
// one at a time, up to duroxide.activity_batch while more are waiting, and records their
// completions in one transaction; fetched activities not started soon go back to the queue.
// Activities of sessions go to the worker that owns them (`sessions`). With
// duroxide.inline_turns, the transaction that records completions also runs the next turns of
// their instances (runtime/activity/inline_turns.hpp) on `stacks`, resuming the executions
// `cache` holds.
WorkOutcome run_activities(Handlers& handlers, SessionKeeper& sessions, core::StackPool& stacks,
                           core::ResidentCache& cache);

} // namespace duroxide::runtime
