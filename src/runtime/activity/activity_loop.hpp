// The activity loop of a background worker: fetch under a lease, run, record the completion.
// Each fetch commits on its own (attempt counts survive crashes, poison is detected); each
// record validates the lease in the transaction that writes the completion.
#pragma once

#include "runtime/activity/sessions.hpp"
#include "runtime/orchestration/work_outcome.hpp"
#include "runtime/plugins/handlers.hpp"

namespace duroxide::runtime {

// Fetches and runs activities one at a time, up to duroxide.activity_batch while more are
// waiting, and records their completions in one transaction.
// Activities of sessions go to the worker that owns them (`sessions`).
WorkOutcome run_activities(Handlers& handlers, SessionKeeper& sessions);

} // namespace duroxide::runtime
