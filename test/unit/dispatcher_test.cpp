// The dispatch policy of the core (core/dispatch) driven over the in-memory provider: poison
// after max attempts, the backoff of unregistered handlers, histories that do not decode,
// continue-as-new, and a batch whose record fails (then recorded one turn at a time).
#include "core/codec/json_codec.hpp"
#include "core/dispatch/orchestration_dispatcher.hpp"
#include "memory_scenarios.hpp"

#include <gtest/gtest.h>

#include <memory>

using namespace duroxide;
using duroxide::testing::poison_of;
using duroxide::testing::Scenarios;
using Dispatcher = Scenarios;

namespace {

void register_echo(duroxide::testing::MemoryRuntime& rt) {
    rt.orchestrations.register_orchestration(
        "Echo", [](OrchestrationContext&, const std::string& in) { return "echo:" + in; });
}

} // namespace

TEST_F(Dispatcher, PoisonUnknownOrchestrationAndVersion) { // 20
    rt.max_attempts = 3;
    rt.start("nope", "NotRegistered", "");
    const uint64_t started = rt.now_ms;
    const auto& nope = rt.finish("nope");
    EXPECT_EQ(nope.status, "Failed");
    const auto& poison = poison_of(nope);
    EXPECT_EQ(poison.attempt_count, 4u);
    EXPECT_EQ(poison.max_attempts, 3u);
    EXPECT_EQ(poison.message_type, core::PoisonMessageType(core::PoisonOrchestration{"nope", 1}));
    EXPECT_EQ(nope.error->category(), std::string("poison"));
    EXPECT_EQ(rt.now_ms, started + 10 + 20 + 40); // the unregistered backoff of attempts 1-3
    EXPECT_EQ(rt.shape("nope"), "1 OrchestrationStarted, 2 OrchestrationFailed");

    rt.start("v9", "Versioned", "", "9.0.0");
    const auto& v9 = rt.finish("v9");
    EXPECT_EQ(v9.status, "Failed");
    EXPECT_EQ(poison_of(v9).attempt_count, 4u);
    EXPECT_EQ(rt.shape("v9"), "1 OrchestrationStarted, 2 OrchestrationFailed");
}

TEST_F(Dispatcher, PoisonUnknownActivity) { // 20
    rt.max_attempts = 3;
    rt.orchestrations.register_orchestration(
        "CallsMissing", [](OrchestrationContext& ctx, const std::string&) {
            auto outcome = ctx.schedule_activity("Missing", "in").get();
            return outcome.ok() ? std::string("ran") : "handled:" + outcome.error();
        });
    rt.start("missing", "CallsMissing", "");
    const auto& done = rt.finish("missing");
    EXPECT_EQ(done.status, "Failed"); // code never sees a poison failure: it cannot handle it
    const auto& poison = poison_of(done);
    EXPECT_EQ(poison.attempt_count, 4u);
    EXPECT_EQ(poison.message_type,
              core::PoisonMessageType(core::PoisonActivity{"missing", 1, "Missing", 2}));
    EXPECT_EQ(rt.shape("missing"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                   "3 ActivityFailed<2, 4 OrchestrationFailed");
    EXPECT_EQ(rt.worker_queue_size(), 0u);
}

TEST_F(Dispatcher, PoisonOrchestrationBatchNeverRunsUserCode) { // 21
    auto runs = std::make_shared<int>(0);
    rt.orchestrations.register_orchestration(
        "Counted", [runs](OrchestrationContext& ctx, const std::string& in) {
            ++*runs;
            return ctx.schedule_activity("Hello", in).value();
        });
    rt.start("p21", "Counted", "x");
    rt.set_attempts("p21", 10); // this fetch is attempt 11 of 10
    const auto& done = rt.finish("p21");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(*runs, 0);
    const auto& poison = poison_of(done);
    EXPECT_EQ(poison.attempt_count, 11u);
    EXPECT_EQ(poison.max_attempts, 10u);
    EXPECT_EQ(poison.message_type, core::PoisonMessageType(core::PoisonOrchestration{"p21", 1}));
    const core::WorkItem start{core::work::StartOrchestration{.instance = "p21",
                                                              .orchestration = "Counted",
                                                              .input = "x",
                                                              .version = std::nullopt,
                                                              .parent_instance = std::nullopt,
                                                              .parent_id = std::nullopt,
                                                              .execution_id = 1,
                                                              .parent_execution_id = std::nullopt}};
    EXPECT_EQ(poison.message, "[" + core::codec::encode(start) + "]");
    EXPECT_EQ(rt.shape("p21"), "1 OrchestrationStarted, 2 OrchestrationFailed");
    EXPECT_EQ(rt.worker_queue_size(), 0u);
}

TEST_F(Dispatcher, UnregisteredOrchestrationBacksOffThenRunsOnceRegistered) {
    rt.max_attempts = 5;
    rt.start("late", "Late", "x");
    rt.run([&] { return rt.observed.backoffs.size() == 2; });
    // Each attempt went back for the unregistered backoff, doubling from the base.
    ASSERT_EQ(rt.observed.backoffs.size(), 2u);
    EXPECT_EQ(rt.observed.backoffs[0], "orchestration \"Late\" is not registered late +10ms #1");
    EXPECT_EQ(rt.observed.backoffs[1], "orchestration \"Late\" is not registered late +20ms #2");
    EXPECT_EQ(rt.instances.count("late"), 0u); // nothing recorded while it waits
    EXPECT_EQ(rt.observed.turns, 0u);
    rt.orchestrations.register_orchestration(
        "Late", [](OrchestrationContext&, const std::string& in) { return "ran:" + in; });
    const auto& done = rt.finish("late");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "ran:x");
    EXPECT_EQ(rt.observed.backoffs.size(), 2u);
}

