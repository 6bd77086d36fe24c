// The orchestration loop of a background worker: the core's dispatcher
// (core/dispatch/orchestration_dispatcher) over the PostgreSQL provider (store/pg_provider),
// with the worker's settings, its extension gate, its wake-ups, its metrics and its log.
#include "runtime/orchestration/orchestration_loop.hpp"

#include "core/dispatch/orchestration_dispatcher.hpp"
#include "runtime/orchestration/child_first_turns.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "runtime/orchestration/turn_reporting.hpp"
#include "runtime/process/worker.hpp"
#include "store/pg_provider.hpp"

namespace duroxide::runtime {

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
         .acked = [](std::string_view instance,
                     const core::TurnResult& result) { wake_for_turn(instance, result); },
         .must_stop =
             [](const std::exception& e) {
                 return dynamic_cast<const ExtensionGateClosed*>(&e) != nullptr;
             }});
    WorkerObserver observer;
    // Children's first turns in their parent's ack (duroxide.child_first_turn).
    ChildFirstTurns with_children(provider, handlers, stacks, cache, dispatch);
    const core::dispatch::DispatchOutcome outcome =
        core::dispatch::run_orchestration_batch({.provider = with_children,
                                                 .orchestrations = handlers.orchestrations(),
                                                 .stacks = stacks,
                                                 .cache = cache,
                                                 .settings = dispatch,
                                                 .observer = observer,
                                                 .now_ms = wall_clock_ms});
    return {.processed = outcome.processed, .next_work_in_ms = outcome.next_work_in_ms};
}

} // namespace duroxide::runtime
