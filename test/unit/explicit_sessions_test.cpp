// Explicit activity sessions in the replay engine (issue 19): open/close are recorded and
// replayed in code order, the open set decides which sessions may be scheduled on (only once the
// instance has opened one: implicit sessions keep working), a cap on open sessions, the order of
// opens and closes is part of determinism, and continue-as-new carries the open set.
#include "core/replay/session_tracking.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"
#include "duroxide/typed.hpp"

#include <gtest/gtest.h>

#include <functional>

using namespace duroxide;
using namespace duroxide::core;

namespace {

// One instance, turn by turn, history kept as the store would keep it.
struct SessionRun {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    uint64_t execution_id = 1;
    std::vector<Event> history;
    std::size_t max_open_sessions = 10;

    TurnResult turn(std::vector<WorkItem> messages) {
        TurnInput input{"inst", execution_id, history, std::move(messages), 1000};
        input.max_open_sessions = max_open_sessions;
        TurnResult result = run_turn(registry, stacks, input);
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        return result;
    }
    TurnResult start(const std::string& name, const std::string& input = "") {
        return turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                       .orchestration = name,
                                                       .input = input,
                                                       .version = std::nullopt,
                                                       .parent_instance = std::nullopt,
                                                       .parent_id = std::nullopt,
                                                       .execution_id = 1,
                                                       .parent_execution_id = std::nullopt}}});
    }
};

// "Type" or "Type(session)" for each event, in order.
std::vector<std::string> shape(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const Event& event : events) {
        std::string text = event.type_name();
        if (auto* o = std::get_if<events::SessionOpened>(&event.kind)) {
            text += "(" + o->session_id + ")";
        } else if (auto* c = std::get_if<events::SessionClosed>(&event.kind)) {
            text += "(" + c->session_id + ")";
        } else if (auto* a = std::get_if<events::ActivityScheduled>(&event.kind)) {
            text += "(" + a->name + "@" + a->session_id.value_or("-") + ")";
        }
        out.push_back(text);
    }
    return out;
}

WorkItem completed(uint64_t id, const std::string& result) {
    return WorkItem{
        work::ActivityCompleted{.instance = "inst", .execution_id = 1, .id = id, .result = result}};
}

using Shape = std::vector<std::string>;

} // namespace

TEST(ExplicitSessions, OpenAndCloseAreIdempotentAndRecordedInOrder) {
    SessionRun run;
    run.registry.register_orchestration("Life", [](OrchestrationContext& ctx, const std::string&) {
        ctx.open_session_with_id("a");
        ctx.open_session_with_id("a"); // already open: nothing recorded
        ctx.close_session("a");
        ctx.close_session("a");     // closing a closed session is recorded, changes nothing
        ctx.close_session("never"); // so is closing an unknown one
        const bool closed = !ctx.is_session_open("a");
        ctx.open_session_with_id("a"); // reopened
        return ctx.schedule_activity_on_session("Work", "x", "a").value() +
               (closed ? " closed-between" : "");
    });
    const TurnResult first = run.start("Life");
    EXPECT_EQ(
        shape(first.history_delta),
        (Shape{"OrchestrationStarted", "SessionOpened(a)", "SessionClosed(a)", "SessionClosed(a)",
               "SessionClosed(never)", "SessionOpened(a)", "ActivityScheduled(Work@a)"}));
    ASSERT_EQ(first.worker_items.size(), 1u);
    EXPECT_EQ(std::get<work::ActivityExecute>(first.worker_items[0].kind).session_id,
              std::optional<std::string>("a"));
    // Replay of the same code matches every recorded open and close.
    const TurnResult second = run.turn({completed(7, "done")});
    EXPECT_EQ(second.status, ExecutionStatus::Completed);
    EXPECT_EQ(second.output, "done closed-between");
}

TEST(ExplicitSessions, AGeneratedIdIsTheSameOnReplay) {
    SessionRun run;
    std::vector<std::string> seen;
    run.registry.register_orchestration(
        "Gen", [&seen](OrchestrationContext& ctx, const std::string&) {
            const std::string id = ctx.open_session();
            seen.push_back(id);
            return ctx.schedule_activity_on_session("W", "", id).value();
        });
    run.start("Gen");
    const TurnResult done = run.turn({completed(3, "ok")});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], "session-1-2");
    EXPECT_EQ(seen[1], seen[0]);
}

