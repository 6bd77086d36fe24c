// Rewind of a failed execution (duroxide.rewind_instance, docs/architecture.md "Rewind"): which
// events leave the current execution's history so that its code, replayed, waits again on the
// activities and sub-orchestrations whose failure ended it, and what must be queued again.
//
// The rule that keeps replay deterministic: only failures recorded after the code's last own
// event (its last schedule, wait, status, KV write or breadcrumb) are dropped. The code made
// no decision after them except throwing, so replaying the remaining history reaches the same
// point, where it now suspends on the retried work instead of throwing. The terminal turn's
// own events (the cancellation of what was open, OrchestrationFailed) go too, and the work
// they cancelled is queued again.
#pragma once

#include "core/model/event.hpp"
#include "core/model/work_item.hpp"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace duroxide::core {

struct RewindRefusal {
    enum class Reason {
        NotFailed,     // the execution did not fail
        NotRewindable, // cancelled, poisoned or nondeterministic: retrying cannot help
        FailedInCode,  // no activity or sub-orchestration failure to retry
        Unsupported,   // safe in principle, not supported (KV writes, cancelled children)
    };
    Reason reason = Reason::NotFailed;
    std::string message, hint;
};

struct RewindPlan {
    std::vector<uint64_t> dropped_event_ids; // ascending
    // Activities to queue again: their ActivityExecute, with the ids of their scheduling events.
    std::vector<work::ActivityExecute> activities;
    // Timers that have not fired: the TimerFired to queue again if the queue lost it.
    std::vector<work::TimerFired> timers;
    // Failed sub-orchestrations to rewind with their parent: (scheduling event id, instance).
    std::vector<std::pair<uint64_t, std::string>> children;
};

// `history`: the current execution's events, oldest first.
std::variant<RewindPlan, RewindRefusal> plan_rewind(const std::vector<Event>& history);

} // namespace duroxide::core
