// The replay engine on reference scenarios: outputs, statuses and exact history sequences.
#include "core/codec/json_codec.hpp"
#include "core/model/limits.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

using namespace duroxide;
using namespace duroxide::core;
using std::chrono::milliseconds;

namespace {

// Plays the runtime: runs turns, executes activities, fires timers, keeps the history.
struct Driver {
    OrchestrationRegistry registry;
    std::map<std::string, std::function<Outcome(const std::string&)>> activities;
    StackPool stacks{64 * 1024};
    std::string instance = "inst";
    std::vector<Event> history;
    std::vector<WorkItem> pending_timers;
    uint64_t now = 1000;
    TurnResult last;

    TurnResult turn(std::vector<WorkItem> messages) {
        TurnInput input{instance, 1, history, std::move(messages), now};
        last = run_turn(registry, stacks, input);
        history.insert(history.end(), last.history_delta.begin(), last.history_delta.end());
        for (const auto& item : last.orchestrator_items) {
            if (std::holds_alternative<work::TimerFired>(item.kind)) {
                pending_timers.push_back(item);
            }
        }
        return last;
    }

    // Runs activities one at a time (each completion is its own turn) until nothing is left.
    void settle(TurnResult result) {
        std::vector<WorkItem> work = result.worker_items;
        while (!work.empty() || !pending_timers.empty()) {
            std::vector<WorkItem> completions;
            for (const auto& item : work) {
                const auto& execute = std::get<work::ActivityExecute>(item.kind);
                Outcome outcome = activities.at(execute.name)(execute.input);
                completions.push_back(
                    outcome.ok() ? WorkItem{work::ActivityCompleted{.instance = instance,
                                                                    .execution_id = 1,
                                                                    .id = execute.id,
                                                                    .result = outcome.value()}}
                                 : WorkItem{work::ActivityFailed{
                                       .instance = instance,
                                       .execution_id = 1,
                                       .id = execute.id,
                                       .details = ErrorDetails::activity_failed(outcome.error())}});
            }
            if (completions.empty()) {
                now += 1000;
                completions.push_back(pending_timers.front());
                pending_timers.erase(pending_timers.begin());
            }
            work.clear();
            for (auto& completion : completions) {
                auto next = turn({completion});
                work.insert(work.end(), next.worker_items.begin(), next.worker_items.end());
            }
        }
    }

    TurnResult start(const std::string& name, const std::string& input) {
        auto result =
            turn({WorkItem{work::StartOrchestration{.instance = instance,
                                                    .orchestration = name,
                                                    .input = input,
                                                    .version = std::nullopt,
                                                    .parent_instance = std::nullopt,
                                                    .parent_id = std::nullopt,
                                                    .execution_id = 1,
                                                    .parent_execution_id = std::nullopt}}});
        settle(result);
        return last;
    }

    // "1 OrchestrationStarted, 2 ActivityScheduled(3), ..." : kind names with sources.
    std::string shape() const {
        std::string out;
        for (const auto& event : history) {
            out += (out.empty() ? "" : ", ") + std::to_string(event.event_id) + " " +
                   event.type_name();
            if (event.source_event_id) {
                out += "<" + std::to_string(*event.source_event_id);
            }
        }
        return out;
    }
};

Outcome hello(const std::string& name) {
    return Outcome::success("Hello, " + name + "!");
}

} // namespace

TEST(Replay, HelloWorldHistoryIsExact) { // scenario 1
    Driver d;
    d.activities["Hello"] = hello;
    d.registry.register_orchestration("HelloWorld",
                                      [](OrchestrationContext& ctx, const std::string& in) {
                                          ctx.schedule_activity("Hello", "Rust").value();
                                          return ctx.schedule_activity("Hello", in).value();
                                      });
    auto result = d.start("HelloWorld", "World");
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(result.output, "Hello, World!");
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
                         "4 ActivityScheduled, 5 ActivityCompleted<4, 6 OrchestrationCompleted");
    const auto& started = std::get<events::OrchestrationStarted>(d.history[0].kind);
    EXPECT_EQ(started.name, "HelloWorld");
    EXPECT_EQ(started.version, "1.0.0");
    EXPECT_EQ(started.input, "World");
    EXPECT_EQ(std::get<events::ActivityScheduled>(d.history[1].kind).input, "Rust");
    EXPECT_EQ(std::get<events::ActivityCompleted>(d.history[2].kind).result, "Hello, Rust!");
    EXPECT_EQ(std::get<events::ActivityScheduled>(d.history[3].kind).input, "World");
    for (const auto& event : d.history) {
        EXPECT_EQ(event.instance_id, "inst");
        EXPECT_EQ(event.execution_id, 1u);
        EXPECT_EQ(event.duroxide_version, kDuroxideVersion);
    }
}

