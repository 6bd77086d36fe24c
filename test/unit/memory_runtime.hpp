// An in-memory runtime for engine tests: the REAL dispatcher of the core
// (core/dispatch/orchestration_dispatcher, core/dispatch/activity_dispatcher) over the
// in-memory provider (memory_provider.hpp), with activity workers and their tag filters.
// Time is virtual: when nothing is visible the clock jumps to the next timer. The dispatch
// policy is the runtime's own: attempt counting with the unregistered-handler backoff, poison
// after max_attempts, history errors, a batch recorded in one commit or one turn at a time.
#pragma once

#include "core/dispatch/activity_dispatcher.hpp"
#include "core/dispatch/orchestration_dispatcher.hpp"
#include "core/replay/rewind.hpp"
#include "duroxide/orchestration_context.hpp"
#include "duroxide/registry.hpp"
#include "memory_provider.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace duroxide::testing {

struct MemoryWorker {
    core::TagFilter filter;
    std::string id;
    std::vector<std::string> ran; // "<activity>:<instance>" in the order it ran them
};

// What the dispatcher reported, for the tests to look at.
struct MemoryObserver : core::dispatch::DispatchObserver {
    std::size_t turns = 0; // recorded turns that ran or ended an execution (backoffs not)
    std::vector<std::string> backoffs, discarded, not_recorded;
    std::size_t batches = 0;

    void turn_recorded(const core::dispatch::DecidedTurn& turn) override {
        turns += turn.counted() ? 1 : 0;
    }
    void turn_discarded(std::string_view why) override { discarded.emplace_back(why); }
    void turn_not_recorded(std::string_view why) override { not_recorded.emplace_back(why); }
    void unregistered_backoff(std::string_view reason, const std::string& instance,
                              int64_t delay_ms, uint32_t attempt, uint32_t) override {
        backoffs.push_back(std::string(reason) + " " + instance + " +" + std::to_string(delay_ms) +
                           "ms #" + std::to_string(attempt));
    }
    void batch_done(std::size_t, int64_t) override { ++batches; }
};

class MemoryRuntime : public MemoryProvider {
public:
    OrchestrationRegistry orchestrations;
    ActivityRegistry activities;
    std::vector<MemoryWorker> workers{MemoryWorker{{}, "worker-0", {}}};
    MemoryObserver observed;
    // A message fetched more than max_attempts times is poison; a missing handler gives its
    // message back for unregistered_backoff(attempt, base) (fast here; 1 s in the runtime).
    uint32_t max_attempts = 10;
    uint64_t unregistered_backoff_base_ms = 10;
    std::size_t dispatch_batch = 1;      // instances per fetch (duroxide.dispatch_batch)
    std::size_t resident_cache_size = 0; // executions kept resident between turns

    void start(const std::string& instance, const std::string& name, const std::string& input,
               std::optional<std::string> version = std::nullopt) {
        enqueue({core::work::StartOrchestration{.instance = instance,
                                                .orchestration = name,
                                                .input = input,
                                                .version = std::move(version),
                                                .parent_instance = std::nullopt,
                                                .parent_id = std::nullopt,
                                                .execution_id = 1,
                                                .parent_execution_id = std::nullopt}});
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
            if (run_turns() || run_one_activity()) {
                continue;
            }
            const std::optional<uint64_t> next = next_visible_at();
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

    core::dispatch::DispatchSettings dispatch_settings() const {
        return {.batch_size = dispatch_batch,
                .max_attempts = max_attempts,
                .unregistered_backoff = core::Millis(unregistered_backoff_base_ms),
                .resident_cache_size = resident_cache_size};
    }

    // One fetch of the real dispatcher; whether it found work.
    bool run_turns() {
        const core::dispatch::DispatchSettings settings = dispatch_settings();
        const core::dispatch::OrchestrationDispatch dispatch{.provider = *this,
                                                             .orchestrations = orchestrations,
                                                             .stacks = stacks_,
                                                             .cache = cache_,
                                                             .settings = settings,
                                                             .observer = observed,
                                                             .now_ms = [this] { return now_ms; }};
        return core::dispatch::run_orchestration_batch(dispatch).processed > 0;
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
            queue_activity(activity);
        }
        for (const auto& timer : plan.timers) {
            if (!timer_queued(timer)) {
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
        enqueue({core::work::CancelInstance{instance, reason}}, now_ms + grace_ms);
    }

    std::size_t turns() const { return observed.turns; }

private:
    // Each worker in turn takes the oldest activity its filter admits.
    bool run_one_activity() {
        const core::dispatch::ActivityDispatchSettings settings{
            .max_attempts = max_attempts,
            .unregistered_backoff = core::Millis(unregistered_backoff_base_ms)};
        for (std::size_t w = 0; w < workers.size(); ++w) {
            MemoryWorker& worker = workers[(next_worker_ + w) % workers.size()];
            const auto step = core::dispatch::dispatch_one_activity(
                *this, activities, worker.filter, settings, {worker.id, &states_, {}},
                [&worker](const core::provider::ActivityItem& item) {
                    worker.ran.push_back(item.item.name + ":" + item.item.instance);
                });
            if (step != core::dispatch::ActivityStep::Idle) {
                next_worker_ = (next_worker_ + w + 1) % workers.size();
                return true;
            }
        }
        return false;
    }

    core::StackPool stacks_{64 * 1024};
    core::ResidentCache cache_{0};
    core::SessionStates states_;
    std::size_t next_worker_ = 0;
};

} // namespace duroxide::testing
