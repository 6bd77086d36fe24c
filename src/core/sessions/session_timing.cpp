#include "core/sessions/session_timing.hpp"

#include "core/engine/activity_fiber.hpp"

#include <algorithm>

namespace duroxide::core {

milliseconds renewal_interval(milliseconds timeout, milliseconds buffer) {
    const milliseconds interval =
        timeout >= milliseconds(15'000) ? timeout - buffer : (timeout + milliseconds(1)) / 2;
    return std::max(interval, milliseconds(1'000));
}

SessionTimings validate_session_timings(milliseconds session_lock_timeout,
                                        milliseconds session_idle_timeout,
                                        milliseconds worker_lock_timeout) {
    SessionTimings timings{session_lock_timeout, session_idle_timeout, std::nullopt};
    const milliseconds activity_renewal = renewal_interval(worker_lock_timeout);
    if (session_idle_timeout <= activity_renewal) {
        timings.idle_timeout = activity_renewal + session_lock_timeout;
        timings.warning = "duroxide.session_idle_timeout (" +
                          std::to_string(session_idle_timeout.count()) +
                          " ms) must be longer than the renewal period of activity leases (" +
                          std::to_string(activity_renewal.count()) +
                          " ms, from duroxide.worker_lock_timeout); using " +
                          std::to_string(timings.idle_timeout.count()) + " ms";
    }
    return timings;
}

} // namespace duroxide::core
