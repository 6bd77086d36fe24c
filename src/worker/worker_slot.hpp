// One slot of duroxide-worker: a connection attached as worker "<worker-id>-<n>" that claims
// activities, runs each on a fiber (core/engine/activity_fiber) with the core's dispatch rules,
// and records its completion on the server. A lost connection is made again after a second;
// what the slot held is redelivered by the server at once (its leases end with the backend).
#pragma once

#include "duroxide/registry.hpp"
#include "worker/options.hpp"

#include <atomic>

namespace duroxide::worker {

// Runs until `stop` is set (finishing the activity under way).
void run_slot(const Options& options, const ActivityRegistry& activities, int index,
              const std::atomic<bool>& stop);

} // namespace duroxide::worker