TEST(Replay, LoopAndBranching) { // scenarios 2 and 3
    Driver d;
    d.activities["GetFlag"] = [](const std::string&) { return Outcome::success("yes"); };
    d.activities["SayYes"] = [](const std::string&) { return Outcome::success("picked_yes"); };
    d.activities["Append"] = [](const std::string& acc) { return Outcome::success(acc + "x"); };
    d.registry.register_orchestration("Branch", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity("GetFlag", "").value() == "yes"
                   ? ctx.schedule_activity("SayYes", "").value()
                   : std::string("picked_no");
    });
    d.registry.register_orchestration("Loop", [](OrchestrationContext& ctx, const std::string&) {
        std::string acc = "start";
        for (int i = 0; i < 3; ++i) {
            acc = ctx.schedule_activity("Append", acc).value();
        }
        return acc;
    });
    EXPECT_EQ(d.start("Branch", "").output, "picked_yes");
    Driver loop;
    loop.activities = d.activities;
    loop.registry.merge(d.registry);
    EXPECT_EQ(loop.start("Loop", "").output, "startxxx");
    EXPECT_EQ(loop.shape(), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
                            "4 ActivityScheduled, 5 ActivityCompleted<4, 6 ActivityScheduled, "
                            "7 ActivityCompleted<6, 8 OrchestrationCompleted");
}

TEST(Replay, CaughtActivityErrorAndCompensation) { // scenario 4
    Driver d;
    d.activities["Fragile"] = [](const std::string&) { return Outcome::failure("boom"); };
    d.activities["Recover"] = [](const std::string&) { return Outcome::success("recovered"); };
    d.registry.register_orchestration("Errors", [](OrchestrationContext& ctx, const std::string&) {
        Outcome fragile = ctx.schedule_activity("Fragile", "bad").get();
        if (!fragile.ok() && fragile.error() == "boom") {
            return ctx.schedule_activity("Recover", "").value();
        }
        return std::string("unexpected");
    });
    auto result = d.start("Errors", "");
    EXPECT_EQ(result.output, "recovered");
    const auto& failed = std::get<events::ActivityFailed>(d.history[2].kind);
    EXPECT_EQ(failed.details, ErrorDetails::activity_failed("boom"));
}

TEST(Replay, UnhandledErrorFailsTheOrchestration) { // scenario 5
    Driver d;
    d.activities["ValidateInput"] = [](const std::string& in) {
        return in.empty() ? Outcome::failure("Input cannot be empty") : Outcome::success(in);
    };
    d.registry.register_orchestration("Validate",
                                      [](OrchestrationContext& ctx, const std::string& in) {
                                          return ctx.schedule_activity("ValidateInput", in).value();
                                      });
    auto result = d.start("Validate", "");
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_TRUE(result.error);
    EXPECT_STREQ(result.error->category(), "application");
    EXPECT_NE(result.error->display_message().find("Input cannot be empty"), std::string::npos);
    EXPECT_TRUE(std::holds_alternative<events::OrchestrationFailed>(d.history.back().kind));
}