TEST(ExplicitSessions, ImplicitSessionsWorkUntilTheInstanceOpensOne) {
    SessionRun run;
    run.registry.register_orchestration(
        "Implicit", [](OrchestrationContext& ctx, const std::string&) {
            return ctx.schedule_activity_on_session("W", "", "never-opened").value();
        });
    run.start("Implicit");
    EXPECT_EQ(run.turn({completed(2, "ok")}).status, ExecutionStatus::Completed);
}

TEST(ExplicitSessions, SchedulingOnASessionThatIsNotOpenFailsTheOrchestration) {
    SessionRun run;
    run.registry.register_orchestration("Wrong", [](OrchestrationContext& ctx, const std::string&) {
        ctx.open_session_with_id("a");
        try {
            ctx.schedule_activity_on_session("W", "", "b"); // not catchable
        } catch (...) {
            return std::string("caught");
        }
        return std::string("scheduled");
    });
    const TurnResult result = run.start("Wrong");
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_TRUE(result.error);
    EXPECT_TRUE(std::holds_alternative<ApplicationError>(result.error->value));
    EXPECT_NE(result.output.find("session \"b\", which is not open"), std::string::npos)
        << result.output;
    EXPECT_TRUE(result.worker_items.empty());
}

TEST(ExplicitSessions, SchedulingOnAClosedSessionFails) {
    SessionRun run;
    run.registry.register_orchestration(
        "Closed", [](OrchestrationContext& ctx, const std::string&) {
            ctx.open_session_with_id("a");
            ctx.close_session("a");
            return ctx.schedule_activity_on_session("W", "", "a").value();
        });
    const TurnResult result = run.start("Closed");
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_NE(result.output.find("not open"), std::string::npos) << result.output;
}

TEST(ExplicitSessions, OpeningPastTheCapFailsTheOrchestration) {
    SessionRun run;
    run.max_open_sessions = 2;
    run.registry.register_orchestration("Many", [](OrchestrationContext& ctx, const std::string&) {
        ctx.open_session_with_id("a");
        ctx.open_session_with_id("b");
        ctx.open_session_with_id("b"); // already open: allowed at the cap
        ctx.close_session("a");
        ctx.open_session_with_id("c"); // two open again
        ctx.open_session_with_id("d"); // a third
        return std::string("no");
    });
    const TurnResult result = run.start("Many");
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_NE(result.output.find("2 sessions are open, the limit is 2"), std::string::npos)
        << result.output;
    EXPECT_EQ(shape(result.history_delta),
              (Shape{"OrchestrationStarted", "SessionOpened(a)", "SessionOpened(b)",
                     "SessionClosed(a)", "SessionOpened(c)", "OrchestrationFailed"}));
}

TEST(ExplicitSessions, AnEmptyOrOversizedIdFailsTheOrchestration) {
    SessionRun run;
    run.registry.register_orchestration(
        "Bad", [](OrchestrationContext& ctx, const std::string& input) {
            ctx.open_session_with_id(
                input == "empty" ? std::string()
                                 : std::string(OrchestrationContext::kMaxSessionIdBytes + 1, 'x'));
            return std::string("no");
        });
    EXPECT_EQ(run.start("Bad", "empty").status, ExecutionStatus::Failed);
    SessionRun other;
    other.registry = run.registry;
    const TurnResult big = other.start("Bad", "big");
    EXPECT_EQ(big.status, ExecutionStatus::Failed);
    EXPECT_NE(big.output.find("1 to 256 bytes"), std::string::npos) << big.output;
}

TEST(ExplicitSessions, OpenCloseOrderDifferentFromHistoryIsNondeterminism) {
    SessionRun run;
    bool swapped = false;
    run.registry.register_orchestration(
        "Order", [&swapped](OrchestrationContext& ctx, const std::string&) {
            ctx.open_session_with_id(swapped ? "b" : "a");
            ctx.open_session_with_id(swapped ? "a" : "b");
            return ctx.schedule_activity_on_session("W", "", "a").value();
        });
    run.start("Order");
    swapped = true;
    const TurnResult result = run.turn({completed(4, "ok")});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_TRUE(result.error);
    EXPECT_TRUE(std::holds_alternative<ConfigurationError>(result.error->value));
    EXPECT_NE(result.output.find("history has open session a"), std::string::npos) << result.output;
}

