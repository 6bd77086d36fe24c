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

// How often a session lease of `lock_timeout` is renewed (duroxide's 5 s buffer): by the
// worker's session upkeep between activities, and by a running session activity at its
// suspension points.
inline constexpr milliseconds kSessionRenewalBuffer{5000};
inline milliseconds session_renewal_interval(milliseconds lock_timeout) {
    return renewal_interval(lock_timeout, kSessionRenewalBuffer);
}

struct SessionTimings {
    milliseconds lock_timeout;
    milliseconds idle_timeout;
    // Set when the configured idle timeout was unsafe and replaced: why.
    std::optional<std::string> warning;
};

// The idle timeout must outlast the renewal period of an activity lease (half of
// worker_lock_timeout, as the activity worker renews it), or a session would be unpinned while
// its activity still runs: a shorter one is replaced by that period plus the session lock
// timeout, with a warning.
SessionTimings validate_session_timings(milliseconds session_lock_timeout,
                                        milliseconds session_idle_timeout,
                                        milliseconds worker_lock_timeout);

} // namespace duroxide::core
