#include "core/engine/activity_fiber.hpp"

#include "core/fiber/fiber.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>

namespace duroxide::core {

std::chrono::milliseconds renewal_interval(std::chrono::milliseconds lock_timeout) {
    return std::max(lock_timeout / 2, std::chrono::milliseconds(1));
}

std::chrono::milliseconds lease_check_interval(std::chrono::milliseconds lock_timeout) {
    return std::min(renewal_interval(lock_timeout), std::chrono::milliseconds(1000));
}

namespace {

// The fiber side of a suspension: what the activity asks for, and the answer it resumes with.
// The request's views point into the activity's frame, which lives while it is suspended.
struct Exchange {
    bool wants_sql = false;
    std::string_view query;
    std::span<const std::optional<std::string>> params;
    SqlResult result;
    std::exception_ptr error;
    bool cancelled = false;
};

// Suspending in a catch block or during unwinding would let the main stack's exception
// handling interleave with the fiber's: in those places only the known answer is given.
bool may_suspend() {
    return std::uncaught_exceptions() == 0 && !std::current_exception();
}

class FiberChannel final : public ActivityChannel {
public:
    explicit FiberChannel(Exchange& exchange) : exchange_(exchange) {}

    SqlResult sql(std::string_view query, std::vector<std::optional<std::string>> params) override {
        if (!may_suspend()) {
            throw std::logic_error("ctx.sql() cannot run in a catch block or a destructor");
        }
        exchange_.wants_sql = true;
        exchange_.query = query;
        exchange_.params = params;
        Fiber::suspend();
        exchange_.wants_sql = false;
        if (exchange_.error) {
            std::exception_ptr error = std::exchange(exchange_.error, nullptr);
            std::rethrow_exception(error);
        }
        return std::move(exchange_.result);
    }

    bool suspend() override {
        if (may_suspend()) {
            Fiber::suspend();
        }
        return exchange_.cancelled;
    }

private:
    Exchange& exchange_;
};

} // namespace

ActivityRun run_activity_on_fiber(const ActivityFn& handler, const work::ActivityExecute& item,
                                  const ActivityEnvironment& environment, StackPool& stacks,
                                  ActivityHost& host, std::chrono::milliseconds grace_period) {
    ActivityRun run;
    Exchange exchange;
    FiberChannel channel(exchange);
    ActivityEnvironment lent = environment;
    lent.channel = &channel;
    std::exception_ptr host_error;
    std::optional<SteadyClock::time_point> cancelled_at;
    {
        // Destroyed at the end of this scope; still suspended, it is unwound (forced_unwind).
        Fiber fiber(stacks, [&] { run.completion = run_activity(handler, item, lent); });
        try {
            while (!fiber.resume()) {
                if (!cancelled_at && !host.keep_lease()) {
                    cancelled_at = host.now();
                    exchange.cancelled = true;
                }
                if (cancelled_at && host.now() - *cancelled_at >= grace_period) {
                    run.outcome = ActivityRun::Outcome::Unwound;
                    break;
                }
                if (!exchange.wants_sql) {
                    continue;
                }
                if (cancelled_at) {
                    exchange.error = std::make_exception_ptr(ActivityCancelled(
                        "activity " + item.name + " is cancelled: its statements cannot commit"));
                    continue;
                }
                run.used_sql = true;
                try {
                    exchange.result = host.run_sql(exchange.query, exchange.params);
                } catch (const ActivitySqlError&) {
                    exchange.error = std::current_exception();
                }
            }
        } catch (...) {
            host_error = std::current_exception();
        }
        if (fiber.error()) {
            // run_activity catches everything the activity throws; this is a runner fault.
            host_error = fiber.error();
        }
    }
    if (host_error) {
        std::rethrow_exception(host_error);
    }
    if (run.outcome == ActivityRun::Outcome::Unwound) {
        run.completion.reset();
    } else if (cancelled_at) {
        run.outcome = ActivityRun::Outcome::Cancelled;
        run.completion.reset();
    }
    return run;
}

} // namespace duroxide::core
