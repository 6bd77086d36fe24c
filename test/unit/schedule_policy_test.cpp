// Recurring schedules' policy (src/core/schedule/policy): catch-up after downtime, overlap,
// deterministic ids. The clock is a value each test chooses; fires come from the real cron
// parser in UTC.
#include "core/schedule/cron.hpp"
#include "core/schedule/policy.hpp"
#include "core/replay/child_ids.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sched = duroxide::core::schedule;
using sched::CatchUp;
using sched::Overlap;

namespace {

std::int64_t at(int year, int month, int day, int hour, int minute) {
    return sched::unix_ms_from_civil({year, month, day, hour, minute});
}

struct Cron {
    sched::CronSchedule schedule;
    int calls = 0;
    sched::NextFire next() {
        return [this](std::int64_t after) {
            ++calls;
            return schedule.next_after_utc_ms(after);
        };
    }
};

Cron cron(std::string_view expression) {
    return {.schedule = sched::CronSchedule::parse(expression), .calls = 0};
}

sched::Policy policy(CatchUp catch_up, Overlap overlap = Overlap::AllowAll, int max = 1) {
    return {.overlap = overlap, .catch_up = catch_up, .catch_up_max = max, .grace_ms = 60'000};
}

sched::State state(std::int64_t next, bool running = false,
                   std::optional<std::int64_t> pending = std::nullopt) {
    return {.next_fire_ms = next, .pending_fire_ms = pending, .previous_running = running};
}

std::vector<std::int64_t> hours(int from, int to) { // fires at HH:00 on 2026-12-07
    std::vector<std::int64_t> out;
    for (int h = from; h <= to; ++h) {
        out.push_back(at(2026, 12, 7, h, 0));
    }
    return out;
}

} // namespace

TEST(SchedulePolicy, NothingDueBeforeTheNextFire) {
    Cron hourly = cron("0 * * * *");
    const auto step = sched::plan_step(policy(CatchUp::BackfillAll), state(at(2026, 12, 7, 10, 0)),
                                       at(2026, 12, 7, 9, 59), hourly.next());
    EXPECT_TRUE(step.start.empty());
    EXPECT_EQ(step.next_fire_ms, at(2026, 12, 7, 10, 0));
    EXPECT_FALSE(sched::needs_step(state(at(2026, 12, 7, 10, 0)), at(2026, 12, 7, 9, 59)));
    EXPECT_TRUE(sched::needs_step(state(at(2026, 12, 7, 10, 0)), at(2026, 12, 7, 10, 0)));
}

TEST(SchedulePolicy, OnTimeFireStartsUnderEveryCatchUpPolicy) {
    for (const CatchUp c :
         {CatchUp::SkipMissed, CatchUp::RunOnce, CatchUp::BackfillAll, CatchUp::Bounded}) {
        Cron hourly = cron("0 * * * *");
        const auto step = sched::plan_step(policy(c), state(at(2026, 12, 7, 10, 0)),
                                           at(2026, 12, 7, 10, 0) + 1500, hourly.next());
        EXPECT_EQ(step.start, hours(10, 10)) << sched::catch_up_name(c);
        EXPECT_EQ(step.next_fire_ms, at(2026, 12, 7, 11, 0));
        EXPECT_FALSE(step.more_due);
    }
}

// Down from 03:30 to 09:10: the fires of 04:00 to 09:00 were missed.
TEST(SchedulePolicy, CatchUpAfterDowntime) {
    const std::int64_t now = at(2026, 12, 7, 9, 10);
    const auto first = state(at(2026, 12, 7, 4, 0));
    Cron hourly = cron("0 * * * *");
    EXPECT_TRUE(
        sched::plan_step(policy(CatchUp::SkipMissed), first, now, hourly.next()).start.empty());
    EXPECT_EQ(sched::plan_step(policy(CatchUp::RunOnce), first, now, hourly.next()).start,
              hours(9, 9));
    EXPECT_EQ(sched::plan_step(policy(CatchUp::BackfillAll), first, now, hourly.next()).start,
              hours(4, 9));
    EXPECT_EQ(
        sched::plan_step(policy(CatchUp::Bounded, Overlap::AllowAll, 3), first, now, hourly.next())
            .start,
        hours(7, 9));
    // More than were missed: all of them.
    EXPECT_EQ(
        sched::plan_step(policy(CatchUp::Bounded, Overlap::AllowAll, 50), first, now, hourly.next())
            .start,
        hours(4, 9));
    for (const CatchUp c : {CatchUp::SkipMissed, CatchUp::RunOnce, CatchUp::BackfillAll}) {
        EXPECT_EQ(sched::plan_step(policy(c), first, now, hourly.next()).next_fire_ms,
                  at(2026, 12, 7, 10, 0));
    }
}

TEST(SchedulePolicy, SkipMissedKeepsFiresInsideTheGrace) {
    Cron minutely = cron("* * * * *");
    // 10:00 is 59 s old (on time), 09:59 is 119 s old (missed).
    const auto step = sched::plan_step(policy(CatchUp::SkipMissed), state(at(2026, 12, 7, 9, 50)),
                                       at(2026, 12, 7, 10, 0) + 59'000, minutely.next());
    EXPECT_EQ(step.start, std::vector<std::int64_t>{at(2026, 12, 7, 10, 0)});
}

TEST(SchedulePolicy, LongDowntimeIsNotWalkedFireByFire) {
    // A year down with a fire every minute: run_once and bounded look back, they do not walk
    // the half million missed fires.
    Cron minutely = cron("* * * * *");
    const std::int64_t now = at(2026, 12, 7, 9, 10) + 30'000;
    const auto step = sched::plan_step(policy(CatchUp::Bounded, Overlap::AllowAll, 2),
                                       state(at(2025, 12, 7, 0, 0)), now, minutely.next());
    EXPECT_EQ(step.start,
              (std::vector<std::int64_t>{at(2026, 12, 7, 9, 9), at(2026, 12, 7, 9, 10)}));
    EXPECT_LT(minutely.calls, 200);
}

TEST(SchedulePolicy, BackfillIsBoundedPerStepAndContinues) {
    Cron minutely = cron("* * * * *");
    const std::int64_t now = at(2026, 12, 7, 12, 0);
    auto s = state(at(2026, 12, 7, 9, 0)); // 181 fires due
    std::vector<std::int64_t> started;
    for (int steps = 0; steps < 5; ++steps) {
        const auto step = sched::plan_step(policy(CatchUp::BackfillAll), s, now, minutely.next());
        EXPECT_LE(step.start.size(), static_cast<std::size_t>(sched::kMaxStartsPerStep));
        started.insert(started.end(), step.start.begin(), step.start.end());
        s.next_fire_ms = step.next_fire_ms;
        if (!step.more_due) {
            break;
        }
    }
    ASSERT_EQ(started.size(), 181U);
    EXPECT_EQ(started.front(), at(2026, 12, 7, 9, 0));
    EXPECT_EQ(started.back(), at(2026, 12, 7, 12, 0));
    EXPECT_EQ(s.next_fire_ms, at(2026, 12, 7, 12, 1));
}

TEST(SchedulePolicy, OverlapSkip) {
    Cron hourly = cron("0 * * * *");
    const std::int64_t now = at(2026, 12, 7, 10, 0);
    const auto p = policy(CatchUp::BackfillAll, Overlap::Skip);
    // The previous run still runs: this fire is dropped, the schedule moves on.
    auto step = sched::plan_step(p, state(now, true), now, hourly.next());
    EXPECT_TRUE(step.start.empty());
    EXPECT_FALSE(step.pending_fire_ms);
    EXPECT_EQ(step.next_fire_ms, at(2026, 12, 7, 11, 0));
    // Not running: one run, even when several fires are due.
    step = sched::plan_step(p, state(at(2026, 12, 7, 8, 0)), now, hourly.next());
    EXPECT_EQ(step.start, hours(8, 8));
    EXPECT_FALSE(step.pending_fire_ms);
}

TEST(SchedulePolicy, OverlapBufferOne) {
    Cron hourly = cron("0 * * * *");
    const auto p = policy(CatchUp::BackfillAll, Overlap::BufferOne);
    // Running: the fire waits as the pending one.
    auto step = sched::plan_step(p, state(at(2026, 12, 7, 10, 0), true), at(2026, 12, 7, 10, 0),
                                 hourly.next());
    EXPECT_TRUE(step.start.empty());
    EXPECT_EQ(step.pending_fire_ms, at(2026, 12, 7, 10, 0));
    // Still running an hour later: the pending one is kept, the new fire dropped.
    step = sched::plan_step(p, state(at(2026, 12, 7, 11, 0), true, at(2026, 12, 7, 10, 0)),
                            at(2026, 12, 7, 11, 0), hourly.next());
    EXPECT_TRUE(step.start.empty());
    EXPECT_EQ(step.pending_fire_ms, at(2026, 12, 7, 10, 0));
    EXPECT_TRUE(sched::needs_step(state(at(2026, 12, 7, 12, 0), true, at(2026, 12, 7, 10, 0)),
                                  at(2026, 12, 7, 11, 30)));
    // The previous run ended between fires: the pending one starts now.
    step = sched::plan_step(p, state(at(2026, 12, 7, 12, 0), false, at(2026, 12, 7, 10, 0)),
                            at(2026, 12, 7, 11, 30), hourly.next());
    EXPECT_EQ(step.start, hours(10, 10));
    EXPECT_FALSE(step.pending_fire_ms);
    EXPECT_EQ(step.next_fire_ms, at(2026, 12, 7, 12, 0));
    // Not running, several due: the first starts, the second waits, the rest are dropped.
    step = sched::plan_step(p, state(at(2026, 12, 7, 7, 0)), at(2026, 12, 7, 10, 0), hourly.next());
    EXPECT_EQ(step.start, hours(7, 7));
    EXPECT_EQ(step.pending_fire_ms, at(2026, 12, 7, 8, 0));
}

TEST(SchedulePolicy, OverlapAllowAllStartsEveryCandidate) {
    Cron hourly = cron("0 * * * *");
    const auto step =
        sched::plan_step(policy(CatchUp::BackfillAll, Overlap::AllowAll),
                         state(at(2026, 12, 7, 8, 0), true), at(2026, 12, 7, 10, 0), hourly.next());
    EXPECT_EQ(step.start, hours(8, 10));
}

TEST(SchedulePolicy, NeverFiresAgain) {
    const sched::NextFire none = [](std::int64_t) { return std::optional<std::int64_t>{}; };
    const auto step = sched::plan_step(policy(CatchUp::RunOnce), state(at(2026, 12, 7, 10, 0)),
                                       at(2026, 12, 7, 10, 5), none);
    EXPECT_EQ(step.start, hours(10, 10));
    EXPECT_FALSE(step.next_fire_ms);
}

TEST(SchedulePolicy, PolicyNames) {
    for (const auto o : {Overlap::Skip, Overlap::BufferOne, Overlap::AllowAll}) {
        EXPECT_EQ(sched::parse_overlap(sched::overlap_name(o)), o);
    }
    for (const auto c :
         {CatchUp::SkipMissed, CatchUp::RunOnce, CatchUp::BackfillAll, CatchUp::Bounded}) {
        EXPECT_EQ(sched::parse_catch_up(sched::catch_up_name(c)), c);
    }
    EXPECT_FALSE(sched::parse_overlap("Skip"));
    EXPECT_FALSE(sched::parse_catch_up("backfill"));
}

TEST(ScheduleIds, DeterministicAndReserved) {
    EXPECT_EQ(sched::schedule_instance_id("nightly", at(2026, 12, 8, 9, 0)),
              "schedule:nightly:2026-12-08T09:00:00Z");
    EXPECT_EQ(sched::schedule_instance_id("nightly", at(2026, 12, 8, 9, 0) + 59'999),
              sched::schedule_instance_id("nightly", at(2026, 12, 8, 9, 0)));
    EXPECT_TRUE(sched::is_schedule_instance_id("schedule:x:2026-12-08T09:00:00Z"));
    EXPECT_TRUE(sched::is_schedule_instance_id("schedule:"));
    EXPECT_FALSE(sched::is_schedule_instance_id("my-schedule:x"));
    EXPECT_FALSE(sched::is_schedule_instance_id("Schedule:x"));
}

TEST(ScheduleIds, NoChildTakesAScheduleId) {
    const auto problem = duroxide::core::child_id_problem("schedule:nightly:2026-12-08T09:00:00Z",
                                                          "p", std::nullopt);
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find("reserved for recurring schedules"), std::string::npos);
    EXPECT_FALSE(duroxide::core::child_id_problem("nightly-child", "p", std::nullopt).has_value());
}
