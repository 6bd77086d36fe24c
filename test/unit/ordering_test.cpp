// select / join over 2, 3 and N futures under every completion order, and the checks on
// what a turn is given: completions that name no schedule (or one of another kind) and code
// that reorders its schedule calls are nondeterminism; duplicates and other executions'
// completions are dropped; a finished history decides nothing when run again; is_replaying.
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>

using namespace duroxide;
using namespace duroxide::core;
using std::chrono::milliseconds;

namespace {

struct Turns {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    std::vector<Event> history;
    TurnResult last;

    TurnResult& turn(std::vector<WorkItem> messages) {
        last = run_turn(registry, stacks, {"inst", 1, history, std::move(messages), 5000});
        history.insert(history.end(), last.history_delta.begin(), last.history_delta.end());
        return last;
    }
    TurnResult& start(const std::string& name, const std::string& input) {
        return turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                       .orchestration = name,
                                                       .input = input,
                                                       .version = std::nullopt,
                                                       .parent_instance = std::nullopt,
                                                       .parent_id = std::nullopt,
                                                       .execution_id = 1,
                                                       .parent_execution_id = std::nullopt}}});
    }
    // The source ids of the completion events, in history order.
    std::vector<uint64_t> completion_order() const {
        std::vector<uint64_t> out;
        for (const auto& event : history) {
            if (event.source_event_id &&
                (std::holds_alternative<events::ActivityCompleted>(event.kind) ||
                 std::holds_alternative<events::TimerFired>(event.kind))) {
                out.push_back(*event.source_event_id);
            }
        }
        return out;
    }
};

std::vector<uint64_t> activity_ids(const TurnResult& result) {
    std::vector<uint64_t> ids;
    for (const auto& item : result.worker_items) {
        ids.push_back(std::get<work::ActivityExecute>(item.kind).id);
    }
    return ids;
}

WorkItem completed(uint64_t id, const std::string& result, uint64_t execution_id = 1) {
    return WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = execution_id, .id = id, .result = result}};
}

void register_n_way(OrchestrationRegistry& registry) {
    // Input n: n activities "A" with inputs "0".."n-1"; select returns "<index>:<value>",
    // join returns the values in argument order.
    auto futures = [](OrchestrationContext& ctx, const std::string& in) {
        std::vector<DurableFuture> out;
        for (int i = 0; i < std::stoi(in); ++i) {
            out.push_back(ctx.schedule_activity("A", std::to_string(i)));
        }
        return out;
    };
    registry.register_orchestration("SelectN",
                                    [futures](OrchestrationContext& ctx, const std::string& in) {
                                        const auto all = futures(ctx, in);
                                        const std::size_t winner = ctx.select(all);
                                        return std::to_string(winner) + ":" + all[winner].value();
                                    });
    registry.register_orchestration("JoinN",
                                    [futures](OrchestrationContext& ctx, const std::string& in) {
                                        std::string out;
                                        for (const auto& outcome : ctx.join(futures(ctx, in))) {
                                            out += (out.empty() ? "" : "|") + outcome.value();
                                        }
                                        return out;
                                    });
}

// Every order of n completions, delivered in one batch and one per turn.
void for_every_order(
    std::size_t n,
    const std::function<void(const std::vector<std::size_t>&, bool one_batch)>& check) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    do {
        check(order, true);
        check(order, false);
    } while (std::next_permutation(order.begin(), order.end()));
}

} // namespace

TEST(Ordering, SelectTakesTheFirstCompletionInHistoryUnderEveryOrder) {
    for (std::size_t n : {2u, 3u, 5u}) {
        for_every_order(n, [n](const std::vector<std::size_t>& order, bool one_batch) {
            Turns t;
            register_n_way(t.registry);
            const auto ids = activity_ids(t.start("SelectN", std::to_string(n)));
            ASSERT_EQ(ids.size(), n);
            std::vector<WorkItem> batch;
            for (std::size_t index : order) {
                batch.push_back(completed(ids[index], "r" + std::to_string(index)));
                if (!one_batch) {
                    t.turn(batch);
                    batch.clear();
                    if (t.last.status != ExecutionStatus::Running) {
                        break; // the rest would come after the end
                    }
                }
            }
            if (one_batch) {
                t.turn(batch);
            }
            const std::string expected = std::to_string(order[0]) + ":r" + std::to_string(order[0]);
            EXPECT_EQ(t.last.status, ExecutionStatus::Completed);
            EXPECT_EQ(t.last.output, expected) << "n=" << n << " one_batch=" << one_batch;
            EXPECT_EQ(t.completion_order().front(), ids[order[0]]);
            // Replaying the finished history decides nothing.
            const TurnResult again = t.turn({});
            EXPECT_TRUE(again.history_delta.empty());
            EXPECT_TRUE(again.worker_items.empty() && again.orchestrator_items.empty());
        });
    }
}

TEST(Ordering, JoinGivesArgumentOrderWhateverTheCompletionOrder) {
    for (std::size_t n : {2u, 3u, 5u}) {
        for_every_order(n, [n](const std::vector<std::size_t>& order, bool one_batch) {
            Turns t;
            register_n_way(t.registry);
            const auto ids = activity_ids(t.start("JoinN", std::to_string(n)));
            std::vector<WorkItem> batch;
            for (std::size_t index : order) {
                batch.push_back(completed(ids[index], "r" + std::to_string(index)));
                if (!one_batch) {
                    t.turn(batch);
                    batch.clear();
                }
            }
            if (one_batch) {
                t.turn(batch);
            }
            std::string expected;
            std::vector<uint64_t> expected_history;
            for (std::size_t i = 0; i < n; ++i) {
                expected += (i ? "|r" : "r") + std::to_string(i);
                expected_history.push_back(ids[order[i]]);
            }
            EXPECT_EQ(t.last.status, ExecutionStatus::Completed);
            EXPECT_EQ(t.last.output, expected);
            EXPECT_EQ(t.completion_order(), expected_history); // as they came
        });
    }
}

