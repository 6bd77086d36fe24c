// The workflow interpreter: ONE orchestration, registered by the extension itself under
// kWorkflowOrchestration, that walks a validated definition with the ordinary
// OrchestrationContext API, so a workflow gets history, replay, timers, events, cancellation
// and versioning from the engine. Everything it decides, it decides from its input and from
// recorded results (expressions are evaluated here, never by SQL), so replay is deterministic.
//
// Its input (built by duroxide.start_workflow; the definition travels in it, so the version
// an instance runs is pinned in its history):
//   {"workflow": name, "version": "1.0.0", "definition": {...}, "input": <json>}
// and, for the children the interpreter starts itself:
//   "branch": true, "steps": {...}, "item": x, "index": i, "error": e, "iteration": n
//   (a branch of parallel/race/foreach that is not a single step runs as a child instance;
//   its output is {"result": r, "steps": {...}}), "resume": {"iteration": n, "steps": {...}}
//   (a root loop that continued as new), or no "definition" (a sub_workflow by name: the
//   definition is loaded by the system activity kWorkflowDefinitionActivity, recorded).
// Its output is the JSON text of the last node's result (or of `return`'s value).
#pragma once

#include "core/workflow/definition.hpp"
#include "duroxide/orchestration_context.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace duroxide::core::workflow {

inline constexpr std::string_view kWorkflowOrchestration = "duroxide.workflow";
inline constexpr const char* kWorkflowOrchestrationVersion = "1.0.0";
// {"sql": text, "params": [text or null, ...]} -> {"rows": [{col: value}...], "row_count": n},
// run as the role that started the instance.
inline constexpr std::string_view kWorkflowSqlActivity = "__duroxide_syscall:workflow_sql";
// {"method", "url", "headers": {name: text}, "body"?, "timeout_ms", "expect": [[from, to]...]}
// -> {"status": n, "headers": {...}, "body": text, "json"?: parsed}; refused unless the host is
// on duroxide.http_allowed_hosts (runtime/activity/workflow_http_step.cpp).
inline constexpr std::string_view kWorkflowHttpActivity = "__duroxide_syscall:workflow_http";
// {"cron": text, "timezone": text or null} -> {"fire_at": "…Z", "fire_at_ms": n}: the first
// fire time of the cron expression after the worker's clock, in the zone (wait_for_schedule;
// runtime/activity/workflow_schedule_step.cpp). Recorded, so replay never recomputes it.
inline constexpr std::string_view kWorkflowScheduleActivity =
    "__duroxide_syscall:workflow_schedule";
// {"workflow": name, "version": text or null} -> {"version": v, "definition": {...}}
inline constexpr std::string_view kWorkflowDefinitionActivity =
    "__duroxide_syscall:workflow_definition";

std::string run_workflow(OrchestrationContext& ctx, const std::string& input);

// What the definition in an interpreter input (`wrapper`) may refer to from outside: the step
// names a branch child was given, and the $item / $error / $iteration scopes it runs in. The
// interpreter and workflow_progress's offline replay validate with the same context.
ValidationContext validation_context_of(const Json& wrapper);

// Offline replay (workflow_progress, progress.hpp): while one is installed on this thread, the
// interpreter tells it which node scheduled each unit of work (by the id the schedule call
// returned, which is the event id of its schedule event) and when it consumed its outcome.
// Nothing is installed when the engine runs an instance.
struct ScheduleObserver {
    virtual ~ScheduleObserver() = default;
    // role: "step" (the node's own work), "branch" (a child instance running the node),
    // "timeout" (the timer of a wait's timeout or of a retried attempt), "backoff" (the timer
    // between two attempts of a node with `retry`), "definition" (loading a sub_workflow's
    // definition, path "$"), "clock" (the recorded utc_now of a sleep until or of a
    // wait_for_schedule, and the latter's computed fire time).
    virtual void scheduled(std::uint64_t id, const std::string& path, std::string_view role) = 0;
    virtual void finished(std::uint64_t id, bool ok) = 0;
};
// Installs `observer` (nullptr: none) for the current thread; returns the previous one.
ScheduleObserver* set_schedule_observer(ScheduleObserver* observer);

} // namespace duroxide::core::workflow
