// The OrchestrationContext of one execution (class Turn) and the pieces of replay it shares
// with the turn driver (turn.cpp). Internal to src/core/replay; callers use turn.hpp.
//
// Turn's work is split by job: the context API the orchestration code calls
// (turn_context.cpp), matching history and this turn's messages to the futures the code waits
// on (completions.cpp); the turn driver (turn.cpp) builds a Turn, runs the code and ends the
// turn.
#pragma once

#include "core/model/event.hpp"
#include "core/replay/kv_state.hpp"
#include "core/replay/session_tracking.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace duroxide::core {

// The replay machinery; named (not anonymous) because ResidentExecution, which the header
// declares, holds a Turn.
namespace replay_detail {

// Thrown through orchestration code to end the execution; not a std::exception, so user code
// catching std::exception cannot swallow it.
struct ContinueAsNewSignal {
    std::string input;
    std::optional<std::string> version; // none: the next execution's policy picks
};
struct NondeterminismSignal {
    std::string message;
};
// A task failed with a poison, infrastructure or configuration error: orchestration code never
// sees those; the execution fails with the same error.
struct SystemFailureSignal {
    ErrorDetails details;
};

struct Completion {
    Outcome outcome;
    std::size_t position;                                    // index in the full history
    std::optional<ErrorDetails> system_error = std::nullopt; // set for a non-application failure
};

bool is_schedule(const EventKind& kind);
// The schedule `kind` in words, for a nondeterminism message.
std::string describe(const EventKind& kind);

// What matching a completion message needs to know about a history: the kind of each
// schedule event, the schedules already completed, whether a cancel was recorded. Built from
// the history for a replay; kept up to date by a resident execution.
struct ScheduleIndex {
    std::unordered_map<uint64_t, std::size_t> kind_of_schedule; // event id -> kind index
    std::unordered_map<uint64_t, bool> done;
    bool cancel_recorded = false;

    void add(const Event& event);
};

// An event of this turn's execution (its envelope from the turn input).
Event make_event(const TurnInput& input, uint64_t id, std::optional<uint64_t> source,
                 EventKind kind);

// Turns this turn's messages into completion events appended to `full` and to the result's
// delta (those for other executions, duplicates and messages that complete nothing are
// dropped). Returns a nondeterminism message for a completion that names no schedule of the
// right kind.
std::optional<std::string> materialize_messages(const TurnInput& input, std::vector<Event>& full,
                                                TurnResult& result, ScheduleIndex& index);

// The OrchestrationContext of one execution. Built from the execution's history, it lives for
// one turn, or, for a resident execution, across turns: new completion events are appended
// (append_events) and the suspended code resumes where it waits.
class Turn final : public OrchestrationContext {
public:
    Turn(const TurnInput& input, TurnResult& result, std::vector<Event> full, std::string name,
         std::string version)
        : input_(&input), result_(&result), full_(std::move(full)), name_(std::move(name)),
          version_(std::move(version)), kv_(input.kv_snapshot) {
        index_from(0);
        persisted_schedules_ = schedules_.size(); // code-made schedules are all in history
    }

    // The turn whose input and result the next run reads and writes.
    void bind(const TurnInput& input, TurnResult& result) {
        input_ = &input;
        result_ = &result;
        new_events_.clear();
        new_id_ = 0;
    }

    // Appends events recorded outside the code (completions of this turn's messages).
    std::vector<Event>& history_for_append() { return full_; }
    void index_appended(std::size_t first_new) { index_from(first_new); }

    // After a turn that leaves the code waiting: what it scheduled is history now.
    void keep_new_events() {
        const std::size_t first = full_.size();
        for (Event& event : new_events_) {
            full_.push_back(std::move(event));
        }
        new_events_.clear();
        index_from(first);
        persisted_schedules_ = schedules_.size();
    }

    uint64_t last_event_id() const { return full_.empty() ? 0 : full_.back().event_id; }
    ScheduleIndex& schedule_index() { return schedule_index_; }

    // --- OrchestrationContext (turn_context.cpp)
    const std::string& instance_id() const override { return input_->instance; }
    uint64_t execution_id() const override { return input_->execution_id; }
    const std::string& orchestration_name() const override { return name_; }
    const std::string& orchestration_version() const override { return version_; }
    bool is_replaying() const override { return next_schedule_ < persisted_schedules_; }

    DurableFuture schedule_activity_on(std::string_view name, std::string_view input,
                                       std::optional<std::string_view> session_id) override;
    using OrchestrationContext::schedule_activity;
    DurableFuture schedule_activity(std::string_view name, std::string_view input,
                                    const ActivityOptions& options) override;
    void trace(TraceLevel level, std::string_view message) override;
    DurableFuture schedule_timer(std::chrono::milliseconds delay) override;
    DurableFuture schedule_wait(std::string_view name) override;
    DurableFuture schedule_sub_orchestration(std::string_view name, std::string_view input,
                                             std::optional<std::string_view> instance,
                                             std::optional<std::string_view> version) override;
    void schedule_orchestration(std::string_view name, std::string_view instance,
                                std::string_view input,
                                std::optional<std::string_view> version) override;
    DurableFuture dequeue_event(std::string_view name) override;

    void set_custom_status(std::string_view status) override;
    void reset_custom_status() override;
    std::optional<std::string> get_custom_status() const override { return custom_status_; }