TEST(Ordering, SelectOverMixedKindsTakesWhicheverCameFirst) {
    // An activity, a timer and an event wait, completed in every order in one batch.
    for_every_order(3, [](const std::vector<std::size_t>& order, bool one_batch) {
        if (!one_batch) {
            return;
        }
        Turns t;
        t.registry.register_orchestration(
            "Mixed", [](OrchestrationContext& ctx, const std::string&) {
                const DurableFuture race[] = {ctx.schedule_activity("A", ""),
                                              ctx.schedule_timer(milliseconds(10)),
                                              ctx.schedule_wait("E")};
                return std::to_string(ctx.select(race));
            });
        const TurnResult& first = t.start("Mixed", "");
        const uint64_t activity = activity_ids(first).at(0);
        const WorkItem timer = first.orchestrator_items.at(0);
        ASSERT_TRUE(std::holds_alternative<work::TimerFired>(timer.kind));
        const WorkItem messages[] = {
            completed(activity, "a"), timer,
            WorkItem{work::ExternalRaised{.instance = "inst", .name = "E", .data = "e"}}};
        std::vector<WorkItem> batch;
        for (std::size_t index : order) {
            batch.push_back(messages[index]);
        }
        t.turn(batch);
        EXPECT_EQ(t.last.output, std::to_string(order[0]));
    });
}

TEST(Ordering, ReorderedScheduleCallsAreNondeterminism) {
    Turns t;
    t.registry.register_orchestration("AB", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture both[] = {ctx.schedule_activity("A", "1"),
                                      ctx.schedule_activity("B", "2")};
        ctx.join(both);
        return std::string("done");
    });
    const auto ids = activity_ids(t.start("AB", ""));
    Turns swapped;
    swapped.history = t.history;
    swapped.registry.register_orchestration(
        "AB", [](OrchestrationContext& ctx, const std::string&) {
            const DurableFuture both[] = {ctx.schedule_activity("B", "2"),
                                          ctx.schedule_activity("A", "1")};
            ctx.join(both);
            return std::string("done");
        });
    const TurnResult& result = swapped.turn({completed(ids[0], "a")});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(result.error->category(), std::string("configuration"));
    EXPECT_EQ(result.output.rfind("nondeterministic: schedule mismatch", 0), 0u) << result.output;
    EXPECT_TRUE(result.worker_items.empty());
}

TEST(Ordering, ACompletionThatNamesNoScheduleIsNondeterminism) {
    for (int variant = 0; variant < 2; ++variant) {
        Turns t;
        register_n_way(t.registry);
        const auto ids = activity_ids(t.start("JoinN", "2"));
        // 999 was never scheduled; a timer completion for an activity's id has the wrong kind.
        const WorkItem bad =
            variant == 0
                ? completed(999, "x")
                : WorkItem{work::TimerFired{
                      .instance = "inst", .execution_id = 1, .id = ids[0], .fire_at_ms = 5000}};
        const TurnResult& result = t.turn({bad});
        EXPECT_EQ(result.status, ExecutionStatus::Failed);
        ASSERT_TRUE(result.error.has_value());
        EXPECT_EQ(result.error->category(), std::string("configuration"));
        const std::string expected =
            variant == 0 ? "nondeterministic: no matching schedule for activity completion id=999"
                         : "nondeterministic: no matching schedule for timer completion id=" +
                               std::to_string(ids[0]);
        EXPECT_EQ(result.output, expected);
        EXPECT_EQ(result.cancelled_activities.size(), 2u); // the open activities are stolen
    }
}

TEST(Ordering, DuplicateAndOtherExecutionCompletionsAreDropped) {
    Turns t;
    register_n_way(t.registry);
    const auto ids = activity_ids(t.start("JoinN", "2"));
    // Another execution's completion for the same id and a duplicate in the same batch.
    t.turn({completed(ids[0], "stale", 7), completed(ids[0], "r0"), completed(ids[0], "again")});
    EXPECT_EQ(t.last.status, ExecutionStatus::Running);
    EXPECT_EQ(t.last.history_delta.size(), 1u);
    // A duplicate of a completion already in history, with the last one.
    t.turn({completed(ids[0], "late duplicate"), completed(ids[1], "r1")});
    EXPECT_EQ(t.last.status, ExecutionStatus::Completed);
    EXPECT_EQ(t.last.output, "r0|r1");
    EXPECT_EQ(t.completion_order(), (std::vector<uint64_t>{ids[0], ids[1]}));
}

TEST(Ordering, IsReplayingHoldsOnlyWhileTheCodeRetracesHistory) {
    Turns t;
    auto seen = std::make_shared<std::vector<bool>>();
    t.registry.register_orchestration("Two", [seen](OrchestrationContext& ctx, const std::string&) {
        seen->push_back(ctx.is_replaying());
        ctx.schedule_activity("A", "1").get();
        seen->push_back(ctx.is_replaying());
        ctx.schedule_activity("A", "2").get();
        return std::string("done");
    });
    const auto first = activity_ids(t.start("Two", ""));
    EXPECT_EQ(*seen, std::vector<bool>{false}); // a first run is not a replay
    seen->clear();
    const auto second = activity_ids(t.turn({completed(first.at(0), "a")}));
    EXPECT_EQ(*seen, (std::vector<bool>{true, false})); // past the recorded schedules: live
    seen->clear();
    t.turn({completed(second.at(0), "b")});
    EXPECT_EQ(*seen, (std::vector<bool>{true, true}));
    EXPECT_EQ(t.last.status, ExecutionStatus::Completed);
}
