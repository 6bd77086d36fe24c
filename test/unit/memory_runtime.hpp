// An in-memory runtime for engine tests: a store of instances (executions and their
// histories), an orchestrator queue with visibility times and a worker queue, and a loop that
// plays the dispatcher (calling the real core::run_turn, with continue-as-new and
// sub-orchestration routing as the store does) and activity workers with tag filters (calling
// the real core::run_activity). Time is virtual: when nothing is visible the clock jumps to
// the next timer. Nothing here is PostgreSQL; it mirrors what src/store and src/runtime do:
// attempt counting with the unregistered-handler backoff and poison after max_attempts, the
// instance's custom status (set from the last CustomStatusUpdated of an ack) and its
// key-value store (kv_store from ended executions, kv_delta from the current one).
#pragma once

#include "core/codec/json_codec.hpp"
#include "core/engine/activity_runner.hpp"
#include "core/replay/rewind.hpp"
#include "core/replay/turn.hpp"
#include "core/retry/timing.hpp"
#include "core/routing/tag_filter.hpp"
#include "duroxide/orchestration_context.hpp"
#include "duroxide/registry.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace duroxide::testing {

struct MemoryExecution {
    uint64_t execution_id = 1;
    std::string status = "Running"; // Running, Completed, Failed, ContinuedAsNew
    std::string output;
    std::optional<core::ErrorDetails> error;
    std::vector<core::Event> history;
};

struct MemoryInstance {
    std::string name, version;
    std::optional<std::string> parent;
    std::vector<MemoryExecution> executions; // oldest first; the last is current
    std::optional<std::string> custom_status;
    uint64_t custom_status_version = 0; // +1 per ack whose delta updates it

    const MemoryExecution& current() const { return executions.back(); }
};

struct MemoryWorker {
    core::TagFilter filter;
    std::string id;
    std::vector<std::string> ran; // "<activity>:<instance>" in the order it ran them
};

class MemoryRuntime {
public:
    OrchestrationRegistry orchestrations;
    ActivityRegistry activities;
    std::vector<MemoryWorker> workers{MemoryWorker{{}, "worker-0", {}}};
    std::map<std::string, MemoryInstance> instances;
    uint64_t now_ms = 1'000'000;
    std::size_t turns = 0;
    // A message fetched more than max_attempts times is poison; a missing handler gives its
    // message back for unregistered_backoff(attempt, base) (fast here; 1 s in the runtime).
    uint32_t max_attempts = 10;
    uint64_t unregistered_backoff_base_ms = 10;
    // An activity named here takes that long: its worker item is only taken once the time has
    // passed, so a timer can win a race against it (and the turn steal its worker item).
    std::map<std::string, uint64_t> activity_duration_ms;

    void start(const std::string& instance, const std::string& name, const std::string& input,
               std::optional<std::string> version = std::nullopt) {
        enqueue({core::work::StartOrchestration{instance, name, input, std::move(version),
                                                std::nullopt, std::nullopt, 1}});
    }
    void raise_event(const std::string& instance, const std::string& name,
                     const std::string& data) {
        enqueue({core::work::ExternalRaised{instance, name, data}});
    }
    void enqueue_event(const std::string& instance, const std::string& queue,
                       const std::string& data) {
        if (instances.count(instance)) { // as the store: messages before the start are dropped
            enqueue({core::work::QueueMessage{instance, queue, data}});
        }
    }
    void cancel(const std::string& instance, const std::string& reason) {
        enqueue({core::work::CancelInstance{instance, reason}});
    }

    // Runs turns and activities until nothing is left or `until` holds (checked between
    // steps); time advances to the next timer when nothing else can run. Returns whether the
    // condition held (always true without one).
    template <typename Condition>
    bool run(Condition until, uint64_t max_time_ms = 24ull * 3600 * 1000) {
        const uint64_t deadline = now_ms + max_time_ms;
        for (std::size_t step = 0; step < 100000; ++step) {
            if (until()) {
                return true;
            }
            if (run_one_turn() || run_one_activity()) {
                continue;
            }
            std::optional<uint64_t> next;
            for (const auto& message : orchestrator_queue_) {
                if (message.visible_at > now_ms) {
                    next = std::min(next.value_or(message.visible_at), message.visible_at);
                }
            }
            for (const auto& activity : worker_queue_) {
                if (activity.visible_at > now_ms) {
                    next = std::min(next.value_or(activity.visible_at), activity.visible_at);
                }
            }
            if (!next || *next > deadline) {
                return until();
            }
            now_ms = *next;
        }
        throw std::runtime_error("memory runtime: no progress after 100000 steps");
    }
    void run() {
        run([] { return false; });
    }
    // Runs until `instance` has an execution that is not Running (or nothing is left).
    const MemoryExecution& finish(const std::string& instance) {
        run([&] { return is_finished(instance); });
        return instances.at(instance).current();
    }
    bool is_finished(const std::string& instance) const {
        auto it = instances.find(instance);
        return it != instances.end() && it->second.current().status != "Running" &&
               it->second.current().status != "ContinuedAsNew";
    }