TEST(ExplicitSessions, AMissingCloseOnReplayIsNondeterminism) {
    SessionRun run;
    bool close = true;
    run.registry.register_orchestration("Close",
                                        [&close](OrchestrationContext& ctx, const std::string&) {
                                            ctx.open_session_with_id("a");
                                            if (close) {
                                                ctx.close_session("a");
                                            }
                                            return ctx.schedule_activity("W", "").value();
                                        });
    run.start("Close");
    close = false;
    const TurnResult result = run.turn({completed(4, "ok")});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_NE(result.output.find("close session a"), std::string::npos) << result.output;
}

TEST(ExplicitSessions, OpenSessionsSurviveContinueAsNewAndKeepExplicitMode) {
    SessionRun run;
    run.registry.register_orchestration(
        "Loop", [](OrchestrationContext& ctx, const std::string& input) {
            if (input == "1") {
                ctx.open_session_with_id("a");
                ctx.open_session_with_id("b");
                ctx.close_session("b");
                ctx.schedule_activity_on_session("W", "", "a").get();
                ctx.continue_as_new("2");
            }
            // The next execution uses "a" without reopening it; "b" stays closed.
            const std::string a = ctx.schedule_activity_on_session("W", "", "a").value();
            return a + (ctx.is_session_open("b") ? " b-open" : " b-closed");
        });
    run.start("Loop", "1");
    const TurnResult ended = run.turn({completed(5, "one")});
    ASSERT_EQ(ended.status, ExecutionStatus::ContinuedAsNew);
    const work::ContinueAsNew* next = nullptr;
    for (const auto& item : ended.orchestrator_items) {
        if (auto* found = std::get_if<work::ContinueAsNew>(&item.kind)) {
            next = found;
        }
    }
    ASSERT_NE(next, nullptr);
    EXPECT_EQ(next->open_sessions, std::optional<std::vector<std::string>>({"a"}));

    SessionRun second;
    second.registry = run.registry;
    second.execution_id = 2;
    const TurnResult begun = second.turn({WorkItem{*next}});
    ASSERT_EQ(begun.status, ExecutionStatus::Running) << begun.output;
    const auto& started = std::get<events::OrchestrationStarted>(begun.history_delta[0].kind);
    EXPECT_EQ(started.open_sessions, std::optional<std::vector<std::string>>({"a"}));
    const TurnResult done = second.turn({WorkItem{
        work::ActivityCompleted{.instance = "inst", .execution_id = 2, .id = 2, .result = "two"}}});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "two b-closed");
}

TEST(ExplicitSessions, ExplicitModeCarriesAcrossContinueAsNewEvenWithNoSessionOpen) {
    SessionRun run;
    run.registry.register_orchestration(
        "Loop", [](OrchestrationContext& ctx, const std::string& input) {
            if (input == "1") {
                ctx.open_session_with_id("a");
                ctx.close_session("a");
                ctx.continue_as_new("2");
            }
            return ctx.schedule_activity_on_session("W", "", "a").value();
        });
    const TurnResult ended = run.start("Loop", "1");
    ASSERT_EQ(ended.status, ExecutionStatus::ContinuedAsNew);
    const auto& next = std::get<work::ContinueAsNew>(ended.orchestrator_items.at(0).kind);
    EXPECT_EQ(next.open_sessions,
              std::optional<std::vector<std::string>>(std::vector<std::string>{}));
    SessionRun second;
    second.registry = run.registry;
    second.execution_id = 2;
    const TurnResult result = second.turn({WorkItem{next}});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_NE(result.output.find("not open"), std::string::npos) << result.output;
}

TEST(ExplicitSessions, AnImplicitInstanceCarriesNoSessionsAcrossContinueAsNew) {
    SessionRun run;
    run.registry.register_orchestration("Loop", [](OrchestrationContext& ctx, const std::string&) {
        ctx.continue_as_new("2");
        return std::string(); // not reached
    });
    const TurnResult ended = run.start("Loop", "1");
    const auto& next = std::get<work::ContinueAsNew>(ended.orchestrator_items.at(0).kind);
    EXPECT_FALSE(next.open_sessions.has_value());
}