TEST(Replay, FanOutSchedulesBothInTheFirstTurn) { // scenario 6
    Driver d;
    d.activities["Greetings"] = hello;
    d.registry.register_orchestration("FanOut", [](OrchestrationContext& ctx, const std::string&) {
        std::vector<DurableFuture> futures = {ctx.schedule_activity("Greetings", "Gabbar"),
                                              ctx.schedule_activity("Greetings", "Samba")};
        auto outcomes = ctx.join(futures);
        std::vector<std::string> values = {outcomes[0].value(), outcomes[1].value()};
        std::sort(values.begin(), values.end());
        return values[0] + ", " + values[1];
    });
    auto first = d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                           .orchestration = "FanOut",
                                                           .input = "",
                                                           .version = std::nullopt,
                                                           .parent_instance = std::nullopt,
                                                           .parent_id = std::nullopt,
                                                           .execution_id = 1,
                                                           .parent_execution_id = std::nullopt}}});
    ASSERT_EQ(first.worker_items.size(), 2u);
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityScheduled");
    d.settle(first);
    EXPECT_EQ(d.last.output, "Hello, Gabbar!, Hello, Samba!");
}

TEST(Replay, TimerIsAQueueItemVisibleAtFireTime) { // scenario 7
    Driver d;
    d.registry.register_orchestration("Timer", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(20)).get();
        return std::string("done");
    });
    auto first = d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                           .orchestration = "Timer",
                                                           .input = "",
                                                           .version = std::nullopt,
                                                           .parent_instance = std::nullopt,
                                                           .parent_id = std::nullopt,
                                                           .execution_id = 1,
                                                           .parent_execution_id = std::nullopt}}});
    ASSERT_EQ(first.orchestrator_items.size(), 1u);
    const auto& fired = std::get<work::TimerFired>(first.orchestrator_items[0].kind);
    EXPECT_EQ(fired.fire_at_ms, 1020u);
    EXPECT_EQ(std::get<events::TimerCreated>(d.history[1].kind).fire_at_ms, 1020u);
    d.settle(first);
    EXPECT_EQ(d.last.output, "done");
    EXPECT_EQ(d.shape(),
              "1 OrchestrationStarted, 2 TimerCreated, 3 TimerFired<2, 4 OrchestrationCompleted");
}

TEST(Replay, TimerWinsTheRaceAndTheLoserIsCancelled) { // scenario 8
    Driver d;
    d.registry.register_orchestration("Race", [](OrchestrationContext& ctx, const std::string&) {
        std::vector<DurableFuture> race = {ctx.schedule_activity("LongOp", ""),
                                           ctx.schedule_timer(milliseconds(100))};
        if (ctx.select(race) == 1) {
            throw std::runtime_error("timeout");
        }
        return race[0].value();
    });
    d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                              .orchestration = "Race",
                                              .input = "",
                                              .version = std::nullopt,
                                              .parent_instance = std::nullopt,
                                              .parent_id = std::nullopt,
                                              .execution_id = 1,
                                              .parent_execution_id = std::nullopt}}});
    auto result = d.turn({d.pending_timers.front()});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output, "timeout");
    ASSERT_EQ(result.cancelled_activities.size(), 1u);
    EXPECT_EQ(result.cancelled_activities[0].activity_id, 2u);
    EXPECT_EQ(d.shape(),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 TimerCreated, 4 TimerFired<3, "
              "5 ActivityCancelRequested<2, 6 OrchestrationFailed");
}

TEST(Replay, ExternalEventAfterSubscriptionWins) { // scenario 9
    Driver d;
    d.registry.register_orchestration("Wait", [](OrchestrationContext& ctx, const std::string&) {
        std::vector<DurableFuture> race = {ctx.schedule_timer(milliseconds(300)),
                                           ctx.schedule_wait("Go")};
        return ctx.select(race) == 1 ? "event:" + race[1].value() : std::string("timer");
    });
    d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                              .orchestration = "Wait",
                                              .input = "",
                                              .version = std::nullopt,
                                              .parent_instance = std::nullopt,
                                              .parent_id = std::nullopt,
                                              .execution_id = 1,
                                              .parent_execution_id = std::nullopt}}});
    auto result =
        d.turn({WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = "ok"}}});
    EXPECT_EQ(result.output, "event:ok");
    EXPECT_EQ(d.shape(),
              "1 OrchestrationStarted, 2 TimerCreated, 3 ExternalSubscribed, 4 ExternalEvent, "
              "5 OrchestrationCompleted");
}

