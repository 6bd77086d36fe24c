#include "runtime/orchestration/turn_reporting.hpp"

#include "pg/guard.hpp"
#include "runtime/activity/activity_outcomes.hpp"
#include "runtime/plugins/unregistered.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/services/metrics.hpp"
#include "runtime/services/trace_log.hpp"

#include <algorithm>
#include <chrono>

namespace duroxide::runtime {

namespace {

void log_line(int level, const std::string& message) {
    pg::call([level, &message] { ereport(level, (errmsg_internal("%s", message.c_str()))); });
}

} // namespace

uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

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

void wake_for_turn(std::string_view instance, const core::TurnResult& result) {
    if (!result.worker_items.empty()) {
        wake_activity_workers_at_commit(result.worker_items.size());
    }
    if (core::dispatch::changes_status(result)) {
        wake_status_waiters_at_commit(instance); // its waiters only
    }
}

void WorkerObserver::turn_recorded(const core::dispatch::DecidedTurn& turn) {
    if (turn.counted()) {
        count_outcome(turn.result);
    }
    // The trace lines its code wrote (once: a turn not recorded runs again and writes them
    // then).
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
void WorkerObserver::turn_discarded(std::string_view why) {
    log_line(LOG, "duroxide: " + std::string(why));
}

void WorkerObserver::turn_not_recorded(std::string_view why) {
    log_line(WARNING, "duroxide: a turn could not be recorded: " + std::string(why));
}

void WorkerObserver::unregistered_backoff(std::string_view reason, const std::string& instance,
                                          int64_t delay_ms, uint32_t attempt,
                                          uint32_t max_attempts) {
    log_unregistered_backoff(std::string(reason), instance, delay_ms, attempt, max_attempts);
}

void WorkerObserver::resident_cache(bool hit) {
    metrics::add(hit ? metrics::Counter::ResidentCacheHits : metrics::Counter::ResidentCacheMisses);
}

void WorkerObserver::resident_evictions(std::size_t evicted) {
    metrics::add(metrics::Counter::ResidentCacheEvictions, evicted);
}

void WorkerObserver::locks_renewed(std::size_t renewed) {
    metrics::add(metrics::Counter::LockRenewals, renewed);
}

void WorkerObserver::locks_not_renewed(std::string_view why) {
    log_line(WARNING,
             "duroxide: the instance locks of a batch could not be renewed: " + std::string(why));
}

void WorkerObserver::batch_done(std::size_t turns, int64_t elapsed_us) {
    for (std::size_t i = 0; i < turns; ++i) {
        metrics::observe(metrics::Histogram::TurnDuration,
                         elapsed_us / static_cast<int64_t>(turns));
    }
}

} // namespace duroxide::runtime