TEST(ExplicitSessions, SeveralSessionsInterleaveWithSelectAndJoin) {
    SessionRun run;
    run.registry.register_orchestration("Mix", [](OrchestrationContext& ctx, const std::string&) {
        const std::string a = ctx.open_session_with_id("a");
        const std::string b = ctx.open_session();
        const DurableFuture race[] = {ctx.schedule_activity_on_session("W", "1", a),
                                      ctx.schedule_activity_on_session("W", "2", b)};
        const std::size_t winner = ctx.select(race);
        ctx.close_session(winner == 0 ? a : b);
        const DurableFuture both[] = {
            ctx.schedule_activity_on_session("W", "3", winner == 0 ? b : a),
            ctx.schedule_activity("W", "4")};
        const auto outcomes = ctx.join(both);
        return std::to_string(winner) + ":" + outcomes[0].value() + "," + outcomes[1].value();
    });
    const TurnResult first = run.start("Mix");
    EXPECT_EQ(shape(first.history_delta),
              (Shape{"OrchestrationStarted", "SessionOpened(a)", "SessionOpened(session-1-3)",
                     "ActivityScheduled(W@a)", "ActivityScheduled(W@session-1-3)"}));
    // Session b's activity (event 5) wins; a's is cancelled, b is closed, a gets more work.
    const TurnResult second = run.turn({completed(5, "x")});
    EXPECT_EQ(shape(second.history_delta),
              (Shape{"ActivityCompleted", "ActivityCancelRequested", "SessionClosed(session-1-3)",
                     "ActivityScheduled(W@a)", "ActivityScheduled(W@-)"}));
    const TurnResult done = run.turn({completed(9, "y"), completed(10, "z")});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "1:y,z");
}

TEST(ExplicitSessions, TypedSchedulingOnASessionEncodesAndDecodes) {
    SessionRun run;
    run.registry.register_orchestration("Typed", [](OrchestrationContext& ctx, const std::string&) {
        const std::string s = ctx.open_session_with_id("s");
        return std::to_string(
            schedule_activity_on_session_typed<int>(ctx, "Double", 21, s).value());
    });
    const TurnResult first = run.start("Typed");
    const auto& execute = std::get<work::ActivityExecute>(first.worker_items.at(0).kind);
    EXPECT_EQ(execute.input, "21");
    EXPECT_EQ(execute.session_id, std::optional<std::string>("s"));
    EXPECT_EQ(run.turn({completed(3, "42")}).output, "42");

    SessionRun bad;
    bad.registry = run.registry;
    bad.start("Typed");
    const TurnResult failed = bad.turn({completed(3, "forty-two")});
    EXPECT_EQ(failed.status, ExecutionStatus::Failed);
    EXPECT_EQ(
        failed.output,
        "cannot decode the result of activity Double: expected an integer, got \"forty-two\"");
}

TEST(ExplicitSessions, ResumedExecutionsKeepTheOpenSet) {
    SessionRun run;
    ResidentSlot slot;
    run.registry.register_orchestration("Res", [](OrchestrationContext& ctx, const std::string&) {
        ctx.open_session_with_id("a");
        ctx.schedule_activity_on_session("W", "", "a").get();
        return ctx.schedule_activity_on_session("W", "", "a").value();
    });
    auto turn = [&](std::vector<WorkItem> messages) {
        TurnInput input{"inst", 1, run.history, std::move(messages), 1000};
        TurnResult result = run_turn(run.registry, run.stacks, input, &slot);
        run.history.insert(run.history.end(), result.history_delta.begin(),
                           result.history_delta.end());
        return result;
    };
    turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                            .orchestration = "Res",
                                            .input = "",
                                            .version = std::nullopt,
                                            .parent_instance = std::nullopt,
                                            .parent_id = std::nullopt,
                                            .execution_id = 1,
                                            .parent_execution_id = std::nullopt}}});
    const TurnResult second = turn({completed(3, "one")});
    EXPECT_TRUE(second.resumed);
    EXPECT_EQ(second.status, ExecutionStatus::Running);
    EXPECT_EQ(turn({completed(5, "two")}).output, "two");
}

TEST(SessionTrackingUnit, ModesAndCarry) {
    SessionTracking tracking;
    tracking.start(std::nullopt);
    EXPECT_FALSE(tracking.explicit_mode());
    EXPECT_FALSE(tracking.schedule_problem("x"));
    EXPECT_FALSE(tracking.carried());
    tracking.opened("x");
    EXPECT_TRUE(tracking.explicit_mode());
    EXPECT_FALSE(tracking.schedule_problem("x"));
    EXPECT_TRUE(tracking.schedule_problem("y"));
    tracking.closed("x");
    EXPECT_EQ(tracking.carried(),
              std::optional<std::vector<std::string>>(std::vector<std::string>{}));
    EXPECT_EQ(generated_session_id(3, 17), "session-3-17");
}