TEST(Replay, EventRaisedBeforeTheSubscriptionIsNotDelivered) { // scenario 10
    Driver d;
    d.registry.register_orchestration("Early", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(10)).get();
        std::vector<DurableFuture> race = {ctx.schedule_wait("Evt"),
                                           ctx.schedule_timer(milliseconds(500))};
        return ctx.select(race) == 0 ? std::string("got-event")
                                     : std::string("early-event-dropped");
    });
    d.turn(
        {WorkItem{work::StartOrchestration{.instance = "inst",
                                           .orchestration = "Early",
                                           .input = "",
                                           .version = std::nullopt,
                                           .parent_instance = std::nullopt,
                                           .parent_id = std::nullopt,
                                           .execution_id = 1,
                                           .parent_execution_id = std::nullopt}},
         WorkItem{work::ExternalRaised{.instance = "inst", .name = "Evt", .data = "too early"}}});
    d.settle(d.last);
    EXPECT_EQ(d.last.output, "early-event-dropped");
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 ExternalEvent, 3 TimerCreated, 4 TimerFired<3, "
                         "5 ExternalSubscribed, 6 TimerCreated, 7 TimerFired<6, "
                         "8 ExternalSubscribedCancelled<5, 9 OrchestrationCompleted");
}

TEST(Replay, CodeSwapIsNondeterminism) { // scenario 22
    Driver d;
    d.registry.register_orchestration("Swap", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity("A1", "foo").value();
    });
    auto first = d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                           .orchestration = "Swap",
                                                           .input = "",
                                                           .version = std::nullopt,
                                                           .parent_instance = std::nullopt,
                                                           .parent_id = std::nullopt,
                                                           .execution_id = 1,
                                                           .parent_execution_id = std::nullopt}}});
    const uint64_t id = std::get<work::ActivityExecute>(first.worker_items[0].kind).id;
    Driver swapped;
    swapped.history = d.history;
    swapped.registry.register_orchestration("Swap",
                                            [](OrchestrationContext& ctx, const std::string&) {
                                                return ctx.schedule_activity("B1", "bar").value();
                                            });
    auto result = swapped.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = id, .result = "done"}}});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_TRUE(result.error);
    EXPECT_STREQ(result.error->category(), "configuration");
    EXPECT_EQ(result.error->display_message().rfind("nondeterministic:", 0), 0u);
    EXPECT_TRUE(result.worker_items.empty());
}

TEST(Replay, ReplayingAFinishedHistoryDecidesNothing) {
    Driver d;
    d.activities["Hello"] = hello;
    d.registry.register_orchestration("HelloWorld",
                                      [](OrchestrationContext& ctx, const std::string& in) {
                                          return ctx.schedule_activity("Hello", in).value();
                                      });
    d.start("HelloWorld", "x");
    const auto before = d.history;
    auto again =
        d.turn({WorkItem{work::ExternalRaised{.instance = "inst", .name = "late", .data = "e"}}});
    EXPECT_TRUE(again.history_delta.empty());
    EXPECT_TRUE(again.worker_items.empty());
    EXPECT_EQ(d.history, before);
}

TEST(Replay, DuplicateStartAndCompletionAreIgnored) { // scenario 25
    Driver d;
    d.activities["Hello"] = hello;
    d.registry.register_orchestration("HelloWorld",
                                      [](OrchestrationContext& ctx, const std::string& in) {
                                          return ctx.schedule_activity("Hello", in).value();
                                      });
    WorkItem start{work::StartOrchestration{.instance = "inst",
                                            .orchestration = "HelloWorld",
                                            .input = "x",
                                            .version = std::nullopt,
                                            .parent_instance = std::nullopt,
                                            .parent_id = std::nullopt,
                                            .execution_id = 1,
                                            .parent_execution_id = std::nullopt}};
    auto first = d.turn({start, start});
    const uint64_t id = std::get<work::ActivityExecute>(first.worker_items[0].kind).id;
    WorkItem done{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = id, .result = "Hello, x!"}};
    d.turn({start, done, done});
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
                         "4 OrchestrationCompleted");
}

