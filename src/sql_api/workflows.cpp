// duroxide._validate_workflow(definition text): the validator of SQL-authored workflows
// (core/workflow/definition.hpp) at the SQL boundary, for duroxide.define_workflow and the
// start of an ad-hoc definition (sql/install/75_workflows.sql). A refusal is SQLSTATE 22023
// with the JSON path of the offending node in its DETAIL. Also duroxide.cron_next_fire.
#include "core/workflow/definition.hpp"
#include "pg/guard.hpp"
#include "runtime/activity/workflow_schedule_step.hpp"
#include "sql_api/arguments.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace {

using duroxide::core::workflow::DefinitionError;
using duroxide::core::workflow::Node;
using duroxide::core::workflow::NodeKind;

// The time zones of wait_for_schedule nodes must be known to PostgreSQL (the core checks only
// their form).
void check_time_zones(const Node& n) {
    if (n.kind == NodeKind::WaitForSchedule && n.timezone &&
        !duroxide::runtime::time_zone_exists(*n.timezone)) {
        throw DefinitionError(n.path + ".timezone",
                              "time zone \"" + *n.timezone + "\" is not recognized");
    }
    for (const auto& child : n.children) {
        check_time_zones(child);
    }
}

std::string clipped(std::string s) {
    if (s.size() > 512) {
        s = s.substr(0, 512) + "...";
    }
    return s;
}

} // namespace

DUROXIDE_SQL_FUNCTION(duroxide_validate_workflow) {
    using namespace duroxide;
    const std::string definition = sql_api::required_text(fcinfo, 0, "workflow definition");
    try {
        check_time_zones(core::workflow::parse_definition_text(definition));
    } catch (const core::workflow::DefinitionError& e) {
        throw pg::SqlError(
            ERRCODE_INVALID_PARAMETER_VALUE, "invalid workflow definition: " + clipped(e.message()),
            "at " + clipped(e.path()), "See the node kinds and limits in docs/workflows.md.");
    }
    PG_RETURN_VOID();
}

// duroxide.cron_next_fire(cron text, after timestamptz, time_zone text): the first fire time
// of a cron expression strictly after `after`, read in `time_zone` (NULL: UTC); what a
// wait_for_schedule node waiting at `after` would sleep until.
DUROXIDE_SQL_FUNCTION(duroxide_cron_next_fire) {
    using namespace duroxide;
    const std::string cron = sql_api::required_text(fcinfo, 0, "cron");
    if (PG_ARGISNULL(1)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "after must not be null", "",
                           "Pass a timestamptz, such as now().");
    }
    const TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
    const std::optional<std::string> zone = sql_api::optional_text(fcinfo, 2);
    if (TIMESTAMP_NOT_FINITE(after)) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "after must be a finite time", "",
                           "Pass a timestamptz, such as now().");
    }
    // TimestampTz: microseconds since 2000-01-01 UTC.
    constexpr std::int64_t kEpochShiftMs = 946684800000LL;
    const std::int64_t after_ms = after / 1000 - (after % 1000 < 0 ? 1 : 0) + kEpochShiftMs;
    std::int64_t at = 0;
    try {
        at = runtime::next_cron_fire_ms(cron, zone, after_ms);
    } catch (const std::invalid_argument& e) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, clipped(e.what()), "",
                           "A cron expression has 5 fields: minute hour day-of-month month "
                           "day-of-week (see wait_for_schedule in docs/workflows.md); a time "
                           "zone is a name from pg_timezone_names.");
    }
    PG_RETURN_TIMESTAMPTZ((at - kEpochShiftMs) * 1000);
}
