#include "runtime/activity/workflow_schedule_step.hpp"

#include "core/schedule/cron.hpp"
#include "core/workflow/json.hpp"
#include "pg/guard.hpp"
#include "runtime/activity/workflow_sql_step.hpp"

#include <chrono>
#include <stdexcept>

extern "C" {
#include "pgtime.h"
#include "utils/datetime.h"
}

namespace duroxide::runtime {

namespace {

namespace sched = core::schedule;

pg_tz* zone_rules(const std::string& name) {
    return pg::call([&name] { return pg_tzset(name.c_str()); });
}

// The wall-clock minute in `tz` of the instant `ms`.
sched::CivilMinute local_minute(pg_tz* tz, std::int64_t ms) {
    const pg_time_t seconds = static_cast<pg_time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    struct Fields {
        int year, month, day, hour, minute;
    };
    const Fields f = pg::call([tz, seconds] {
        const struct pg_tm* tm = pg_localtime(&seconds, tz);
        return tm ? Fields{tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min}
                  : Fields{0, 0, 0, 0, 0};
    });
    if (f.month == 0) {
        throw std::invalid_argument("the time is outside the time zone's range");
    }
    return {f.year, f.month, f.day, f.hour, f.minute};
}

// The instant of the wall-clock minute `t` in `tz` (PostgreSQL's rule for skipped and
// repeated local times, as `timestamp AT TIME ZONE`).
std::int64_t utc_ms(pg_tz* tz, const sched::CivilMinute& t) {
    const int offset_s = pg::call([tz, &t] {
        struct pg_tm tm = {};
        tm.tm_year = t.year; // full year, month 1-12: datetime.c's convention
        tm.tm_mon = t.month;
        tm.tm_mday = t.day;
        tm.tm_hour = t.hour;
        tm.tm_min = t.minute;
        return DetermineTimeZoneOffset(&tm, tz);
    });
    // PostgreSQL's offsets are seconds west of Greenwich: UTC = local + offset.
    return sched::unix_ms_from_civil(t) + static_cast<std::int64_t>(offset_s) * 1000;
}

} // namespace

bool time_zone_exists(const std::string& name) {
    return zone_rules(name) != nullptr;
}

std::int64_t next_cron_fire_ms(std::string_view cron, const std::optional<std::string>& zone,
                               std::int64_t after_ms) {
    const sched::CronSchedule schedule = sched::CronSchedule::parse(cron);
    if (!zone) {
        if (auto next = schedule.next_after_utc_ms(after_ms)) {
            return *next;
        }
        throw std::invalid_argument("the cron expression does not fire within " +
                                    std::to_string(sched::CronSchedule::kSearchYears) + " years");
    }
    pg_tz* const tz = zone_rules(*zone);
    if (tz == nullptr) {
        std::string shown = zone->substr(0, 64);
        throw std::invalid_argument("time zone \"" + shown + "\" is not recognized");
    }
    // Candidates in local time; one that maps to an instant not after `after_ms` (a repeated
    // hour, or a skipped one mapped back) gives way to the next.
    sched::CivilMinute from = local_minute(tz, after_ms);
    for (int tries = 0; tries < 200; ++tries) {
        const std::optional<sched::CivilMinute> next = schedule.next_after(from);
        if (!next) {
            break;
        }
        const std::int64_t at = utc_ms(tz, *next);
        if (at > after_ms) {
            return at;
        }
        from = *next;
    }
    throw std::invalid_argument("the cron expression does not fire within " +
                                std::to_string(sched::CronSchedule::kSearchYears) + " years");
}

std::string run_workflow_schedule_step(const core::work::ActivityExecute& item) {
    using core::workflow::Json;
    using core::workflow::JsonObject;
    Json input;
    try {
        input = Json::parse(item.input);
    } catch (const std::exception&) {
        throw WorkflowStepError("wait_for_schedule: the input is not JSON");
    }
    const Json* cron = input.find("cron");
    const Json* zone = input.find("timezone");
    if (!input.is_object() || cron == nullptr || !cron->is_string() ||
        (zone != nullptr && !zone->is_null() && !zone->is_string())) {
        throw WorkflowStepError("wait_for_schedule: the input must be {\"cron\": text, "
                                "\"timezone\": text or null}");
    }
    std::optional<std::string> zone_name;
    if (zone != nullptr && zone->is_string()) {
        zone_name = zone->as_string();
    }
    using namespace std::chrono;
    const std::int64_t now =
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    std::int64_t at = 0;
    try {
        at = next_cron_fire_ms(cron->as_string(), zone_name, now);
    } catch (const std::invalid_argument& e) {
        throw WorkflowStepError(std::string("wait_for_schedule: ") + e.what());
    }
    JsonObject out;
    out["fire_at"] = Json(sched::iso8601_utc(sched::civil_from_unix_ms(at)));
    out["fire_at_ms"] = Json(at);
    return Json(std::move(out)).dump();
}

} // namespace duroxide::runtime