TEST(Replay, UnknownOrchestrationIsReportedNotDecided) {
    Driver d;
    auto result = d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                            .orchestration = "Missing",
                                                            .input = "",
                                                            .version = std::nullopt,
                                                            .parent_instance = std::nullopt,
                                                            .parent_id = std::nullopt,
                                                            .execution_id = 1,
                                                            .parent_execution_id = std::nullopt}}});
    EXPECT_TRUE(result.handler_missing);
    EXPECT_TRUE(result.history_delta.empty());
}

TEST(Replay, CancelFailsWithReasonAndStealsOpenActivities) { // scenario 16 (single level)
    Driver d;
    d.registry.register_orchestration("Slow", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity("Never", "").value();
    });
    d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                              .orchestration = "Slow",
                                              .input = "",
                                              .version = std::nullopt,
                                              .parent_instance = std::nullopt,
                                              .parent_id = std::nullopt,
                                              .execution_id = 1,
                                              .parent_execution_id = std::nullopt}}});
    auto result =
        d.turn({WorkItem{work::CancelInstance{.instance = "inst", .reason = "user_request"}}});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output, "canceled: user_request");
    EXPECT_EQ(result.cancelled_activities.size(), 1u);
    EXPECT_EQ(d.shape(),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 OrchestrationCancelRequested, "
              "4 OrchestrationFailed, 5 ActivityCancelRequested<2");
}

TEST(Replay, ContinueAsNewEndsTheExecutionWithTheNextInput) { // scenario 14 (one execution)
    Driver d;
    d.registry.register_orchestration("Loop", [](OrchestrationContext& ctx, const std::string& in) {
        const int n = std::stoi(in);
        if (n < 3) {
            ctx.continue_as_new(std::to_string(n + 1));
        }
        return "final:" + in;
    });
    auto result = d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                            .orchestration = "Loop",
                                                            .input = "0",
                                                            .version = std::nullopt,
                                                            .parent_instance = std::nullopt,
                                                            .parent_id = std::nullopt,
                                                            .execution_id = 1,
                                                            .parent_execution_id = std::nullopt}}});
    EXPECT_EQ(result.status, ExecutionStatus::ContinuedAsNew);
    EXPECT_EQ(result.output, "1");
    ASSERT_EQ(result.orchestrator_items.size(), 1u);
    EXPECT_EQ(std::get<work::ContinueAsNew>(result.orchestrator_items[0].kind).input, "1");
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 OrchestrationContinuedAsNew");
}

TEST(Replay, CustomStatusIsRecordedAndReadBack) { // scenario 18 (engine side)
    Driver d;
    d.activities["Work"] = hello;
    d.registry.register_orchestration("Status", [](OrchestrationContext& ctx, const std::string&) {
        ctx.set_custom_status("v1");
        ctx.schedule_activity("Work", "a").value();
        ctx.set_custom_status("v2");
        return ctx.get_custom_status().value_or("none");
    });
    EXPECT_EQ(d.start("Status", "").output, "v2");
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 CustomStatusUpdated, 3 ActivityScheduled, "
                         "4 ActivityCompleted<3, 5 CustomStatusUpdated, 6 OrchestrationCompleted");
}

TEST(Replay, HistorySurvivesTheCodec) {
    Driver d;
    d.activities["Hello"] = hello;
    d.registry.register_orchestration("HelloWorld",
                                      [](OrchestrationContext& ctx, const std::string& in) {
                                          return ctx.schedule_activity("Hello", in).value();
                                      });
    d.start("HelloWorld", "x");
    EXPECT_EQ(codec::decode_history(codec::encode_history(d.history)), d.history);
}