    // "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, ...": the kinds of
    // one execution's history with their event ids and source ids.
    std::string shape(const std::string& instance, uint64_t execution_id = 0) const {
        const auto& executions = instances.at(instance).executions;
        const MemoryExecution& execution =
            execution_id == 0 ? executions.back() : executions.at(execution_id - 1);
        std::string out;
        for (const auto& event : execution.history) {
            out += (out.empty() ? "" : ", ") + std::to_string(event.event_id) + " " +
                   event.type_name();
            if (event.source_event_id) {
                out += "<" + std::to_string(*event.source_event_id);
            }
        }
        return out;
    }

    // The instance's key-value store as a client reads it: kv_store (what ended executions
    // left) with the current execution's changes (kv_delta) over it.
    std::optional<std::string> kv_value(const std::string& instance, const std::string& key) const {
        core::KvSnapshot kv;
        for (const auto& execution : instances.at(instance).executions) {
            apply_kv_events(kv, execution.history);
        }
        auto it = kv.find(key);
        return it == kv.end() ? std::nullopt : std::optional<std::string>(it->second.value);
    }

    // As a store whose fetch counted `attempts` already: the next fetch of the instance's
    // queued messages is attempt `attempts + 1`.
    void set_attempts(const std::string& instance, uint32_t attempts) {
        for (auto& message : orchestrator_queue_) {
            if (message.instance == instance) {
                message.attempts = attempts;
            }
        }
    }

    // duroxide.rewind_instance on this store: core::plan_rewind on the current execution, the
    // failed children it waits on rewound first; then the dropped events leave the history,
    // the execution runs again, its activities are queued again and its lost timers re-armed.
    // Returns the refusal's message, "" when rewound.
    std::string rewind(const std::string& instance) {
        MemoryExecution& execution = instances.at(instance).executions.back();
        auto planned = core::plan_rewind(execution.history);
        if (auto* refusal = std::get_if<core::RewindRefusal>(&planned)) {
            return refusal->message;
        }
        const auto& plan = std::get<core::RewindPlan>(planned);
        for (const auto& child : plan.children) {
            if (std::string refused = rewind(child.second); !refused.empty()) {
                return refused;
            }
        }
        std::erase_if(execution.history, [&](const core::Event& event) {
            return std::binary_search(plan.dropped_event_ids.begin(), plan.dropped_event_ids.end(),
                                      event.event_id);
        });
        execution.status = "Running";
        execution.output.clear();
        execution.error.reset();
        for (const auto& activity : plan.activities) {
            worker_queue_.push_back({activity, now_ms, 0});
        }
        for (const auto& timer : plan.timers) {
            const bool queued = std::any_of(
                orchestrator_queue_.begin(), orchestrator_queue_.end(), [&](const auto& message) {
                    const auto* fired = std::get_if<core::work::TimerFired>(&message.item.kind);
                    return fired != nullptr && *fired == timer;
                });
            if (!queued) {
                enqueue({timer});
            }
        }
        return "";
    }

    // duroxide.cancel_instance(instance, reason, grace): an execution that called
    // cancellation_requested() gets the request as a message of its reserved queue and is
    // forced after `grace_ms`; any other is cancelled at once.
    void cancel_gracefully(const std::string& instance, const std::string& reason,
                           uint64_t grace_ms) {
        const auto& history = instances.at(instance).current().history;
        const bool observes = std::any_of(history.begin(), history.end(), [](const auto& event) {
            const auto* queue = std::get_if<core::events::QueueSubscribed>(&event.kind);
            return queue != nullptr && queue->name == OrchestrationContext::kCancellationQueue;
        });
        if (!observes) {
            cancel(instance, reason);
            return;
        }
        enqueue({core::work::QueueMessage{
            instance, std::string(OrchestrationContext::kCancellationQueue), reason}});
        orchestrator_queue_.push_back({instance,
                                       core::WorkItem{core::work::CancelInstance{instance, reason}},
                                       now_ms + grace_ms, next_sequence_++});
    }

