// Running a plugin activity on a fiber. The activity's ctx.sql(), ctx.heartbeat() and
// ctx.is_cancelled() suspend the fiber; on the main stack the runner asks the host (the
// activity worker, or a fake in the unit tests) to keep the lease and to run the statement,
// then resumes the fiber with the answer. Fibers never call PostgreSQL (DESIGN.md §3): only
// the host does, and only here, between resumes.
//
// Cancellation: once the host reports the lease lost (the row was deleted by a cancellation,
// or the lease expired or was taken over), ctx.is_cancelled() is true and ctx.sql() throws
// ActivityCancelled; what the activity returns is dropped. If it is still running once the
// grace period has passed since then, its next suspension point unwinds its fiber (its
// destructors run) and the activity is dropped.
#pragma once

#include "core/engine/activity_runner.hpp"
#include "core/fiber/stack_pool.hpp"
#include "duroxide/activity_context.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace duroxide::core {

using SteadyClock = std::chrono::steady_clock;

// When a lease taken for `lock_timeout` is due for renewal: after half of it (at least 1 ms).
// duroxide renews from a timer at `lock_timeout - 5 s`; here renewal happens only at the
// activity's suspension points, so the other half of the lease is the slack for the gap
// between two of them.
std::chrono::milliseconds renewal_interval(std::chrono::milliseconds lock_timeout);
// How often a running activity looks whether its lease is still its own (a cancellation
// deletes it): every second, or at each renewal when that is more often.
std::chrono::milliseconds lease_check_interval(std::chrono::milliseconds lock_timeout);

// The schedule of one periodic lease operation (renewal, check).
class LeaseSchedule {
public:
    LeaseSchedule(SteadyClock::time_point taken, std::chrono::milliseconds interval)
        : interval_(interval), next_(taken + interval) {}
    bool due(SteadyClock::time_point now) const { return now >= next_; }
    void renewed(SteadyClock::time_point now) { next_ = now + interval_; }

private:
    std::chrono::milliseconds interval_;
    SteadyClock::time_point next_;
};

// What the runner needs from the worker. Called on the main stack only.
class ActivityHost {
public:
    virtual ~ActivityHost() = default;
    // Runs a statement of ctx.sql(). Throws ActivitySqlError for an SQL error the activity may
    // catch; any other exception ends the run (the fiber is unwound) and leaves the runner.
    virtual SqlResult run_sql(std::string_view query,
                              std::span<const std::optional<std::string>> params) = 0;
    // At each suspension point: renews the lease when due; false once it is no longer the
    // activity's (cancelled, expired, taken over).
    virtual bool keep_lease() = 0;
    virtual SteadyClock::time_point now() = 0;
};

struct ActivityRun {
    enum class Outcome {
        Finished,  // returned or threw before any cancellation: `completion` holds the result
        Cancelled, // returned after its cancellation: the result is dropped
        Unwound,   // still running after the grace period: its fiber was unwound
    };
    Outcome outcome = Outcome::Finished;
    std::optional<WorkItem> completion; // ActivityCompleted / ActivityFailed when Finished
    bool used_sql = false;              // whether it ran any statement through ctx.sql()
};

ActivityRun run_activity_on_fiber(const ActivityFn& handler, const work::ActivityExecute& item,
                                  const ActivityEnvironment& environment, StackPool& stacks,
                                  ActivityHost& host, std::chrono::milliseconds grace_period);

} // namespace duroxide::core