TEST(Replay, PoisonOfANewInstanceStartsItAndFailsIt) { // scenario 20 (unknown orchestration)
    Driver d;
    TurnInput input{"inst",
                    1,
                    {},
                    {WorkItem{work::StartOrchestration{.instance = "inst",
                                                       .orchestration = "Missing",
                                                       .input = "x",
                                                       .version = std::nullopt,
                                                       .parent_instance = std::string("parent"),
                                                       .parent_id = 7,
                                                       .execution_id = 1,
                                                       .parent_execution_id = std::nullopt}}},
                    1000};
    PoisonError poison{4, 3, PoisonOrchestration{"inst", 1}, "batch"};
    auto result = poison_turn(d.registry, input, poison);
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_EQ(result.history_delta.size(), 2u);
    const auto& started = std::get<events::OrchestrationStarted>(result.history_delta[0].kind);
    EXPECT_EQ(started.name, "Missing");
    EXPECT_EQ(started.version, "unknown"); // nothing registered to resolve it (as duroxide)
    const auto& failed = std::get<events::OrchestrationFailed>(result.history_delta[1].kind);
    EXPECT_EQ(failed.details, ErrorDetails{poison});
    EXPECT_STREQ(failed.details.category(), "poison");
    EXPECT_EQ(result.output, "poison: orchestration inst exceeded 4 attempts (max 3)");
    ASSERT_EQ(result.orchestrator_items.size(), 1u); // the parent learns of the failure
    const auto& to_parent = std::get<work::SubOrchFailed>(result.orchestrator_items[0].kind);
    EXPECT_EQ(to_parent.parent_instance, "parent");
    EXPECT_EQ(to_parent.parent_id, 7u);
}

TEST(Replay, PoisonOfARunningExecutionCancelsItsActivitiesAndRunsNoCode) { // scenario 21
    Driver d;
    bool ran = false;
    d.registry.register_orchestration("Slow",
                                      [&ran](OrchestrationContext& ctx, const std::string&) {
                                          ran = true;
                                          return ctx.schedule_activity("Never", "").value();
                                      });
    d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                              .orchestration = "Slow",
                                              .input = "",
                                              .version = std::nullopt,
                                              .parent_instance = std::nullopt,
                                              .parent_id = std::nullopt,
                                              .execution_id = 1,
                                              .parent_execution_id = std::nullopt}}});
    ran = false;
    TurnInput input{"inst",
                    1,
                    d.history,
                    {WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = ""}}},
                    2000};
    auto result = poison_turn(d.registry, input, {11, 10, PoisonOrchestration{"inst", 1}, "m"});
    EXPECT_FALSE(ran);
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_EQ(result.cancelled_activities.size(), 1u);
    EXPECT_EQ(result.cancelled_activities[0].activity_id, 2u);
    d.history.insert(d.history.end(), result.history_delta.begin(), result.history_delta.end());
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 ActivityScheduled, "
                         "3 OrchestrationFailed, 4 ActivityCancelRequested<2");
    // An execution that already ended is left alone.
    TurnInput again{"inst", 1, d.history, {}, 3000};
    EXPECT_TRUE(poison_turn(d.registry, again, {12, 10, PoisonOrchestration{"inst", 1}, "m"})
                    .history_delta.empty());
}

TEST(Replay, UnreadableHistoryPoisonAppendsOneFailureWithTheSentinelId) {
    TurnInput input{"inst",
                    3,
                    {},
                    {WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = ""}}},
                    5000};
    PoisonError poison{11, 10, PoisonFailedDeserialization{"inst", 3, "bad row"}, "bad row"};
    auto result = unreadable_history_poison_turn(input, poison);
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.error, ErrorDetails{poison});
    ASSERT_EQ(result.history_delta.size(), 1u);
    EXPECT_EQ(result.history_delta[0].event_id, kUnreadableHistoryFailureEventId);
    EXPECT_EQ(result.history_delta[0].execution_id, 3u);
    EXPECT_EQ(std::get<events::OrchestrationFailed>(result.history_delta[0].kind).details,
              ErrorDetails{poison});
    EXPECT_TRUE(result.worker_items.empty());
    EXPECT_TRUE(result.orchestrator_items.empty());
    EXPECT_FALSE(result.orchestration_name); // the instance exists: nothing to create
}

