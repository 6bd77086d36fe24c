// The orchestration loop of a background worker: the core's dispatcher
// (core/dispatch/orchestration_dispatcher) over the PostgreSQL provider (store/pg_provider),
// with the worker's settings, its extension gate, its wake-ups, its metrics and its log.
#include "runtime/orchestration/orchestration_loop.hpp"

#include "core/dispatch/orchestration_dispatcher.hpp"
#include "pg/guard.hpp"
#include "runtime/activity/activity_outcomes.hpp"
#include "runtime/plugins/unregistered.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/process/worker.hpp"
#include "runtime/services/metrics.hpp"
#include "runtime/services/trace_log.hpp"
#include "store/pg_provider.hpp"

#include <algorithm>
#include <chrono>

namespace duroxide::runtime {

namespace {

uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// The dispatcher's settings from the duroxide.* GUCs, read at each batch.
core::dispatch::DispatchSettings dispatch_settings() {
    return {.batch_size = static_cast<std::size_t>(std::max(settings.dispatch_batch, 1)),
            .max_attempts = static_cast<uint32_t>(settings.max_attempts),
            .unregistered_backoff = core::Millis(settings.unregistered_backoff_ms),
            .retry_after_failure_ms = kRetryAfterFailureMs,
            .max_output_bytes = static_cast<std::size_t>(settings.max_payload_kb) * 1024,
            .max_open_sessions = static_cast<std::size_t>(settings.max_open_sessions),
            .lock_timeout = std::chrono::milliseconds(settings.orchestration_lock_timeout_ms),
            .resident_cache_size = static_cast<std::size_t>(settings.resident_cache_size),
            .resident_cache_bytes =
                static_cast<std::size_t>(settings.resident_cache_memory_kb) * 1024};
}

void count_outcome(const core::TurnResult& result) {
    metrics::add(metrics::Counter::OrchestrationTurns);
    if (result.orchestration_name && result.history_delta.size() > 0 &&
        std::holds_alternative<core::events::OrchestrationStarted>(
            result.history_delta.front().kind)) {
        metrics::add(metrics::Counter::OrchestrationsStarted);
    }
    switch (result.status) {
    case core::ExecutionStatus::Completed:
        metrics::add(metrics::Counter::OrchestrationsCompleted);
        break;
    case core::ExecutionStatus::ContinuedAsNew:
        metrics::add(metrics::Counter::OrchestrationsContinuedAsNew);
        break;
    case core::ExecutionStatus::Failed: {
        const std::string category = result.error ? result.error->category() : "application";
        metrics::add(
            category == "poison"           ? metrics::Counter::OrchestrationsFailedPoison
            : category == "configuration"  ? metrics::Counter::OrchestrationsFailedConfiguration
            : category == "infrastructure" ? metrics::Counter::OrchestrationsFailedInfrastructure
                                           : metrics::Counter::OrchestrationsFailedApplication);
        break;
    }
    case core::ExecutionStatus::Running:
        break;
    }
}

void log_line(int level, const std::string& message) {
    pg::call([level, &message] { ereport(level, (errmsg_internal("%s", message.c_str()))); });
}

// What the dispatcher reports, as the worker's metrics, trace lines and server log.
class WorkerObserver final : public core::dispatch::DispatchObserver {
public:
    void turn_recorded(const core::dispatch::DecidedTurn& turn) override {
        if (turn.counted()) {
            count_outcome(turn.result);
        }
        // The trace lines its code wrote (once: a turn not recorded runs again and writes
        // them then).
        for (const core::TraceLine& trace : turn.result.traces) {
            write_trace(trace.level,
                        "orchestration " + trace.orchestration +
                            (trace.version.empty() ? "" : "@" + trace.version) + " " +
                            turn.input.instance + " (execution " +
                            std::to_string(turn.input.execution_id) + ")",
                        trace.message);
        }
    }
    // A stale lease: another worker owns the work now, or it was cancelled. Not an error.
    void turn_discarded(std::string_view why) override {
        log_line(LOG, "duroxide: " + std::string(why));
    }
    void turn_not_recorded(std::string_view why) override {
        log_line(WARNING, "duroxide: a turn could not be recorded: " + std::string(why));
    }
    void unregistered_backoff(std::string_view reason, const std::string& instance,
                              int64_t delay_ms, uint32_t attempt, uint32_t max_attempts) override {
        log_unregistered_backoff(std::string(reason), instance, delay_ms, attempt, max_attempts);
    }
    void resident_cache(bool hit) override {
        metrics::add(hit ? metrics::Counter::ResidentCacheHits
                         : metrics::Counter::ResidentCacheMisses);
    }
    void resident_evictions(std::size_t evicted) override {
        metrics::add(metrics::Counter::ResidentCacheEvictions, evicted);
    }
    void locks_renewed(std::size_t renewed) override {
        metrics::add(metrics::Counter::LockRenewals, renewed);
    }
    void locks_not_renewed(std::string_view why) override {
        log_line(WARNING, "duroxide: the instance locks of a batch could not be renewed: " +
                              std::string(why));
    }
    void batch_done(std::size_t turns, int64_t elapsed_us) override {
        for (std::size_t i = 0; i < turns; ++i) {
            metrics::observe(metrics::Histogram::TurnDuration,
                             elapsed_us / static_cast<int64_t>(turns));
        }
    }
};

} // namespace

WorkOutcome run_orchestration_turns(Handlers& handlers, core::StackPool& stacks,
                                    core::ResidentCache& cache) {
    const core::dispatch::DispatchSettings dispatch = dispatch_settings();
    store::PgOrchestrationProvider provider(
        my_lease_owner(), settings.orchestration_lock_timeout_ms,
        {.begin =
             [](pg::SpiConnection& spi, bool durable) {
                 begin_unit(spi, durable ? Commit::Durable : Commit::Relaxed);
             },
         .before_fetch =
             [&handlers, &cache](pg::SpiConnection& spi) {
                 if (handlers.refresh(spi)) {
                     cache.clear(); // new plugin code: replay from history
                 }
             },
         .acked =
             [](std::string_view instance, const core::TurnResult& result) {
                 if (!result.worker_items.empty()) {
                     wake_activity_workers_at_commit(result.worker_items.size());
                 }
                 if (core::dispatch::changes_status(result)) {
                     wake_status_waiters_at_commit(instance); // its waiters only
                 }
             },
         .must_stop =
             [](const std::exception& e) {
                 return dynamic_cast<const ExtensionGateClosed*>(&e) != nullptr;
             }});
    WorkerObserver observer;
    const core::dispatch::DispatchOutcome outcome =
        core::dispatch::run_orchestration_batch({.provider = provider,
                                                 .orchestrations = handlers.orchestrations(),
                                                 .stacks = stacks,
                                                 .cache = cache,
                                                 .settings = dispatch,
                                                 .observer = observer,
                                                 .now_ms = wall_clock_ms});
    return {.processed = outcome.processed, .next_work_in_ms = outcome.next_work_in_ms};
}

} // namespace duroxide::runtime
