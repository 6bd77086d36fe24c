// The server log line of a backoff of unregistered work (issue 17 item 1).
#pragma once

#include "core/dispatch/unregistered.hpp"

#include <optional>
#include <string>

namespace duroxide::runtime {

// The reasons themselves are the core's (core/dispatch/unregistered.hpp).
using core::dispatch::unregistered_activity;
using core::dispatch::unregistered_orchestration;

// Logs (LOG) one line for a backoff of unregistered work: what, the instance, when it is
// retried and how many attempts are left before it fails.
void log_unregistered_backoff(const std::string& reason, const std::string& instance,
                              int64_t retry_in_ms, uint32_t attempt, uint32_t max_attempts);

} // namespace duroxide::runtime
