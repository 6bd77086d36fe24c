// Cancellation of abandoned work: select() cancels its losers and DurableFuture::cancel()
// cancels explicitly, per kind (reference §1, §1.7). Every history is also replayed from
// scratch, which must decide nothing new: the breadcrumbs are matched, not made again.
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace duroxide;
using namespace duroxide::core;
using std::chrono::milliseconds;

namespace {

struct Instance {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    std::vector<Event> history;
    uint64_t now = 1000;

    TurnResult turn(std::vector<WorkItem> messages) {
        TurnInput input{"inst", 1, history, std::move(messages), now};
        TurnResult result = run_turn(registry, stacks, input);
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        return result;
    }

    TurnResult start(const std::string& name) {
        return turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                       .orchestration = name,
                                                       .input = "",
                                                       .version = std::nullopt,
                                                       .parent_instance = std::nullopt,
                                                       .parent_id = std::nullopt,
                                                       .execution_id = 1,
                                                       .parent_execution_id = std::nullopt}}});
    }

    // Replays the whole history with no new message: nothing may be decided.
    void expect_replay_decides_nothing() {
        TurnInput input{"inst", 1, history, {}, now + 5000};
        TurnResult again = run_turn(registry, stacks, input);
        EXPECT_TRUE(again.history_delta.empty()) << "replay recorded new events";
        EXPECT_TRUE(again.worker_items.empty());
        EXPECT_TRUE(again.orchestrator_items.empty());
        EXPECT_TRUE(again.cancelled_activities.empty());
        EXPECT_NE(again.status, ExecutionStatus::Failed) << again.output;
    }

    // The timer that `result` scheduled (its TimerFired message).
    static WorkItem timer_of(const TurnResult& result) {
        for (const auto& item : result.orchestrator_items) {
            if (std::holds_alternative<work::TimerFired>(item.kind)) {
                return item;
            }
        }
        ADD_FAILURE() << "no timer scheduled";
        return {};
    }

    // "ActivityCancelRequested<2:dropped_future" for each cancellation breadcrumb.
    std::vector<std::string> breadcrumbs() const {
        std::vector<std::string> out;
        for (const auto& event : history) {
            if (const std::string* reason = event.cancellation_reason()) {
                out.push_back(std::string(event.type_name()) + "<" +
                              std::to_string(event.source_event_id.value_or(0)) + ":" + *reason);
            }
        }
        return out;
    }
};

} // namespace

TEST(Cancellation, ASelectLoserActivityIsCancelledAndItsLateCompletionIgnored) {
    Instance run;
    run.registry.register_orchestration("Race", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture race[] = {ctx.schedule_activity("LongOp", "x"),
                                      ctx.schedule_timer(milliseconds(100))};
        const std::size_t winner = ctx.select(race);
        return (winner == 1 ? "timeout then " : "won then ") +
               ctx.schedule_activity("After", "").value();
    });
    auto first = run.start("Race");
    ASSERT_EQ(first.worker_items.size(), 1u);
    auto fired = run.turn({Instance::timer_of(first)});
    EXPECT_EQ(fired.status, ExecutionStatus::Running);
    ASSERT_EQ(fired.cancelled_activities.size(), 1u);
    EXPECT_EQ(fired.cancelled_activities[0], (CancelledActivity{"inst", 1, 2}));
    ASSERT_EQ(fired.worker_items.size(), 1u); // After, not LongOp again
    EXPECT_EQ(std::get<work::ActivityExecute>(fired.worker_items[0].kind).name, "After");
    EXPECT_EQ(run.breadcrumbs(),
              std::vector<std::string>{"ActivityCancelRequested<2:dropped_future"});
    run.expect_replay_decides_nothing();

    // LongOp finished anyway before the lock was stolen: its completion changes nothing.
    auto late = run.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = 2, .result = "too late"}}});
    EXPECT_TRUE(late.history_delta.empty());
    EXPECT_EQ(late.status, ExecutionStatus::Running);
    const uint64_t after_id = std::get<work::ActivityExecute>(fired.worker_items[0].kind).id;
    auto done = run.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = after_id, .result = "ok"}}});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "timeout then ok");
    run.expect_replay_decides_nothing();
}

