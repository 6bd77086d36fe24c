// Reference scenarios (§5.3) on the in-memory runtime: many instances, their queues and
// executions, the core's dispatcher over the in-memory provider, and activity workers over the
// real run_activity. Asserts outputs, statuses and exact history sequences. The dispatch
// policy itself (poison, backoff, failed records) is in dispatcher_test.cpp.
#include "memory_scenarios.hpp"

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>

using namespace duroxide;
using duroxide::testing::MemoryRuntime;
using duroxide::testing::Scenarios;
using std::chrono::milliseconds;

TEST_F(Scenarios, HelloWorld) { // 1
    rt.start("inst-sample-hello-1", "HelloWorld", "World");
    const auto& done = rt.finish("inst-sample-hello-1");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "Hello, World!");
    EXPECT_EQ(rt.shape("inst-sample-hello-1"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
              "4 ActivityScheduled, 5 ActivityCompleted<4, 6 OrchestrationCompleted");
    const auto& history = rt.instances.at("inst-sample-hello-1").current().history;
    const auto& started = std::get<core::events::OrchestrationStarted>(history[0].kind);
    EXPECT_EQ(started.name, "HelloWorld");
    EXPECT_EQ(started.version, "1.0.0");
    EXPECT_EQ(started.input, "World");
    EXPECT_EQ(std::get<core::events::ActivityScheduled>(history[1].kind).input, "Rust");
    EXPECT_EQ(std::get<core::events::ActivityCompleted>(history[2].kind).result, "Hello, Rust!");
    EXPECT_EQ(std::get<core::events::ActivityScheduled>(history[3].kind).input, "World");
    EXPECT_EQ(rt.worker_queue_size(), 0u);
    EXPECT_EQ(rt.orchestrator_queue_size(), 0u);
    EXPECT_EQ(rt.instances.at("inst-sample-hello-1").executions.size(), 1u);
}