TEST(Replay, APoisonedActivityFailsTheOrchestrationPastItsCatch) {
    Driver d;
    bool caught = false;
    d.registry.register_orchestration("Careful",
                                      [&caught](OrchestrationContext& ctx, const std::string&) {
                                          Outcome outcome = ctx.schedule_activity("A", "").get();
                                          caught = !outcome.ok();
                                          return std::string("handled");
                                      });
    d.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                              .orchestration = "Careful",
                                              .input = "",
                                              .version = std::nullopt,
                                              .parent_instance = std::nullopt,
                                              .parent_id = std::nullopt,
                                              .execution_id = 1,
                                              .parent_execution_id = std::nullopt}}});
    const ErrorDetails poison{PoisonError{4, 3, PoisonActivity{"inst", 1, "A", 2}, "item"}};
    auto result = d.turn({WorkItem{
        work::ActivityFailed{.instance = "inst", .execution_id = 1, .id = 2, .details = poison}}});
    EXPECT_FALSE(caught);
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.error, poison);
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, "
                         "4 OrchestrationFailed");
}

namespace {

WorkItem start_item(const std::string& name, const std::string& input) {
    return WorkItem{work::StartOrchestration{.instance = "inst",
                                             .orchestration = name,
                                             .input = input,
                                             .version = std::nullopt,
                                             .parent_instance = std::nullopt,
                                             .parent_id = std::nullopt,
                                             .execution_id = 1,
                                             .parent_execution_id = std::nullopt}};
}

template <typename T>
const T* find_item(const std::vector<WorkItem>& items) {
    for (const auto& item : items) {
        if (auto* found = std::get_if<T>(&item.kind)) {
            return found;
        }
    }
    return nullptr;
}

} // namespace

TEST(Replay, SubOrchestrationStartsAChildAndTakesItsResult) { // scenario 12
    Driver d;
    d.instance = "inst-sub-basic";
    d.registry.register_orchestration(
        "Parent", [](OrchestrationContext& ctx, const std::string& in) {
            return "parent:" + ctx.schedule_sub_orchestration("ChildUpper", in).value();
        });
    auto first = d.turn({WorkItem{work::StartOrchestration{.instance = "inst-sub-basic",
                                                           .orchestration = "Parent",
                                                           .input = "hi",
                                                           .version = std::nullopt,
                                                           .parent_instance = std::nullopt,
                                                           .parent_id = std::nullopt,
                                                           .execution_id = 1,
                                                           .parent_execution_id = std::nullopt}}});
    const auto* child = find_item<work::StartOrchestration>(first.orchestrator_items);
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->instance, "inst-sub-basic::sub::2");
    EXPECT_EQ(child->orchestration, "ChildUpper");
    EXPECT_EQ(child->parent_instance, "inst-sub-basic");
    EXPECT_EQ(child->parent_id, 2u);
    // The child's own turn, run against the same registry, reports to the parent.
    Driver c;
    c.instance = child->instance;
    c.activities["Upper"] = [](const std::string& s) {
        std::string up = s;
        std::transform(up.begin(), up.end(), up.begin(), ::toupper);
        return Outcome::success(up);
    };
    c.registry.register_orchestration("ChildUpper",
                                      [](OrchestrationContext& ctx, const std::string& in) {
                                          return ctx.schedule_activity("Upper", in).value();
                                      });
    auto child_result = c.turn({WorkItem{*child}});
    c.settle(child_result);
    const auto* done = find_item<work::SubOrchCompleted>(c.last.orchestrator_items);
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(done->result, "HI");
    auto last = d.turn({WorkItem{*done}});
    EXPECT_EQ(last.status, ExecutionStatus::Completed);
    EXPECT_EQ(last.output, "parent:HI");
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                         "3 SubOrchestrationCompleted<2, 4 OrchestrationCompleted");
}

TEST(Replay, DetachedOrchestrationsAreIndependentRoots) { // scenario 13
    Driver d;
    d.registry.register_orchestration("Coordinator",
                                      [](OrchestrationContext& ctx, const std::string&) {
                                          ctx.schedule_orchestration("Chained", "W1", "A");
                                          ctx.schedule_orchestration("Chained", "W2", "B");
                                          return std::string("scheduled");
                                      });
    auto result = d.turn({start_item("Coordinator", "")});
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(result.output, "scheduled");
    std::vector<std::string> started;
    for (const auto& item : result.orchestrator_items) {
        const auto& start = std::get<work::StartOrchestration>(item.kind);
        EXPECT_FALSE(start.parent_instance.has_value());
        started.push_back(start.instance + ":" + start.input);
    }
    EXPECT_EQ(started, (std::vector<std::string>{"W1:A", "W2:B"}));
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 OrchestrationChained, 3 OrchestrationChained, "
                         "4 OrchestrationCompleted");
}

