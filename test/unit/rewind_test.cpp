// Rewind (core::plan_rewind, duroxide.rewind_instance) on the in-memory runtime: the exact
// history a rewind leaves, the replay that follows it, and the refusals.
#include "memory_runtime.hpp"

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <memory>

using namespace duroxide;
using duroxide::testing::MemoryRuntime;
using std::chrono::milliseconds;

namespace {

// "Flaky" fails while *broken holds (an operator fixes the cause, then rewinds).
struct RewindFixture : ::testing::Test {
    MemoryRuntime rt;
    std::shared_ptr<bool> broken = std::make_shared<bool>(true);
    std::shared_ptr<int> flaky_runs = std::make_shared<int>(0);

    void SetUp() override {
        auto& a = rt.activities;
        a.register_activity("Echo", [](ActivityContext&, const std::string& s) { return s; });
        a.register_activity("Flaky",
                            [broken = broken, runs = flaky_runs](
                                ActivityContext&, const std::string& s) -> std::string {
                                ++*runs;
                                if (*broken) {
                                    throw std::runtime_error("flaky failed on " + s);
                                }
                                return "fixed:" + s;
                            });
        auto& o = rt.orchestrations;
        o.register_orchestration("Steps", [](OrchestrationContext& ctx, const std::string& in) {
            const std::string echoed = ctx.schedule_activity("Echo", in).value();
            return echoed + "+" + ctx.schedule_activity("Flaky", in).value();
        });
        o.register_orchestration("CodeFails", [](OrchestrationContext& ctx, const std::string& in) {
            ctx.schedule_activity("Echo", in).value();
            throw std::runtime_error("bad input " + in);
            return std::string();
        });
        o.register_orchestration("Retried", [](OrchestrationContext& ctx, const std::string& in) {
            RetryPolicy policy(2);
            policy.with_backoff(FixedBackoff{milliseconds(50)});
            return ctx.schedule_activity_with_retry("Flaky", in, policy).value();
        });
        o.register_orchestration("Child", [](OrchestrationContext& ctx, const std::string& in) {
            return ctx.schedule_activity("Flaky", in).value();
        });
        o.register_orchestration("Parent", [](OrchestrationContext& ctx, const std::string& in) {
            return "parent:" + ctx.schedule_sub_orchestration("Child", in, "child-1").value();
        });
        // The first activity fails while the second (slow) one is still queued: the failure
        // withdraws it, and the rewind queues both again.
        o.register_orchestration("Pair", [](OrchestrationContext& ctx, const std::string& in) {
            const DurableFuture flaky = ctx.schedule_activity("Flaky", in);
            const DurableFuture slow = ctx.schedule_activity("Slow", in);
            const std::string first = flaky.value(); // throws while Slow is still queued
            return first + ";" + slow.value() + ";";
        });
        a.register_activity("Slow",
                            [](ActivityContext&, const std::string& s) { return "slow:" + s; });
        o.register_orchestration("Chain", [](OrchestrationContext& ctx, const std::string& in) {
            if (in == "first") {
                ctx.continue_as_new("second");
            }
            return ctx.schedule_activity("Flaky", in).value();
        });
        o.register_orchestration("Waits", [](OrchestrationContext& ctx, const std::string&) {
            return ctx.schedule_wait("Go").value();
        });
        o.register_orchestration("WritesKv", [](OrchestrationContext& ctx, const std::string& in) {
            ctx.set_kv_value("k", in);
            return ctx.schedule_activity("Flaky", in).value();
        });
        o.register_orchestration(
            "TimerThenFail", [](OrchestrationContext& ctx, const std::string& in) {
                const DurableFuture timer = ctx.schedule_timer(milliseconds(500));
                const std::string r = ctx.schedule_activity("Flaky", in).value();
                timer.get();
                return r;
            });
    }
};

TEST_F(RewindFixture, FailedActivityIsRetriedAndTheReplayReachesTheSamePoint) {
    rt.start("s", "Steps", "x");
    EXPECT_EQ(rt.finish("s").status, "Failed");
    EXPECT_EQ(rt.shape("s"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
                             "4 ActivityScheduled, 5 ActivityFailed<4, 6 OrchestrationFailed");
    *broken = false;
    EXPECT_EQ(rt.rewind("s"), "");
    EXPECT_EQ(
        rt.shape("s"),
        "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, 4 ActivityScheduled");
    const auto& done = rt.finish("s");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "x+fixed:x");
    EXPECT_EQ(rt.shape("s"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
              "4 ActivityScheduled, 5 ActivityCompleted<4, 6 OrchestrationCompleted");
    EXPECT_EQ(*flaky_runs, 2);
    EXPECT_EQ(rt.instances.at("s").executions.size(), 1u); // the same execution goes on
}

TEST_F(RewindFixture, StillBrokenFailsAgainAndCanBeRewoundAgain) {
    rt.start("s", "Steps", "x");
    rt.finish("s");
    EXPECT_EQ(rt.rewind("s"), "");
    EXPECT_EQ(rt.finish("s").status, "Failed");
    EXPECT_EQ(rt.shape("s"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
                             "4 ActivityScheduled, 5 ActivityFailed<4, 6 OrchestrationFailed");
    *broken = false;
    EXPECT_EQ(rt.rewind("s"), "");
    EXPECT_EQ(rt.finish("s").status, "Completed");
    EXPECT_EQ(*flaky_runs, 3);
}

TEST_F(RewindFixture, OnlyTheLastAttemptOfARetryIsRetried) {
    rt.start("r", "Retried", "y");
    EXPECT_EQ(rt.finish("r").status, "Failed");
    EXPECT_EQ(rt.shape("r"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, "
                             "4 TimerCreated, 5 TimerFired<4, 6 ActivityScheduled, "
                             "7 ActivityFailed<6, 8 OrchestrationFailed");
    *broken = false;
    EXPECT_EQ(rt.rewind("r"), "");
    EXPECT_EQ(rt.finish("r").status, "Completed");
    EXPECT_EQ(rt.shape("r"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, "
                             "4 TimerCreated, 5 TimerFired<4, 6 ActivityScheduled, "
                             "7 ActivityCompleted<6, 8 OrchestrationCompleted");
}

TEST_F(RewindFixture, AFailedChildIsRewoundWithItsParent) {
    rt.start("p", "Parent", "z");
    EXPECT_EQ(rt.finish("p").status, "Failed");
    EXPECT_EQ(rt.instances.at("child-1").current().status, "Failed");
    EXPECT_EQ(rt.shape("p"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                             "3 SubOrchestrationFailed<2, 4 OrchestrationFailed");
    *broken = false;
    EXPECT_EQ(rt.rewind("p"), "");
    EXPECT_EQ(rt.shape("p"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled");
    EXPECT_EQ(rt.shape("child-1"), "1 OrchestrationStarted, 2 ActivityScheduled");
    const auto& done = rt.finish("p");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "parent:fixed:z");
    EXPECT_EQ(rt.shape("child-1"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
              "4 OrchestrationCompleted");
    EXPECT_EQ(rt.shape("p"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                             "3 SubOrchestrationCompleted<2, 4 OrchestrationCompleted");
}

TEST_F(RewindFixture, WorkWithdrawnByTheFailureIsQueuedAgain) {
    rt.activity_duration_ms["Slow"] = 1000;
    rt.start("pair", "Pair", "q");
    EXPECT_EQ(rt.finish("pair").status, "Failed");
    EXPECT_EQ(rt.shape("pair"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityScheduled, "
                                "4 ActivityFailed<2, 5 OrchestrationFailed, "
                                "6 ActivityCancelRequested<3");
    *broken = false;
    EXPECT_EQ(rt.rewind("pair"), "");
    EXPECT_EQ(rt.shape("pair"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityScheduled");
    const auto& done = rt.finish("pair");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "fixed:q;slow:q;");
}

TEST_F(RewindFixture, ATimerThatFiredWhileFailedIsArmedAgain) {
    rt.start("t", "TimerThenFail", "w");
    EXPECT_EQ(rt.finish("t").status, "Failed");
    rt.run(); // the timer fires for the failed execution and is dropped
    EXPECT_EQ(rt.orchestrator_queue_size(), 0u);
    *broken = false;
    EXPECT_EQ(rt.rewind("t"), "");
    const auto& done = rt.finish("t");
    EXPECT_EQ(done.status, "Completed");
    // The re-armed timer is due at once (its time has passed): it is recorded first.
    EXPECT_EQ(rt.shape("t"), "1 OrchestrationStarted, 2 TimerCreated, 3 ActivityScheduled, "
                             "4 TimerFired<2, 5 ActivityCompleted<3, 6 OrchestrationCompleted");
}

TEST_F(RewindFixture, OnlyTheCurrentExecutionOfAChainIsRewound) {
    rt.start("c", "Chain", "first");
    EXPECT_EQ(rt.finish("c").status, "Failed");
    ASSERT_EQ(rt.instances.at("c").executions.size(), 2u);
    const std::string first = rt.shape("c", 1);
    *broken = false;
    EXPECT_EQ(rt.rewind("c"), "");
    const auto& done = rt.finish("c");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "fixed:second");
    EXPECT_EQ(rt.shape("c", 1), first); // the continued execution is untouched
    EXPECT_EQ(rt.shape("c"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                             "3 ActivityCompleted<2, 4 OrchestrationCompleted");
}

TEST_F(RewindFixture, Refusals) {
    rt.start("code", "CodeFails", "v");
    EXPECT_EQ(rt.finish("code").status, "Failed");
    EXPECT_EQ(rt.rewind("code"), "its failure came from the orchestration code, not from an "
                                 "activity or a sub-orchestration that could be retried");
    EXPECT_EQ(rt.shape("code"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                "3 ActivityCompleted<2, 4 OrchestrationFailed"); // untouched

    rt.start("done", "Steps", "u");
    *broken = false;
    EXPECT_EQ(rt.finish("done").status, "Completed");
    EXPECT_EQ(rt.rewind("done"), "its current execution has not failed");
    *broken = true;

    rt.start("w", "Waits", "");
    rt.run();
    rt.cancel("w", "stop");
    EXPECT_EQ(rt.finish("w").status, "Failed");
    EXPECT_EQ(rt.rewind("w"), "it was cancelled");

    rt.start("kv", "WritesKv", "k");
    EXPECT_EQ(rt.finish("kv").status, "Failed");
    EXPECT_EQ(rt.rewind("kv"), "its execution wrote to its key-value store, whose state before "
                               "the failure is not kept");
}

TEST(RewindPlan, NondeterminismAndPoisonAreRefused) {
    using namespace duroxide::core;
    auto failed_with = [](ErrorDetails details) {
        std::vector<Event> history(3);
        history[0].event_id = 1;
        history[0].kind = events::OrchestrationStarted{.name = "O",
                                                       .version = "1.0.0",
                                                       .input = "",
                                                       .parent_instance = std::nullopt,
                                                       .parent_id = std::nullopt,
                                                       .carry_forward_events = std::nullopt,
                                                       .initial_custom_status = std::nullopt,
                                                       .parent_execution_id = std::nullopt,
                                                       .open_sessions = std::nullopt};
        history[1].event_id = 2;
        history[1].kind = events::ActivityScheduled{
            .name = "A", .input = "", .session_id = std::nullopt, .tag = std::nullopt};
        history[2].event_id = 3;
        history[2].kind = events::OrchestrationFailed{std::move(details)};
        return plan_rewind(history);
    };
    auto reason = [](const std::variant<RewindPlan, RewindRefusal>& planned) {
        return std::get<RewindRefusal>(planned).reason;
    };
    EXPECT_EQ(reason(failed_with(ErrorDetails::nondeterminism("changed"))),
              RewindRefusal::Reason::NotRewindable);
    EXPECT_EQ(
        reason(failed_with(ErrorDetails{PoisonError{4, 3, PoisonOrchestration{"i", 1}, "m"}})),
        RewindRefusal::Reason::NotRewindable);
    EXPECT_EQ(reason(failed_with(ErrorDetails::cancelled("stop"))),
              RewindRefusal::Reason::NotRewindable);
    EXPECT_EQ(reason(failed_with(ErrorDetails::orchestration_failed("boom"))),
              RewindRefusal::Reason::FailedInCode);
}

} // namespace