TEST(Cancellation, AWinningActivityLeavesTheTimerAlone) {
    Instance run;
    run.registry.register_orchestration("Race", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture race[] = {ctx.schedule_activity("Quick", ""),
                                      ctx.schedule_timer(milliseconds(100))};
        ctx.select(race);
        return race[0].value();
    });
    run.start("Race");
    auto done = run.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = 2, .result = "fast"}}});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "fast");
    EXPECT_TRUE(run.breadcrumbs().empty()); // a timer needs no cancellation
    EXPECT_TRUE(done.cancelled_activities.empty());
}

TEST(Cancellation, ALosingSubOrchestrationIsCancelledWithACancelInstance) {
    Instance run;
    run.registry.register_orchestration(
        "Parent", [](OrchestrationContext& ctx, const std::string&) {
            const DurableFuture race[] = {ctx.schedule_sub_orchestration("Child", "in"),
                                          ctx.schedule_timer(milliseconds(100))};
            return ctx.select(race) == 1 ? std::string("gave up") : race[0].value();
        });
    auto first = run.start("Parent");
    auto fired = run.turn({Instance::timer_of(first)});
    EXPECT_EQ(fired.status, ExecutionStatus::Completed);
    EXPECT_EQ(fired.output, "gave up");
    EXPECT_EQ(run.breadcrumbs(),
              std::vector<std::string>{"SubOrchestrationCancelRequested<2:dropped_future"});
    const work::CancelInstance* cancel = nullptr;
    for (const auto& item : fired.orchestrator_items) {
        if (auto* found = std::get_if<work::CancelInstance>(&item.kind)) {
            ASSERT_EQ(cancel, nullptr) << "the child is cancelled once";
            cancel = found;
        }
    }
    ASSERT_NE(cancel, nullptr);
    EXPECT_EQ(cancel->instance, "inst::sub::2");
    EXPECT_EQ(cancel->reason, "parent dropped sub-orchestration future");
    run.expect_replay_decides_nothing();
}

TEST(Cancellation, ACancelledWaitTakesNoEventTheNextWaitDoes) {
    Instance run;
    run.registry.register_orchestration("Waits", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture race[] = {ctx.schedule_wait("Go"),
                                      ctx.schedule_timer(milliseconds(100))};
        const std::string first = ctx.select(race) == 0 ? "event" : "timeout";
        return first + "," + ctx.schedule_wait("Go").value();
    });
    auto started = run.start("Waits");
    run.turn({Instance::timer_of(started)});
    auto done = run.turn(
        {WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = "later"}}});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "timeout,later");
    EXPECT_EQ(run.breadcrumbs(),
              std::vector<std::string>{"ExternalSubscribedCancelled<2:dropped_future"});
    run.expect_replay_decides_nothing();
}

TEST(Cancellation, ACancelledDequeueConsumesNoMessage) {
    Instance run;
    run.registry.register_orchestration(
        "Reader", [](OrchestrationContext& ctx, const std::string&) {
            const DurableFuture race[] = {ctx.dequeue_event("Q"),
                                          ctx.schedule_timer(milliseconds(100))};
            const std::string first = ctx.select(race) == 0 ? race[0].value() : "timeout";
            ctx.schedule_timer(milliseconds(100)).get();
            // Both messages arrived while no dequeue was open: the mailbox kept them in order.
            const std::string a = ctx.dequeue_event("Q").value();
            const std::string b = ctx.dequeue_event("Q").value();
            return first + "," + a + "," + b;
        });
    auto started = run.start("Reader");
    auto fired = run.turn({Instance::timer_of(started)});
    run.turn({WorkItem{work::QueueMessage{.instance = "inst", .name = "Q", .data = "m1"}}});
    run.turn({WorkItem{work::QueueMessage{.instance = "inst", .name = "Q", .data = "m2"}}});
    auto done = run.turn({Instance::timer_of(fired)});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "timeout,m1,m2");
    EXPECT_EQ(run.breadcrumbs(),
              std::vector<std::string>{"ExternalSubscribedPersistentCancelled<2:dropped_future"});
    run.expect_replay_decides_nothing();
}

