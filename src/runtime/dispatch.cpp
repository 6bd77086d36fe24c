#include "runtime/dispatch.hpp"

#include "core/engine/activity_runner.hpp"
#include "core/replay/turn.hpp"
#include "core/retry/timing.hpp"
#include "pg/transaction.hpp"
#include "runtime/metrics.hpp"
#include "runtime/sql_activity.hpp"
#include "runtime/wakeup.hpp"
#include "store/store.hpp"

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

} // namespace

TurnOutcome run_orchestration_turn(Handlers& handlers, core::StackPool& stacks) {
    TurnOutcome outcome;
    pg::WorkerTransaction transaction("duroxide: orchestration turn");
    {
        pg::SpiConnection spi;
        store::Store store(spi);
        handlers.refresh(spi);
        auto batch = store.claim_orchestration_batch();
        if (!batch) {
            outcome.next_timer_in_ms = store.ms_until_next_visible();
        } else {
            const auto started = std::chrono::steady_clock::now();
            const core::TurnInput input = turn_input(*batch);
            const core::TurnResult result =
                core::run_turn(handlers.orchestrations(), stacks, input);
            if (result.handler_missing) {
                store.postpone_batch(*batch, core::unregistered_backoff(1).count());
            } else {
                store.record_turn(*batch, input.execution_id, result);
                count_outcome(result);
            }
            if (!result.worker_items.empty()) {
                wake_at_commit(kWakeActivityWorkers);
            }
            metrics::observe(metrics::Histogram::TurnDuration,
                             std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count());
            outcome.processed = true;
        }
    }
    transaction.commit();
    return outcome;
}

bool run_one_activity(Handlers& handlers) {
    bool ran = false;
    pg::WorkerTransaction transaction("duroxide: activity");
    {
        pg::SpiConnection spi;
        store::Store store(spi);
        handlers.refresh(spi);
        if (auto claimed = store.claim_activity()) {
            const auto started = std::chrono::steady_clock::now();
            const auto& item = claimed->item;
            std::optional<core::WorkItem> completion;
            if (const ActivityFn* handler = handlers.activities().find(item.name)) {
                completion = core::run_activity(*handler, item);
            } else if (auto sql = handlers.sql_activity(spi, item.name)) {
                completion = run_sql_activity(*sql, item);
            }
            if (completion) {
                store.complete_activity(*claimed, *completion);
                wake_at_commit(kWakeDispatchers);
                metrics::add(std::holds_alternative<core::work::ActivityCompleted>(completion->kind)
                                 ? metrics::Counter::ActivitiesSucceeded
                                 : metrics::Counter::ActivitiesFailedApplication);
            } else {
                store.postpone_activity(*claimed, core::unregistered_backoff(1).count());
            }
            metrics::observe(metrics::Histogram::ActivityDuration,
                             std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count());
            ran = true;
        }
    }
    transaction.commit();
    return ran;
}

} // namespace duroxide::runtime
