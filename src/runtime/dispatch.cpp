#include "runtime/dispatch.hpp"

#include "core/codec/json_codec.hpp"
#include "core/engine/activity_runner.hpp"
#include "core/replay/turn.hpp"
#include "core/retry/timing.hpp"
#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/gucs.hpp"
#include "runtime/metrics.hpp"
#include "runtime/sql_activity.hpp"
#include "runtime/wakeup.hpp"
#include "runtime/worker.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <chrono>

namespace duroxide::runtime {

namespace {

uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// The messages of a batch for the execution they belong to: after continue-as-new the
// ContinueAsNew message starts execution n+1.
core::TurnInput turn_input(const store::OrchestrationBatch& batch) {
    core::TurnInput input{batch.instance, batch.execution_id, batch.history, batch.messages,
                          wall_clock_ms()};
    if (batch.execution_status != "ContinuedAsNew") {
        return input;
    }
    for (const auto& message : batch.messages) {
        if (auto* next = std::get_if<core::work::ContinueAsNew>(&message.kind)) {
            input.execution_id = batch.execution_id + 1;
            input.history.clear();
            input.messages = {core::WorkItem{core::work::StartOrchestration{
                next->instance, next->orchestration, next->input, next->version, std::nullopt,
                std::nullopt, input.execution_id}}};
            for (const auto& other : batch.messages) {
                if (!std::holds_alternative<core::work::ContinueAsNew>(other.kind)) {
                    input.messages.push_back(other);
                }
            }
            break;
        }
    }
    return input;
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

enum class Commit { Durable, Relaxed };

// The first statement of every unit of work: the extension gate (see kExtensionGateLockKey)
// and, for fetches, an asynchronous commit: a fetch needs no flush to disk of its own; if the
// server crashes before the next synchronous commit flushes it, the work is not taken yet.
void begin_unit(pg::SpiConnection& spi, Commit commit) {
    spi.execute(commit == Commit::Relaxed ? "SELECT pg_advisory_xact_lock_shared($1::bigint), "
                                            "set_config('synchronous_commit', 'off', true)"
                                          : "SELECT pg_advisory_xact_lock_shared($1::bigint)",
                std::vector<pg::SqlText>{std::to_string(kExtensionGateLockKey)});
}

std::string messages_json(const std::vector<core::WorkItem>& messages) {
    std::string json = "[";
    for (size_t i = 0; i < messages.size(); ++i) {
        json += (i ? "," : "") + core::codec::encode(messages[i]);
    }
    return json + "]";
}

void count_activity(const core::WorkItem& completion) {
    if (std::holds_alternative<core::work::ActivityCompleted>(completion.kind)) {
        metrics::add(metrics::Counter::ActivitiesSucceeded);
        return;
    }
    const auto& failed = std::get<core::work::ActivityFailed>(completion.kind);
    metrics::add(std::string_view(failed.details.category()) == "poison"
                     ? metrics::Counter::ActivitiesPoisoned
                     : metrics::Counter::ActivitiesFailedApplication);
}

// A stale lease: another worker owns the work now, or it was cancelled. Not an error.
void report_discarded(const std::string& what) {
    const std::string message = std::string("duroxide: ") + what;
    pg::call([&message] { ereport(LOG, (errmsg_internal("%s", message.c_str()))); });
}

constexpr int64_t kRetryAfterFailureMs = 1000;

// Whether waiters on the instance's status have something to see after this turn.
bool changes_status(const core::TurnResult& result) {
    if (result.status != core::ExecutionStatus::Running || result.orchestration_name) {
        return true;
    }
    return std::any_of(result.history_delta.begin(), result.history_delta.end(), [](const auto& e) {
        return std::holds_alternative<core::events::CustomStatusUpdated>(e.kind);
    });
}

int64_t unknown_handler_delay_ms(uint32_t attempt) {
    return core::unregistered_backoff(attempt, core::Millis(settings.unregistered_backoff_ms))
        .count();
}

} // namespace

WorkOutcome run_orchestration_turn(Handlers& handlers, core::StackPool& stacks) {
    WorkOutcome outcome;
    std::optional<store::OrchestrationBatch> batch;
    {
        pg::WorkerTransaction transaction("duroxide: fetching orchestration work");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Relaxed);
            store::Store store(spi);
            handlers.refresh(spi);
            batch = store.fetch_orchestration_item(my_lease_owner(),
                                                   settings.orchestration_lock_timeout_ms);
            if (!batch) {
                outcome.next_work_in_ms = store.ms_until_next_visible(store::Queue::Orchestrator);
            }
        }
        transaction.commit();
    }
    if (!batch) {
        return outcome;
    }
    outcome.processed = true;
    const auto started = std::chrono::steady_clock::now();
    const core::TurnInput input = turn_input(*batch);
    const auto max_attempts = static_cast<uint32_t>(settings.max_attempts);
    const core::TurnResult result =
        batch->attempt_count > max_attempts
            ? core::poison_turn(handlers.orchestrations(), input,
                                {batch->attempt_count, max_attempts,
                                 core::PoisonOrchestration{batch->instance, input.execution_id},
                                 messages_json(batch->messages)})
            : core::run_turn(handlers.orchestrations(), stacks, input);
    try {
        pg::WorkerTransaction transaction("duroxide: recording an orchestration turn");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store store(spi);
            if (result.handler_missing) {
                store.abandon_orchestration_item(
                    *batch, unknown_handler_delay_ms(batch->attempt_count), false);
            } else {
                store.ack_orchestration_item(*batch, input.execution_id, result);
                count_outcome(result);
            }
            if (!result.worker_items.empty()) {
                wake_at_commit(kWakeActivityWorkers);
            }
            if (changes_status(result)) {
                wake_at_commit(kWakeStatusWaiters);
            }
        }
        transaction.commit();
    } catch (const store::LeaseLost& e) {
        report_discarded(e.what());
    } catch (const std::exception&) {
        // Not recorded (say, a history or queue write failed): give the instance back with a
        // delay; its messages keep the attempt, so a turn that always fails ends as poison.
        pg::WorkerTransaction transaction("duroxide: abandoning an orchestration turn");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store(spi).abandon_orchestration_item(*batch, kRetryAfterFailureMs, false);
        }
        transaction.commit();
        throw;
    }
    metrics::observe(metrics::Histogram::TurnDuration,
                     std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count());
    return outcome;
}