TEST(Cancellation, ExplicitCancelWithdrawsAnActivityScheduledInTheSameTurn) {
    Instance run;
    run.registry.register_orchestration(
        "Abandon", [](OrchestrationContext& ctx, const std::string&) {
            DurableFuture unwanted = ctx.schedule_activity("Unwanted", "");
            unwanted.cancel();
            unwanted.cancel(); // a second cancel is a no-op
            return ctx.schedule_activity("Wanted", "").value();
        });
    auto first = run.start("Abandon");
    ASSERT_EQ(first.worker_items.size(), 1u); // Unwanted never reaches the worker queue
    EXPECT_EQ(std::get<work::ActivityExecute>(first.worker_items[0].kind).name, "Wanted");
    ASSERT_EQ(first.cancelled_activities.size(), 1u);
    EXPECT_EQ(first.cancelled_activities[0].activity_id, 2u);
    EXPECT_EQ(run.breadcrumbs(),
              std::vector<std::string>{"ActivityCancelRequested<2:dropped_future"});
    run.expect_replay_decides_nothing();
}

TEST(Cancellation, AwaitingACancelledFutureFailsClearly) {
    Instance run;
    run.registry.register_orchestration(
        "Misuse", [](OrchestrationContext& ctx, const std::string&) {
            const DurableFuture race[] = {ctx.schedule_activity("Slow", ""),
                                          ctx.schedule_timer(milliseconds(10))};
            ctx.select(race);
            return race[0].value(); // the loser
        });
    auto first = run.start("Misuse");
    auto result = run.turn({Instance::timer_of(first)});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_NE(result.output.find("awaited a cancelled future (event 2)"), std::string::npos)
        << result.output;
}

TEST(Cancellation, CodeThatNoLongerCancelsIsNondeterministic) {
    Instance run;
    bool cancel = true;
    run.registry.register_orchestration("Changing",
                                        [&cancel](OrchestrationContext& ctx, const std::string&) {
                                            DurableFuture first = ctx.schedule_activity("A", "");
                                            if (cancel) {
                                                first.cancel();
                                            }
                                            return ctx.schedule_wait("Go").value();
                                        });
    run.start("Changing");
    cancel = false; // a code change
    auto result =
        run.turn({WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = "x"}}});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(result.error->category(), std::string("configuration"));
    EXPECT_NE(result.output.find("cancelled future(s) the code no longer cancels"),
              std::string::npos)
        << result.output;
}

TEST(Cancellation, RetryTimeoutCancelsTheTimedOutAttempt) { // scenario 17, timeout
    Instance run;
    run.registry.register_orchestration("Retry", [](OrchestrationContext& ctx, const std::string&) {
        RetryPolicy policy(3);
        policy.with_timeout(milliseconds(50));
        return ctx.schedule_activity_with_retry("Hangs", "", policy).value();
    });
    auto first = run.start("Retry");
    ASSERT_EQ(first.worker_items.size(), 1u);
    auto result = run.turn({Instance::timer_of(first)});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output, "timeout: activity timed out");
    EXPECT_EQ(run.breadcrumbs(),
              std::vector<std::string>{"ActivityCancelRequested<2:dropped_future"});
    ASSERT_EQ(result.cancelled_activities.size(), 1u);
    EXPECT_EQ(result.cancelled_activities[0].activity_id, 2u);
    int scheduled = 0;
    for (const auto& event : run.history) {
        scheduled += std::holds_alternative<events::ActivityScheduled>(event.kind);
    }
    EXPECT_EQ(scheduled, 1); // a timeout ends the retries
}

TEST(Cancellation, AtTerminalTurnsOnlyWorkStillOpenIsCancelled) {
    Instance run;
    run.registry.register_orchestration("Ends", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture race[] = {ctx.schedule_activity("Loser", ""),
                                      ctx.schedule_timer(milliseconds(10))};
        ctx.select(race);
        ctx.schedule_activity("Open", "");
        return std::string("done");
    });
    auto first = run.start("Ends");
    auto result = run.turn({Instance::timer_of(first)});
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(
        run.breadcrumbs(),
        (std::vector<std::string>{"ActivityCancelRequested<2:dropped_future",
                                  "ActivityCancelRequested<6:orchestration_terminal_completed"}));
    EXPECT_TRUE(result.worker_items.empty());
}
