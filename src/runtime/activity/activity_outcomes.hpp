// What the two activity paths of a worker share: SQL activities (activity_loop.cpp) and plugin
// activities (activity_execution.cpp) name an activity and give back an attempt the same way.
#pragma once

#include "core/provider/provider.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace duroxide::runtime {

// Delay before work given back after a worker-side failure (an abandoned activity attempt or
// orchestration turn) becomes visible again: long enough not to spin on a failing store.
inline constexpr int64_t kRetryAfterFailureMs = 1000;

// `activity <name> #<id> of "<instance>"`: how log and error messages name an activity (as the
// store's lease errors do). Traces and runtime_status use the unquoted trace form instead
// (activity_loop.cpp), like the orchestration traces.
std::string activity_message_label(const core::work::ActivityExecute& item);

// The worker failed around the activity (a store or host error, its SQL function is gone;
// not the activity's own failure, which is its completion): logs `why`, counts the attempt as
// activities_failed_infrastructure and gives it back through `provider` (outside a batch: in a
// transaction of its own), delayed by kRetryAfterFailureMs; the attempt counts toward poison.
void give_back_activity(core::provider::ActivityProvider& provider,
                        const core::provider::ActivityItem& item, std::string_view why);

} // namespace duroxide::runtime
