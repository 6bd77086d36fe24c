// Recurring schedules (duroxide.create_schedule, docs/user-guide.md "Recurring schedules"): which
// fires of a schedule start now, what is remembered for later, and the deterministic instance
// id of a fire. Pure: the caller gives the clock and the cron arithmetic (a NextFire, which in
// the runtime reads the schedule's time zone with PostgreSQL's rules,
// runtime/activity/workflow_schedule_step.hpp); the runner (runtime/services/schedule_runner)
// reads and writes the rows.
//
// A step looks at the fires due at `now` (fire time <= now, from the schedule's next fire on):
//   catch-up policy, which of them are candidates:
//     skip_missed  - only those not older than the grace period (on time); missed ones dropped
//     run_once     - only the latest one
//     backfill_all - every one, oldest first (at most kMaxStartsPerStep per step; the rest
//                    stays due for the next step)
//     bounded      - the latest catch_up_max
//   overlap policy, which candidates start (the previous run is the schedule's last started
//   instance; "running" means it is not terminal):
//     skip       - none while the previous run is running; otherwise the first candidate, the
//                  others dropped
//     buffer_one - while the previous run is running, the first candidate is remembered as the
//                  pending fire (one at most; later ones are dropped); otherwise the pending fire
//                  or the first candidate starts and the next one becomes pending
//     allow_all  - every candidate
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core::schedule {

enum class Overlap { Skip, BufferOne, AllowAll };
enum class CatchUp { SkipMissed, RunOnce, BackfillAll, Bounded };

std::optional<Overlap> parse_overlap(std::string_view name);
std::optional<CatchUp> parse_catch_up(std::string_view name);
std::string_view overlap_name(Overlap overlap);
std::string_view catch_up_name(CatchUp catch_up);

// The first fire strictly after `after_ms` (Unix ms); nullopt when the schedule never fires
// again.
using NextFire = std::function<std::optional<std::int64_t>(std::int64_t after_ms)>;

struct Policy {
    Overlap overlap = Overlap::Skip;
    CatchUp catch_up = CatchUp::SkipMissed;
    int catch_up_max = 1;           // bounded: how many of the latest missed fires run
    std::int64_t grace_ms = 60'000; // skip_missed: a fire older than this at `now` is missed
};

struct State {
    std::optional<std::int64_t> next_fire_ms;    // the first fire not yet considered
    std::optional<std::int64_t> pending_fire_ms; // buffer_one's remembered fire
    bool previous_running = false;               // the last started run is not terminal
};

struct Step {
    std::vector<std::int64_t> start;             // fires to start now, oldest first
    std::optional<std::int64_t> next_fire_ms;    // the schedule's next fire afterwards
    std::optional<std::int64_t> pending_fire_ms; // the pending fire afterwards
    bool more_due = false;                       // next_fire_ms is due already (backfill)
};

inline constexpr int kMaxStartsPerStep = 100;

// What a schedule in `state` does at `now_ms` under `policy`.
Step plan_step(const Policy& policy, const State& state, std::int64_t now_ms,
               const NextFire& next_fire);

// Whether anything of the schedule needs a look at `now_ms`: a fire is due, or a pending fire
// waits (for the previous run to end).
bool needs_step(const State& state, std::int64_t now_ms);

// The instance id of a fire: "schedule:<name>:<fire time, ISO 8601 UTC>"; the same fire always
// has the same id, so starting it twice starts it once.
inline constexpr std::string_view kScheduleIdPrefix = "schedule:";
std::string schedule_instance_id(std::string_view name, std::int64_t fire_ms);
// Whether a client-given instance id has the shape reserved for schedules' runs.
bool is_schedule_instance_id(std::string_view instance);

} // namespace duroxide::core::schedule
