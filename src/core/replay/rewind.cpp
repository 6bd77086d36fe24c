#include "core/replay/rewind.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace duroxide::core {

namespace {

using Refusal = RewindRefusal;

// Events the engine records from messages (completions, raised events, a cancel request); the
// code's own events are every other kind, so a kind added later counts as the code's (the
// conservative side: it can only make a rewind refused, never unsafe).
bool is_completion(const Event& event) {
    return std::holds_alternative<events::ActivityCompleted>(event.kind) ||
           std::holds_alternative<events::ActivityFailed>(event.kind) ||
           std::holds_alternative<events::TimerFired>(event.kind) ||
           std::holds_alternative<events::SubOrchestrationCompleted>(event.kind) ||
           std::holds_alternative<events::SubOrchestrationFailed>(event.kind) ||
           std::holds_alternative<events::ExternalEvent>(event.kind) ||
           std::holds_alternative<events::QueueEventDelivered>(event.kind) ||
           std::holds_alternative<events::OrchestrationCancelRequested>(event.kind);
}

// The breadcrumbs a terminal turn writes for the work still open when the execution ends
// (reasons orchestration_terminal_failed, orchestration_terminal).
bool is_terminal_breadcrumb(const Event& event) {
    const std::string* reason = event.cancellation_reason();
    return reason != nullptr && reason->starts_with("orchestration_terminal");
}

bool is_kv_write(const Event& event) {
    return std::holds_alternative<events::KeyValueSet>(event.kind) ||
           std::holds_alternative<events::KeyValueCleared>(event.kind) ||
           std::holds_alternative<events::KeyValuesCleared>(event.kind);
}

std::optional<Refusal> refuse_by_failure(const ErrorDetails& details) {
    if (std::holds_alternative<ConfigurationError>(details.value)) {
        return Refusal{Refusal::Reason::NotRewindable,
                       "it failed as nondeterministic: its code no longer replays its history",
                       "Deploy code that replays the recorded history, or start a new instance."};
    }
    if (const auto* poison = std::get_if<PoisonError>(&details.value);
        poison != nullptr && !std::holds_alternative<PoisonActivity>(poison->message_type)) {
        return Refusal{Refusal::Reason::NotRewindable,
                       "it failed as poison: its own messages or history could not be processed",
                       "Start a new instance; duroxide.history_view shows what was recorded."};
    }
    if (const auto* app = std::get_if<ApplicationError>(&details.value);
        app != nullptr && std::holds_alternative<AppCancelled>(app->kind)) {
        return Refusal{Refusal::Reason::NotRewindable, "it was cancelled",
                       "A cancelled instance is not rewound; start a new instance."};
    }
    return std::nullopt;
}

} // namespace

std::variant<RewindPlan, RewindRefusal> plan_rewind(const std::vector<Event>& history) {
    // The terminal event: the last one but the breadcrumbs a terminal turn appends after it for
    // the activities still open (as duroxide's dispatcher does).
    auto terminal_it = std::find_if(history.rbegin(), history.rend(),
                                    [](const Event& e) { return !is_terminal_breadcrumb(e); });
    const Event* terminal = terminal_it == history.rend() ? nullptr : &*terminal_it;
    const auto* failed =
        terminal == nullptr ? nullptr : std::get_if<events::OrchestrationFailed>(&terminal->kind);
    if (failed == nullptr) {
        return Refusal{Refusal::Reason::NotFailed, "its current execution has not failed",
                       "Only a Failed instance can be rewound."};
    }
    if (auto refusal = refuse_by_failure(failed->details)) {
        return *refusal;
    }
    std::map<uint64_t, const Event*> by_id;
    std::set<uint64_t> completed; // scheduling ids with a completion or breadcrumb kept
    uint64_t last_code_event = 0;
    for (const Event& event : history) {
        by_id[event.event_id] = &event;
        if (std::holds_alternative<events::OrchestrationCancelRequested>(event.kind)) {
            return Refusal{Refusal::Reason::NotRewindable, "it was cancelled",
                           "A cancelled instance is not rewound; start a new instance."};
        }
        if (is_kv_write(event)) {
            return Refusal{Refusal::Reason::Unsupported,
                           "its execution wrote to its key-value store, whose state before the "
                           "failure is not kept",
                           "Start a new instance; rewind supports executions without KV writes."};
        }
        if (&event != terminal && !is_completion(event) && !is_terminal_breadcrumb(event)) {
            last_code_event = event.event_id;
        }
    }

    RewindPlan plan;
    const Event& scheduled_missing = history.front();
    auto scheduling = [&](const Event& event) -> const Event& {
        auto found = event.source_event_id ? by_id.find(*event.source_event_id) : by_id.end();
        return found == by_id.end() ? scheduled_missing : *found->second;
    };
    auto retry_activity = [&](const Event& scheduled) {
        if (const auto* a = std::get_if<events::ActivityScheduled>(&scheduled.kind)) {
            plan.activities.push_back({scheduled.instance_id, scheduled.execution_id,
                                       scheduled.event_id, a->name, a->input, a->session_id,
                                       a->tag});
        }
    };
    bool retries_failure = false;
    for (const Event& event : history) {
        const bool late = event.event_id > last_code_event;
        if (late && std::holds_alternative<events::ActivityFailed>(event.kind)) {
            plan.dropped_event_ids.push_back(event.event_id);
            retry_activity(scheduling(event));
            retries_failure = true;
        } else if (late && std::holds_alternative<events::SubOrchestrationFailed>(event.kind)) {
            const Event& scheduled = scheduling(event);
            const auto* child = std::get_if<events::SubOrchestrationScheduled>(&scheduled.kind);
            if (child == nullptr) {
                return Refusal{Refusal::Reason::NotRewindable,
                               "a sub-orchestration failure has no scheduling event",
                               "Start a new instance."};
            }
            plan.dropped_event_ids.push_back(event.event_id);
            plan.children.emplace_back(scheduled.event_id, child->instance);
            retries_failure = true;
        } else if (late && is_terminal_breadcrumb(event)) {
            if (std::holds_alternative<events::SubOrchestrationCancelRequested>(event.kind)) {
                const Event& scheduled = scheduling(event);
                const auto* child = std::get_if<events::SubOrchestrationScheduled>(&scheduled.kind);
                return Refusal{Refusal::Reason::Unsupported,
                               "its failure cancelled sub-orchestration \"" +
                                   (child ? child->instance : std::string("?")) + "\"",
                               "A cancelled child cannot be resumed; start a new instance."};
            }
            plan.dropped_event_ids.push_back(event.event_id);
            retry_activity(scheduling(event)); // an open activity withdrawn by the failure
        } else if (event.source_event_id) {
            completed.insert(*event.source_event_id);
        }
    }
    if (!retries_failure) {
        return Refusal{Refusal::Reason::FailedInCode,
                       "its failure came from the orchestration code, not from an activity or a "
                       "sub-orchestration that could be retried",
                       "Rewind retries failed activities and sub-orchestrations recorded after "
                       "the code's last step; fix the cause and start a new instance."};
    }
    plan.dropped_event_ids.push_back(terminal->event_id);
    std::sort(plan.dropped_event_ids.begin(), plan.dropped_event_ids.end());
    for (const Event& event : history) {
        const auto* timer = std::get_if<events::TimerCreated>(&event.kind);
        if (timer != nullptr && !completed.count(event.event_id)) {
            plan.timers.push_back(
                {event.instance_id, event.execution_id, event.event_id, timer->fire_at_ms});
        }
    }
    return plan;
}

} // namespace duroxide::core
