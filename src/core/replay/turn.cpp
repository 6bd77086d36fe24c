// The turn driver: builds the execution's context (class Turn, turn_context.hpp) from its
// history and this turn's messages, runs or resumes the code on its fiber, and ends the turn
// (its status, the events and queue items to persist, and on a terminal turn the closing of
// what is still open). Also the turns in which user code never runs (poison).
#include "core/replay/turn.hpp"

#include "core/codec/json_codec.hpp"
#include "core/fiber/fiber.hpp"
#include "core/replay/child_ids.hpp"
#include "core/replay/turn_context.hpp"
#include "core/validation/identifiers.hpp"

#include <algorithm>
#include <unordered_map>

namespace duroxide::core {

using namespace replay_detail;

// An execution between turns: its context, the fiber its code is suspended on, and what the
// code ended with (when it ends).
class ResidentExecution {
public:
    ResidentExecution(const TurnInput& input, TurnResult& result, std::vector<Event> full,
                      events::OrchestrationStarted started, OrchestrationFn handler,
                      StackPool& stacks)
        : started_(std::move(started)), handler_(std::move(handler)),
          turn_(input, result, std::move(full), started_.name, started_.version),
          fiber_(stacks, [this] { run_code(); }), execution_id_(input.execution_id) {}

    Turn& turn() { return turn_; }
    Fiber& fiber() { return fiber_; }
    // The encoded size of its history, counting only the events added since the last call.
    std::size_t history_bytes() {
        const std::vector<Event>& history = turn_.history_for_append();
        for (; counted_events_ < history.size(); ++counted_events_) {
            history_bytes_ += codec::encode(history[counted_events_]).size();
        }
        return history_bytes_;
    }
    const events::OrchestrationStarted& started() const { return started_; }
    uint64_t execution_id() const { return execution_id_; }

    std::optional<ErrorDetails> failure;
    std::optional<std::string> output, next_input, next_version;
    std::optional<std::string> cancel_reason;

private:
    void run_code() {
        try {
            output = handler_(turn_, started_.input);
        } catch (const ContinueAsNewSignal& signal) {
            next_input = signal.input;
            next_version = signal.version;
        } catch (const NondeterminismSignal& signal) {
            failure = ErrorDetails::nondeterminism(signal.message);
        } catch (const SystemFailureSignal& signal) {
            failure = signal.details;
        } catch (const OrchestrationCancelled& cancelled) {
            failure = ErrorDetails::cancelled(cancelled.what()); // graceful cancellation's end
        } catch (const std::exception& e) {
            failure = ErrorDetails::orchestration_failed(e.what());
        } catch (...) {
            if (is_forced_unwind()) {
                throw;
            }
            failure = ErrorDetails::application(AppPanicked{}, "unknown exception");
        }
        if (turn_.limit_failure() && !failure) {
            failure = turn_.limit_failure();
        }
    }

