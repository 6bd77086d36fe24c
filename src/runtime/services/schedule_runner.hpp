// Recurring schedules (duroxide.create_schedule): every dispatcher looks for due schedules
// about once a second and fires them. One transaction per look: the due schedules are locked
// FOR UPDATE SKIP LOCKED (a schedule another dispatcher is firing is left to it), each one's
// step is planned by the core (core/schedule/policy.hpp), its runs are started as the
// schedule's owner with deterministic ids (schedule:<name>:<fire time>; a fire started before
// is found and not started again) and the schedule is advanced, all committed together: a
// crash before the commit loses the whole look and the next one does it again.
#pragma once

#include <chrono>
#include <optional>

namespace duroxide::runtime {

class ScheduleRunner {
public:
    // Fires the due schedules when a look is due; a look that left fires due (a long backfill)
    // makes the next one due at once.
    void maintain();
    // Milliseconds until the next look.
    long ms_until_due() const;

private:
    std::chrono::steady_clock::time_point next_run_{};
};

// Whether this process is starting a schedule's run now: only then may start_orchestration
// accept an id of the reserved form "schedule:..." (clients may not start them by hand).
bool starting_scheduled_run();

} // namespace duroxide::runtime
