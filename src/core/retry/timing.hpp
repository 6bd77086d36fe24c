// The runtime's timing rules (reference §4.1, §4.2): how long to back off from a message whose
// handler is not registered, and how often to renew a lock before it expires.
#pragma once

#include <chrono>
#include <cstdint>

namespace duroxide::core {

using Millis = std::chrono::milliseconds;

// base * 2^min(attempt-1, 6), capped at `max` (defaults 1 s and 60 s): a rolling deployment
// gets time to bring the handler, and after max_attempts the message is poison.
Millis unregistered_backoff(std::uint32_t attempt, Millis base = Millis(1000),
                            Millis max = Millis(60000));

// Timeouts of 15 s or more renew `buffer` before expiry; shorter ones at half the timeout
// (rounded up); never more often than once a second.
Millis lock_renewal_interval(Millis lock_timeout, Millis buffer);

} // namespace duroxide::core
