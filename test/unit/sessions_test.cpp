// Sessions in the core: the session id travels from the schedule call to the worker item and is
// part of the replay match; session state per session and type; lease timing rules; activity
// trace lines and session state through the activity runner.
#include "core/engine/activity_runner.hpp"
#include "core/replay/turn.hpp"
#include "core/sessions/session_states.hpp"
#include "core/sessions/session_timing.hpp"
#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core;
using std::chrono::milliseconds;

namespace {

WorkItem start_item(const std::string& name) {
    return {work::StartOrchestration{.instance = "inst",
                                     .orchestration = name,
                                     .input = "in",
                                     .version = std::nullopt,
                                     .parent_instance = std::nullopt,
                                     .parent_id = std::nullopt,
                                     .execution_id = 1,
                                     .parent_execution_id = std::nullopt}};
}

} // namespace

TEST(Sessions, ScheduleOnSessionCarriesTheSessionToTheWorkerItem) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Pinned", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_activity_on_session("Work", "a", "chat-1").get();
        return std::string("done");
    });
    StackPool stacks(64 * 1024);
    TurnInput input{"inst", 1, {}, {start_item("Pinned")}, 1000};
    const TurnResult first = run_turn(registry, stacks, input);
    ASSERT_EQ(first.worker_items.size(), 1u);
    const auto& execute = std::get<work::ActivityExecute>(first.worker_items[0].kind);
    EXPECT_EQ(execute.session_id, std::optional<std::string>("chat-1"));
    const auto& scheduled = std::get<events::ActivityScheduled>(first.history_delta[1].kind);
    EXPECT_EQ(scheduled.session_id, std::optional<std::string>("chat-1"));
}

TEST(Sessions, ASessionChangedOnReplayIsNondeterministic) {
    OrchestrationRegistry registry;
    std::string session = "one";
    registry.register_orchestration("Pinned",
                                    [&session](OrchestrationContext& ctx, const std::string&) {
                                        ctx.schedule_activity_on_session("Work", "", session).get();
                                        return std::string("done");
                                    });
    StackPool stacks(64 * 1024);
    TurnInput input{"inst", 1, {}, {start_item("Pinned")}, 1000};
    const TurnResult first = run_turn(registry, stacks, input);
    session = "two";
    TurnInput replay{"inst",
                     1,
                     first.history_delta,
                     {WorkItem{work::ActivityCompleted{
                         .instance = "inst", .execution_id = 1, .id = 2, .result = "ok"}}},
                     2000};
    const TurnResult second = run_turn(registry, stacks, replay);
    EXPECT_EQ(second.status, ExecutionStatus::Failed);
    ASSERT_TRUE(second.error.has_value());
    EXPECT_NE(second.error->display_message().find("schedule mismatch"), std::string::npos);
}

TEST(Sessions, TraceLinesAreWrittenOnceNotOnReplay) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Traced", [](OrchestrationContext& ctx, const std::string&) {
        ctx.trace_info("before");
        ctx.schedule_activity("Work", "").get();
        ctx.trace_warn("after");
        return std::string("done");
    });
    StackPool stacks(64 * 1024);
    TurnInput input{"inst", 1, {}, {start_item("Traced")}, 1000};
    const TurnResult first = run_turn(registry, stacks, input);
    ASSERT_EQ(first.traces.size(), 1u);
    EXPECT_EQ(first.traces[0], (TraceLine{TraceLevel::Info, "before", "Traced", "1.0.0"}));
    // The second turn replays the first (no resident slot): "before" is not written again.
    TurnInput replay{"inst",
                     1,
                     first.history_delta,
                     {WorkItem{work::ActivityCompleted{
                         .instance = "inst", .execution_id = 1, .id = 2, .result = "ok"}}},
                     2000};
    const TurnResult second = run_turn(registry, stacks, replay);
    EXPECT_EQ(second.status, ExecutionStatus::Completed);
    ASSERT_EQ(second.traces.size(), 1u);
    EXPECT_EQ(second.traces[0].message, "after");
    EXPECT_EQ(second.traces[0].level, TraceLevel::Warn);
    // Traces record no history: started + scheduled, then completed + orchestration completed.
    EXPECT_EQ(first.history_delta.size(), 2u);
    EXPECT_EQ(second.history_delta.size(), 2u);
}

