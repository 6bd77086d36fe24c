// The activity side of the dispatch policy: an activity leased past max attempts is poison
// (its orchestration gets a Poison ActivityFailed; its code does not run), one without a
// handler goes back for the unregistered backoff, any other runs and its completion is acked.
// The PostgreSQL worker (runtime/activity/activity_loop.cpp) applies the same rules over the
// same contract (store/pg_activity_provider) with its own kinds of handlers (plugin, SQL,
// system activities), sessions and batched recording.
#pragma once

#include "core/engine/activity_runner.hpp"
#include "core/provider/provider.hpp"
#include "core/retry/timing.hpp"
#include "duroxide/registry.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace duroxide::core::dispatch {

struct ActivityDispatchSettings {
    uint32_t max_attempts = 10;
    Millis unregistered_backoff{1000}; // base of the backoff of an unregistered activity
};

// The completion of an activity fetched for the `attempt`th time, past `max_attempts`: a
// Poison ActivityFailed whose message says the activity is not registered (no handler) or
// carries the work item.
WorkItem activity_poison(const work::ActivityExecute& item, uint32_t attempt, uint32_t max_attempts,
                         bool handler_known);

// How long an activity without a handler waits before its next attempt.
int64_t unregistered_activity_delay_ms(uint32_t attempt, const ActivityDispatchSettings& settings);

enum class ActivityStep { Idle, Poisoned, BackedOff, Ran };

// Fetches one activity `tags` admits and handles it as above with a registered plugin
// activity (run on a plain stack with `environment`). `ran` sees each item whose code ran.
ActivityStep dispatch_one_activity(provider::ActivityProvider& provider,
                                   const ActivityRegistry& activities, const TagFilter& tags,
                                   const ActivityDispatchSettings& settings,
                                   const ActivityEnvironment& environment,
                                   const std::function<void(const provider::ActivityItem&)>& ran);

} // namespace duroxide::core::dispatch