    std::size_t worker_queue_size() const { return worker_queue_.size(); }
    std::size_t orchestrator_queue_size() const { return orchestrator_queue_.size(); }

private:
    struct QueuedMessage {
        std::string instance;
        core::WorkItem item;
        uint64_t visible_at = 0;
        uint64_t sequence = 0;
        uint32_t attempts = 0; // fetches so far
    };
    struct QueuedActivity {
        core::work::ActivityExecute item;
        uint64_t visible_at = 0;
        uint32_t attempts = 0;
    };

    static void apply_kv_events(core::KvSnapshot& kv, const std::vector<core::Event>& events) {
        for (const auto& event : events) {
            if (auto* set = std::get_if<core::events::KeyValueSet>(&event.kind)) {
                kv[set->key] = {set->value, set->last_updated_at_ms};
            } else if (auto* cleared = std::get_if<core::events::KeyValueCleared>(&event.kind)) {
                kv.erase(cleared->key);
            } else if (std::holds_alternative<core::events::KeyValuesCleared>(event.kind)) {
                kv.clear();
            }
        }
    }

    uint64_t backoff_ms(uint32_t attempt) const {
        return static_cast<uint64_t>(
            core::unregistered_backoff(attempt, core::Millis(unregistered_backoff_base_ms))
                .count());
    }

    void enqueue(core::WorkItem item) {
        uint64_t visible_at = now_ms;
        if (auto* timer = std::get_if<core::work::TimerFired>(&item.kind)) {
            visible_at = timer->fire_at_ms;
        }
        const std::string target = item.target_instance();
        orchestrator_queue_.push_back({target, std::move(item), visible_at, next_sequence_++});
    }

    // The dispatcher: the instance of the oldest visible message, with all its visible
    // messages, in one turn.
    bool run_one_turn() {
        const QueuedMessage* oldest = nullptr;
        for (const auto& message : orchestrator_queue_) {
            if (message.visible_at <= now_ms && (!oldest || message.sequence < oldest->sequence)) {
                oldest = &message;
            }
        }
        if (oldest == nullptr) {
            return false;
        }
        const std::string instance = oldest->instance;
        std::vector<QueuedMessage> batch;
        std::erase_if(orchestrator_queue_, [&](const QueuedMessage& message) {
            if (message.instance == instance && message.visible_at <= now_ms) {
                batch.push_back(message);
                return true;
            }
            return false;
        });
        uint32_t attempt = 0; // the store counts a fetch on every message it locks
        std::vector<core::WorkItem> messages;
        for (auto& message : batch) {
            attempt = std::max(attempt, ++message.attempts);
            messages.push_back(message.item);
        }
        auto existing = instances.find(instance);
        core::TurnInput input{instance, 1, {}, messages, now_ms};
        if (existing != instances.end()) {
            const MemoryExecution& current = existing->second.current();
            input.execution_id = current.execution_id;
            input.history = current.history;
            if (current.status == "ContinuedAsNew") {
                continue_as_new(input, messages);
            }
            for (const auto& earlier : existing->second.executions) {
                if (earlier.execution_id < input.execution_id) {
                    apply_kv_events(input.kv_snapshot, earlier.history);
                }
            }
        }
        if (attempt > max_attempts) {
            std::string json = "[";
            for (std::size_t i = 0; i < messages.size(); ++i) {
                json += (i ? "," : "") + core::codec::encode(messages[i]);
            }
            record(input,
                   core::poison_turn(orchestrations, input,
                                     {attempt, max_attempts,
                                      core::PoisonOrchestration{instance, input.execution_id},
                                      json + "]"}));
            return true;
        }
        const core::TurnResult result = core::run_turn(orchestrations, stacks_, input);
        ++turns;
        if (result.handler_missing) { // abandoned with backoff; the attempts stay counted
            for (auto& message : batch) {
                message.visible_at = now_ms + backoff_ms(attempt);
                orchestrator_queue_.push_back(std::move(message));
            }
            return true;
        }
        record(input, result);
        return true;
    }

    // As the dispatcher does after continue-as-new: the ContinueAsNew message starts the next
    // execution with an empty history; the other messages go with it.
    static void continue_as_new(core::TurnInput& input, const std::vector<core::WorkItem>& all) {
        for (const auto& message : all) {
            if (auto* next = std::get_if<core::work::ContinueAsNew>(&message.kind)) {
                const uint64_t execution_id = input.execution_id + 1;
                input.history.clear();
                input.messages = {core::WorkItem{core::work::StartOrchestration{
                    next->instance, next->orchestration, next->input, next->version, std::nullopt,
                    std::nullopt, execution_id}}};
                for (const auto& other : all) {
                    if (!std::holds_alternative<core::work::ContinueAsNew>(other.kind)) {
                        input.messages.push_back(other);
                    }
                }
                input.execution_id = execution_id;
                return;
            }
        }
    }