TEST(Sessions, StatesArePerSessionAndType) {
    SessionStates states;
    int made = 0;
    auto make = [&made] {
        ++made;
        return std::static_pointer_cast<void>(std::make_shared<int>(0));
    };
    auto a = states.get_or_make("s1", "int", make);
    ++*static_cast<int*>(a.get());
    auto again = states.get_or_make("s1", "int", make);
    EXPECT_EQ(*static_cast<int*>(again.get()), 1);
    states.get_or_make("s1", "other", make);
    states.get_or_make("s2", "int", make);
    EXPECT_EQ(made, 3);
    EXPECT_EQ(states.sessions(), (std::vector<std::string>{"s1", "s2"}));
    EXPECT_EQ(states.keep_only({"s2"}), 1u);
    EXPECT_FALSE(states.holds("s1"));
    EXPECT_EQ(*static_cast<int*>(states.get_or_make("s1", "int", make).get()), 0);
    states.drop("s2");
    EXPECT_FALSE(states.holds("s2"));
    EXPECT_EQ(states.sessions(), (std::vector<std::string>{"s1"}));
}

TEST(Sessions, DroppedStateIsDestroyed) {
    SessionStates states;
    std::weak_ptr<void> watch;
    {
        auto state =
            states.get_or_make("s", "k", [] { return std::make_shared<std::string>("x"); });
        watch = state;
    }
    EXPECT_FALSE(watch.expired());
    states.drop("s");
    EXPECT_TRUE(watch.expired());
}

TEST(Sessions, RenewalIntervalFollowsDuroxide) {
    EXPECT_EQ(renewal_interval(milliseconds(30000), milliseconds(5000)), milliseconds(25000));
    EXPECT_EQ(renewal_interval(milliseconds(15000), milliseconds(5000)), milliseconds(10000));
    EXPECT_EQ(renewal_interval(milliseconds(10000), milliseconds(5000)), milliseconds(5000));
    EXPECT_EQ(renewal_interval(milliseconds(1000), milliseconds(5000)), milliseconds(1000));
    EXPECT_EQ(renewal_interval(milliseconds(20000), milliseconds(19900)), milliseconds(1000));
}

TEST(Sessions, AnIdleTimeoutShorterThanActivityRenewalIsReplaced) {
    const auto fine =
        validate_session_timings(milliseconds(30000), milliseconds(300000), milliseconds(300000));
    EXPECT_FALSE(fine.warning.has_value());
    EXPECT_EQ(fine.idle_timeout, milliseconds(300000));
    // The worker renews an activity lease after half of it: worker_lock_timeout 300 s renews
    // every 150 s, so a 200 s idle timeout is safe and a 60 s one is not.
    const auto longer =
        validate_session_timings(milliseconds(30000), milliseconds(200000), milliseconds(300000));
    EXPECT_FALSE(longer.warning.has_value());
    EXPECT_EQ(longer.idle_timeout, milliseconds(200000));
    const auto unsafe =
        validate_session_timings(milliseconds(30000), milliseconds(60000), milliseconds(300000));
    ASSERT_TRUE(unsafe.warning.has_value());
    EXPECT_EQ(unsafe.idle_timeout, milliseconds(150000 + 30000));
    EXPECT_NE(unsafe.warning->find("duroxide.session_idle_timeout"), std::string::npos);
}

TEST(Sessions, ActivitiesKeepStateOnlyWithASession) {
    SessionStates states;
    std::vector<std::string> traced;
    ActivityEnvironment environment{
        "node/1/0", &states,
        [&traced](const work::ActivityExecute& item, TraceLevel, std::string_view message) {
            traced.push_back(item.name + ":" + std::string(message));
        }};
    const ActivityFn count = [](ActivityContext& ctx, const std::string&) {
        const int n = ++ctx.session_state<int>();
        ctx.trace_info("n=" + std::to_string(n));
        return ctx.worker_id() + "#" + std::to_string(n);
    };
    work::ActivityExecute item{"inst", 1, 2, "Count", "", std::string("s"), std::nullopt};
    auto first = run_activity(count, item, environment);
    auto second = run_activity(count, item, environment);
    EXPECT_EQ(std::get<work::ActivityCompleted>(second.kind).result, "node/1/0#2");
    EXPECT_EQ(std::get<work::ActivityCompleted>(first.kind).result, "node/1/0#1");
    EXPECT_EQ(traced, (std::vector<std::string>{"Count:n=1", "Count:n=2"}));
    item.session_id.reset();
    auto without = run_activity(count, item, environment);
    const auto& failed = std::get<work::ActivityFailed>(without.kind);
    EXPECT_NE(failed.details.display_message().find("has no session"), std::string::npos);
}
