// Reference scenarios (§5.3) on the in-memory runtime: many instances, their queues and
// executions, a dispatcher loop over the real run_turn and activity workers over the real
// run_activity. Asserts outputs, statuses and exact history sequences.
#include "memory_runtime.hpp"

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

using namespace duroxide;
using duroxide::testing::MemoryRuntime;
using std::chrono::milliseconds;

namespace {

void register_samples(MemoryRuntime& rt) {
    auto& a = rt.activities;
    a.register_activity(
        "Hello", [](ActivityContext&, const std::string& name) { return "Hello, " + name + "!"; });
    a.register_activity("Append", [](ActivityContext&, const std::string& s) { return s + "x"; });
    a.register_activity("Fail", [](ActivityContext&, const std::string& message) -> std::string {
        throw std::runtime_error(message);
    });
    a.register_activity("Upper", [](ActivityContext&, const std::string& s) {
        std::string out = s;
        std::transform(out.begin(), out.end(), out.begin(), ::toupper);
        return out;
    });
    a.register_activity("Where", [](ActivityContext& ctx, const std::string&) {
        return ctx.tag().value_or("untagged") + "@" + ctx.worker_id();
    });
    auto& o = rt.orchestrations;
    o.register_orchestration("HelloWorld", [](OrchestrationContext& ctx, const std::string& in) {
        return ctx.schedule_activity("Hello", in).value();
    });
    o.register_orchestration("Loop", [](OrchestrationContext& ctx, const std::string& in) {
        std::string acc = in;
        for (int i = 0; i < 3; ++i) {
            acc = ctx.schedule_activity("Append", acc).value();
        }
        return acc;
    });
    o.register_orchestration("Compensate", [](OrchestrationContext& ctx, const std::string&) {
        if (!ctx.schedule_activity("Fail", "boom").get().ok()) {
            return ctx.schedule_activity("Hello", "compensation").value();
        }
        return std::string("unexpected");
    });
    o.register_orchestration("Unhandled", [](OrchestrationContext& ctx, const std::string& in) {
        return ctx.schedule_activity("Fail", in).value();
    });
    o.register_orchestration("FanOut", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture calls[] = {ctx.schedule_activity("Hello", "Gabbar"),
                                       ctx.schedule_activity("Hello", "Samba")};
        std::vector<std::string> greetings;
        for (const auto& outcome : ctx.join(calls)) {
            greetings.push_back(outcome.value());
        }
        std::sort(greetings.begin(), greetings.end());
        return greetings[0] + ", " + greetings[1];
    });
    o.register_orchestration("Timer", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(20)).get();
        return std::string("done");
    });
    o.register_orchestration("WaitForGo", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture race[] = {ctx.schedule_timer(milliseconds(300)),
                                      ctx.schedule_wait("Go")};
        return ctx.select(race) == 1 ? "event:" + race[1].value() : std::string("timeout");
    });
    o.register_orchestration("EarlyEvent", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(10)).get();
        const DurableFuture race[] = {ctx.schedule_wait("Evt"),
                                      ctx.schedule_timer(milliseconds(500))};
        return ctx.select(race) == 0 ? std::string("got-event")
                                     : std::string("early-event-dropped");
    });
    o.register_orchestration("Mailbox", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(200)).get();
        const std::string first = ctx.dequeue_event("Signal").value();
        return "got:" + first + "," + ctx.dequeue_event("Signal").value();
    });
    o.register_orchestration("ChildUpper", [](OrchestrationContext& ctx, const std::string& in) {
        return ctx.schedule_activity("Upper", in).value();
    });
    o.register_orchestration("Parent", [](OrchestrationContext& ctx, const std::string& in) {
        return "parent:" + ctx.schedule_sub_orchestration("ChildUpper", in).value();
    });
    o.register_orchestration("Coordinator", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_orchestration("HelloWorld", "W1", "A");
        ctx.schedule_orchestration("HelloWorld", "W2", "B");
        return std::string("scheduled");
    });
    o.register_orchestration("Counter", [](OrchestrationContext& ctx, const std::string& in) {
        const int n = std::stoi(in);
        if (n < 3) {
            ctx.continue_as_new(std::to_string(n + 1));
        }
        return "final:" + std::to_string(n);
    });
    o.register_orchestration(
        "Versioned", [](OrchestrationContext&, const std::string&) { return std::string("v1"); });
    o.register_versioned("Versioned", "2.0.0", [](OrchestrationContext&, const std::string&) {
        return std::string("v2");
    });
    o.register_orchestration("WaitsForGo", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_wait("Go").value();
    });
    o.register_orchestration("ParentOfWaiter", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_sub_orchestration("WaitsForGo", "").value();
    });
    o.register_orchestration("Tagged", [](OrchestrationContext& ctx, const std::string& tag) {
        const DurableFuture race[] = {ctx.schedule_activity_with_tag("Where", "", tag),
                                      ctx.schedule_timer(milliseconds(1000))};
        return ctx.select(race) == 0 ? race[0].value() : std::string("timeout");
    });
}

struct Scenarios : ::testing::Test {
    MemoryRuntime rt;
    void SetUp() override { register_samples(rt); }
};

} // namespace

TEST_F(Scenarios, HelloWorld) { // 1
    rt.start("inst-sample-hello-1", "HelloWorld", "World");
    const auto& done = rt.finish("inst-sample-hello-1");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "Hello, World!");
    EXPECT_EQ(rt.shape("inst-sample-hello-1"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                               "3 ActivityCompleted<2, 4 OrchestrationCompleted");
    EXPECT_EQ(rt.worker_queue_size(), 0u);
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
                             "3 OrchestrationCancelRequested, "
                             "4 SubOrchestrationCancelRequested<2, 5 OrchestrationFailed");
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
    rt.start("hello", "HelloWorld", "x");
    EXPECT_EQ(rt.finish("hello").output, "Hello, x!");
    EXPECT_EQ(rt.workers[0].ran, std::vector<std::string>{"Hello:hello"});
    EXPECT_EQ(rt.workers[1].ran, std::vector<std::string>{"Where:gpu"});

    rt.workers.push_back({core::parse_tag_filter("any"), "any-box", {}});
    rt.start("io-2", "Tagged", "io");
    EXPECT_EQ(rt.finish("io-2").output, "io@any-box");
}

TEST_F(Scenarios, DuplicateStartRunsOnce) { // 25
    rt.start("dup", "HelloWorld", "once");
    rt.start("dup", "HelloWorld", "twice");
    EXPECT_EQ(rt.finish("dup").output, "Hello, once!");
    rt.start("dup", "HelloWorld", "again");
    rt.run();
    EXPECT_EQ(rt.instances.at("dup").executions.size(), 1u);
    EXPECT_EQ(rt.shape("dup"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                               "3 ActivityCompleted<2, 4 OrchestrationCompleted");
    EXPECT_EQ(rt.orchestrator_queue_size(), 0u);
}
