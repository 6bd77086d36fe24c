#include "runtime/services/schedule_runner.hpp"

#include "core/schedule/policy.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runtime/activity/workflow_schedule_step.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "runtime/process/wakeup.hpp"
#include "store/schedules.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace duroxide::runtime {

namespace {

namespace sched = core::schedule;

constexpr std::chrono::milliseconds kLookInterval{1000};
constexpr int kSchedulesPerLook = 20;

bool starting = false;

// Set while the runner's own start of a fire runs (the flag a client's start never sees set).
class StartingScheduledRun {
public:
    StartingScheduledRun() { starting = true; }
    ~StartingScheduledRun() { starting = false; }
    StartingScheduledRun(const StartingScheduledRun&) = delete;
    StartingScheduledRun& operator=(const StartingScheduledRun&) = delete;
};

std::int64_t unix_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

sched::Policy policy_of(const store::DueSchedule& row) {
    return {.overlap = sched::parse_overlap(row.overlap).value_or(sched::Overlap::Skip),
            .catch_up = sched::parse_catch_up(row.catch_up).value_or(sched::CatchUp::SkipMissed),
            .catch_up_max = row.catch_up_max,
            .grace_ms = 60'000};
}

// One schedule's step, in the look's transaction. Returns whether fires are still due.
bool fire(pg::SpiConnection& spi, const store::DueSchedule& row, std::int64_t now_ms,
          std::int64_t& started_total) {
    const sched::NextFire next = [&row](std::int64_t after) -> std::optional<std::int64_t> {
        return next_cron_fire_ms(row.cron, row.time_zone, after);
    };
    store::ScheduleAdvance advance{.name = row.name,
                                   .next_fire_ms = row.next_fire_ms,
                                   .pending_fire_ms = row.pending_fire_ms,
                                   .last_fire_ms = std::nullopt,
                                   .last_instance_id = std::nullopt,
                                   .started = 0,
                                   .error = std::nullopt};
    sched::Step step;
    try {
        step = sched::plan_step(policy_of(row),
                                {.next_fire_ms = row.next_fire_ms,
                                 .pending_fire_ms = row.pending_fire_ms,
                                 .previous_running = row.previous_running},
                                now_ms, next);
    } catch (const std::invalid_argument& e) {
        // The cron or zone no longer computes (a zone removed from the server): the schedule
        // stops, with the reason in list_schedules().last_error.
        advance.next_fire_ms = std::nullopt;
        advance.pending_fire_ms = std::nullopt;
        advance.error = std::string("the next fire cannot be computed: ") + e.what();
        store::advance_schedule(spi, advance);
        return false;
    }
    if (step.start.empty() && step.next_fire_ms == row.next_fire_ms &&
        step.pending_fire_ms == row.pending_fire_ms) {
        // A pending fire still waiting for the previous run: nothing to record.
        return false;
    }
    advance.next_fire_ms = step.next_fire_ms;
    advance.pending_fire_ms = step.pending_fire_ms;
    for (const std::int64_t fire_ms : step.start) {
        const std::string instance = sched::schedule_instance_id(row.name, fire_ms);
        std::string outcome;
        {
            const StartingScheduledRun flag;
            outcome = store::start_scheduled_run(spi, row.name, instance);
        }
        if (outcome == "started" || outcome == "exists") {
            advance.last_fire_ms = fire_ms;
            advance.last_instance_id = instance;
            advance.started += outcome == "started" ? 1 : 0;
        } else {
            advance.error = "fire " + instance + ": " + outcome;
        }
    }
    store::advance_schedule(spi, advance);
    started_total += advance.started;
    return step.more_due;
}

} // namespace

bool starting_scheduled_run() {
    return starting;
}

void ScheduleRunner::maintain() {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_run_) {
        return;
    }
    // Due again in a second even when this look fails (the error is reported by the caller).
    next_run_ = now + kLookInterval;
    const std::int64_t now_ms = unix_now_ms();
    bool more = false;
    std::int64_t started = 0;
    pg::WorkerTransaction transaction("duroxide: schedules");
    {
        pg::SpiConnection spi;
        begin_unit(spi, Commit::Durable);
        const std::vector<store::DueSchedule> due =
            store::lock_due_schedules(spi, now_ms, kSchedulesPerLook);
        for (const store::DueSchedule& row : due) {
            more = fire(spi, row, now_ms, started) || more;
        }
        // A full batch that started something: there may be more schedules due.
        more = more || (due.size() == static_cast<std::size_t>(kSchedulesPerLook) && started > 0);
        if (started > 0) {
            wake_at_commit(kWakeDispatchers);
        }
    }
    transaction.commit();
    if (more) {
        next_run_ = now;
    }
}

long ScheduleRunner::ms_until_due() const {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                          next_run_ - std::chrono::steady_clock::now())
                          .count();
    return std::max<long>(wait, 0);
}

} // namespace duroxide::runtime
