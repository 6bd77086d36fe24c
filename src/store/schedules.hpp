// Recurring schedules (duroxide.schedules, sql/objects/82_schedules.sql): what the runner
// (runtime/services/schedule_runner.cpp) reads and writes, in the caller's transaction. The
// policy of a step is the core's (core/schedule/policy.hpp); these operations only move rows.
#pragma once

#include "pg/spi.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace duroxide::store {

struct DueSchedule {
    std::string name;
    std::string cron;
    std::optional<std::string> time_zone;
    std::string overlap;  // core::schedule::parse_overlap
    std::string catch_up; // core::schedule::parse_catch_up
    int catch_up_max = 1;
    std::optional<std::int64_t> next_fire_ms;
    std::optional<std::int64_t> pending_fire_ms;
    bool previous_running = false; // the last started run is not terminal (or still queued)
};

// Up to `limit` schedules not paused that have a fire due at `now_ms` or a pending fire, locked
// FOR UPDATE (SKIP LOCKED: a schedule another dispatcher is firing is left to it).
std::vector<DueSchedule> lock_due_schedules(pg::SpiConnection& spi, std::int64_t now_ms, int limit);

// Starts one fire as the schedule's owner (duroxide._schedule_start): "started", "exists"
// (started before) or the error as "SQLSTATE: message".
std::string start_scheduled_run(pg::SpiConnection& spi, const std::string& name,
                                const std::string& instance);

struct ScheduleAdvance {
    std::string name;
    std::optional<std::int64_t> next_fire_ms;
    std::optional<std::int64_t> pending_fire_ms;
    std::optional<std::int64_t> last_fire_ms;    // nullopt: unchanged (nothing started)
    std::optional<std::string> last_instance_id; // nullopt: unchanged
    std::int64_t started = 0;
    std::optional<std::string> error; // nullopt: cleared when something started, else kept
};

// Records a step of one schedule.
void advance_schedule(pg::SpiConnection& spi, const ScheduleAdvance& advance);

} // namespace duroxide::store
