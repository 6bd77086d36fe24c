// The context API of class Turn (turn_context.hpp): what orchestration code calls. Each
// schedule call is matched by position against the schedule events of history, or recorded as
// new with the queue item it sends; awaiting suspends the fiber until a completion is known.
#include "core/fiber/fiber.hpp"
#include "core/model/limits.hpp"
#include "core/replay/child_ids.hpp"
#include "core/replay/turn_context.hpp"
#include "core/routing/tag_filter.hpp"

#include <algorithm>
#include <stdexcept>

namespace duroxide::core::replay_detail {

bool is_schedule(const EventKind& kind) {
    return std::holds_alternative<events::ActivityScheduled>(kind) ||
           std::holds_alternative<events::TimerCreated>(kind) ||
           std::holds_alternative<events::ExternalSubscribed>(kind) ||
           std::holds_alternative<events::CustomStatusUpdated>(kind) ||
           std::holds_alternative<events::SubOrchestrationScheduled>(kind) ||
           std::holds_alternative<events::OrchestrationChained>(kind) ||
           std::holds_alternative<events::QueueSubscribed>(kind) ||
           std::holds_alternative<events::SessionOpened>(kind) ||
           std::holds_alternative<events::SessionClosed>(kind) || is_kv_event(kind);
}

std::string describe(const EventKind& kind) {
    if (is_kv_event(kind)) {
        return describe_kv_event(kind);
    }
    if (auto* a = std::get_if<events::ActivityScheduled>(&kind)) {
        return "activity " + a->name + "(" + a->input + ")" +
               (a->session_id ? " on session " + *a->session_id : std::string()) +
               (a->tag ? " with tag " + *a->tag : std::string());
    }
    if (auto* w = std::get_if<events::ExternalSubscribed>(&kind)) {
        return "wait for event " + w->name;
    }
    if (std::holds_alternative<events::TimerCreated>(kind)) {
        return "timer";
    }
    if (auto* c = std::get_if<events::SubOrchestrationScheduled>(&kind)) {
        return "sub-orchestration " + c->name + " " + c->instance + "(" + c->input + ")";
    }
    if (auto* c = std::get_if<events::OrchestrationChained>(&kind)) {
        return "orchestration " + c->name + " " + c->instance + "(" + c->input + ")";
    }
    if (auto* q = std::get_if<events::QueueSubscribed>(&kind)) {
        return "dequeue from " + q->name;
    }
    if (auto* o = std::get_if<events::SessionOpened>(&kind)) {
        return "open session " + o->session_id;
    }
    if (auto* c = std::get_if<events::SessionClosed>(&kind)) {
        return "close session " + c->session_id;
    }
    return std::string("custom status update");
}

// --- scheduling work

DurableFuture Turn::schedule_activity_on(std::string_view name, std::string_view input,
                                         std::optional<std::string_view> session_id) {
    ActivityOptions options;
    if (session_id) {
        options.session_id = std::string(*session_id);
    }
    return schedule_activity(name, input, options);
}

DurableFuture Turn::schedule_activity(std::string_view name, std::string_view input,
                                      const ActivityOptions& options) {
    bool over_limit = false;
    if (options.tag && options.tag->size() > kMaxTagNameBytes) {
        // A limit violation fails the execution after the turn, as duroxide's limit check
        // does: the schedule is recorded, the code goes on, nothing is sent.
        over_limit = true;
        note_limit_failure("Activity '" + std::string(name) + "' tag size (" +
                           std::to_string(options.tag->size()) + " bytes) exceeds limit (" +
                           std::to_string(kMaxTagNameBytes) + " bytes)");
    } else if (options.tag) {
        // A tag no worker filter could name (only an `any` worker would run it) fails the
        // execution at once; the code cannot catch it.
        if (const auto problem = tag_name_problem(*options.tag)) {
            throw SystemFailureSignal{ErrorDetails::orchestration_failed("activity " + *problem)};
        }
    }
    if (options.session_id) {
        // Explicit mode: only open sessions (session_tracking.hpp); not catchable.
        if (const auto problem = sessions_.schedule_problem(*options.session_id)) {
            limit_failure_ = ErrorDetails::orchestration_failed(*problem); // kept: see KV
            throw SystemFailureSignal{*limit_failure_};
        }
    }
    events::ActivityScheduled scheduled{.name = std::string(name),
                                        .input = std::string(input),
                                        .session_id = options.session_id,
                                        .tag = options.tag};
    const uint64_t id = schedule(scheduled);
    if (id == new_id_ && !over_limit) {
        result_->worker_items.push_back({work::ActivityExecute{
            .instance = input_->instance,
            .execution_id = input_->execution_id,
            .id = id,
            .name = scheduled.name,
            .input = scheduled.input,
            .session_id = scheduled.session_id,
            .tag = scheduled.tag,
        }});
    }
    return DurableFuture(this, id);
}

void Turn::trace(TraceLevel level, std::string_view message) {
    if (!is_replaying()) {
        result_->traces.push_back({.level = level,
                                   .message = std::string(message),
                                   .orchestration = name_,
                                   .version = version_});
    }
}

DurableFuture Turn::schedule_timer(std::chrono::milliseconds delay) {
    const uint64_t fire_at =
        input_->now_ms + static_cast<uint64_t>(std::max<int64_t>(delay.count(), 0));
    const uint64_t id = schedule(events::TimerCreated{.fire_at_ms = fire_at});
    if (id == new_id_) {
        result_->orchestrator_items.push_back({work::TimerFired{
            .instance = input_->instance,
            .execution_id = input_->execution_id,
            .id = id,
            .fire_at_ms = fire_at,
        }});
    }
    return DurableFuture(this, id);
}

DurableFuture Turn::schedule_wait(std::string_view name) {
    return DurableFuture(this, schedule(events::ExternalSubscribed{.name = std::string(name)}));
}

DurableFuture Turn::schedule_sub_orchestration(std::string_view name, std::string_view input,
                                               std::optional<std::string_view> instance,
                                               std::optional<std::string_view> version) {
    const std::string child =
        instance ? std::string(*instance)
                 : input_->instance + "::sub::" + std::to_string(upcoming_event_id());
    if (const auto problem = child_id_problem(child, input_->instance, started_parent_instance())) {
        // As a limit violation: the id is checked like the SQL API's, and the execution
        // fails (a refused id would leave a child no client could reach, or none at all).
        throw SystemFailureSignal{ErrorDetails::orchestration_failed(*problem)};
    }
    const uint64_t id = schedule(events::SubOrchestrationScheduled{
        .name = std::string(name), .instance = child, .input = std::string(input)});
    if (id == new_id_) {
        result_->orchestrator_items.push_back({work::StartOrchestration{
            .instance = child,
            .orchestration = std::string(name),
            .input = std::string(input),
            .version = version ? std::optional<std::string>(*version) : std::nullopt,
            .parent_instance = input_->instance,
            .parent_id = id,
            .execution_id = 1,
            .parent_execution_id = input_->execution_id,
        }});
    }
    return DurableFuture(this, id);
}

void Turn::schedule_orchestration(std::string_view name, std::string_view instance,
                                  std::string_view input, std::optional<std::string_view> version) {
    const uint64_t id = schedule(events::OrchestrationChained{
        .name = std::string(name), .instance = std::string(instance), .input = std::string(input)});
    if (id == new_id_) {
        result_->orchestrator_items.push_back({work::StartOrchestration{
            .instance = std::string(instance),
            .orchestration = std::string(name),
            .input = std::string(input),
            .version = version ? std::optional<std::string>(*version) : std::nullopt,
            .parent_instance = std::nullopt,
            .parent_id = std::nullopt,
            .execution_id = 1,
            .parent_execution_id = std::nullopt,
        }});
    }
}

DurableFuture Turn::dequeue_event(std::string_view name) {
    const std::size_t position = next_schedule_ < schedules_.size()
                                     ? schedules_[next_schedule_]
                                     : full_.size() + new_events_.size();
    const uint64_t id = schedule(events::QueueSubscribed{.name = std::string(name)});
    // A mailbox: the oldest message not yet taken, whenever it arrived, else the next one.
    auto& queue = queues_[std::string(name)];
    if (!queue.buffered.empty() && takes(id, queue.buffered.front().second)) {
        const auto [data, delivered_at] = queue.buffered.front();
        queue.buffered.pop_front();
        completions_.emplace(id, Completion{.outcome = Outcome::success(data),
                                            .position = std::max(position, delivered_at)});
    } else {
        queue.waiting.emplace_back(id, position);
    }
    return DurableFuture(this, id);
}

// --- custom status, key-value store, sessions

void Turn::set_custom_status(std::string_view status) {
    if (status.size() > kMaxCustomStatusBytes) {
        // As duroxide's limit check after the turn: the update is recorded, the code goes
        // on, and the execution fails at the end of the turn (reference §4.13).
        note_limit_failure("Custom status size (" + std::to_string(status.size()) +
                           " bytes) exceeds limit (" + std::to_string(kMaxCustomStatusBytes) +
                           " bytes)");
    }
    schedule(events::CustomStatusUpdated{.status = std::string(status)});
    custom_status_ = std::string(status);
}

void Turn::reset_custom_status() {
    schedule(events::CustomStatusUpdated{.status = std::nullopt});
    custom_status_.reset();
}

void Turn::set_kv_value(std::string_view key, std::string_view value) {
    if (auto problem = kv_.limit_problem(key, value)) {
        // Kept as well as thrown: code that catches everything still fails.
        limit_failure_ = ErrorDetails::orchestration_failed(*problem);
        throw SystemFailureSignal{*limit_failure_};
    }
    schedule(events::KeyValueSet{.key = std::string(key),
                                 .value = std::string(value),
                                 .last_updated_at_ms = input_->now_ms});
    // A replayed set keeps the time it was first recorded at.
    const Event& recorded =
        new_id_ != 0 ? new_events_.back() : full_[schedules_[next_schedule_ - 1]];
    kv_.set(key, value, std::get<events::KeyValueSet>(recorded.kind).last_updated_at_ms);
}

void Turn::clear_kv_value(std::string_view key) {
    schedule(events::KeyValueCleared{.key = std::string(key)});
    kv_.clear(key);
}

void Turn::clear_all_kv_values() {
    schedule(events::KeyValuesCleared{});
    kv_.clear_all();
}

std::size_t Turn::prune_kv_values_updated_before(uint64_t cutoff_ms) {
    const std::vector<std::string> keys = kv_.prunable(cutoff_ms);
    for (const std::string& key : keys) {
        clear_kv_value(key);
    }
    return keys.size();
}

std::string Turn::open_session() {
    return open_session_with_id(generated_session_id(input_->execution_id, upcoming_event_id()));
}

std::string Turn::open_session_with_id(std::string_view session) {
    if (auto problem = sessions_.open_problem(session, input_->max_open_sessions)) {
        limit_failure_ = ErrorDetails::orchestration_failed(*problem); // kept: see KV
        throw SystemFailureSignal{*limit_failure_};
    }
    if (!sessions_.is_open(session)) {
        schedule(events::SessionOpened{.session_id = std::string(session)});
        sessions_.opened(session);
    }
    return std::string(session);
}

void Turn::close_session(std::string_view session) {
    schedule(events::SessionClosed{.session_id = std::string(session)});
    sessions_.closed(session);
}

void Turn::continue_as_new(std::string_view input) {
    throw ContinueAsNewSignal{std::string(input), std::nullopt};
}

void Turn::continue_as_new_versioned(std::string_view version, std::string_view input) {
    throw ContinueAsNewSignal{std::string(input), std::string(version)};
}

// --- waiting

Outcome Turn::await(const DurableFuture& future) {
    auto it = completions_.find(future.id());
    if (it == completions_.end() && cancelled_.count(future.id())) {
        throw std::logic_error("awaited a cancelled future (event " + std::to_string(future.id()) +
                               "); select() cancels the futures that lose");
    }
    while (it == completions_.end()) {
        wait_for_events();
        it = completions_.find(future.id());
    }
    if (it->second.system_error) {
        throw SystemFailureSignal{*it->second.system_error};
    }
    return it->second.outcome;
}

std::size_t Turn::select(std::span<const DurableFuture> futures) {
    for (;;) {
        std::optional<std::size_t> winner;
        std::size_t best_position = 0;
        for (std::size_t i = 0; i < futures.size(); ++i) {
            auto it = completions_.find(futures[i].id());
            if (it != completions_.end() && (!winner || it->second.position < best_position)) {
                winner = i;
                best_position = it->second.position;
            }
        }
        if (winner) {
            for (std::size_t i = 0; i < futures.size(); ++i) {
                if (i != *winner) {
                    cancel_work(futures[i].id());
                }
            }
            return *winner;
        }
        wait_for_events();
    }
}

void Turn::wait_for_events() {
    Fiber::suspend();
}

// --- cancellation of abandoned work (select losers, DurableFuture::cancel)

// The code abandons work `id`. Completed work and timers need nothing; otherwise a
// breadcrumb records the cancellation (matched against history on replay, like a
// schedule) and, when it is new, the work is withdrawn: an activity by lock stealing, a
// child by a CancelInstance. A cancelled wait or dequeue no longer takes an event.
void Turn::cancel_work(uint64_t id) {
    if (id == 0 || completions_.count(id) != 0 || !cancelled_.insert(id).second) {
        return;
    }
    const Event* scheduled = find_scheduled(id);
    if (scheduled == nullptr) {
        return;
    }
    static constexpr const char* kReason = "dropped_future";
    if (std::holds_alternative<events::ActivityScheduled>(scheduled->kind)) {
        if (record_cancel(id, events::ActivityCancelRequested{.reason = kReason})) {
            result_->cancelled_activities.push_back({.instance = input_->instance,
                                                     .execution_id = input_->execution_id,
                                                     .activity_id = id});
            std::erase_if(result_->worker_items, [id](const WorkItem& item) {
                auto* execute = std::get_if<work::ActivityExecute>(&item.kind);
                return execute != nullptr && execute->id == id;
            });
        }
    } else if (auto* child = std::get_if<events::SubOrchestrationScheduled>(&scheduled->kind)) {
        const std::string child_instance = child->instance;
        if (record_cancel(id, events::SubOrchestrationCancelRequested{.reason = kReason})) {
            result_->orchestrator_items.push_back({work::CancelInstance{
                .instance = child_instance, .reason = "parent dropped sub-orchestration future"}});
        }
    } else if (auto* wait = std::get_if<events::ExternalSubscribed>(&scheduled->kind)) {
        std::erase(open_waits_[wait->name], id);
        record_cancel(id, events::ExternalSubscribedCancelled{.reason = kReason});
    } else if (auto* dequeue = std::get_if<events::QueueSubscribed>(&scheduled->kind)) {
        std::erase_if(queues_[dequeue->name].waiting,
                      [id](const auto& waiting) { return waiting.first == id; });
        record_cancel(id, events::QueueSubscriptionCancelled{.reason = kReason});
    }
}

// The schedule event `id`, in history or among this turn's new events.
const Event* Turn::find_scheduled(uint64_t id) const {
    if (auto it = schedule_positions_.find(id); it != schedule_positions_.end()) {
        return &full_[it->second];
    }
    for (const Event& event : new_events_) {
        if (event.event_id == id) {
            return &event;
        }
    }
    return nullptr;
}

// Records the cancellation breadcrumb of `id` unless history already has it; returns
// whether it is new (and its side effects are to be made).
bool Turn::record_cancel(uint64_t id, EventKind breadcrumb) {
    if (recorded_cancels_.count(id) != 0) {
        return false;
    }
    new_events_.push_back(make_event(*input_, next_event_id_++, id, std::move(breadcrumb)));
    return true;
}

// --- matching schedules against history

// Matches the next schedule against history, or records it as new. Returns the event id
// (new_id_ is set to it for new schedules so that callers can add queue items).
uint64_t Turn::schedule(EventKind kind) {
    const std::size_t index = next_schedule_++;
    if (index < schedules_.size()) {
        const Event& recorded = full_[schedules_[index]];
        const bool same = recorded.kind.index() == kind.index() &&
                          (std::holds_alternative<events::TimerCreated>(kind) ||
                           std::holds_alternative<events::CustomStatusUpdated>(kind) ||
                           kv_events_match(recorded.kind, kind) || recorded.kind == kind);
        if (!same) {
            throw NondeterminismSignal{"schedule mismatch: history has " + describe(recorded.kind) +
                                       " at event " + std::to_string(recorded.event_id) +
                                       ", code scheduled " + describe(kind)};
        }
        new_id_ = 0;
        return recorded.event_id;
    }
    Event event = make_event(*input_, next_event_id_++, std::nullopt, std::move(kind));
    new_id_ = event.event_id;
    new_events_.push_back(std::move(event));
    return new_id_;
}

// The event id the next schedule call gets: the recorded one on replay, else a new one.
uint64_t Turn::upcoming_event_id() const {
    return next_schedule_ < schedules_.size() ? full_[schedules_[next_schedule_]].event_id
                                              : next_event_id_;
}

} // namespace duroxide::core::replay_detail
