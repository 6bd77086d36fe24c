// Micro-benchmarks of the replay engine (not a test; `make bench-core`): the cost of a fiber
// switch, of a turn that replays a history of 10 / 100 / 1000 events (and so per replayed
// event), and of the same turn on a resident execution, which resumes the suspended code with
// only the new events and so must not depend on the history's length.
#include "core/fiber/fiber.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace duroxide;
using namespace duroxide::core;

namespace {

// Awaits one activity after another, forever: each turn takes one completion and schedules the
// next activity (the history grows by two events a turn).
std::string endless(OrchestrationContext& ctx, const std::string&) {
    for (;;) {
        ctx.schedule_activity("Step", "input").value();
    }
}

struct Instance {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    std::vector<Event> history;

    Instance() { registry.register_orchestration("Endless", endless); }

    // The completion of the activity the code waits for (the last event is its schedule).
    WorkItem completion() const {
        return WorkItem{work::ActivityCompleted{.instance = "inst",
                                                .execution_id = 1,
                                                .id = history.back().event_id,
                                                .result = "result"}};
    }

    // Runs turns, replaying every time, until the history has about `events` events.
    void grow_to(std::size_t events) {
        auto record = [this](std::vector<WorkItem> messages) {
            TurnInput input{"inst", 1, history, std::move(messages), 1000};
            const TurnResult result = run_turn(registry, stacks, input);
            history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        };
        record({WorkItem{work::StartOrchestration{.instance = "inst",
                                                  .orchestration = "Endless",
                                                  .input = "",
                                                  .version = std::nullopt,
                                                  .parent_instance = std::nullopt,
                                                  .parent_id = std::nullopt,
                                                  .execution_id = 1,
                                                  .parent_execution_id = std::nullopt}}});
        while (history.size() + 2 <= events) {
            record({completion()});
        }
    }
};

void BM_FiberSwitch(benchmark::State& state) {
    StackPool stacks(64 * 1024);
    bool stop = false;
    Fiber fiber(stacks, [&stop] {
        while (!stop) {
            Fiber::suspend();
        }
    });
    for (auto _ : state) {
        fiber.resume(); // into the fiber and back: two switches
    }
    state.counters["per_switch"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * 2,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    stop = true;
    fiber.resume();
}
BENCHMARK(BM_FiberSwitch);

// A turn without a resident execution: the code runs from the start over the whole history.
void BM_ReplayTurn(benchmark::State& state) {
    Instance instance;
    instance.grow_to(static_cast<std::size_t>(state.range(0)));
    const TurnInput input{"inst", 1, instance.history, {instance.completion()}, 2000};
    for (auto _ : state) {
        TurnResult result = run_turn(instance.registry, instance.stacks, input);
        benchmark::DoNotOptimize(result);
        if (result.history_delta.size() != 2) {
            state.SkipWithError("the turn did not decide the next activity");
            break;
        }
    }
    const auto events = static_cast<double>(instance.history.size());
    state.counters["history_events"] = events;
    state.counters["per_replayed_event"] = benchmark::Counter(
        events, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ReplayTurn)->Arg(10)->Arg(100)->Arg(1000);

// The same turn on a resident execution: only the completion is new; the code resumes.
void BM_ResidentTurn(benchmark::State& state) {
    Instance instance;
    instance.grow_to(static_cast<std::size_t>(state.range(0)));
    const auto events = static_cast<double>(instance.history.size());
    ResidentSlot slot;
    // One replay makes the execution resident.
    {
        TurnInput input{"inst", 1, instance.history, {instance.completion()}, 2000};
        const TurnResult result = run_turn(instance.registry, instance.stacks, input, &slot);
        instance.history.insert(instance.history.end(), result.history_delta.begin(),
                                result.history_delta.end());
    }
    uint64_t last_event_id = instance.history.back().event_id;
    for (auto _ : state) {
        TurnInput input{"inst", 1, {}, {}, 3000};
        input.messages.push_back(
            WorkItem{work::ActivityCompleted{"inst", 1, last_event_id, "result"}});
        input.history_omitted = true;
        input.last_event_id = last_event_id;
        TurnResult result = run_turn(instance.registry, instance.stacks, input, &slot);
        if (!result.resumed || result.history_delta.size() != 2) {
            state.SkipWithError("the turn did not resume the resident execution");
            break;
        }
        last_event_id = result.history_delta.back().event_id;
        benchmark::DoNotOptimize(result);
    }
    state.counters["history_events"] = events;
}
// A bounded number of turns: each adds two events to the resident execution's history.
BENCHMARK(BM_ResidentTurn)->Arg(10)->Arg(100)->Arg(1000)->Iterations(20000);

// Schedules `input` activities in one turn, then joins them.
std::string fan_out(OrchestrationContext& ctx, const std::string& input) {
    const int width = std::stoi(input);
    std::vector<DurableFuture> branches;
    branches.reserve(static_cast<std::size_t>(width));
    for (int i = 0; i < width; ++i) {
        branches.push_back(ctx.schedule_activity("Step", std::to_string(i)));
    }
    return std::to_string(ctx.join(branches).size());
}

// One whole fan-out execution of width range(0): the turn that schedules every activity, then
// the completions in turns of range(1) each (as a dispatcher batches what the workers
// recorded), on a resident execution (range(2) = 1) or replaying the history every turn (0).
// Linear in the width when resident: the cost per activity must not grow with the width.
void BM_FanOut(benchmark::State& state) {
    const auto width = static_cast<std::size_t>(state.range(0));
    const auto per_turn = static_cast<std::size_t>(state.range(1));
    const bool resident = state.range(2) != 0;
    OrchestrationRegistry registry;
    registry.register_orchestration("FanOut", fan_out);
    StackPool stacks{64 * 1024};
    for (auto _ : state) {
        std::vector<Event> history;
        ResidentSlot slot;
        auto turn = [&](std::vector<WorkItem> messages) {
            TurnInput input{"inst", 1,
                            resident && !history.empty() ? std::vector<Event>{} : history,
                            std::move(messages), 1000};
            if (resident && !history.empty()) {
                input.history_omitted = true;
                input.last_event_id = history.back().event_id;
            }
            TurnResult result = run_turn(registry, stacks, input, resident ? &slot : nullptr);
            history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
            return result;
        };
        TurnResult first =
            turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                    .orchestration = "FanOut",
                                                    .input = std::to_string(width),
                                                    .version = std::nullopt,
                                                    .parent_instance = std::nullopt,
                                                    .parent_id = std::nullopt,
                                                    .execution_id = 1,
                                                    .parent_execution_id = std::nullopt}}});
        std::vector<uint64_t> scheduled;
        for (const Event& event : first.history_delta) {
            if (std::holds_alternative<events::ActivityScheduled>(event.kind)) {
                scheduled.push_back(event.event_id);
            }
        }
        if (scheduled.size() != width) {
            state.SkipWithError("the first turn did not schedule every activity");
            break;
        }
        TurnResult last;
        for (std::size_t at = 0; at < width; at += per_turn) {
            std::vector<WorkItem> done;
            for (std::size_t i = at; i < std::min(width, at + per_turn); ++i) {
                done.push_back(
                    WorkItem{work::ActivityCompleted{"inst", 1, scheduled[i], "result"}});
            }
            last = turn(std::move(done));
        }
        if (last.status != ExecutionStatus::Completed) {
            state.SkipWithError("the fan-out did not complete");
            break;
        }
        benchmark::DoNotOptimize(last);
    }
    state.counters["per_activity"] = benchmark::Counter(
        static_cast<double>(width),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FanOut)
    ->Args({1000, 16, 1})
    ->Args({5000, 16, 1})
    ->Args({1000, 1000, 1})
    ->Args({5000, 5000, 1})
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