WorkOutcome run_one_activity(Handlers& handlers) {
    WorkOutcome outcome;
    std::optional<store::FetchedActivity> fetched;
    const ActivityFn* handler = nullptr;
    std::optional<SqlActivity> sql;
    {
        pg::WorkerTransaction transaction("duroxide: fetching an activity");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Relaxed);
            store::Store store(spi);
            handlers.refresh(spi);
            fetched = store.fetch_work_item(my_lease_owner(), settings.worker_lock_timeout_ms);
            if (!fetched) {
                outcome.next_work_in_ms = store.ms_until_next_visible(store::Queue::Worker);
            }
            if (fetched && !(handler = handlers.activities().find(fetched->item.name))) {
                sql = handlers.sql_activity(spi, fetched->item.name);
            }
        }
        transaction.commit();
    }
    if (!fetched) {
        return outcome;
    }
    outcome.processed = true;
    const auto started = std::chrono::steady_clock::now();
    const auto& item = fetched->item;
    const auto max_attempts = static_cast<uint32_t>(settings.max_attempts);
    std::optional<core::WorkItem> completion;
    if (fetched->attempt_count > max_attempts) {
        completion = core::WorkItem{core::work::ActivityFailed{
            item.instance, item.execution_id, item.id,
            core::ErrorDetails{core::PoisonError{
                fetched->attempt_count, max_attempts,
                core::PoisonActivity{item.instance, item.execution_id, item.name, item.id},
                core::codec::encode(core::WorkItem{item})}}}};
    } else if (handler != nullptr) {
        // Plugin code runs outside any transaction: it does not touch the database.
        completion = core::run_activity(*handler, item);
    }
    try {
        pg::WorkerTransaction transaction("duroxide: activity " + item.name);
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store store(spi);
            if (!completion && sql) {
                // In the transaction that records the completion: its writes commit with it.
                completion = run_sql_activity(*sql, item);
            }
            if (completion) {
                store.ack_work_item(*fetched, *completion);
                wake_at_commit(kWakeDispatchers);
                count_activity(*completion);
            } else {
                store.abandon_work_item(*fetched, unknown_handler_delay_ms(fetched->attempt_count),
                                        false);
            }
        }
        transaction.commit();
    } catch (const store::LeaseLost& e) {
        metrics::add(metrics::Counter::LockSteals);
        report_discarded(e.what());
    } catch (const std::exception&) {
        pg::WorkerTransaction transaction("duroxide: abandoning an activity");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store(spi).abandon_work_item(*fetched, kRetryAfterFailureMs, false);
        }
        transaction.commit();
        throw;
    }
    metrics::observe(metrics::Histogram::ActivityDuration,
                     std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count());
    return outcome;
}

} // namespace duroxide::runtime
