// The `wait_for_schedule` step of SQL-authored workflows (core/workflow/interpreter.hpp,
// kWorkflowScheduleActivity): the next fire time of a cron expression, in a time zone whose
// rules are PostgreSQL's (the cron arithmetic itself is core/schedule/cron.hpp). Also behind
// duroxide.cron_next_fire.
#pragma once

#include "core/model/work_item.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duroxide::runtime {

// The first fire time of `cron` strictly after `after_ms` (Unix ms), the expression read as
// wall-clock time in `zone` (nullopt: UTC). A local time that a daylight-saving change skips
// is taken with the offset before the change (02:30 on a spring-forward night fires at 03:30);
// a local time that occurs twice (fall back) fires once, at the later of the two. Throws
// std::invalid_argument for a bad expression or an unknown zone.
std::int64_t next_cron_fire_ms(std::string_view cron, const std::optional<std::string>& zone,
                               std::int64_t after_ms);

// Whether PostgreSQL knows the time zone `name`.
bool time_zone_exists(const std::string& name);

// The output of __duroxide_syscall:workflow_schedule: {"fire_at": "…Z", "fire_at_ms": n}, the
// first fire after the worker's clock. Throws WorkflowStepError for bad input.
std::string run_workflow_schedule_step(const core::work::ActivityExecute& item);

} // namespace duroxide::runtime
