// Completion handling of class Turn (turn_context.hpp): this turn's messages become completion
// events appended to history (materialize_messages), and history is indexed so that each
// completion reaches the future it completes: activities, timers and children by their
// schedule's event id, external events by duroxide's causal rule (the oldest open wait of the
// name recorded before it), queue messages by dequeue order (a mailbox).
#include "core/model/limits.hpp"
#include "core/replay/turn_context.hpp"

#include <algorithm>
#include <tuple>

namespace duroxide::core::replay_detail {

void ScheduleIndex::add(const Event& event) {
    if (is_schedule(event.kind)) {
        kind_of_schedule[event.event_id] = event.kind.index();
    }
    if (event.source_event_id) {
        done[*event.source_event_id] = true;
    }
    cancel_recorded =
        cancel_recorded || std::holds_alternative<events::OrchestrationCancelRequested>(event.kind);
}

Event make_event(const TurnInput& input, uint64_t id, std::optional<uint64_t> source,
                 EventKind kind) {
    return Event{.event_id = id,
                 .source_event_id = source,
                 .instance_id = input.instance,
                 .execution_id = input.execution_id,
                 .timestamp_ms = input.now_ms,
                 .duroxide_version = kDuroxideVersion,
                 .kind = std::move(kind)};
}

std::optional<std::string> materialize_messages(const TurnInput& input, std::vector<Event>& full,
                                                TurnResult& result, ScheduleIndex& index) {
    auto& kind_of_schedule = index.kind_of_schedule;
    auto& done = index.done;
    bool& cancel_recorded = index.cancel_recorded;
    uint64_t next_id = full.empty() ? 1 : full.back().event_id + 1;
    auto append = [&](std::optional<uint64_t> source, EventKind kind) {
        full.push_back(make_event(input, next_id, source, std::move(kind)));
        result.history_delta.push_back(full.back());
        ++next_id;
    };
    auto completes = [&](uint64_t execution_id, uint64_t id, std::size_t expected_kind,
                         const char* what) -> std::optional<std::string> {
        if (execution_id != input.execution_id || done.count(id)) {
            return std::nullopt; // another execution's, or a duplicate
        }
        auto it = kind_of_schedule.find(id);
        if (it == kind_of_schedule.end() || it->second != expected_kind) {
            return std::string("no matching schedule for ") + what +
                   " completion id=" + std::to_string(id);
        }
        done[id] = true;
        return std::string();
    };
    constexpr std::size_t kActivity = 3; // EventKind index of ActivityScheduled
    constexpr std::size_t kTimer = 7;    // EventKind index of TimerCreated
    static_assert(std::is_same_v<std::variant_alternative_t<kActivity, EventKind>,
                                 events::ActivityScheduled>);
    static_assert(
        std::is_same_v<std::variant_alternative_t<kTimer, EventKind>, events::TimerCreated>);
    const std::size_t kSubOrchestration = EventKind(events::SubOrchestrationScheduled{}).index();
    auto parent_execution = [&](uint64_t reported) {
        return reported == 0 ? input.execution_id : reported;
    };
    for (const WorkItem& message : input.messages) {
        std::optional<std::string> problem;
        if (auto* activity_done = std::get_if<work::ActivityCompleted>(&message.kind)) {
            problem =
                completes(activity_done->execution_id, activity_done->id, kActivity, "activity");
            if (problem && problem->empty()) {
                append(activity_done->id,
                       events::ActivityCompleted{.result = activity_done->result});
            }
        } else if (auto* activity_failed = std::get_if<work::ActivityFailed>(&message.kind)) {
            problem = completes(activity_failed->execution_id, activity_failed->id, kActivity,
                                "activity");
            if (problem && problem->empty()) {
                append(activity_failed->id,
                       events::ActivityFailed{.details = activity_failed->details});
            }
        } else if (auto* timer = std::get_if<work::TimerFired>(&message.kind)) {
            problem = completes(timer->execution_id, timer->id, kTimer, "timer");
            if (problem && problem->empty()) {
                append(timer->id, events::TimerFired{.fire_at_ms = timer->fire_at_ms});
            }
        } else if (auto* child_done = std::get_if<work::SubOrchCompleted>(&message.kind)) {
            // Matched by the scheduling event id, for the execution that scheduled the child
            // (a completion for an execution that has continued as new is dropped); 0 says
            // the child did not know it: taken for the current execution.
            problem = completes(parent_execution(child_done->parent_execution_id),
                                child_done->parent_id, kSubOrchestration, "sub-orchestration");
            if (problem && problem->empty()) {
                append(child_done->parent_id,
                       events::SubOrchestrationCompleted{.result = child_done->result});
            }
        } else if (auto* child_failed = std::get_if<work::SubOrchFailed>(&message.kind)) {
            problem = completes(parent_execution(child_failed->parent_execution_id),
                                child_failed->parent_id, kSubOrchestration, "sub-orchestration");
            if (problem && problem->empty()) {
                append(child_failed->parent_id,
                       events::SubOrchestrationFailed{.details = child_failed->details});
            }
        } else if (auto* queued = std::get_if<work::QueueMessage>(&message.kind)) {
            append(std::nullopt,
                   events::QueueEventDelivered{.name = queued->name, .data = queued->data});
        } else if (auto* raised = std::get_if<work::ExternalRaised>(&message.kind)) {
            append(std::nullopt, events::ExternalEvent{.name = raised->name, .data = raised->data});
        } else if (auto* cancel = std::get_if<work::CancelInstance>(&message.kind)) {
            if (!cancel_recorded) {
                append(std::nullopt,
                       events::OrchestrationCancelRequested{.reason = cancel->reason});
                cancel_recorded = true;
            }
        }
        if (problem && !problem->empty()) {
            return problem;
        }
    }
    return std::nullopt;
}

// Whether dequeue `id` may take a message recorded at `position`: not after history
// recorded its cancellation (a cancelled dequeue consumes nothing).
bool Turn::takes(uint64_t id, std::size_t position) const {
    auto it = cancel_positions_.find(id);
    return it == cancel_positions_.end() || position < it->second;
}

// A cancellation breadcrumb of history: a cancelled wait takes no later event.
void Turn::index_cancel(const Event& event, std::size_t position) {
    const std::string* reason = event.cancellation_reason();
    if (reason == nullptr || !event.source_event_id) {
        return;
    }
    const uint64_t id = *event.source_event_id;
    cancel_positions_.emplace(id, position);
    if (*reason == "dropped_future") {
        recorded_cancels_.insert(id);
    }
    if (std::holds_alternative<events::ExternalSubscribedCancelled>(event.kind)) {
        for (auto& [name, waits] : open_waits_) {
            std::erase(waits, id);
        }
    }
}

// Indexes full_[first..]: schedule positions, completions, waits, queue messages.
void Turn::index_from(std::size_t first) {
    if (!full_.empty()) {
        next_event_id_ = std::max(next_event_id_, full_.back().event_id + 1);
    }
    for (std::size_t i = first; i < full_.size(); ++i) {
        const Event& event = full_[i];
        terminal_recorded_ = terminal_recorded_ || event.is_terminal();
        schedule_index_.add(event);
        if (is_schedule(event.kind)) {
            schedules_.push_back(i);
            schedule_positions_[event.event_id] = i;
        }
        index_cancel(event, i);
        if (auto* status = std::get_if<events::CustomStatusUpdated>(&event.kind)) {
            custom_status_ = status->status;
        } else if (auto* started = std::get_if<events::OrchestrationStarted>(&event.kind)) {
            custom_status_ = started->initial_custom_status; // carried by continue-as-new
            sessions_.start(started->open_sessions);
        }
        index_completion(event, i);
    }
}

// The future that history event `event` (at position `i` of full_) completes, if any.
void Turn::index_completion(const Event& event, std::size_t i) {
    const uint64_t source = event.source_event_id.value_or(0);
    std::visit(
        [&](const auto& kind) {
            using K = std::decay_t<decltype(kind)>;
            if constexpr (std::is_same_v<K, events::ActivityCompleted>) {
                completions_.emplace(
                    source, Completion{.outcome = Outcome::success(kind.result), .position = i});
            } else if constexpr (std::is_same_v<K, events::ActivityFailed>) {
                std::optional<ErrorDetails> system_error;
                if (!std::holds_alternative<ApplicationError>(kind.details.value)) {
                    system_error = kind.details;
                }
                completions_.emplace(
                    source, Completion{.outcome = Outcome::failure(kind.details.display_message()),
                                       .position = i,
                                       .system_error = std::move(system_error)});
            } else if constexpr (std::is_same_v<K, events::TimerFired>) {
                completions_.emplace(source,
                                     Completion{.outcome = Outcome::success(""), .position = i});
            } else if constexpr (std::is_same_v<K, events::SubOrchestrationCompleted>) {
                completions_.emplace(
                    source, Completion{.outcome = Outcome::success(kind.result), .position = i});
            } else if constexpr (std::is_same_v<K, events::SubOrchestrationFailed>) {
                std::optional<ErrorDetails> system_error;
                if (!std::holds_alternative<ApplicationError>(kind.details.value)) {
                    system_error = kind.details;
                }
                completions_.emplace(
                    source, Completion{.outcome = Outcome::failure(kind.details.display_message()),
                                       .position = i,
                                       .system_error = std::move(system_error)});
            } else if constexpr (std::is_same_v<K, events::QueueEventDelivered>) {
                // The oldest dequeue waiting (resident code) that may take it, or the mailbox.
                auto& queue = queues_[kind.name];
                auto waiting =
                    std::find_if(queue.waiting.begin(), queue.waiting.end(),
                                 [&](const auto& dequeue) { return takes(dequeue.first, i); });
                if (waiting != queue.waiting.end()) {
                    completions_.emplace(waiting->first,
                                         Completion{.outcome = Outcome::success(kind.data),
                                                    .position = std::max(waiting->second, i)});
                    queue.waiting.erase(waiting);
                } else {
                    queue.buffered.emplace_back(kind.data, i);
                }
            } else if constexpr (std::is_same_v<K, events::ExternalSubscribed>) {
                open_waits_[kind.name].push_back(event.event_id);
            } else if constexpr (std::is_same_v<K, events::ExternalEvent>) {
                auto& queue = open_waits_[kind.name];
                if (!queue.empty()) { // causal rule: only waits recorded before it
                    completions_.emplace(
                        queue.front(),
                        Completion{.outcome = Outcome::success(kind.data), .position = i});
                    queue.pop_front();
                }
            }
        },
        event.kind);
}

CarryForwardEvents Turn::unconsumed_messages() const {
    std::vector<std::tuple<std::size_t, const std::string*, const std::string*>> left;
    for (const auto& [name, queue] : queues_) {
        for (const auto& [data, position] : queue.buffered) {
            left.emplace_back(position, &name, &data);
        }
    }
    std::sort(left.begin(), left.end());
    CarryForwardEvents carried;
    for (const auto& [position, name, data] : left) {
        if (carried.size() == kMaxCarryForwardEvents) {
            break;
        }
        carried.emplace_back(*name, *data);
    }
    return carried;
}

std::size_t Turn::unrequested_recorded_cancels() const {
    std::size_t count = 0;
    for (uint64_t id : recorded_cancels_) {
        count += cancelled_.count(id) == 0;
    }
    return count;
}

} // namespace duroxide::core::replay_detail
