// Timing of session leases (duroxide's rules, pure arithmetic so they are unit-tested).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace duroxide::core {

using std::chrono::milliseconds;

// How often a lease of `timeout` is renewed: timeout - buffer for timeouts of 15 s and more,
// half the timeout below that; never under one second.
milliseconds renewal_interval(milliseconds timeout, milliseconds buffer);

struct SessionTimings {
    milliseconds lock_timeout;
    milliseconds idle_timeout;
    // Set when the configured idle timeout was unsafe and replaced: why.
    std::optional<std::string> warning;
};

// The idle timeout must outlast the renewal period of an activity lease (worker_lock_timeout
// with a 30 s buffer), or a session would be unpinned while its activity still runs: a shorter
// one is replaced by that period plus the session lock timeout, with a warning.
SessionTimings validate_session_timings(milliseconds session_lock_timeout,
                                        milliseconds session_idle_timeout,
                                        milliseconds worker_lock_timeout);

} // namespace duroxide::core