    // The ack: create the instance or execution, append the delta, set the status, enqueue
    // worker items before removing cancelled activities, enqueue orchestrator items.
    void record(const core::TurnInput& input, const core::TurnResult& result) {
        if (result.history_delta.empty() && result.worker_items.empty() &&
            result.orchestrator_items.empty()) {
            return; // nothing decided (an ended execution, or nothing to start)
        }
        MemoryInstance& instance = instances[input.instance];
        if (result.orchestration_name) {
            instance.name = *result.orchestration_name;
            instance.version = result.orchestration_version.value_or("");
            instance.parent = result.parent_instance;
        }
        if (instance.executions.empty() ||
            instance.executions.back().execution_id < input.execution_id) {
            instance.executions.push_back({input.execution_id, "Running", "", std::nullopt, {}});
        }
        MemoryExecution& execution = instance.executions.back();
        execution.history.insert(execution.history.end(), result.history_delta.begin(),
                                 result.history_delta.end());
        switch (result.status) {
        case core::ExecutionStatus::Completed:
            execution.status = "Completed";
            break;
        case core::ExecutionStatus::Failed:
            execution.status = "Failed";
            break;
        case core::ExecutionStatus::ContinuedAsNew:
            execution.status = "ContinuedAsNew";
            break;
        case core::ExecutionStatus::Running:
            break;
        }
        if (result.status != core::ExecutionStatus::Running) {
            execution.output = result.output;
            execution.error = result.error;
        }
        for (auto it = result.history_delta.rbegin(); it != result.history_delta.rend(); ++it) {
            if (auto* status = std::get_if<core::events::CustomStatusUpdated>(&it->kind)) {
                instance.custom_status = status->status;
                ++instance.custom_status_version;
                break;
            }
        }
        for (const auto& item : result.worker_items) {
            const auto& execute = std::get<core::work::ActivityExecute>(item.kind);
            auto duration = activity_duration_ms.find(execute.name);
            worker_queue_.push_back(
                {execute, now_ms + (duration == activity_duration_ms.end() ? 0 : duration->second),
                 0});
        }
        for (const auto& cancelled : result.cancelled_activities) {
            std::erase_if(worker_queue_, [&](const QueuedActivity& queued) {
                const auto& execute = queued.item;
                return execute.instance == cancelled.instance &&
                       execute.execution_id == cancelled.execution_id &&
                       execute.id == cancelled.activity_id;
            });
        }
        for (const auto& item : result.orchestrator_items) {
            enqueue(item);
        }
    }

    // Each worker in turn takes the oldest activity its filter admits.
    bool run_one_activity() {
        for (std::size_t w = 0; w < workers.size(); ++w) {
            MemoryWorker& worker = workers[(next_worker_ + w) % workers.size()];
            auto it = std::find_if(
                worker_queue_.begin(), worker_queue_.end(), [&](const QueuedActivity& queued) {
                    return queued.visible_at <= now_ms && worker.filter.admits(queued.item.tag);
                });
            if (it == worker_queue_.end()) {
                continue;
            }
            QueuedActivity queued = *it;
            worker_queue_.erase(it);
            next_worker_ = (next_worker_ + w + 1) % workers.size();
            const core::work::ActivityExecute& execute = queued.item;
            const uint32_t attempt = ++queued.attempts;
            if (attempt > max_attempts) {
                enqueue({core::work::ActivityFailed{
                    execute.instance, execute.execution_id, execute.id,
                    core::ErrorDetails{core::PoisonError{
                        attempt, max_attempts,
                        core::PoisonActivity{execute.instance, execute.execution_id, execute.name,
                                             execute.id},
                        core::codec::encode(core::WorkItem{execute})}}}});
                return true;
            }
            const ActivityFn* handler = activities.find(execute.name);
            if (handler == nullptr) { // abandoned with backoff, as the worker does
                queued.visible_at = now_ms + backoff_ms(attempt);
                worker_queue_.push_back(std::move(queued));
                return true;
            }
            worker.ran.push_back(execute.name + ":" + execute.instance);
            enqueue(core::run_activity(*handler, execute, {worker.id, &states_, {}}));
            return true;
        }
        return false;
    }

    core::StackPool stacks_{64 * 1024};
    core::SessionStates states_;
    std::vector<QueuedMessage> orchestrator_queue_;
    std::vector<QueuedActivity> worker_queue_;
    uint64_t next_sequence_ = 0;
    std::size_t next_worker_ = 0;
};

} // namespace duroxide::testing
