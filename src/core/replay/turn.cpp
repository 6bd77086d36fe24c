#include "core/replay/turn.hpp"

#include "core/codec/json_codec.hpp"
#include "core/fiber/fiber.hpp"
#include "core/model/limits.hpp"
#include "core/replay/child_ids.hpp"
#include "core/replay/kv_state.hpp"
#include "core/replay/session_tracking.hpp"
#include "core/routing/tag_filter.hpp"
#include "core/validation/identifiers.hpp"
#include "duroxide/orchestration_context.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

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
    std::size_t position;                     // index in the full history
    std::optional<ErrorDetails> system_error; // set for a non-application failure
};

bool is_schedule(const EventKind& kind);

// What matching a completion message needs to know about a history: the kind of each
// schedule event, the schedules already completed, whether a cancel was recorded. Built from
// the history for a replay; kept up to date by a resident execution.
struct ScheduleIndex {
    std::unordered_map<uint64_t, std::size_t> kind_of_schedule; // event id -> kind index
    std::unordered_map<uint64_t, bool> done;
    bool cancel_recorded = false;

    void add(const Event& event) {
        if (is_schedule(event.kind)) {
            kind_of_schedule[event.event_id] = event.kind.index();
        }
        if (event.source_event_id) {
            done[*event.source_event_id] = true;
        }
        cancel_recorded = cancel_recorded ||
                          std::holds_alternative<events::OrchestrationCancelRequested>(event.kind);
    }
};

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

    // --- OrchestrationContext
    const std::string& instance_id() const override { return input_->instance; }
    uint64_t execution_id() const override { return input_->execution_id; }
    const std::string& orchestration_name() const override { return name_; }
    const std::string& orchestration_version() const override { return version_; }
    bool is_replaying() const override { return next_schedule_ < persisted_schedules_; }

    DurableFuture schedule_activity_on(std::string_view name, std::string_view input,
                                       std::optional<std::string_view> session_id) override {
        ActivityOptions options;
        if (session_id) {
            options.session_id = std::string(*session_id);
        }
        return schedule_activity(name, input, options);
    }

    using OrchestrationContext::schedule_activity;
    DurableFuture schedule_activity(std::string_view name, std::string_view input,
                                    const ActivityOptions& options) override {
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
                throw SystemFailureSignal{
                    ErrorDetails::orchestration_failed("activity " + *problem)};
            }
        }
        if (options.session_id) {
            // Explicit mode: only open sessions (session_tracking.hpp); not catchable.
            if (const auto problem = sessions_.schedule_problem(*options.session_id)) {
                limit_failure_ = ErrorDetails::orchestration_failed(*problem); // kept: see KV
                throw SystemFailureSignal{*limit_failure_};
            }
        }
        events::ActivityScheduled scheduled{std::string(name), std::string(input),
                                            options.session_id, options.tag};
        const uint64_t id = schedule(scheduled);
        if (id == new_id_ && !over_limit) {
            result_->worker_items.push_back(
                {work::ActivityExecute{input_->instance, input_->execution_id, id, scheduled.name,
                                       scheduled.input, scheduled.session_id, scheduled.tag}});
        }
        return DurableFuture(this, id);
    }

    // The parent of this execution's instance, from its start event.
    std::optional<std::string> started_parent_instance() const {
        const auto* started = full_.empty()
                                  ? nullptr
                                  : std::get_if<events::OrchestrationStarted>(&full_.front().kind);
        return started ? started->parent_instance : std::nullopt;
    }

    void trace(TraceLevel level, std::string_view message) override {
        if (!is_replaying()) {
            result_->traces.push_back({level, std::string(message), name_, version_});
        }
    }

    DurableFuture schedule_timer(std::chrono::milliseconds delay) override {
        const uint64_t fire_at =
            input_->now_ms + static_cast<uint64_t>(std::max<int64_t>(delay.count(), 0));
        const uint64_t id = schedule(events::TimerCreated{fire_at});
        if (id == new_id_) {
            result_->orchestrator_items.push_back(
                {work::TimerFired{input_->instance, input_->execution_id, id, fire_at}});
        }
        return DurableFuture(this, id);
    }

    DurableFuture schedule_wait(std::string_view name) override {
        return DurableFuture(this, schedule(events::ExternalSubscribed{std::string(name)}));
    }

    DurableFuture schedule_sub_orchestration(std::string_view name, std::string_view input,
                                             std::optional<std::string_view> instance,
                                             std::optional<std::string_view> version) override {
        const std::string child =
            instance ? std::string(*instance)
                     : input_->instance + "::sub::" + std::to_string(upcoming_event_id());
        if (const auto problem =
                child_id_problem(child, input_->instance, started_parent_instance())) {
            // As a limit violation: the id is checked like the SQL API's, and the execution
            // fails (a refused id would leave a child no client could reach, or none at all).
            throw SystemFailureSignal{ErrorDetails::orchestration_failed(*problem)};
        }
        const uint64_t id = schedule(
            events::SubOrchestrationScheduled{std::string(name), child, std::string(input)});
        if (id == new_id_) {
            result_->orchestrator_items.push_back({work::StartOrchestration{
                child, std::string(name), std::string(input),
                version ? std::optional<std::string>(*version) : std::nullopt, input_->instance, id,
                1, input_->execution_id}});
        }
        return DurableFuture(this, id);
    }

    void schedule_orchestration(std::string_view name, std::string_view instance,
                                std::string_view input,
                                std::optional<std::string_view> version) override {
        const uint64_t id = schedule(events::OrchestrationChained{
            std::string(name), std::string(instance), std::string(input)});
        if (id == new_id_) {
            result_->orchestrator_items.push_back({work::StartOrchestration{
                std::string(instance), std::string(name), std::string(input),
                version ? std::optional<std::string>(*version) : std::nullopt, std::nullopt,
                std::nullopt, 1}});
        }
    }

    DurableFuture dequeue_event(std::string_view name) override {
        const std::size_t position = next_schedule_ < schedules_.size()
                                         ? schedules_[next_schedule_]
                                         : full_.size() + new_events_.size();
        const uint64_t id = schedule(events::QueueSubscribed{std::string(name)});
        // A mailbox: the oldest message not yet taken, whenever it arrived, else the next one.
        auto& queue = queues_[std::string(name)];
        if (!queue.buffered.empty() && takes(id, queue.buffered.front().second)) {
            const auto [data, delivered_at] = queue.buffered.front();
            queue.buffered.pop_front();
            completions_.emplace(
                id, Completion{Outcome::success(data), std::max(position, delivered_at)});
        } else {
            queue.waiting.emplace_back(id, position);
        }
        return DurableFuture(this, id);
    }

    void set_custom_status(std::string_view status) override {
        if (status.size() > kMaxCustomStatusBytes) {
            // As duroxide's limit check after the turn: the update is recorded, the code goes
            // on, and the execution fails at the end of the turn (reference §4.13).
            note_limit_failure("Custom status size (" + std::to_string(status.size()) +
                               " bytes) exceeds limit (" + std::to_string(kMaxCustomStatusBytes) +
                               " bytes)");
        }
        schedule(events::CustomStatusUpdated{std::string(status)});
        custom_status_ = std::string(status);
    }
    void reset_custom_status() override {
        schedule(events::CustomStatusUpdated{std::nullopt});
        custom_status_.reset();
    }
    std::optional<std::string> get_custom_status() const override { return custom_status_; }

    // --- key-value store (kv_state.hpp): each change is a schedule event matched on replay
    void set_kv_value(std::string_view key, std::string_view value) override {
        if (auto problem = kv_.limit_problem(key, value)) {
            // Kept as well as thrown: code that catches everything still fails.
            limit_failure_ = ErrorDetails::orchestration_failed(*problem);
            throw SystemFailureSignal{*limit_failure_};
        }
        schedule(events::KeyValueSet{std::string(key), std::string(value), input_->now_ms});
        // A replayed set keeps the time it was first recorded at.
        const Event& recorded =
            new_id_ != 0 ? new_events_.back() : full_[schedules_[next_schedule_ - 1]];
        kv_.set(key, value, std::get<events::KeyValueSet>(recorded.kind).last_updated_at_ms);
    }
    std::optional<std::string> get_kv_value(std::string_view key) const override {
        return kv_.get(key);
    }
    std::map<std::string, std::string> get_kv_all_values() const override { return kv_.all(); }
    std::vector<std::string> get_kv_all_keys() const override { return kv_.keys(); }
    std::size_t get_kv_length() const override { return kv_.size(); }
    void clear_kv_value(std::string_view key) override {
        schedule(events::KeyValueCleared{std::string(key)});
        kv_.clear(key);
    }
    void clear_all_kv_values() override {
        schedule(events::KeyValuesCleared{});
        kv_.clear_all();
    }
    const std::optional<ErrorDetails>& limit_failure() const { return limit_failure_; }
    // The first limit the code broke this turn; the turn's end fails the execution with it.
    void note_limit_failure(std::string message) {
        if (!limit_failure_) {
            limit_failure_ = ErrorDetails::orchestration_failed(std::move(message));
        }
    }
    std::size_t prune_kv_values_updated_before(uint64_t cutoff_ms) override {
        const std::vector<std::string> keys = kv_.prunable(cutoff_ms);
        for (const std::string& key : keys) {
            clear_kv_value(key);
        }
        return keys.size();
    }

    // --- explicit sessions (session_tracking.hpp): each open and close is a schedule event
    std::string open_session() override {
        return open_session_with_id(
            generated_session_id(input_->execution_id, upcoming_event_id()));
    }
    std::string open_session_with_id(std::string_view session) override {
        if (auto problem = sessions_.open_problem(session, input_->max_open_sessions)) {
            limit_failure_ = ErrorDetails::orchestration_failed(*problem); // kept: see KV
            throw SystemFailureSignal{*limit_failure_};
        }
        if (!sessions_.is_open(session)) {
            schedule(events::SessionOpened{std::string(session)});
            sessions_.opened(session);
        }
        return std::string(session);
    }
    void close_session(std::string_view session) override {
        schedule(events::SessionClosed{std::string(session)});
        sessions_.closed(session);
    }
    bool is_session_open(std::string_view session) const override {
        return sessions_.is_open(session);
    }
    std::optional<std::vector<std::string>> carried_sessions() const { return sessions_.carried(); }

    [[noreturn]] void continue_as_new(std::string_view input) override {
        throw ContinueAsNewSignal{std::string(input), std::nullopt};
    }
    [[noreturn]] void continue_as_new_versioned(std::string_view version,
                                                std::string_view input) override {
        throw ContinueAsNewSignal{std::string(input), std::string(version)};
    }

    Outcome await(const DurableFuture& future) override {
        auto it = completions_.find(future.id());
        if (it == completions_.end() && cancelled_.count(future.id())) {
            throw std::logic_error("awaited a cancelled future (event " +
                                   std::to_string(future.id()) +
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

    bool is_ready(const DurableFuture& future) const override {
        return completions_.count(future.id()) != 0;
    }

    std::size_t select(std::span<const DurableFuture> futures) override {
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

    void cancel(const DurableFuture& future) override { cancel_work(future.id()); }

    // --- driving
    std::size_t unmatched_persisted_schedules() const {
        return next_schedule_ < persisted_schedules_ ? persisted_schedules_ - next_schedule_ : 0;
    }
    std::vector<Event>& new_events() { return new_events_; }
    uint64_t take_event_id() { return next_event_id_++; }
    const std::vector<Event>& full() const { return full_; }
    bool completed(uint64_t id) const { return completions_.count(id) != 0; }
    // Queue messages no dequeue took, oldest first, at most kMaxCarryForwardEvents (the
    // oldest are kept, as duroxide does): what continue-as-new carries to the next execution.
    CarryForwardEvents unconsumed_messages() const {
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

    // Dropped-future cancellations history records but the code did not make again.
    std::size_t unrequested_recorded_cancels() const {
        std::size_t count = 0;
        for (uint64_t id : recorded_cancels_) {
            count += cancelled_.count(id) == 0;
        }
        return count;
    }

private:
    // --- cancellation of abandoned work (select losers, DurableFuture::cancel)

    // The code abandons work `id`. Completed work and timers need nothing; otherwise a
    // breadcrumb records the cancellation (matched against history on replay, like a
    // schedule) and, when it is new, the work is withdrawn: an activity by lock stealing, a
    // child by a CancelInstance. A cancelled wait or dequeue no longer takes an event.
    void cancel_work(uint64_t id) {
        if (id == 0 || completions_.count(id) != 0 || !cancelled_.insert(id).second) {
            return;
        }
        const Event* scheduled = find_scheduled(id);
        if (scheduled == nullptr) {
            return;
        }
        static constexpr const char* kReason = "dropped_future";
        if (std::holds_alternative<events::ActivityScheduled>(scheduled->kind)) {
            if (record_cancel(id, events::ActivityCancelRequested{kReason})) {
                result_->cancelled_activities.push_back(
                    {input_->instance, input_->execution_id, id});
                std::erase_if(result_->worker_items, [id](const WorkItem& item) {
                    auto* execute = std::get_if<work::ActivityExecute>(&item.kind);
                    return execute != nullptr && execute->id == id;
                });
            }
        } else if (auto* child = std::get_if<events::SubOrchestrationScheduled>(&scheduled->kind)) {
            const std::string child_instance = child->instance;
            if (record_cancel(id, events::SubOrchestrationCancelRequested{kReason})) {
                result_->orchestrator_items.push_back({work::CancelInstance{
                    child_instance, "parent dropped sub-orchestration future"}});
            }
        } else if (auto* wait = std::get_if<events::ExternalSubscribed>(&scheduled->kind)) {
            std::erase(open_waits_[wait->name], id);
            record_cancel(id, events::ExternalSubscribedCancelled{kReason});
        } else if (auto* dequeue = std::get_if<events::QueueSubscribed>(&scheduled->kind)) {
            std::erase_if(queues_[dequeue->name].waiting,
                          [id](const auto& waiting) { return waiting.first == id; });
            record_cancel(id, events::QueueSubscriptionCancelled{kReason});
        }
    }

    // The schedule event `id`, in history or among this turn's new events.
    const Event* find_scheduled(uint64_t id) const {
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
    bool record_cancel(uint64_t id, EventKind breadcrumb) {
        if (recorded_cancels_.count(id) != 0) {
            return false;
        }
        new_events_.push_back(Event{next_event_id_++, id, input_->instance, input_->execution_id,
                                    input_->now_ms, kDuroxideVersion, std::move(breadcrumb)});
        return true;
    }

    // Whether dequeue `id` may take a message recorded at `position`: not after history
    // recorded its cancellation (a cancelled dequeue consumes nothing).
    bool takes(uint64_t id, std::size_t position) const {
        auto it = cancel_positions_.find(id);
        return it == cancel_positions_.end() || position < it->second;
    }

    // Matches the next schedule against history, or records it as new. Returns the event id
    // (new_id_ is set to it for new schedules so that callers can add queue items).
    uint64_t schedule(EventKind kind) {
        const std::size_t index = next_schedule_++;
        if (index < schedules_.size()) {
            const Event& recorded = full_[schedules_[index]];
            const bool same = recorded.kind.index() == kind.index() &&
                              (std::holds_alternative<events::TimerCreated>(kind) ||
                               std::holds_alternative<events::CustomStatusUpdated>(kind) ||
                               kv_events_match(recorded.kind, kind) || recorded.kind == kind);
            if (!same) {
                throw NondeterminismSignal{
                    "schedule mismatch: history has " + describe(recorded.kind) + " at event " +
                    std::to_string(recorded.event_id) + ", code scheduled " + describe(kind)};
            }
            new_id_ = 0;
            return recorded.event_id;
        }
        Event event{next_event_id_++, std::nullopt,     input_->instance, input_->execution_id,
                    input_->now_ms,   kDuroxideVersion, std::move(kind)};
        new_id_ = event.event_id;
        new_events_.push_back(std::move(event));
        return new_id_;
    }

    // The event id the next schedule call gets: the recorded one on replay, else a new one.
    uint64_t upcoming_event_id() const {
        return next_schedule_ < schedules_.size() ? full_[schedules_[next_schedule_]].event_id
                                                  : next_event_id_;
    }

    // A cancellation breadcrumb of history: a cancelled wait takes no later event.
    void index_cancel(const Event& event, std::size_t position) {
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

    // Ends the turn with the code suspended; it resumes (and looks again) when a later turn
    // appends events, or is unwound when the execution is dropped.
    void wait_for_events() { Fiber::suspend(); }

    // Indexes full_[first..]: schedule positions, completions, waits, queue messages.
    void index_from(std::size_t first) {
        if (!full_.empty()) {
            next_event_id_ = std::max(next_event_id_, full_.back().event_id + 1);
        }
        for (std::size_t i = first; i < full_.size(); ++i) {
            const Event& event = full_[i];
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
            const uint64_t source = event.source_event_id.value_or(0);
            std::visit(
                [&](const auto& kind) {
                    using K = std::decay_t<decltype(kind)>;
                    if constexpr (std::is_same_v<K, events::ActivityCompleted>) {
                        completions_.emplace(source, Completion{Outcome::success(kind.result), i});
                    } else if constexpr (std::is_same_v<K, events::ActivityFailed>) {
                        std::optional<ErrorDetails> system_error;
                        if (!std::holds_alternative<ApplicationError>(kind.details.value)) {
                            system_error = kind.details;
                        }
                        completions_.emplace(
                            source, Completion{Outcome::failure(kind.details.display_message()), i,
                                               std::move(system_error)});
                    } else if constexpr (std::is_same_v<K, events::TimerFired>) {
                        completions_.emplace(source, Completion{Outcome::success(""), i});
                    } else if constexpr (std::is_same_v<K, events::SubOrchestrationCompleted>) {
                        completions_.emplace(source, Completion{Outcome::success(kind.result), i});
                    } else if constexpr (std::is_same_v<K, events::SubOrchestrationFailed>) {
                        std::optional<ErrorDetails> system_error;
                        if (!std::holds_alternative<ApplicationError>(kind.details.value)) {
                            system_error = kind.details;
                        }
                        completions_.emplace(
                            source, Completion{Outcome::failure(kind.details.display_message()), i,
                                               std::move(system_error)});
                    } else if constexpr (std::is_same_v<K, events::QueueEventDelivered>) {
                        // The oldest dequeue waiting (resident code) that may take it, or the
                        // mailbox.
                        auto& queue = queues_[kind.name];
                        auto waiting = std::find_if(
                            queue.waiting.begin(), queue.waiting.end(),
                            [&](const auto& dequeue) { return takes(dequeue.first, i); });
                        if (waiting != queue.waiting.end()) {
                            completions_.emplace(waiting->first,
                                                 Completion{Outcome::success(kind.data),
                                                            std::max(waiting->second, i)});
                            queue.waiting.erase(waiting);
                        } else {
                            queue.buffered.emplace_back(kind.data, i);
                        }
                    } else if constexpr (std::is_same_v<K, events::ExternalSubscribed>) {
                        open_waits_[kind.name].push_back(event.event_id);
                    } else if constexpr (std::is_same_v<K, events::ExternalEvent>) {
                        auto& queue = open_waits_[kind.name];
                        if (!queue.empty()) { // causal rule: only waits recorded before it
                            completions_.emplace(queue.front(),
                                                 Completion{Outcome::success(kind.data), i});
                            queue.pop_front();
                        }
                    }
                },
                event.kind);
        }
    }

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
    KvState kv_;
    std::optional<ErrorDetails> limit_failure_; // a limit the code broke
    SessionTracking sessions_;
};

Event make_event(const TurnInput& input, uint64_t id, std::optional<uint64_t> source,
                 EventKind kind) {
    return Event{id,           source,           input.instance, input.execution_id,
                 input.now_ms, kDuroxideVersion, std::move(kind)};
}

// Turns this turn's messages into completion events (those for other executions, duplicates
// and messages that complete nothing are dropped). Returns a nondeterminism message for a
// completion that names no schedule of the right kind.
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
        if (auto* m = std::get_if<work::ActivityCompleted>(&message.kind)) {
            problem = completes(m->execution_id, m->id, kActivity, "activity");
            if (problem && problem->empty()) {
                append(m->id, events::ActivityCompleted{m->result});
            }
        } else if (auto* m = std::get_if<work::ActivityFailed>(&message.kind)) {
            problem = completes(m->execution_id, m->id, kActivity, "activity");
            if (problem && problem->empty()) {
                append(m->id, events::ActivityFailed{m->details});
            }
        } else if (auto* m = std::get_if<work::TimerFired>(&message.kind)) {
            problem = completes(m->execution_id, m->id, kTimer, "timer");
            if (problem && problem->empty()) {
                append(m->id, events::TimerFired{m->fire_at_ms});
            }
        } else if (auto* m = std::get_if<work::SubOrchCompleted>(&message.kind)) {
            // Matched by the scheduling event id, for the execution that scheduled the child
            // (a completion for an execution that has continued as new is dropped); 0 says
            // the child did not know it: taken for the current execution.
            problem = completes(parent_execution(m->parent_execution_id), m->parent_id,
                                kSubOrchestration, "sub-orchestration");
            if (problem && problem->empty()) {
                append(m->parent_id, events::SubOrchestrationCompleted{m->result});
            }
        } else if (auto* m = std::get_if<work::SubOrchFailed>(&message.kind)) {
            problem = completes(parent_execution(m->parent_execution_id), m->parent_id,
                                kSubOrchestration, "sub-orchestration");
            if (problem && problem->empty()) {
                append(m->parent_id, events::SubOrchestrationFailed{m->details});
            }
        } else if (auto* m = std::get_if<work::QueueMessage>(&message.kind)) {
            append(std::nullopt, events::QueueEventDelivered{m->name, m->data});
        } else if (auto* m = std::get_if<work::ExternalRaised>(&message.kind)) {
            append(std::nullopt, events::ExternalEvent{m->name, m->data});
        } else if (auto* m = std::get_if<work::CancelInstance>(&message.kind)) {
            if (!cancel_recorded) {
                append(std::nullopt, events::OrchestrationCancelRequested{m->reason});
                cancel_recorded = true;
            }
        }
        if (problem && !problem->empty()) {
            return problem;
        }
    }
    return std::nullopt;
}

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
                   events::ActivityCancelRequested{terminal_reason(result.status)}));
    result.cancelled_activities.push_back({input.instance, input.execution_id, activity_id});
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
            *started.parent_instance, parent_execution, *started.parent_id, result.output}});
    } else if (result.status == ExecutionStatus::Failed) {
        result.orchestrator_items.push_back({work::SubOrchFailed{
            *started.parent_instance, parent_execution, *started.parent_id, *result.error}});
    }
}

} // namespace replay_detail

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