TEST(Replay, CancellingAParentCancelsItsRunningChild) { // scenario 16
    Driver d;
    d.registry.register_orchestration("Parent", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_sub_orchestration("WaitsForGo", "").value();
    });
    d.turn({start_item("Parent", "")});
    auto result =
        d.turn({WorkItem{work::CancelInstance{.instance = "inst", .reason = "user_request"}}});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output, "canceled: user_request");
    const auto* cancel = find_item<work::CancelInstance>(result.orchestrator_items);
    ASSERT_NE(cancel, nullptr);
    EXPECT_EQ(cancel->instance, "inst::sub::2");
    EXPECT_EQ(cancel->reason, "parent canceled");
    // As duroxide: nothing recorded for the child in the parent's history.
    EXPECT_EQ(d.shape(), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                         "3 OrchestrationCancelRequested, 4 OrchestrationFailed");
}

TEST(Replay, AChildsApplicationFailureIsAnErrorTheParentCanCatch) {
    Driver d;
    d.registry.register_orchestration("Parent", [](OrchestrationContext& ctx, const std::string&) {
        Outcome child = ctx.schedule_sub_orchestration("Child", "", std::string_view("kid")).get();
        return child.ok() ? std::string("ok") : "caught: " + child.error();
    });
    d.turn({start_item("Parent", "")});
    auto result = d.turn({WorkItem{
        work::SubOrchFailed{.parent_instance = "inst",
                            .parent_execution_id = 1,
                            .parent_id = 2,
                            .details = ErrorDetails::orchestration_failed("child broke")}}});
    EXPECT_EQ(result.output, "caught: child broke");
}

TEST(Replay, QueueMessagesWaitInTheMailboxInOrder) { // scenario 11
    Driver d;
    d.registry.register_orchestration("Reader", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(std::chrono::milliseconds(200)).get();
        const std::string first = ctx.dequeue_event("Signal").value();
        const std::string second = ctx.dequeue_event("Signal").value();
        return "got:" + first + "," + second;
    });
    auto started = d.turn({start_item("Reader", "")});
    // Both messages arrive before the code dequeues: they are kept, first in first out.
    d.turn(
        {WorkItem{work::QueueMessage{.instance = "inst", .name = "Signal", .data = "early_bird"}}});
    d.turn({WorkItem{work::QueueMessage{.instance = "inst", .name = "Signal", .data = "second"}}});
    auto result = d.turn({started.orchestrator_items.front()}); // the timer fires
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(result.output, "got:early_bird,second");
}

TEST(Replay, RetryRunsTheActivityAgainAfterABackoffTimer) { // scenario 17
    Driver d;
    int calls = 0;
    d.activities["Flaky"] = [&calls](const std::string&) {
        return ++calls < 3 ? Outcome::failure("try again") : Outcome::success("made it");
    };
    d.registry.register_orchestration(
        "Retrying", [](OrchestrationContext& ctx, const std::string&) {
            RetryPolicy policy(3);
            policy.with_backoff(FixedBackoff{std::chrono::milliseconds(50)});
            return ctx.schedule_activity_with_retry("Flaky", "x", policy).value();
        });
    auto result = d.start("Retrying", "");
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(result.output, "made it");
    int scheduled = 0, timers = 0;
    for (const auto& event : d.history) {
        scheduled += std::holds_alternative<events::ActivityScheduled>(event.kind);
        timers += std::holds_alternative<events::TimerCreated>(event.kind);
    }
    EXPECT_EQ(scheduled, 3);
    EXPECT_EQ(timers, 2);
}

TEST(Replay, RetryGivesUpWithTheLastError) {
    Driver d;
    d.activities["Broken"] = [](const std::string&) { return Outcome::failure("still broken"); };
    d.registry.register_orchestration(
        "Retrying", [](OrchestrationContext& ctx, const std::string&) {
            return ctx.schedule_activity_with_retry("Broken", "", RetryPolicy(2)).value();
        });
    auto result = d.start("Retrying", "");
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output, "still broken");
}
