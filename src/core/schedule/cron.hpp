// Standard 5-field cron expressions and "the next fire time after t", in civil (wall-clock)
// time: no time zone rules here (the caller converts; runtime/activity/workflow_schedule_step
// does it with PostgreSQL's zone data). Used by the workflow node wait_for_schedule and meant
// for recurring schedules (issue 22).
//
// Syntax (docs/workflows.md, "wait_for_schedule"): five fields separated by blanks,
//   minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or
//   SUN-SAT (0 and 7 are Sunday);
// each field a comma list of `*`, `N`, `A-B`, with an optional `/STEP` after `*`, `A-B` or `N`
// (`N/STEP` runs from N to the field's maximum). Names are case-insensitive and may be range
// ends (MON-FRI). Macros: @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly.
// Day of month and day of week: when both fields are restricted (neither starts with `*`), a
// day matches if EITHER matches (the usual cron rule); otherwise both must match.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace duroxide::core::schedule {

class CronError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// A civil minute: year, month 1-12, day 1-31, hour 0-23, minute 0-59.
struct CivilMinute {
    int year = 1970, month = 1, day = 1, hour = 0, minute = 0;
    friend bool operator==(const CivilMinute&, const CivilMinute&) = default;
};

// Days since 1970-01-01 of a civil date (proleptic Gregorian), and back.
std::int64_t days_from_civil(int year, int month, int day);
// 0 = Sunday ... 6 = Saturday.
int weekday(int year, int month, int day);
int days_in_month(int year, int month);
// Unix milliseconds <-> UTC civil minute (seconds and milliseconds truncated).
CivilMinute civil_from_unix_ms(std::int64_t ms);
std::int64_t unix_ms_from_civil(const CivilMinute& t);
// "2026-12-08T09:00:00Z" for a UTC civil minute.
std::string iso8601_utc(const CivilMinute& t);

class CronSchedule {
public:
    // Throws CronError with a message naming the offending field.
    static CronSchedule parse(std::string_view expression);

    bool matches(const CivilMinute& t) const;
    // The first civil minute strictly after `after` that matches; nullopt when none comes
    // within kSearchYears (parse rejects expressions that can never fire, so this happens only
    // near the end of the supported range).
    std::optional<CivilMinute> next_after(const CivilMinute& after) const;
    // The same in UTC: the first matching instant strictly after `after_ms` (Unix ms).
    std::optional<std::int64_t> next_after_utc_ms(std::int64_t after_ms) const;

    static constexpr int kSearchYears = 30;

private:
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_;    // 1-31
    std::bitset<13> months_;  // 1-12
    std::bitset<7> weekdays_; // 0-6, Sunday = 0
    bool days_restricted_ = false, weekdays_restricted_ = false;

    bool day_matches(int year, int month, int day) const;
};

} // namespace duroxide::core::schedule