TEST_F(Dispatcher, PoisonOfAnUnregisteredOrchestrationSaysWhy) {
    rt.max_attempts = 1;
    rt.start("gone", "Gone", "");
    const auto& done = rt.finish("gone");
    EXPECT_EQ(poison_of(done).message, "orchestration \"Gone\" is not registered");
    EXPECT_EQ(rt.observed.backoffs.size(), 1u);
}

TEST_F(Dispatcher, ContinueAsNewStartsTheNextExecutionFromItsMessage) {
    const core::Event started{
        .event_id = 1,
        .source_event_id = std::nullopt,
        .instance_id = "",
        .execution_id = 0,
        .timestamp_ms = 0,
        .duroxide_version = "",
        .kind = core::events::OrchestrationStarted{.name = "Counter",
                                                   .version = "",
                                                   .input = "3",
                                                   .parent_instance = std::nullopt,
                                                   .parent_id = std::nullopt,
                                                   .carry_forward_events = std::nullopt,
                                                   .initial_custom_status = std::nullopt,
                                                   .parent_execution_id = std::nullopt,
                                                   .open_sessions = std::nullopt}};
    core::work::ContinueAsNew next;
    next.instance = "c";
    next.orchestration = "Counter";
    next.input = "4";
    const core::provider::OrchestrationItem item{
        .instance = "c",
        .lock_token = "t",
        .attempt_count = 1,
        .messages = {core::WorkItem{core::work::ExternalRaised{"c", "Go", "early"}},
                     core::WorkItem{next}},
        .execution_id = 4,
        .execution_status = core::ExecutionStatus::ContinuedAsNew,
        .history = {started},
        .history_error = std::nullopt,
        .history_omitted = false,
        .history_last_event_id = 0,
        .kv_snapshot = {}};
    const core::TurnInput input = core::dispatch::turn_input(item, {}, 7);
    EXPECT_EQ(input.execution_id, 5u);
    EXPECT_TRUE(input.history.empty());
    ASSERT_EQ(input.messages.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<core::work::ContinueAsNew>(input.messages[0].kind));
    EXPECT_TRUE(std::holds_alternative<core::work::ExternalRaised>(input.messages[1].kind));
    ASSERT_TRUE(input.continued_from.has_value());
    EXPECT_EQ(input.continued_from->input, "3");

    rt.start("counter", "Counter", "0"); // through the dispatcher: four executions
    const auto& done = rt.finish("counter");
    EXPECT_EQ(done.output, "final:3");
    EXPECT_EQ(rt.instances.at("counter").executions.size(), 4u);
    EXPECT_EQ(rt.shape("counter", 2), "1 OrchestrationStarted, 2 OrchestrationContinuedAsNew");
}