    // key-value store (kv_state.hpp): each change is a schedule event matched on replay
    void set_kv_value(std::string_view key, std::string_view value) override;
    std::optional<std::string> get_kv_value(std::string_view key) const override {
        return kv_.get(key);
    }
    std::map<std::string, std::string> get_kv_all_values() const override { return kv_.all(); }
    std::vector<std::string> get_kv_all_keys() const override { return kv_.keys(); }
    std::size_t get_kv_length() const override { return kv_.size(); }
    void clear_kv_value(std::string_view key) override;
    void clear_all_kv_values() override;
    std::size_t prune_kv_values_updated_before(uint64_t cutoff_ms) override;

    // explicit sessions (session_tracking.hpp): each open and close is a schedule event
    std::string open_session() override;
    std::string open_session_with_id(std::string_view session) override;
    void close_session(std::string_view session) override;
    bool is_session_open(std::string_view session) const override {
        return sessions_.is_open(session);
    }

    [[noreturn]] void continue_as_new(std::string_view input) override;
    [[noreturn]] void continue_as_new_versioned(std::string_view version,
                                                std::string_view input) override;

    Outcome await(const DurableFuture& future) override;
    bool is_ready(const DurableFuture& future) const override {
        return completions_.count(future.id()) != 0;
    }
    std::size_t select(std::span<const DurableFuture> futures) override;
    void cancel(const DurableFuture& future) override { cancel_work(future.id()); }

    // --- what the turn driver reads
    const std::optional<ErrorDetails>& limit_failure() const { return limit_failure_; }
    // The first limit the code broke this turn; the turn's end fails the execution with it.
    void note_limit_failure(std::string message) {
        if (!limit_failure_) {
            limit_failure_ = ErrorDetails::orchestration_failed(std::move(message));
        }
    }
    std::optional<std::vector<std::string>> carried_sessions() const { return sessions_.carried(); }
    // The parent of this execution's instance, from its start event.
    std::optional<std::string> started_parent_instance() const {
        const auto* started = full_.empty()
                                  ? nullptr
                                  : std::get_if<events::OrchestrationStarted>(&full_.front().kind);
        return started ? started->parent_instance : std::nullopt;
    }
    std::size_t unmatched_persisted_schedules() const {
        return next_schedule_ < persisted_schedules_ ? persisted_schedules_ - next_schedule_ : 0;
    }
    std::vector<Event>& new_events() { return new_events_; }
    uint64_t take_event_id() { return next_event_id_++; }
    const std::vector<Event>& full() const { return full_; }
    bool completed(uint64_t id) const { return completions_.count(id) != 0; }
    // Whether the indexed history holds a terminal event (kept as events are indexed, so that
    // a resident turn does not scan the whole history for one).
    bool terminal_recorded() const { return terminal_recorded_; }
    // Queue messages no dequeue took, oldest first, at most kMaxCarryForwardEvents (the
    // oldest are kept, as duroxide does): what continue-as-new carries to the next execution.
    CarryForwardEvents unconsumed_messages() const;
    // Dropped-future cancellations history records but the code did not make again.
    std::size_t unrequested_recorded_cancels() const;

private:
    // --- cancellation of abandoned work (turn_context.cpp)
    void cancel_work(uint64_t id);
    const Event* find_scheduled(uint64_t id) const;
    bool record_cancel(uint64_t id, EventKind breadcrumb);

    // --- schedules (turn_context.cpp)
    uint64_t schedule(EventKind kind);
    uint64_t upcoming_event_id() const;
    // Ends the turn with the code suspended; it resumes (and looks again) when a later turn
    // appends events, or is unwound when the execution is dropped.
    void wait_for_events();

    // --- completion handling (completions.cpp)
    bool takes(uint64_t id, std::size_t position) const;
    void index_cancel(const Event& event, std::size_t position);
    void index_from(std::size_t first);
    void index_completion(const Event& event, std::size_t position);

    const TurnInput* input_;
    TurnResult* result_;
    std::vector<Event> full_;
    std::string name_, version_;
    std::vector<std::size_t> schedules_; // positions of schedule events in full_
    std::size_t persisted_schedules_ = 0;
    std::size_t next_schedule_ = 0;
    std::unordered_map<uint64_t, Completion> completions_;
    struct Queue {
        // Messages no dequeue has taken: data, history position.
        std::deque<std::pair<std::string, std::size_t>> buffered;
        // Dequeues waiting for a message, oldest first: event id, history position.
        std::deque<std::pair<uint64_t, std::size_t>> waiting;
    };
    std::unordered_map<uint64_t, std::size_t> schedule_positions_; // event id -> index in full_
    // Dropped-future breadcrumbs of history (by the id of the work) and where they are.
    std::unordered_set<uint64_t> recorded_cancels_;
    std::unordered_map<uint64_t, std::size_t> cancel_positions_;
    std::unordered_set<uint64_t> cancelled_;                 // work the code cancelled
    std::map<std::string, std::deque<uint64_t>> open_waits_; // ExternalSubscribed ids by name
    ScheduleIndex schedule_index_;
    std::map<std::string, Queue> queues_;
    std::optional<std::string> custom_status_;
    std::vector<Event> new_events_;
    uint64_t next_event_id_ = 1;
    uint64_t new_id_ = 0;
    bool terminal_recorded_ = false;
    KvState kv_;
    std::optional<ErrorDetails> limit_failure_; // a limit the code broke
    SessionTracking sessions_;
};

} // namespace replay_detail

} // namespace duroxide::core