    events::OrchestrationStarted started_;
    OrchestrationFn handler_; // a copy: plugin reloads replace the registry's
    Turn turn_;
    Fiber fiber_;
    uint64_t execution_id_;
    std::size_t counted_events_ = 0;
    std::size_t history_bytes_ = 0;
};

namespace {

const char* terminal_reason(ExecutionStatus status) {
    switch (status) {
    case ExecutionStatus::Completed:
        return "orchestration_terminal_completed";
    case ExecutionStatus::ContinuedAsNew:
        return "orchestration_terminal_continued_as_new";
    default:
        return "orchestration_terminal_failed";
    }
}

// Lock stealing: the activity's worker item is deleted with this turn's ack.
void cancel_activity(const TurnInput& input, uint64_t activity_id, uint64_t event_id,
                     TurnResult& result) {
    result.history_delta.push_back(
        make_event(input, event_id, activity_id,
                   events::ActivityCancelRequested{.reason = terminal_reason(result.status)}));
    result.cancelled_activities.push_back({.instance = input.instance,
                                           .execution_id = input.execution_id,
                                           .activity_id = activity_id});
}

void notify_parent(const events::OrchestrationStarted& started, TurnResult& result) {
    if (!started.parent_instance || !started.parent_id) {
        return;
    }
    // The parent execution that scheduled this child (0: not known, e.g. a child started by
    // another implementation).
    const uint64_t parent_execution = started.parent_execution_id.value_or(0);
    if (result.status == ExecutionStatus::Completed) {
        result.orchestrator_items.push_back({work::SubOrchCompleted{
            .parent_instance = *started.parent_instance,
            .parent_execution_id = parent_execution,
            .parent_id = *started.parent_id,
            .result = result.output,
        }});
    } else if (result.status == ExecutionStatus::Failed) {
        result.orchestrator_items.push_back({work::SubOrchFailed{
            .parent_instance = *started.parent_instance,
            .parent_execution_id = parent_execution,
            .parent_id = *started.parent_id,
            .details = *result.error,
        }});
    }
}

std::optional<std::string> cancel_reason_in(const std::vector<Event>& events, std::size_t first) {
    std::optional<std::string> reason;
    for (std::size_t i = first; i < events.size(); ++i) {
        if (auto* cancel = std::get_if<events::OrchestrationCancelRequested>(&events[i].kind)) {
            reason = cancel->reason;
        }
    }
    return reason;
}

// Which schedules of `all` have their completion or cancellation recorded (by event id).
std::unordered_map<uint64_t, bool> closed_schedules(const std::vector<Event>& all) {
    std::unordered_map<uint64_t, bool> closed;
    for (const Event& event : all) {
        if (event.source_event_id) {
            closed[*event.source_event_id] = true;
        }
    }
    return closed;
}

// --- ending a turn (finish_turn's steps)

// Decisions of code that broke a limit or no longer matches its history are not sent (the
// answers to other parents' starts of this instance are not the code's).
void drop_code_decisions(TurnResult& result) {
    result.worker_items.clear();
    std::erase_if(result.orchestrator_items, [](const WorkItem& item) {
        return !std::holds_alternative<work::SubOrchFailed>(item.kind);
    });
}

// Settles the execution's failure, if any: a broken limit, a cancellation, an oversized output;
// keeps the code's new events unless it is nondeterministic. Returns whether it is.
bool settle_failure(const TurnInput& input, TurnResult& result, ResidentExecution& execution) {
    Turn& turn = execution.turn();
    std::optional<ErrorDetails>& failure = execution.failure;
    if (turn.limit_failure() && (!failure || *failure == *turn.limit_failure())) {
        // Broken during the turn while the code went on (it may be waiting now): the turn's
        // events stay, nothing it decided is sent, and the execution fails.
        failure = turn.limit_failure();
        drop_code_decisions(result);
    }
    const bool nondeterministic =
        failure && std::holds_alternative<ConfigurationError>(failure->value);
    if (nondeterministic) {
        drop_code_decisions(result);
        result.cancelled_activities.clear();
    } else {
        for (const Event& event : turn.new_events()) {
            result.history_delta.push_back(event);
        }
    }
    if (execution.cancel_reason && !nondeterministic) {
        failure = ErrorDetails::cancelled(*execution.cancel_reason);
        execution.output.reset();
        execution.next_input.reset();
    }
    if (!failure) {
        const std::optional<std::string>& ending =
            execution.next_input ? execution.next_input : execution.output;
        if (ending) {
            if (auto problem = output_limit_problem("orchestration", execution.started().name,
                                                    *ending, input.max_output_bytes)) {
                failure = ErrorDetails::orchestration_failed(std::move(*problem));
            }
        }
    }
    return nondeterministic;
}

// The turn's status and output. Returns false when the execution is still running.
bool decide_status(TurnResult& result, const ResidentExecution& execution) {
    if (execution.failure) {
        result.status = ExecutionStatus::Failed;
        result.error = execution.failure;
        result.output = execution.failure->display_message();
    } else if (execution.next_input) {
        result.status = ExecutionStatus::ContinuedAsNew;
        result.output = *execution.next_input;
    } else if (execution.output) {
        result.status = ExecutionStatus::Completed;
        result.output = *execution.output;
    } else {
        return false;
    }
    return true;
}

// Closes the waits, dequeues and children still open in `all` at a terminal turn, numbering
// breadcrumbs from `next_id`; returns the open activities (cancelled after the terminal event).
std::vector<uint64_t> close_open_work(const TurnInput& input, TurnResult& result,
                                      ResidentExecution& execution, const std::vector<Event>& all,
                                      uint64_t& next_id) {
    Turn& turn = execution.turn();
    const std::unordered_map<uint64_t, bool> closed = closed_schedules(all);
    std::vector<uint64_t> open_activities;
    for (const Event& event : all) {
        if (std::holds_alternative<events::ActivityScheduled>(event.kind) &&
            !closed.count(event.event_id)) {
            open_activities.push_back(event.event_id);
        } else if (auto* child = std::get_if<events::SubOrchestrationScheduled>(&event.kind);
                   child != nullptr && !closed.count(event.event_id)) {
            if (execution.cancel_reason) {
                result.orchestrator_items.push_back({work::CancelInstance{
                    .instance = child->instance, .reason = "parent canceled"}});
            } else if (result.status != ExecutionStatus::ContinuedAsNew) {
                result.history_delta.push_back(make_event(
                    input, next_id++, event.event_id,
                    events::SubOrchestrationCancelRequested{.reason = "dropped_future"}));
                result.orchestrator_items.push_back(
                    {work::CancelInstance{.instance = child->instance,
                                          .reason = "parent dropped sub-orchestration future"}});
            }
        } else if (std::holds_alternative<events::QueueSubscribed>(event.kind) &&
                   !closed.count(event.event_id) && !turn.completed(event.event_id)) {
            result.history_delta.push_back(
                make_event(input, next_id++, event.event_id,
                           events::QueueSubscriptionCancelled{.reason = "orchestration_terminal"}));
        } else if (std::holds_alternative<events::ExternalSubscribed>(event.kind) &&
                   !closed.count(event.event_id) && !turn.completed(event.event_id)) {
            result.history_delta.push_back(make_event(
                input, next_id++, event.event_id,
                events::ExternalSubscribedCancelled{.reason = "orchestration_terminal"}));
        }
    }
    return open_activities;
}

// The terminal event (and, at continue-as-new, the message that starts the next execution).
void append_terminal_event(const TurnInput& input, TurnResult& result, ResidentExecution& execution,
                           uint64_t& next_id) {
    Turn& turn = execution.turn();
    switch (result.status) {
    case ExecutionStatus::Completed:
        result.history_delta.push_back(
            make_event(input, next_id++, std::nullopt,
                       events::OrchestrationCompleted{.output = result.output}));
        break;
    case ExecutionStatus::Failed:
        result.history_delta.push_back(make_event(
            input, next_id++, std::nullopt, events::OrchestrationFailed{.details = *result.error}));
        break;
    case ExecutionStatus::ContinuedAsNew:
        result.history_delta.push_back(
            make_event(input, next_id++, std::nullopt,
                       events::OrchestrationContinuedAsNew{.input = result.output}));
        result.orchestrator_items.push_back({work::ContinueAsNew{
            .instance = input.instance,
            .orchestration = execution.started().name,
            .input = result.output,
            .version = execution.next_version,
            .carry_forward_events = turn.unconsumed_messages(),
            .initial_custom_status = turn.get_custom_status(),
            .open_sessions = turn.carried_sessions(),
        }});
        break;
    case ExecutionStatus::Running:
        break;
    }
}

// Terminal turn, as duroxide ends one: open waits get their breadcrumbs before the terminal
// event. Open sub-orchestrations: at a cancellation the children are cancelled ("parent
// canceled") and nothing is recorded; at completion or failure the code's futures are
// dropped (SubOrchestrationCancelRequested{dropped_future}, the child cancelled with
// "parent dropped sub-orchestration future"); at continue-as-new they are left to run.
// Then the terminal event and, after it (duroxide's dispatcher adds them once the turn is
// final), ActivityCancelRequested{orchestration_terminal_*} for each open activity.
void end_execution(const TurnInput& input, TurnResult& result, ResidentExecution& execution,
                   bool nondeterministic) {
    Turn& turn = execution.turn();
    std::vector<Event> all = turn.full();
    if (!nondeterministic) {
        all.insert(all.end(), turn.new_events().begin(), turn.new_events().end());
    }
    uint64_t next_id = all.back().event_id + 1;
    const std::vector<uint64_t> open_activities =
        close_open_work(input, result, execution, all, next_id);
    append_terminal_event(input, result, execution, next_id);
    for (const uint64_t activity : open_activities) {
        cancel_activity(input, activity, next_id++, result);
    }
    // Cancelled work items must not be enqueued in the same turn.
    std::erase_if(result.worker_items, [&](const WorkItem& item) {
        const auto& execute = std::get<work::ActivityExecute>(item.kind);
        for (const auto& cancelled : result.cancelled_activities) {
            if (cancelled.activity_id == execute.id) {
                return true;
            }
        }
        return false;
    });
    notify_parent(execution.started(), result);
}

// After the code ran (or resumed): the turn's decisions, its status and, on a terminal turn,
// the cancellation of what is still open and the terminal event. Returns whether the
// execution is still running (and may stay resident).
bool finish_turn(const TurnInput& input, TurnResult& result, ResidentExecution& execution) {
    const bool nondeterministic = settle_failure(input, result, execution);
    if (!decide_status(result, execution)) {
        return true; // waiting for more work
    }
    end_execution(input, result, execution, nondeterministic);
    return false;
}

// --- running a turn

// Keeps a still-running execution in `slot` (its new events become its history), or drops it.
void keep_or_drop(ResidentSlot* slot, std::unique_ptr<ResidentExecution> execution, bool running,
                  std::size_t stack_bytes) {
    if (slot == nullptr) {
        return; // destroyed here: a suspended fiber is unwound
    }
    if (running && !execution->fiber().finished()) {
        execution->turn().keep_new_events();
        slot->footprint_bytes = stack_bytes + execution->history_bytes();
        slot->execution = std::move(execution);
        slot->last_event_id = slot->execution->turn().last_event_id();
        slot->execution_id = slot->execution->execution_id();
    } else {
        slot->clear();
    }
}

// The turn of a resident execution: only this turn's messages are new; the code resumes.
TurnResult resume_turn(const TurnInput& input, ResidentSlot& slot, std::size_t stack_bytes) {
    TurnResult result;
    result.resumed = true;
    std::unique_ptr<ResidentExecution> execution = std::move(slot.execution);
    slot.clear();
    Turn& turn = execution->turn();
    turn.bind(input, result);
    std::vector<Event>& full = turn.history_for_append();
    const std::size_t first_new = full.size();
    result.orchestrator_items =
        refuse_foreign_starts(input.instance, execution->started(), input.messages, nullptr);
    if (turn.terminal_recorded()) {
        return result; // the execution ended (activity cancellations may follow its end)
    }
    std::optional<std::string> bad_completion =
        materialize_messages(input, full, result, turn.schedule_index());
    turn.index_appended(first_new);
    if (auto reason = cancel_reason_in(full, first_new)) {
        execution->cancel_reason = reason;
    }
    if (bad_completion) {
        execution->failure = ErrorDetails::nondeterminism(*bad_completion);
    } else if (!execution->fiber().finished()) {
        execution->fiber().resume();
    }
    const bool running = finish_turn(input, result, *execution);
    keep_or_drop(&slot, std::move(execution), running, stack_bytes);
    return result;
}

// What starts a new execution: a StartOrchestration, or the ContinueAsNew of the previous
// execution with the queue messages and custom status it carries.
struct ExecutionStart {
    work::StartOrchestration start;
    CarryForwardEvents carried;
    std::optional<std::string> initial_custom_status;
    std::optional<std::vector<std::string>> open_sessions;
};

std::optional<ExecutionStart> execution_start(const TurnInput& input) {
    for (const WorkItem& message : input.messages) {
        if (auto* start = std::get_if<work::StartOrchestration>(&message.kind)) {
            return ExecutionStart{.start = *start,
                                  .carried = {},
                                  .initial_custom_status = std::nullopt,
                                  .open_sessions = std::nullopt};
        }
        if (auto* next = std::get_if<work::ContinueAsNew>(&message.kind)) {
            // A child stays its parent's child across continue-as-new.
            const auto& previous = input.continued_from;
            return ExecutionStart{
                .start =
                    work::StartOrchestration{
                        .instance = next->instance,
                        .orchestration = next->orchestration,
                        .input = next->input,
                        .version = next->version,
                        .parent_instance = previous ? previous->parent_instance : std::nullopt,
                        .parent_id = previous ? previous->parent_id : std::nullopt,
                        .execution_id = input.execution_id,
                        .parent_execution_id =
                            previous ? previous->parent_execution_id : std::nullopt,
                    },
                .carried = next->carry_forward_events,
                .initial_custom_status = next->initial_custom_status,
                .open_sessions = next->open_sessions,
            };
        }
    }
    return std::nullopt;
}

events::OrchestrationStarted started_event(const ExecutionStart& begin, std::string version) {
    const work::StartOrchestration& start = begin.start;
    return events::OrchestrationStarted{
        .name = start.orchestration,
        .version = std::move(version),
        .input = start.input,
        .parent_instance = start.parent_instance,
        .parent_id = start.parent_id,
        .carry_forward_events =
            begin.carried.empty() ? std::nullopt : std::optional<CarryForwardEvents>(begin.carried),
        .initial_custom_status = begin.initial_custom_status,
        .parent_execution_id = start.parent_execution_id,
        .open_sessions = begin.open_sessions,
    };
}

// A new execution starts from its StartOrchestration (or ContinueAsNew) message: appends its
// OrchestrationStarted and the queue messages it carries to `full` (and the delta). Returns
// false, with nothing to replay, when nothing starts or the orchestration is not registered.
bool start_execution(const OrchestrationRegistry& registry, const TurnInput& input,
                     std::vector<Event>& full, TurnResult& result, const WorkItem*& own_start) {
    const auto first_start =
        std::find_if(input.messages.begin(), input.messages.end(), [](const WorkItem& m) {
            return std::holds_alternative<work::StartOrchestration>(m.kind);
        });
    own_start = first_start == input.messages.end() ? nullptr : &*first_start;
    const std::optional<ExecutionStart> begin = execution_start(input);
    if (!begin) {
        return false; // nothing to start: messages for an instance that does not exist
    }
    const work::StartOrchestration* start = &begin->start;
    auto handler = start->version ? registry.resolve_exact(start->orchestration,
                                                           Semver::parse(*start->version))
                                  : registry.resolve(start->orchestration);
    if (!handler) {
        result.handler_missing = true;
        return false;
    }
    full.push_back(
        make_event(input, 1, std::nullopt, started_event(*begin, handler->version.to_string())));
    result.history_delta.push_back(full.back());
    // Carried queue messages come first, in their order, before this batch's messages.
    for (const auto& [name, data] : begin->carried) {
        full.push_back(make_event(input, full.back().event_id + 1, std::nullopt,
                                  events::QueueEventDelivered{.name = name, .data = data}));
        result.history_delta.push_back(full.back());
    }
    result.orchestration_name = start->orchestration;
    result.orchestration_version = handler->version.to_string();
    result.parent_instance = start->parent_instance;
    return true;
}

// After a replay: history the code did not reproduce (schedules or dropped-future
// cancellations it no longer makes) fails the execution as nondeterministic.
void check_replay_complete(ResidentExecution& execution) {
    const std::size_t unmatched = execution.turn().unmatched_persisted_schedules();
    const std::size_t uncancelled = execution.turn().unrequested_recorded_cancels();
    if (!execution.failure && unmatched > 0) {
        execution.failure =
            ErrorDetails::nondeterminism("history has " + std::to_string(unmatched) +
                                         " scheduled item(s) the code no longer schedules");
    } else if (!execution.failure && uncancelled > 0) {
        execution.failure =
            ErrorDetails::nondeterminism("history has " + std::to_string(uncancelled) +
                                         " cancelled future(s) the code no longer cancels");
    }
}

// Replays the execution whose history (with its start) is `full` on a fresh fiber.
void replay_turn(const OrchestrationRegistry& registry, StackPool& stacks, const TurnInput& input,
                 std::vector<Event> full, const WorkItem* own_start, TurnResult& result,
                 ResidentSlot* slot) {
    const auto* first_event = std::get_if<events::OrchestrationStarted>(&full.front().kind);
    if (first_event == nullptr) {
        result.status = ExecutionStatus::Failed;
        result.error = ErrorDetails::infrastructure(
            "replay", "corrupted history: first event is " + std::string(full.front().type_name()));
        result.output = result.error->display_message();
        return;
    }
    events::OrchestrationStarted started = *first_event; // full grows below
    // A parent that chose this instance's id for its child hears that it is taken.
    result.orchestrator_items =
        refuse_foreign_starts(input.instance, started, input.messages, own_start);
    for (const Event& event : full) {
        if (event.is_terminal()) {
            return; // finished execution: late messages are dropped
        }
    }
    ScheduleIndex index;
    for (const Event& event : full) {
        index.add(event);
    }
    std::optional<std::string> bad_completion = materialize_messages(input, full, result, index);
    auto handler = registry.resolve_exact(started.name, Semver::parse(started.version));
    if (!handler) {
        result.handler_missing = true;
        result.history_delta.clear();
        return;
    }
    std::optional<std::string> cancel_reason = cancel_reason_in(full, 0);
    auto execution = std::make_unique<ResidentExecution>(
        input, result, std::move(full), std::move(started), *handler->handler, stacks);
    execution->cancel_reason = cancel_reason;
    if (bad_completion) {
        execution->failure = ErrorDetails::nondeterminism(*bad_completion);
    } else {
        execution->fiber().resume();
        check_replay_complete(*execution);
    }
    const bool running = finish_turn(input, result, *execution);
    keep_or_drop(slot, std::move(execution), running && !bad_completion, stacks.stack_size());
}

} // namespace

ResidentSlot::ResidentSlot() = default;
ResidentSlot::~ResidentSlot() = default;
ResidentSlot::ResidentSlot(ResidentSlot&&) noexcept = default;
ResidentSlot& ResidentSlot::operator=(ResidentSlot&&) noexcept = default;

void ResidentSlot::clear() {
    execution.reset();
    execution_id = 0;
    last_event_id = 0;
    footprint_bytes = 0;
}

TurnResult run_turn(const OrchestrationRegistry& registry, StackPool& stacks,
                    const TurnInput& input, ResidentSlot* slot) {
    if (slot != nullptr && slot->execution) {
        if (slot->execution_id == input.execution_id &&
            slot->last_event_id == input.persisted_last_event_id()) {
            return resume_turn(input, *slot, stacks.stack_size());
        }
        slot->clear(); // history moved on elsewhere: replay
    }
    TurnResult result;
    if (input.history_omitted) {
        result.needs_full_history = true;
        return result;
    }
    std::vector<Event> full = input.history;
    const WorkItem* own_start = nullptr; // the message that starts this execution
    if (full.empty() && !start_execution(registry, input, full, result, own_start)) {
        return result;
    }
    replay_turn(registry, stacks, input, std::move(full), own_start, result, slot);
    return result;
}

TurnResult poison_turn(const OrchestrationRegistry& registry, const TurnInput& input,
                       PoisonError poison) {
    TurnResult result;
    std::vector<Event> all = input.history;
    if (all.empty()) {
        const std::optional<ExecutionStart> begin = execution_start(input);
        if (!begin) {
            return result;
        }
        const work::StartOrchestration* start = &begin->start;
        auto handler = registry.resolve(start->orchestration);
        // As duroxide's fetch does for a start it cannot resolve: version "unknown".
        const std::string version =
            start->version ? *start->version
                           : (handler ? handler->version.to_string() : std::string("unknown"));
        all.push_back(make_event(input, 1, std::nullopt, started_event(*begin, version)));
        result.history_delta.push_back(all.back());
        result.orchestration_name = start->orchestration;
        result.orchestration_version = version;
        result.parent_instance = start->parent_instance;
    }
    const auto* started = std::get_if<events::OrchestrationStarted>(&all.front().kind);
    for (const Event& event : all) {
        if (event.is_terminal()) {
            return result;
        }
    }
    result.status = ExecutionStatus::Failed;
    result.error = ErrorDetails{std::move(poison)};
    result.output = result.error->display_message();
    const std::unordered_map<uint64_t, bool> closed = closed_schedules(all);
    uint64_t next_id = all.back().event_id + 1;
    result.history_delta.push_back(make_event(
        input, next_id++, std::nullopt, events::OrchestrationFailed{.details = *result.error}));
    // After the failure, as at the end of any execution.
    for (const Event& event : all) {
        if (std::holds_alternative<events::ActivityScheduled>(event.kind) &&
            !closed.count(event.event_id)) {
            cancel_activity(input, event.event_id, next_id++, result);
        }
    }
    if (started != nullptr) {
        notify_parent(*started, result);
    }
    return result;
}

TurnResult unreadable_history_poison_turn(const TurnInput& input, PoisonError poison) {
    TurnResult result;
    result.status = ExecutionStatus::Failed;
    result.error = ErrorDetails{std::move(poison)};
    result.output = result.error->display_message();
    result.history_delta.push_back(
        make_event(input, kUnreadableHistoryFailureEventId, std::nullopt,
                   events::OrchestrationFailed{.details = *result.error}));
    return result;
}

} // namespace duroxide::core