TEST_F(Dispatcher, ABatchWhoseRecordFailsIsRecordedOneTurnAtATime) {
    register_echo(rt);
    rt.dispatch_batch = 3;
    for (const char* instance : {"a", "b", "c"}) {
        rt.start(instance, "Echo", instance);
    }
    rt.failing_acks = {"b"};
    const uint64_t started = rt.now_ms;
    ASSERT_TRUE(rt.run_turns()); // one fetch of all three
    // The batch did not commit; each turn then committed alone, b's write failed again.
    EXPECT_EQ(rt.commits, 2u);
    EXPECT_EQ(rt.instances.at("a").current().output, "echo:a");
    EXPECT_EQ(rt.instances.at("c").current().output, "echo:c");
    EXPECT_EQ(rt.instances.count("b"), 0u);
    ASSERT_EQ(rt.observed.not_recorded.size(), 1u);
    EXPECT_EQ(rt.observed.not_recorded[0], "injected write failure for b");
    // b went back with a delay, its attempt counted.
    EXPECT_FALSE(rt.has_visible_messages("b"));
    EXPECT_EQ(rt.orchestrator_queue_size(), 1u);
    rt.failing_acks.clear();
    EXPECT_EQ(rt.finish("b").output, "echo:b");
    EXPECT_EQ(rt.now_ms, started + 1000); // retry_after_failure_ms
    EXPECT_EQ(rt.commits, 3u);
}

TEST_F(Dispatcher, ABatchThatRecordsCommitsOnce) {
    register_echo(rt);
    rt.dispatch_batch = 3;
    for (const char* instance : {"a", "b", "c"}) {
        rt.start(instance, "Echo", instance);
    }
    ASSERT_TRUE(rt.run_turns());
    EXPECT_EQ(rt.commits, 1u);
    EXPECT_EQ(rt.acks, 3u);
    EXPECT_EQ(rt.observed.turns, 3u);
    for (const char* instance : {"a", "b", "c"}) {
        EXPECT_TRUE(rt.is_finished(instance)) << instance;
    }
}

TEST_F(Dispatcher, ATurnThatAlwaysFailsToRecordEndsAsPoison) {
    register_echo(rt);
    rt.max_attempts = 2;
    rt.start("w", "WaitsForGo", "");
    rt.run();
    rt.failing_acks = {"w"};
    rt.raise_event("w", "Go", "now");
    rt.run([&] { return rt.observed.not_recorded.size() == 3; });
    // Attempts 1 and 2 ran the turn and failed to record it; attempt 3 is poison, which
    // cannot be recorded either while the writes fail.
    rt.failing_acks.clear();
    const auto& done = rt.finish("w");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(poison_of(done).attempt_count, 4u);
}

TEST_F(Dispatcher, AnUnreadableHistoryBacksOffThenFailsAsPoison) {
    rt.max_attempts = 2;
    rt.start("h", "WaitsForGo", "");
    rt.run();
    rt.unreadable_history["h"] = "history of execution 1 does not decode: bad";
    rt.raise_event("h", "Go", "now");
    const uint64_t started = rt.now_ms;
    const auto& done = rt.finish("h");
    EXPECT_EQ(done.status, "Failed");
    const auto& poison = poison_of(done);
    EXPECT_EQ(poison.attempt_count, 3u);
    EXPECT_EQ(poison.message_type, core::PoisonMessageType(core::PoisonFailedDeserialization{
                                       "h", 1, "history of execution 1 does not decode: bad"}));
    EXPECT_EQ(rt.now_ms, started + 2 * 1000); // two backoffs before the poison turn
}

TEST_F(Dispatcher, ABusyInstanceIsGivenBackWithoutCountingTheAttempt) {
    register_echo(rt);
    rt.max_attempts = 1;
    rt.start("x", "Echo", "1");
    rt.busy_acks = {"x"};
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(rt.run_turns());
        rt.now_ms += 1000;
    }
    EXPECT_EQ(rt.observed.discarded.size(), 3u);
    rt.busy_acks.clear();
    const auto& done = rt.finish("x");
    EXPECT_EQ(done.status, "Completed"); // not poison: busy fetches did not count
    EXPECT_EQ(done.output, "echo:1");
}

TEST_F(Dispatcher, AnActivityWithoutHandlerBacksOffThenRunsOnceRegistered) {
    rt.orchestrations.register_orchestration(
        "CallsLater", [](OrchestrationContext& ctx, const std::string&) {
            return ctx.schedule_activity("Later", "in").value();
        });
    rt.start("l", "CallsLater", "");
    const uint64_t started = rt.now_ms;
    rt.run([&] { return rt.now_ms >= started + 10 + 20; });
    EXPECT_FALSE(rt.is_finished("l"));
    rt.activities.register_activity("Later",
                                    [](ActivityContext&, const std::string& s) { return s + "!"; });
    EXPECT_EQ(rt.finish("l").output, "in!");
}