std::optional<std::string> cancel_reason_in(const std::vector<Event>& events, std::size_t first) {
    std::optional<std::string> reason;
    for (std::size_t i = first; i < events.size(); ++i) {
        if (auto* cancel = std::get_if<events::OrchestrationCancelRequested>(&events[i].kind)) {
            reason = cancel->reason;
        }
    }
    return reason;
}

// After the code ran (or resumed): the turn's decisions, its status and, on a terminal turn,
// the cancellation of what is still open and the terminal event. Returns whether the
// execution is still running (and may stay resident).
bool finish_turn(const TurnInput& input, TurnResult& result, ResidentExecution& execution) {
    Turn& turn = execution.turn();
    std::optional<ErrorDetails>& failure = execution.failure;
    if (turn.limit_failure() && (!failure || *failure == *turn.limit_failure())) {
        // Broken during the turn while the code went on (it may be waiting now): the turn's
        // events stay, nothing it decided is sent, and the execution fails.
        failure = turn.limit_failure();
        result.worker_items.clear();
        std::erase_if(result.orchestrator_items, [](const WorkItem& item) {
            return !std::holds_alternative<work::SubOrchFailed>(item.kind);
        });
    }
    const bool nondeterministic =
        failure && std::holds_alternative<ConfigurationError>(failure->value);
    if (nondeterministic) {
        // Decisions of code that no longer matches its history are not kept (the answers to
        // other parents' starts of this instance are not the code's).
        result.worker_items.clear();
        std::erase_if(result.orchestrator_items, [](const WorkItem& item) {
            return !std::holds_alternative<work::SubOrchFailed>(item.kind);
        });
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

    if (failure) {
        result.status = ExecutionStatus::Failed;
        result.error = failure;
        result.output = failure->display_message();
    } else if (execution.next_input) {
        result.status = ExecutionStatus::ContinuedAsNew;
        result.output = *execution.next_input;
    } else if (execution.output) {
        result.status = ExecutionStatus::Completed;
        result.output = *execution.output;
    } else {
        return true; // waiting for more work
    }

    // Terminal turn, as duroxide ends one: open waits get their breadcrumbs before the terminal
    // event. Open sub-orchestrations: at a cancellation the children are cancelled ("parent
    // canceled") and nothing is recorded; at completion or failure the code's futures are
    // dropped (SubOrchestrationCancelRequested{dropped_future}, the child cancelled with
    // "parent dropped sub-orchestration future"); at continue-as-new they are left to run.
    // Then the terminal event and, after it (duroxide's dispatcher adds them once the turn is
    // final), ActivityCancelRequested{orchestration_terminal_*} for each open activity.
    std::vector<Event> all = turn.full();
    if (!nondeterministic) {
        all.insert(all.end(), turn.new_events().begin(), turn.new_events().end());
    }
    uint64_t next_id = all.back().event_id + 1;
    std::unordered_map<uint64_t, bool> closed;
    for (const Event& event : all) {
        if (event.source_event_id) {
            closed[*event.source_event_id] = true;
        }
    }
    std::vector<uint64_t> open_activities;
    for (const Event& event : all) {
        if (std::holds_alternative<events::ActivityScheduled>(event.kind) &&
            !closed.count(event.event_id)) {
            open_activities.push_back(event.event_id);
        } else if (auto* child = std::get_if<events::SubOrchestrationScheduled>(&event.kind);
                   child != nullptr && !closed.count(event.event_id)) {
            if (execution.cancel_reason) {
                result.orchestrator_items.push_back(
                    {work::CancelInstance{child->instance, "parent canceled"}});
            } else if (result.status != ExecutionStatus::ContinuedAsNew) {
                result.history_delta.push_back(
                    make_event(input, next_id++, event.event_id,
                               events::SubOrchestrationCancelRequested{"dropped_future"}));
                result.orchestrator_items.push_back({work::CancelInstance{
                    child->instance, "parent dropped sub-orchestration future"}});
            }
        } else if (std::holds_alternative<events::QueueSubscribed>(event.kind) &&
                   !closed.count(event.event_id) && !turn.completed(event.event_id)) {
            result.history_delta.push_back(
                make_event(input, next_id++, event.event_id,
                           events::QueueSubscriptionCancelled{"orchestration_terminal"}));
        } else if (std::holds_alternative<events::ExternalSubscribed>(event.kind) &&
                   !closed.count(event.event_id) && !turn.completed(event.event_id)) {
            result.history_delta.push_back(
                make_event(input, next_id++, event.event_id,
                           events::ExternalSubscribedCancelled{"orchestration_terminal"}));
        }
    }
    const events::OrchestrationStarted& started = execution.started();
    switch (result.status) {
    case ExecutionStatus::Completed:
        result.history_delta.push_back(make_event(input, next_id++, std::nullopt,
                                                  events::OrchestrationCompleted{result.output}));
        break;
    case ExecutionStatus::Failed:
        result.history_delta.push_back(
            make_event(input, next_id++, std::nullopt, events::OrchestrationFailed{*result.error}));
        break;
    case ExecutionStatus::ContinuedAsNew:
        result.history_delta.push_back(make_event(
            input, next_id++, std::nullopt, events::OrchestrationContinuedAsNew{result.output}));
        result.orchestrator_items.push_back({work::ContinueAsNew{
            input.instance, started.name, result.output, execution.next_version,
            turn.unconsumed_messages(), turn.get_custom_status(), turn.carried_sessions()}});
        break;
    case ExecutionStatus::Running:
        break;
    }
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
    notify_parent(started, result);
    return false;
}

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
    if (std::any_of(full.begin(), full.end(), [](const Event& e) { return e.is_terminal(); })) {
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
            return ExecutionStart{*start, {}, std::nullopt, std::nullopt};
        }
        if (auto* next = std::get_if<work::ContinueAsNew>(&message.kind)) {
            // A child stays its parent's child across continue-as-new.
            const auto& previous = input.continued_from;
            return ExecutionStart{
                work::StartOrchestration{
                    next->instance, next->orchestration, next->input, next->version,
                    previous ? previous->parent_instance : std::nullopt,
                    previous ? previous->parent_id : std::nullopt, input.execution_id,
                    previous ? previous->parent_execution_id : std::nullopt},
                next->carry_forward_events, next->initial_custom_status, next->open_sessions};
        }
    }
    return std::nullopt;
}