TEST_F(Scenarios, Loop) { // 3
    rt.start("loop", "Loop", "start");
    EXPECT_EQ(rt.finish("loop").output, "startxxx");
    EXPECT_EQ(rt.shape("loop"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
              "4 ActivityScheduled, 5 ActivityCompleted<4, 6 ActivityScheduled, "
              "7 ActivityCompleted<6, 8 OrchestrationCompleted");
}

TEST_F(Scenarios, CaughtErrorAndCompensation) { // 4
    rt.start("comp", "Compensate", "");
    const auto& done = rt.finish("comp");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "Hello, compensation!");
    EXPECT_EQ(rt.shape("comp"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, "
                                "4 ActivityScheduled, 5 ActivityCompleted<4, "
                                "6 OrchestrationCompleted");
}

TEST_F(Scenarios, UnhandledErrorFails) { // 5
    rt.start("unhandled", "Unhandled", "Input cannot be empty");
    const auto& done = rt.finish("unhandled");
    EXPECT_EQ(done.status, "Failed");
    ASSERT_TRUE(done.error.has_value());
    EXPECT_EQ(done.error->category(), "application");
    EXPECT_NE(done.output.find("Input cannot be empty"), std::string::npos) << done.output;
    EXPECT_EQ(rt.shape("unhandled"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                     "3 ActivityFailed<2, 4 OrchestrationFailed");
}

TEST_F(Scenarios, FanOutSchedulesBothInTheFirstTurn) { // 6
    rt.start("fan", "FanOut", "");
    EXPECT_EQ(rt.finish("fan").output, "Hello, Gabbar!, Hello, Samba!");
    EXPECT_EQ(rt.shape("fan"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityScheduled, "
                               "4 ActivityCompleted<2, 5 ActivityCompleted<3, "
                               "6 OrchestrationCompleted");
}

TEST_F(Scenarios, TimerFiresAtItsTime) { // 7
    rt.start("timer", "Timer", "");
    const uint64_t started = rt.now_ms;
    EXPECT_EQ(rt.finish("timer").output, "done");
    EXPECT_EQ(rt.now_ms, started + 20); // the clock jumped to the timer, no earlier
    EXPECT_EQ(rt.shape("timer"),
              "1 OrchestrationStarted, 2 TimerCreated, 3 TimerFired<2, 4 OrchestrationCompleted");
    const auto& created = rt.instances.at("timer").current().history[1];
    EXPECT_EQ(std::get<core::events::TimerCreated>(created.kind).fire_at_ms, started + 20);
}

TEST_F(Scenarios, ExternalEventWinsTheRace) { // 9
    rt.start("go", "WaitForGo", "");
    rt.run([&] { return rt.instances.count("go") != 0; }); // the subscription is recorded
    rt.raise_event("go", "Go", "ok");
    const auto& done = rt.finish("go");
    EXPECT_EQ(done.output, "event:ok");
    EXPECT_EQ(rt.shape("go"), "1 OrchestrationStarted, 2 TimerCreated, 3 ExternalSubscribed, "
                              "4 ExternalEvent, 5 OrchestrationCompleted");
}

TEST_F(Scenarios, EventBeforeTheSubscriptionIsNotDelivered) { // 10
    rt.start("early", "EarlyEvent", "");
    rt.run([&] { return rt.instances.count("early") != 0; });
    rt.raise_event("early", "Evt", "too soon");
    const auto& done = rt.finish("early");
    EXPECT_EQ(done.output, "early-event-dropped");
    EXPECT_EQ(rt.shape("early"), "1 OrchestrationStarted, 2 TimerCreated, 3 ExternalEvent, "
                                 "4 TimerFired<2, 5 ExternalSubscribed, 6 TimerCreated, "
                                 "7 TimerFired<6, 8 ExternalSubscribedCancelled<5, "
                                 "9 OrchestrationCompleted");
}

TEST_F(Scenarios, QueueMessagesBeforeTheDequeueAreKeptInOrder) { // 11
    rt.enqueue_event("mail", "Signal", "before-start");          // dropped: no instance yet
    rt.start("mail", "Mailbox", "");
    rt.run([&] { return rt.instances.count("mail") != 0; });
    rt.enqueue_event("mail", "Signal", "first");
    rt.enqueue_event("mail", "Signal", "second");
    EXPECT_EQ(rt.finish("mail").output, "got:first,second");
    EXPECT_EQ(rt.shape("mail"), "1 OrchestrationStarted, 2 TimerCreated, "
                                "3 ExternalEventPersistent, 4 ExternalEventPersistent, "
                                "5 TimerFired<2, 6 ExternalSubscribedPersistent, "
                                "7 ExternalSubscribedPersistent, 8 OrchestrationCompleted");
}

TEST_F(Scenarios, SubOrchestration) { // 12
    rt.start("inst-sub-basic", "Parent", "hi");
    EXPECT_EQ(rt.finish("inst-sub-basic").output, "parent:HI");
    const auto& child = rt.instances.at("inst-sub-basic::sub::2");
    EXPECT_EQ(child.parent, std::optional<std::string>("inst-sub-basic"));
    EXPECT_EQ(child.current().output, "HI");
    EXPECT_EQ(rt.shape("inst-sub-basic"),
              "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
              "3 SubOrchestrationCompleted<2, 4 OrchestrationCompleted");
    EXPECT_EQ(rt.shape("inst-sub-basic::sub::2"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
              "4 OrchestrationCompleted");
}

TEST_F(Scenarios, DetachedOrchestrationsAreIndependentRoots) { // 13
    rt.start("coord", "Coordinator", "");
    EXPECT_EQ(rt.finish("coord").output, "scheduled");
    EXPECT_EQ(rt.finish("W1").output, "Hello, A!");
    EXPECT_EQ(rt.finish("W2").output, "Hello, B!");
    EXPECT_EQ(rt.instances.at("W1").parent, std::nullopt);
    EXPECT_EQ(rt.shape("coord"), "1 OrchestrationStarted, 2 OrchestrationChained, "
                                 "3 OrchestrationChained, 4 OrchestrationCompleted");
}

TEST_F(Scenarios, ContinueAsNewLoop) { // 14
    rt.start("can", "Counter", "0");
    EXPECT_EQ(rt.finish("can").output, "final:3");
    const auto& executions = rt.instances.at("can").executions;
    ASSERT_EQ(executions.size(), 4u);
    for (uint64_t i = 0; i < 3; ++i) {
        EXPECT_EQ(executions[i].execution_id, i + 1);
        EXPECT_EQ(executions[i].status, "ContinuedAsNew");
        EXPECT_EQ(executions[i].output, std::to_string(i + 1));
        EXPECT_EQ(rt.shape("can", i + 1), "1 OrchestrationStarted, 2 OrchestrationContinuedAsNew");
    }
    EXPECT_EQ(executions[3].status, "Completed");
    EXPECT_EQ(rt.shape("can", 4), "1 OrchestrationStarted, 2 OrchestrationCompleted");
}

TEST_F(Scenarios, VersionPolicy) { // 15
    rt.start("latest", "Versioned", "");
    EXPECT_EQ(rt.finish("latest").output, "v2");
    rt.orchestrations.set_policy("Versioned", VersionPolicy::exact(Semver::parse("1.0.0")));
    rt.start("exact", "Versioned", "");
    rt.start("explicit", "Versioned", "", "2.0.0");
    EXPECT_EQ(rt.finish("exact").output, "v1");
    EXPECT_EQ(rt.instances.at("exact").version, "1.0.0");
    EXPECT_EQ(rt.finish("explicit").output, "v2");
    rt.orchestrations.set_policy("Versioned", VersionPolicy::latest());
    rt.start("reset", "Versioned", "");
    EXPECT_EQ(rt.finish("reset").output, "v2");
}

TEST_F(Scenarios, CancellingAParentCancelsItsChild) { // 16
    rt.start("p", "ParentOfWaiter", "");
    rt.run([&] { return rt.instances.count("p::sub::2") != 0; });
    rt.cancel("p", "user_request");
    const auto& parent = rt.finish("p");
    EXPECT_EQ(parent.status, "Failed");
    EXPECT_EQ(parent.output, "canceled: user_request");
    const auto& child = rt.finish("p::sub::2");
    EXPECT_EQ(child.status, "Failed");
    EXPECT_EQ(child.output, "canceled: parent canceled");
    EXPECT_EQ(rt.shape("p"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                             "3 OrchestrationCancelRequested, 4 OrchestrationFailed");
}

TEST_F(Scenarios, TagRouting) { // 24
    rt.workers = {{core::parse_tag_filter("default"), "plain", {}},
                  {core::parse_tag_filter("tags:gpu"), "gpu-box", {}}};
    rt.start("gpu", "Tagged", "gpu");
    rt.start("io", "Tagged", "io");
    EXPECT_EQ(rt.finish("gpu").output, "gpu@gpu-box");
    EXPECT_EQ(rt.finish("io").output, "timeout"); // no worker admits "io": the timer wins
    EXPECT_EQ(rt.shape("io"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 TimerCreated, "
                              "4 TimerFired<3, 5 ActivityCancelRequested<2, "
                              "6 OrchestrationCompleted");
    EXPECT_EQ(rt.worker_queue_size(), 0u); // the starved activity was cancelled
    rt.start("hello", "Greet", "x");
    EXPECT_EQ(rt.finish("hello").output, "Hello, x!");
    EXPECT_EQ(rt.workers[0].ran, std::vector<std::string>{"Hello:hello"});
    EXPECT_EQ(rt.workers[1].ran, std::vector<std::string>{"Where:gpu"});

    rt.workers.push_back({core::parse_tag_filter("any"), "any-box", {}});
    rt.start("io-2", "Tagged", "io");
    EXPECT_EQ(rt.finish("io-2").output, "io@any-box");
}

TEST_F(Scenarios, DuplicateStartRunsOnce) { // 25
    rt.start("dup", "Greet", "once");
    rt.start("dup", "Greet", "twice");
    EXPECT_EQ(rt.finish("dup").output, "Hello, once!");
    rt.start("dup", "Greet", "again");
    rt.run();
    EXPECT_EQ(rt.instances.at("dup").executions.size(), 1u);
    EXPECT_EQ(rt.shape("dup"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                               "3 ActivityCompleted<2, 4 OrchestrationCompleted");
    EXPECT_EQ(rt.orchestrator_queue_size(), 0u);
}

TEST_F(Scenarios, Branching) { // 2
    rt.activities.register_activity("GetFlag",
                                    [](ActivityContext&, const std::string& flag) { return flag; });
    rt.activities.register_activity(
        "SayYes", [](ActivityContext&, const std::string&) { return std::string("picked_yes"); });
    rt.activities.register_activity(
        "SayNo", [](ActivityContext&, const std::string&) { return std::string("picked_no"); });
    rt.orchestrations.register_orchestration(
        "Branch", [](OrchestrationContext& ctx, const std::string& in) {
            const std::string flag = ctx.schedule_activity("GetFlag", in).value();
            return ctx.schedule_activity(flag == "yes" ? "SayYes" : "SayNo", "").value();
        });
    rt.start("yes", "Branch", "yes");
    rt.start("no", "Branch", "no");
    EXPECT_EQ(rt.finish("yes").output, "picked_yes");
    EXPECT_EQ(rt.finish("no").output, "picked_no");
    EXPECT_EQ(rt.shape("yes"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                               "3 ActivityCompleted<2, 4 ActivityScheduled, "
                               "5 ActivityCompleted<4, 6 OrchestrationCompleted");
    const auto& history = rt.instances.at("yes").current().history;
    EXPECT_EQ(std::get<core::events::ActivityScheduled>(history[3].kind).name, "SayYes");
}

TEST_F(Scenarios, TimeoutRaceTimerWins) { // 8
    rt.activities.register_activity(
        "LongOp", [](ActivityContext&, const std::string&) { return std::string("slow"); });
    rt.activity_duration_ms["LongOp"] = 500;
    rt.orchestrations.register_orchestration(
        "Race", [](OrchestrationContext& ctx, const std::string&) {
            const DurableFuture race[] = {ctx.schedule_activity("LongOp", ""),
                                          ctx.schedule_timer(milliseconds(100))};
            if (ctx.select(race) == 1) {
                throw std::runtime_error("timeout");
            }
            return race[0].value();
        });
    rt.start("race", "Race", "");
    const uint64_t started = rt.now_ms;
    const auto& done = rt.finish("race");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(done.output, "timeout");
    EXPECT_EQ(rt.now_ms, started + 100);
    EXPECT_EQ(rt.shape("race"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 TimerCreated, "
                                "4 TimerFired<3, 5 ActivityCancelRequested<2, "
                                "6 OrchestrationFailed");
    const auto& history = rt.instances.at("race").current().history;
    EXPECT_EQ(std::get<core::events::ActivityCancelRequested>(history[4].kind).reason,
              "dropped_future");
    EXPECT_EQ(rt.worker_queue_size(), 0u); // its worker item was stolen before it ran
    rt.run();
    EXPECT_TRUE(rt.workers[0].ran.empty());
}

namespace {
// Fails its first `failures` calls with "attempt k", then returns "ok after k".
ActivityFn flaky(std::shared_ptr<int> calls, int failures) {
    return [calls, failures](ActivityContext&, const std::string&) -> std::string {
        const int call = ++*calls;
        if (call <= failures) {
            throw std::runtime_error("attempt " + std::to_string(call));
        }
        return "ok after " + std::to_string(call);
    };
}
} // namespace

TEST_F(Scenarios, RetryWithBackoff) { // 17
    auto calls = std::make_shared<int>(0);
    rt.activities.register_activity("Flaky", flaky(calls, 2));
    rt.orchestrations.register_orchestration(
        "Retry", [](OrchestrationContext& ctx, const std::string& in) {
            RetryPolicy policy(static_cast<uint32_t>(std::stoi(in)));
            policy.with_backoff(BackoffStrategy{FixedBackoff{milliseconds(50)}});
            return ctx.schedule_activity_with_retry("Flaky", "job", policy).value();
        });
    rt.start("retry", "Retry", "3");
    const uint64_t started = rt.now_ms;
    const auto& done = rt.finish("retry");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "ok after 3");
    EXPECT_EQ(rt.now_ms, started + 100); // two backoffs of 50 ms
    EXPECT_EQ(rt.shape("retry"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, "
              "4 TimerCreated, 5 TimerFired<4, 6 ActivityScheduled, 7 ActivityFailed<6, "
              "8 TimerCreated, 9 TimerFired<8, 10 ActivityScheduled, 11 ActivityCompleted<10, "
              "12 OrchestrationCompleted");
    for (std::size_t i : {1u, 5u, 9u}) {
        const auto& scheduled = std::get<core::events::ActivityScheduled>(
            rt.instances.at("retry").current().history[i].kind);
        EXPECT_EQ(scheduled.name, "Flaky");
        EXPECT_EQ(scheduled.input, "job");
    }
}

TEST_F(Scenarios, RetryExhaustionFailsWithTheLastError) { // 17
    auto calls = std::make_shared<int>(0);
    rt.activities.register_activity("Flaky", flaky(calls, 100));
    rt.orchestrations.register_orchestration("Retry", [](OrchestrationContext& ctx,
                                                         const std::string&) {
        RetryPolicy policy(3);
        policy.with_backoff(BackoffStrategy{LinearBackoff{milliseconds(10), milliseconds(1000)}});
        return ctx.schedule_activity_with_retry("Flaky", "", policy).value();
    });
    rt.start("exhausted", "Retry", "");
    const uint64_t started = rt.now_ms;
    const auto& done = rt.finish("exhausted");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(done.output, "attempt 3");
    EXPECT_EQ(*calls, 3);
    EXPECT_EQ(rt.now_ms, started + 10 + 20); // linear: 10 ms after attempt 1, 20 after 2
    EXPECT_EQ(rt.shape("exhausted"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, "
              "4 TimerCreated, 5 TimerFired<4, 6 ActivityScheduled, 7 ActivityFailed<6, "
              "8 TimerCreated, 9 TimerFired<8, 10 ActivityScheduled, 11 ActivityFailed<10, "
              "12 OrchestrationFailed");
}

TEST_F(Scenarios, RetryPerAttemptTimeoutStopsRetrying) { // 17
    rt.activities.register_activity(
        "LongOp", [](ActivityContext&, const std::string&) { return std::string("slow"); });
    rt.activity_duration_ms["LongOp"] = 500;
    rt.orchestrations.register_orchestration(
        "Retry", [](OrchestrationContext& ctx, const std::string&) {
            const RetryPolicy policy = RetryPolicy(3).with_timeout(milliseconds(100));
            return ctx.schedule_activity_with_retry("LongOp", "", policy).value();
        });
    rt.start("timeout", "Retry", "");
    const auto& done = rt.finish("timeout");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(done.output, "timeout: activity timed out");
    EXPECT_EQ(rt.shape("timeout"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                   "3 TimerCreated, 4 TimerFired<3, "
                                   "5 ActivityCancelRequested<2, 6 OrchestrationFailed");
    EXPECT_EQ(rt.worker_queue_size(), 0u);
}

TEST_F(Scenarios, CustomStatusVersions) { // 18
    rt.orchestrations.register_orchestration(
        "Status", [](OrchestrationContext& ctx, const std::string&) {
            ctx.set_custom_status("v1");
            ctx.schedule_activity("Hello", "status").value();
            ctx.set_custom_status("v2");
            ctx.set_custom_status("v3-not-yet"); // the last of a turn is what the ack keeps
            ctx.set_custom_status("v2");
            return *ctx.get_custom_status();
        });
    rt.start("status", "Status", "");
    rt.run([&] { return rt.instances.count("status") != 0; });
    const auto& instance = rt.instances.at("status");
    EXPECT_EQ(instance.current().status, "Running");
    EXPECT_EQ(instance.custom_status, std::optional<std::string>("v1"));
    EXPECT_EQ(instance.custom_status_version, 1u); // wait_for_status_change(.., 0) wakes here
    EXPECT_EQ(rt.finish("status").output, "v2");
    EXPECT_EQ(instance.custom_status, std::optional<std::string>("v2"));
    EXPECT_EQ(instance.custom_status_version, 2u); // once per ack, not per call
    EXPECT_EQ(rt.shape("status"), "1 OrchestrationStarted, 2 CustomStatusUpdated, "
                                  "3 ActivityScheduled, 4 ActivityCompleted<3, "
                                  "5 CustomStatusUpdated, 6 CustomStatusUpdated, "
                                  "7 CustomStatusUpdated, 8 OrchestrationCompleted");
}

TEST_F(Scenarios, CustomStatusOverTheLimitFails) { // 18
    rt.orchestrations.register_orchestration(
        "BigStatus", [](OrchestrationContext& ctx, const std::string& in) {
            ctx.set_custom_status(std::string(256 * 1024, 'a')); // at the limit: allowed
            try {
                ctx.set_custom_status(std::string(256 * 1024 + std::stoul(in), 'b'));
            } catch (...) { // nothing to catch: the limit is checked after the turn
            }
            ctx.schedule_timer(milliseconds(10)).get(); // the turn ends here, with the failure
            return std::string("unexpected");
        });
    rt.start("big", "BigStatus", "1");
    const auto& done = rt.finish("big");
    EXPECT_EQ(done.status, "Failed");
    ASSERT_TRUE(done.error.has_value());
    EXPECT_EQ(done.error->category(), std::string("application"));
    // duroxide's text and order: the turn's own events, then the failure; the timer it asked
    // for is never sent.
    EXPECT_EQ(done.output, "Custom status size (262145 bytes) exceeds limit (262144 bytes)");
    EXPECT_EQ(rt.shape("big"), "1 OrchestrationStarted, 2 CustomStatusUpdated, "
                               "3 CustomStatusUpdated, 4 TimerCreated, 5 OrchestrationFailed");
}

TEST_F(Scenarios, KvRequestResponse) { // 19
    rt.orchestrations.register_orchestration(
        "KvServer", [](OrchestrationContext& ctx, const std::string& in) {
            ctx.set_kv_value("request", in);
            ctx.set_kv_value("response", ctx.schedule_activity("Upper", in).value());
            ctx.set_kv_value("request", "served");
            return ctx.schedule_wait("Done").value();
        });
    rt.start("kv", "KvServer", "ping");
    rt.run([&] { return rt.instances.count("kv") != 0; }); // the first turn's ack
    EXPECT_EQ(rt.kv_value("kv", "request"), std::optional<std::string>("ping"));
    EXPECT_EQ(rt.kv_value("kv", "response"), std::nullopt);
    rt.run();
    EXPECT_EQ(rt.instances.at("kv").current().status, "Running");
    EXPECT_EQ(rt.kv_value("kv", "response"), std::optional<std::string>("PING"));
    EXPECT_EQ(rt.kv_value("kv", "request"), std::optional<std::string>("served"));
    rt.raise_event("kv", "Done", "bye");
    EXPECT_EQ(rt.finish("kv").output, "bye");
    EXPECT_EQ(rt.shape("kv"), "1 OrchestrationStarted, 2 KeyValueSet, 3 ActivityScheduled, "
                              "4 ActivityCompleted<3, 5 KeyValueSet, 6 KeyValueSet, "
                              "7 ExternalSubscribed, 8 ExternalEvent, 9 OrchestrationCompleted");
}

TEST_F(Scenarios, KvReadModifyWriteAcrossActivitiesAndContinueAsNew) { // 19
    rt.activities.register_activity("Increment", [](ActivityContext&, const std::string& n) {
        return std::to_string(std::stoi(n) + 1);
    });
    rt.orchestrations.register_orchestration(
        "KvCounter", [](OrchestrationContext& ctx, const std::string& in) {
            for (int i = 0; i < 2; ++i) {
                const std::string current = ctx.get_kv_value("counter").value_or("0");
                ctx.set_kv_value("counter", ctx.schedule_activity("Increment", current).value());
            }
            if (in == "first") {
                ctx.set_kv_value("scratch", "x");
                ctx.continue_as_new("second");
            }
            ctx.clear_kv_value("scratch");
            return ctx.get_kv_value("counter").value_or("missing") + "/" +
                   std::to_string(ctx.get_kv_length());
        });
    rt.start("rmw", "KvCounter", "first");
    const auto& done = rt.finish("rmw");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "4/1"); // the second execution started from the first one's kv_store
    EXPECT_EQ(rt.instances.at("rmw").executions.size(), 2u);
    EXPECT_EQ(rt.kv_value("rmw", "counter"), std::optional<std::string>("4"));
    EXPECT_EQ(rt.kv_value("rmw", "scratch"), std::nullopt);
    EXPECT_EQ(rt.shape("rmw", 1), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                  "3 ActivityCompleted<2, 4 KeyValueSet, 5 ActivityScheduled, "
                                  "6 ActivityCompleted<5, 7 KeyValueSet, 8 KeyValueSet, "
                                  "9 OrchestrationContinuedAsNew");
    EXPECT_EQ(rt.shape("rmw", 2), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                  "3 ActivityCompleted<2, 4 KeyValueSet, 5 ActivityScheduled, "
                                  "6 ActivityCompleted<5, 7 KeyValueSet, 8 KeyValueCleared, "
                                  "9 OrchestrationCompleted");
    const auto& second = rt.instances.at("rmw").executions[1].history;
    EXPECT_EQ(std::get<core::events::ActivityScheduled>(second[1].kind).input, "2");
}

TEST_F(Scenarios, CodeSwapIsNondeterminism) { // 22
    rt.activities.register_activity("A1",
                                    [](ActivityContext&, const std::string& in) { return in; });
    rt.activities.register_activity("B1",
                                    [](ActivityContext&, const std::string& in) { return in; });
    rt.orchestrations.register_orchestration("Swap",
                                             [](OrchestrationContext& ctx, const std::string&) {
                                                 return ctx.schedule_activity("A1", "foo").value();
                                             });
    rt.start("swap", "Swap", "");
    rt.run([&] { return rt.instances.count("swap") != 0; }); // A1 scheduled, not yet run
    ASSERT_EQ(rt.worker_queue_size(), 1u);
    rt.orchestrations = OrchestrationRegistry{};
    rt.orchestrations.register_orchestration("Swap",
                                             [](OrchestrationContext& ctx, const std::string&) {
                                                 return ctx.schedule_activity("B1", "bar").value();
                                             });
    const auto& done = rt.finish("swap"); // the completion for A1 replays the new code
    EXPECT_EQ(done.status, "Failed");
    ASSERT_TRUE(done.error.has_value());
    EXPECT_EQ(done.error->category(), std::string("configuration"));
    EXPECT_EQ(done.output.rfind("nondeterministic:", 0), 0u) << done.output;
    EXPECT_EQ(rt.shape("swap"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                "3 ActivityCompleted<2, 4 OrchestrationFailed");
}

TEST_F(Scenarios, ContinueAsNewUpgradesOrStaysPinned) { // 15 (continue-as-new)
    rt.orchestrations.register_orchestration(
        "Upgrading", [](OrchestrationContext& ctx, const std::string& in) {
            if (in == "state") {
                ctx.continue_as_new("v1:state"); // the next execution takes the latest
            }
            if (in == "stay") {
                ctx.continue_as_new_versioned("1.0.0", "stayed");
            }
            return "v1:" + in;
        });
    rt.orchestrations.register_versioned(
        "Upgrading", "2.0.0",
        [](OrchestrationContext&, const std::string& in) { return "upgraded:" + in; });
    rt.start("up", "Upgrading", "state", "1.0.0");
    rt.start("pinned", "Upgrading", "stay", "1.0.0");
    EXPECT_EQ(rt.finish("up").output, "upgraded:v1:state");
    EXPECT_EQ(rt.instances.at("up").executions.size(), 2u);
    EXPECT_EQ(rt.instances.at("up").version, "2.0.0");
    EXPECT_EQ(rt.finish("pinned").output, "v1:stayed");
    EXPECT_EQ(rt.instances.at("pinned").version, "1.0.0");
    const auto& second = rt.instances.at("pinned").executions.at(1).history.front();
    EXPECT_EQ(std::get<core::events::OrchestrationStarted>(second.kind).version, "1.0.0");
}

TEST_F(Scenarios, UserExceptionsFailWithTheirKind) {
    rt.orchestrations.register_orchestration(
        "ThrowsStd", [](OrchestrationContext&, const std::string&) -> std::string {
            throw std::invalid_argument("bad input");
        });
    rt.orchestrations.register_orchestration(
        "ThrowsInt", [](OrchestrationContext&, const std::string&) -> std::string { throw 42; });
    rt.start("std", "ThrowsStd", "");
    rt.start("int", "ThrowsInt", "");
    const auto& failed = rt.finish("std");
    ASSERT_TRUE(failed.error.has_value());
    EXPECT_EQ(*failed.error, core::ErrorDetails::orchestration_failed("bad input"));
    const auto& panicked = rt.finish("int");
    ASSERT_TRUE(panicked.error.has_value());
    EXPECT_EQ(*panicked.error,
              core::ErrorDetails::application(core::AppPanicked{}, "unknown exception"));
    EXPECT_EQ(panicked.output, "orchestration panicked: unknown exception");
    EXPECT_EQ(rt.shape("int"), "1 OrchestrationStarted, 2 OrchestrationFailed");
}

TEST_F(Scenarios, VersionedAndNamedChildren) { // 12, 13 with versions and explicit ids
    rt.orchestrations.register_orchestration(
        "Picker", [](OrchestrationContext& ctx, const std::string&) {
            const std::string pinned =
                ctx.schedule_sub_orchestration("Versioned", "", std::string_view("kid-v1"),
                                               std::string_view("1.0.0"))
                    .value();
            const std::string latest = ctx.schedule_sub_orchestration("Versioned", "").value();
            ctx.schedule_orchestration("Versioned", "detached-v1", "", std::string_view("1.0.0"));
            return pinned + "," + latest;
        });
    rt.start("picker", "Picker", "");
    EXPECT_EQ(rt.finish("picker").output, "v1,v2");
    EXPECT_EQ(rt.instances.at("kid-v1").version, "1.0.0");
    EXPECT_EQ(rt.instances.at("kid-v1").parent, std::optional<std::string>("picker"));
    EXPECT_EQ(rt.instances.at("picker::sub::4").version, "2.0.0"); // auto id: its event id
    EXPECT_EQ(rt.finish("detached-v1").output, "v1");
    EXPECT_EQ(rt.instances.at("detached-v1").parent, std::nullopt);
    EXPECT_EQ(rt.shape("picker"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                                  "3 SubOrchestrationCompleted<2, 4 SubOrchestrationScheduled, "
                                  "5 SubOrchestrationCompleted<4, 6 OrchestrationChained, "
                                  "7 OrchestrationCompleted");
}

TEST_F(Scenarios, ChildFanOutAndChain) { // 12
    rt.activities.register_activity("Add", [](ActivityContext&, const std::string& in) {
        const auto comma = in.find(',');
        return std::to_string(std::stoi(in.substr(0, comma)) + std::stoi(in.substr(comma + 1)));
    });
    rt.orchestrations.register_orchestration("Sum",
                                             [](OrchestrationContext& ctx, const std::string& in) {
                                                 return ctx.schedule_activity("Add", in).value();
                                             });
    rt.orchestrations.register_orchestration(
        "FanOutChildren", [](OrchestrationContext& ctx, const std::string&) {
            const DurableFuture children[] = {ctx.schedule_sub_orchestration("Sum", "1,2"),
                                              ctx.schedule_sub_orchestration("Sum", "3,4")};
            int total = 0;
            for (const auto& outcome : ctx.join(children)) {
                total += std::stoi(outcome.value());
            }
            return "total=" + std::to_string(total);
        });
    rt.orchestrations.register_orchestration(
        "Leaf", [](OrchestrationContext&, const std::string& in) { return in + "x"; });
    rt.orchestrations.register_orchestration(
        "Mid", [](OrchestrationContext& ctx, const std::string& in) {
            return ctx.schedule_sub_orchestration("Leaf", in).value() + "-mid";
        });
    rt.orchestrations.register_orchestration(
        "Root", [](OrchestrationContext& ctx, const std::string& in) {
            return "root:" + ctx.schedule_sub_orchestration("Mid", in).value();
        });
    rt.start("fan-kids", "FanOutChildren", "");
    rt.start("root", "Root", "a");
    EXPECT_EQ(rt.finish("fan-kids").output, "total=10");
    EXPECT_EQ(rt.finish("root").output, "root:ax-mid");
    EXPECT_EQ(rt.instances.at("root::sub::2::sub::2").parent,
              std::optional<std::string>("root::sub::2"));
}

TEST_F(Scenarios, ATerminalTurnCancelsOpenChildrenAndActivities) {
    rt.activities.register_activity(
        "LongOp", [](ActivityContext&, const std::string&) { return std::string("slow"); });
    rt.activity_duration_ms["LongOp"] = 500;
    rt.orchestrations.register_orchestration("Walks",
                                             [](OrchestrationContext& ctx, const std::string&) {
                                                 ctx.schedule_sub_orchestration("WaitsForGo", "");
                                                 ctx.schedule_activity("LongOp", "");
                                                 return std::string("done"); // neither is awaited
                                             });
    rt.start("walks", "Walks", "");
    EXPECT_EQ(rt.finish("walks").output, "done");
    // As duroxide: returning drops the child's future (breadcrumb before the end); the open
    // activity is cancelled after the terminal event.
    EXPECT_EQ(rt.shape("walks"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                                 "3 ActivityScheduled, 4 SubOrchestrationCancelRequested<2, "
                                 "5 OrchestrationCompleted, 6 ActivityCancelRequested<3");
    const auto& child = rt.finish("walks::sub::2");
    EXPECT_EQ(child.status, "Failed");
    EXPECT_EQ(child.output, "canceled: parent dropped sub-orchestration future");
    const auto& history = rt.instances.at("walks").current().history;
    EXPECT_EQ(std::get<core::events::SubOrchestrationCancelRequested>(history[3].kind).reason,
              "dropped_future");
    EXPECT_EQ(std::get<core::events::ActivityCancelRequested>(history[5].kind).reason,
              "orchestration_terminal_completed");
    EXPECT_EQ(rt.worker_queue_size(), 0u);
    rt.run();
    EXPECT_TRUE(rt.workers[0].ran.empty());
}
