// workflow_progress: the state of each node of a workflow instance's definition, derived from
// the history of its current execution by replaying that history offline through the
// interpreter (no PostgreSQL, no clock, nothing scheduled): the interpreter says which node
// scheduled each unit of work (ScheduleObserver), and the completion events of the history
// say how that work ended and when.
//
// What is reported (see docs/workflows.md, "Progress"):
// * one row per node of the definition, in definition order; a node that schedules durable
//   work (sql, activity, http, sleep, wait_for_schedule, wait_event, dequeue, sub_workflow, and a
//   branch of parallel/race/foreach that runs as a child instance) gets a state: pending (nothing
//   scheduled yet), running, done, failed or cancelled (of its latest scheduling), the number
//   of times it was scheduled (attempts) and the timestamps of its first schedule event and of
//   the completion event of its latest one (null while running, and for a wait_event/dequeue,
//   whose completion is not tied to its schedule event in history).
// * nodes that schedule nothing themselves (seq, if, switch, loop, try, set_status, kv_set,
//   fail, return, the parallel/race/foreach node itself) have state null;
// * an activity or http node with `retry` counts each attempt (attempts = attempts made so
//   far; the state is that of the latest; the timers between attempts are part of the node);
// * work that the replay cannot attribute to a node is reported in rows with a null path and
//   state "unattributed", never guessed.
// Only the current execution of the instance is described (after continue-as-new, the
// earlier executions' work is not); a branch running as a child instance is one row, and the
// nodes inside it are followed into the child's history when `children` gives it.
#pragma once

#include "core/model/event.hpp"
#include "core/workflow/json.hpp"

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace duroxide::core::workflow {

// The rows as a JSON array of objects {"path", "kind", "state", "attempts", "started_ms",
// "finished_ms"} (see above). `history` is the current execution's history, oldest first.
// Throws std::invalid_argument when the history is not that of a workflow instance.
// The current execution's history of a child instance (nullptr: not available, e.g. not
// started yet or not readable by the caller).
using ChildHistories = std::function<const std::vector<Event>*(const std::string& instance)>;

// With `children`, a branch of parallel/race/foreach that ran as a child instance shows the
// nodes inside it from that child's history (recursively): their rows take the paths of the
// parent's definition; a foreach body that ran once per item has one row per node, merged
// over the items (attempts added up; state running if any runs, else failed, cancelled, done,
// pending in that order; the earliest start; the latest finish once none runs).
Json workflow_progress(std::span<const Event> history, const ChildHistories& children = {});

} // namespace duroxide::core::workflow