events::OrchestrationStarted started_event(const ExecutionStart& begin, std::string version) {
    const work::StartOrchestration& start = begin.start;
    return events::OrchestrationStarted{
        start.orchestration,
        std::move(version),
        start.input,
        start.parent_instance,
        start.parent_id,
        begin.carried.empty() ? std::nullopt : std::optional<CarryForwardEvents>(begin.carried),
        begin.initial_custom_status,
        start.parent_execution_id,
        begin.open_sessions};
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

    // A new execution starts from its StartOrchestration (or ContinueAsNew) message.
    if (full.empty()) {
        const auto first_start =
            std::find_if(input.messages.begin(), input.messages.end(), [](const WorkItem& m) {
                return std::holds_alternative<work::StartOrchestration>(m.kind);
            });
        own_start = first_start == input.messages.end() ? nullptr : &*first_start;
        const std::optional<ExecutionStart> begin = execution_start(input);
        if (!begin) {
            return result; // nothing to start: messages for an instance that does not exist
        }
        const work::StartOrchestration* start = &begin->start;
        auto handler = start->version ? registry.resolve_exact(start->orchestration,
                                                               Semver::parse(*start->version))
                                      : registry.resolve(start->orchestration);
        if (!handler) {
            result.handler_missing = true;
            return result;
        }
        full.push_back(make_event(input, 1, std::nullopt,
                                  started_event(*begin, handler->version.to_string())));
        result.history_delta.push_back(full.back());
        // Carried queue messages come first, in their order, before this batch's messages.
        for (const auto& [name, data] : begin->carried) {
            full.push_back(make_event(input, full.back().event_id + 1, std::nullopt,
                                      events::QueueEventDelivered{name, data}));
            result.history_delta.push_back(full.back());
        }
        result.orchestration_name = start->orchestration;
        result.orchestration_version = handler->version.to_string();
        result.parent_instance = start->parent_instance;
    }
    const auto* first_event = std::get_if<events::OrchestrationStarted>(&full.front().kind);
    if (first_event == nullptr) {
        result.status = ExecutionStatus::Failed;
        result.error = ErrorDetails::infrastructure(
            "replay", "corrupted history: first event is " + std::string(full.front().type_name()));
        result.output = result.error->display_message();
        return result;
    }
    events::OrchestrationStarted started = *first_event; // full grows below
    // A parent that chose this instance's id for its child hears that it is taken.
    result.orchestrator_items =
        refuse_foreign_starts(input.instance, started, input.messages, own_start);
    for (const Event& event : full) {
        if (event.is_terminal()) {
            return result; // finished execution: late messages are dropped
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
        return result;
    }
    std::optional<std::string> cancel_reason = cancel_reason_in(full, 0);
    auto execution = std::make_unique<ResidentExecution>(
        input, result, std::move(full), std::move(started), *handler->handler, stacks);
    execution->cancel_reason = cancel_reason;
    if (bad_completion) {
        execution->failure = ErrorDetails::nondeterminism(*bad_completion);
    } else {
        execution->fiber().resume();
        const std::size_t unmatched = execution->turn().unmatched_persisted_schedules();
        const std::size_t uncancelled = execution->turn().unrequested_recorded_cancels();
        if (!execution->failure && unmatched > 0) {
            execution->failure =
                ErrorDetails::nondeterminism("history has " + std::to_string(unmatched) +
                                             " scheduled item(s) the code no longer schedules");
        } else if (!execution->failure && uncancelled > 0) {
            execution->failure =
                ErrorDetails::nondeterminism("history has " + std::to_string(uncancelled) +
                                             " cancelled future(s) the code no longer cancels");
        }
    }
    const bool running = finish_turn(input, result, *execution);
    keep_or_drop(slot, std::move(execution), running && !bad_completion, stacks.stack_size());
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
    std::unordered_map<uint64_t, bool> closed;
    for (const Event& event : all) {
        if (event.source_event_id) {
            closed[*event.source_event_id] = true;
        }
    }
    uint64_t next_id = all.back().event_id + 1;
    result.history_delta.push_back(
        make_event(input, next_id++, std::nullopt, events::OrchestrationFailed{*result.error}));
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
    result.history_delta.push_back(make_event(input, kUnreadableHistoryFailureEventId, std::nullopt,
                                              events::OrchestrationFailed{*result.error}));
    return result;
}

} // namespace duroxide::core
