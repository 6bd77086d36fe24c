// Resident executions: resuming suspended code must decide exactly what replaying the whole
// history decides. Every scenario runs twice, replaying and resident, and the histories, queue
// items and outcomes must be identical; random programs widen the net.
#include "core/engine/resident_cache.hpp"
#include "core/replay/turn.hpp"
#include "core/replay/turn_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <sstream>

using namespace duroxide;
using namespace duroxide::core;

namespace {

enum class Mode { Replay, Resident, ResidentWithoutHistory };

// Runs an instance to the end the way the runtime would, one message per turn, in a given
// mode; records every turn's outcome as text.
struct InstanceRun {
    explicit InstanceRun(Mode run_mode) : mode(run_mode) {}

    Mode mode;
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    ResidentSlot slot;
    std::vector<Event> history;
    std::vector<WorkItem> timers, activities;
    uint64_t now = 1000;
    std::string log;
    int resumed_turns = 0;

    TurnResult turn(std::vector<WorkItem> messages) {
        TurnInput input{"inst", 1, history, std::move(messages), now};
        if (mode == Mode::ResidentWithoutHistory && slot.holds()) {
            input.history.clear();
            input.history_omitted = true;
            input.last_event_id = history.empty() ? 0 : history.back().event_id;
        }
        TurnResult result =
            run_turn(registry, stacks, input, mode == Mode::Replay ? nullptr : &slot);
        if (result.needs_full_history) {
            input.history = history;
            input.history_omitted = false;
            result = run_turn(registry, stacks, input, &slot);
        }
        resumed_turns += result.resumed;
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        for (const auto& item : result.orchestrator_items) {
            if (std::holds_alternative<work::TimerFired>(item.kind)) {
                timers.push_back(item);
            }
        }
        activities.insert(activities.end(), result.worker_items.begin(), result.worker_items.end());
        for (const auto& cancelled : result.cancelled_activities) { // lock stealing
            std::erase_if(activities, [&](const WorkItem& item) {
                return std::get<work::ActivityExecute>(item.kind).id == cancelled.activity_id;
            });
        }
        std::ostringstream line;
        line << static_cast<int>(result.status) << "|" << result.output << "|"
             << result.worker_items.size() << "|" << result.orchestrator_items.size() << "|"
             << result.cancelled_activities.size() << "\n";
        log += line.str();
        return result;
    }

    // Completes pending work, one message per turn: activities first (oldest first), then
    // the earliest timer, then activities named Slow, until nothing is pending or the
    // execution ended.
    void settle(const std::function<Outcome(const std::string&, const std::string&)>& act) {
        for (int guard = 0; guard < 500; ++guard) {
            if (!history.empty() && history.back().is_terminal()) {
                return;
            }
            auto next = std::find_if(activities.begin(), activities.end(), [](const WorkItem& w) {
                return std::get<work::ActivityExecute>(w.kind).name != "Slow";
            });
            if (next == activities.end() && timers.empty()) {
                next = activities.begin();
            }
            if (next != activities.end()) {
                const auto execute = std::get<work::ActivityExecute>(next->kind);
                activities.erase(next);
                const Outcome outcome = act(execute.name, execute.input);
                turn({outcome.ok()
                          ? WorkItem{work::ActivityCompleted{.instance = "inst",
                                                             .execution_id = 1,
                                                             .id = execute.id,
                                                             .result = outcome.value()}}
                          : WorkItem{work::ActivityFailed{
                                .instance = "inst",
                                .execution_id = 1,
                                .id = execute.id,
                                .details = ErrorDetails::activity_failed(outcome.error())}}});
            } else if (!timers.empty()) {
                now += 1000;
                const WorkItem timer = timers.front();
                timers.erase(timers.begin());
                turn({timer});
            } else {
                return;
            }
        }
    }

    std::string shape() const {
        std::string out;
        for (const auto& event : history) {
            out += std::to_string(event.event_id) + ":" + event.type_name() + "<" +
                   std::to_string(event.source_event_id.value_or(0)) + " ";
        }
        return out;
    }
};

WorkItem start(const std::string& name, const std::string& input) {
    return WorkItem{work::StartOrchestration{.instance = "inst",
                                             .orchestration = name,
                                             .input = input,
                                             .version = std::nullopt,
                                             .parent_instance = std::nullopt,
                                             .parent_id = std::nullopt,
                                             .execution_id = 1,
                                             .parent_execution_id = std::nullopt}};
}

Outcome echo(const std::string& name, const std::string& input) {
    if (name == "Fail") {
        return Outcome::failure("failed " + input);
    }
    return Outcome::success(name + "(" + input + ")");
}

// Runs `script` (which drives a InstanceRun) in every mode and checks they agree.
void expect_same_in_every_mode(const std::function<void(OrchestrationRegistry&)>& define,
                               const std::function<void(InstanceRun&)>& script,
                               bool expect_resumes) {
    InstanceRun replay(Mode::Replay), resident(Mode::Resident),
        omitted(Mode::ResidentWithoutHistory);
    for (InstanceRun* run : {&replay, &resident, &omitted}) {
        define(run->registry);
        script(*run);
    }
    EXPECT_EQ(resident.shape(), replay.shape());
    EXPECT_EQ(resident.log, replay.log);
    EXPECT_EQ(omitted.shape(), replay.shape());
    EXPECT_EQ(omitted.log, replay.log);
    EXPECT_EQ(replay.resumed_turns, 0);
    if (expect_resumes) {
        EXPECT_GT(resident.resumed_turns, 0);
        EXPECT_EQ(omitted.resumed_turns, resident.resumed_turns);
    }
}

// A small language of orchestration steps, so that random programs can be generated:
//   a = await an activity, f = fan out three activities and join, t = await a timer,
//   s = select an activity against a timer, c = set the custom status, x = an activity that
//   fails (caught), l = select a slow activity against a timer (the timer wins, the activity
//   is cancelled), w = select an event wait against a timer (no event comes), q = select a
//   dequeue against a timer (one message is sent at the start), k = schedule an activity and
//   cancel it; continue-as-new is not used (one execution per run).
std::string interpret(OrchestrationContext& ctx, const std::string& program) {
    std::string trace;
    int step = 0;
    for (char op : program) {
        const std::string tag = std::to_string(step++);
        switch (op) {
        case 'a':
            trace += ctx.schedule_activity("A", tag + trace.substr(0, 8)).value() + ";";
            break;
        case 'f': {
            std::vector<DurableFuture> branches = {ctx.schedule_activity("B", tag + "1"),
                                                   ctx.schedule_activity("B", tag + "2"),
                                                   ctx.schedule_activity("B", tag + "3")};
            for (const auto& outcome : ctx.join(branches)) {
                trace += outcome.value() + ",";
            }
            break;
        }
        case 't':
            ctx.schedule_timer(std::chrono::milliseconds(500)).get();
            trace += "t;";
            break;
        case 's': {
            DurableFuture race[] = {ctx.schedule_activity("C", tag),
                                    ctx.schedule_timer(std::chrono::milliseconds(100))};
            trace += ctx.select(race) == 0 ? "won;" : "timeout;";
            break;
        }
        case 'l': {
            DurableFuture race[] = {ctx.schedule_activity("Slow", tag),
                                    ctx.schedule_timer(std::chrono::milliseconds(100))};
            trace += ctx.select(race) == 0 ? "slow won;" : "slow lost;";
            break;
        }
        case 'w': {
            DurableFuture race[] = {ctx.schedule_wait("E"),
                                    ctx.schedule_timer(std::chrono::milliseconds(100))};
            trace += ctx.select(race) == 0 ? "event;" : "no event;";
            break;
        }
        case 'q': {
            DurableFuture race[] = {ctx.dequeue_event("Q"),
                                    ctx.schedule_timer(std::chrono::milliseconds(100))};
            trace += ctx.select(race) == 0 ? "msg " + race[0].value() + ";" : "no msg;";
            break;
        }
        case 'k':
            ctx.schedule_activity("K", tag).cancel();
            break;
        case 'c':
            ctx.set_custom_status("step " + tag);
            break;
        case 'x':
            trace += ctx.schedule_activity("Fail", tag).get().ok() ? "?;" : "caught;";
            break;
        }
    }
    return trace;
}

} // namespace

TEST(Resident, SequentialActivitiesResumeInsteadOfReplaying) {
    expect_same_in_every_mode(
        [](OrchestrationRegistry& r) {
            r.register_orchestration("P", [](OrchestrationContext& ctx, const std::string& in) {
                return interpret(ctx, in);
            });
        },
        [](InstanceRun& run) {
            run.turn({start("P", "aaaaa")});
            run.settle(echo);
        },
        true);
}

TEST(Resident, FanOutTimersSelectsStatusAndFailures) {
    expect_same_in_every_mode(
        [](OrchestrationRegistry& r) {
            r.register_orchestration("P", [](OrchestrationContext& ctx, const std::string& in) {
                return interpret(ctx, in);
            });
        },
        [](InstanceRun& run) {
            run.turn({start("P", "cfatsxcfa")});
            run.settle(echo);
        },
        true);
}

TEST(Resident, CancelledLosersAndAbandonedWorkAreTheSameResidentAndReplayed) {
    std::string replayed_shape;
    expect_same_in_every_mode(
        [](OrchestrationRegistry& r) {
            r.register_orchestration("P", [](OrchestrationContext& ctx, const std::string& in) {
                return interpret(ctx, in);
            });
        },
        [&replayed_shape](InstanceRun& run) {
            run.turn({start("P", "lqqwka")});
            run.turn({WorkItem{work::QueueMessage{.instance = "inst", .name = "Q", .data = "m"}}});
            run.settle(echo);
            EXPECT_EQ(run.history.back().type_name(), std::string("OrchestrationCompleted"));
            replayed_shape = run.shape();
        },
        true);
    // Slow (2) lost to its timer, the first dequeue took the message, the second (9) and the
    // wait (14) found nothing, K (18) was abandoned.
    for (const char* breadcrumb :
         {" 6:ActivityCancelRequested<2 ", " 13:ExternalSubscribedPersistentCancelled<9 ",
          " 17:ExternalSubscribedCancelled<14 ", " 19:ActivityCancelRequested<18 "}) {
        EXPECT_NE(replayed_shape.find(breadcrumb), std::string::npos) << breadcrumb;
    }
}

TEST(Resident, ExternalEventsAndQueueMessagesReachWaitingCode) {
    expect_same_in_every_mode(
        [](OrchestrationRegistry& r) {
            r.register_orchestration("W", [](OrchestrationContext& ctx, const std::string&) {
                const std::string first = ctx.schedule_wait("Go").value();
                const std::string queued = ctx.dequeue_event("Q").value();
                const std::string second = ctx.dequeue_event("Q").value();
                return first + "/" + queued + "/" + second;
            });
        },
        [](InstanceRun& run) {
            run.turn({start("W", "")});
            run.turn({WorkItem{work::QueueMessage{
                .instance = "inst", .name = "Q", .data = "m1"}}}); // before the dequeue
            run.turn(
                {WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = "go"}}});
            run.turn({WorkItem{work::QueueMessage{
                .instance = "inst", .name = "Q", .data = "m2"}}}); // while it waits
        },
        true);
}

TEST(Resident, CancellationOfWaitingCode) {
    expect_same_in_every_mode(
        [](OrchestrationRegistry& r) {
            r.register_orchestration("P", [](OrchestrationContext& ctx, const std::string& in) {
                return interpret(ctx, in);
            });
        },
        [](InstanceRun& run) {
            run.turn({start("P", "aa")});
            run.turn({WorkItem{work::CancelInstance{.instance = "inst", .reason = "stop"}}});
        },
        true);
}

TEST(Resident, ASlotThatDoesNotMatchTheHistoryIsReplayed) {
    InstanceRun run(Mode::Resident);
    run.registry.register_orchestration(
        "P", [](OrchestrationContext& ctx, const std::string& in) { return interpret(ctx, in); });
    run.turn({start("P", "aa")});
    ASSERT_TRUE(run.slot.holds());
    // Another dispatcher recorded a turn meanwhile: the held execution is stale.
    run.slot.last_event_id += 1;
    auto execute = std::get<work::ActivityExecute>(run.activities.front().kind);
    run.activities.clear();
    auto result = run.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = execute.id, .result = "r"}}});
    EXPECT_EQ(run.resumed_turns, 0); // replayed, and still correct
    EXPECT_EQ(result.worker_items.size(), 1u);
    EXPECT_TRUE(run.slot.holds()); // and resident again
}

TEST(Resident, RandomProgramsDecideTheSameResidentAndReplayed) {
    std::mt19937 random(20261122);
    const std::string ops = "afatscxlwqk";
    for (int program_index = 0; program_index < 60; ++program_index) {
        std::string program;
        const int length = 1 + static_cast<int>(random() % 12);
        for (int i = 0; i < length; ++i) {
            program += ops[random() % ops.size()];
        }
        SCOPED_TRACE("program " + program);
        expect_same_in_every_mode(
            [](OrchestrationRegistry& r) {
                r.register_orchestration("P", [](OrchestrationContext& ctx, const std::string& in) {
                    return interpret(ctx, in);
                });
            },
            [&program](InstanceRun& run) {
                run.turn({start("P", program)});
                run.turn(
                    {WorkItem{work::QueueMessage{.instance = "inst", .name = "Q", .data = "m"}}});
                run.settle(echo);
            },
            false);
    }
}

TEST(ResidentCache, KeepsTheMostRecentlyUsedWithinItsCapacity) {
    ResidentCache cache(2);
    ASSERT_NE(cache.slot("a"), nullptr);
    cache.slot("b");
    cache.slot("a"); // a is now the most recent
    cache.slot("c"); // evicts b
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.evictions(), 0u); // b held nothing
    cache.set_capacity(1);            // evicts a (c is newer)
    EXPECT_EQ(cache.size(), 1u);
    cache.drop("c");
    EXPECT_EQ(cache.size(), 0u);
    ResidentCache disabled(0);
    EXPECT_EQ(disabled.slot("a"), nullptr);
}

TEST(ResidentCache, EvictingAHeldExecutionUnwindsItsFiberAndCounts) {
    ResidentCache cache(1);
    OrchestrationRegistry registry;
    StackPool stacks(64 * 1024);
    bool unwound = false;
    registry.register_orchestration("Waits",
                                    [&unwound](OrchestrationContext& ctx, const std::string&) {
                                        struct Guard {
                                            bool& flag;
                                            ~Guard() { flag = true; }
                                        } guard{unwound};
                                        return ctx.schedule_wait("never").value();
                                    });
    TurnInput input{"a", 1, {}, {start("Waits", "")}, 1000};
    input.messages = {WorkItem{work::StartOrchestration{.instance = "a",
                                                        .orchestration = "Waits",
                                                        .input = "",
                                                        .version = std::nullopt,
                                                        .parent_instance = std::nullopt,
                                                        .parent_id = std::nullopt,
                                                        .execution_id = 1,
                                                        .parent_execution_id = std::nullopt}}};
    run_turn(registry, stacks, input, cache.slot("a"));
    ASSERT_NE(cache.find("a"), nullptr);
    EXPECT_FALSE(unwound);
    cache.slot("b"); // a is evicted
    EXPECT_TRUE(unwound);
    EXPECT_EQ(cache.evictions(), 1u);
    EXPECT_EQ(cache.find("a"), nullptr);
}

TEST(ResidentCache, AMemoryBoundEvictsTheLeastRecentlyUsedOnceTheTurnsHaveGrownThem) {
    OrchestrationRegistry registry;
    StackPool stacks(64 * 1024);
    registry.register_orchestration("Waits", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_wait("never").value();
    });
    const auto wait_in = [&](ResidentCache& cache, const std::string& instance) {
        TurnInput input{instance, 1, {}, {}, 1000};
        input.messages = {WorkItem{work::StartOrchestration{.instance = instance,
                                                            .orchestration = "Waits",
                                                            .input = std::string(4000, 'x'),
                                                            .version = std::nullopt,
                                                            .parent_instance = std::nullopt,
                                                            .parent_id = std::nullopt,
                                                            .execution_id = 1,
                                                            .parent_execution_id = std::nullopt}}};
        run_turn(registry, stacks, input, cache.slot(instance));
        cache.trim();
    };
    // Each held execution counts its stack and its history (the 4 KB input among it).
    ResidentCache unbounded(10);
    wait_in(unbounded, "a");
    const std::size_t one = unbounded.footprint_bytes();
    EXPECT_GT(one, stacks.stack_size() + 4000);
    EXPECT_LT(one, stacks.stack_size() + 8000);

    // Room for two: the third evicts the least recently used, the count bound never bites.
    ResidentCache cache(10, 2 * one + one / 2);
    wait_in(cache, "a");
    wait_in(cache, "b");
    cache.slot("a"); // a is now the most recent
    wait_in(cache, "c");
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.evictions(), 1u);
    EXPECT_EQ(cache.find("b"), nullptr);
    EXPECT_NE(cache.find("a"), nullptr);
    EXPECT_NE(cache.find("c"), nullptr);
    EXPECT_LE(cache.footprint_bytes(), 2 * one + one / 2);
    // A bound below one execution still keeps the most recent one.
    cache.set_limits(10, 1);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_NE(cache.find("c"), nullptr);
}

// The running total of the slots' footprints follows every way a slot changes: made, grown by
// a turn, cleared by an ending turn, dropped, evicted (by count and by memory), cleared.
TEST(ResidentCache, TheRunningFootprintTotalEqualsARecountAfterEveryChange) {
    OrchestrationRegistry registry;
    StackPool stacks(64 * 1024);
    registry.register_orchestration("Waits", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_wait("first").value();
        return ctx.schedule_wait("second").value();
    });
    ResidentCache cache(4);
    const auto check = [&cache](const char* when) {
        EXPECT_EQ(cache.footprint_bytes(), cache.recounted_footprint_bytes()) << when;
    };
    const auto start_in = [&](const std::string& instance) {
        TurnInput input{instance, 1, {}, {}, 1000};
        input.messages = {WorkItem{work::StartOrchestration{.instance = instance,
                                                            .orchestration = "Waits",
                                                            .input = std::string(3000, 'x'),
                                                            .version = std::nullopt,
                                                            .parent_instance = std::nullopt,
                                                            .parent_id = std::nullopt,
                                                            .execution_id = 1,
                                                            .parent_execution_id = std::nullopt}}};
        return run_turn(registry, stacks, input, cache.slot(instance));
    };
    const auto raise_in = [&](const std::string& instance, const std::string& name,
                              std::vector<Event> history) {
        TurnInput input{instance, 1, std::move(history), {}, 1000};
        input.messages = {WorkItem{work::ExternalRaised{
            .instance = instance, .name = name, .data = std::string(2000, 'y')}}};
        return run_turn(registry, stacks, input, cache.slot(instance));
    };
    std::map<std::string, std::vector<Event>> histories;
    for (const std::string instance : {"a", "b", "c"}) {
        histories[instance] = start_in(instance).history_delta;
        check("after a start, before trim()"); // read while the turns' slots are unsettled
    }
    cache.trim();
    check("after trim()");
    const std::size_t three = cache.footprint_bytes();
    EXPECT_GT(three, 3 * (stacks.stack_size() + 3000));

    // A turn that grows a held execution: the total grows with it.
    TurnResult grown = raise_in("b", "first", histories["b"]);
    ASSERT_TRUE(grown.resumed);
    check("after a turn grew b");
    cache.trim();
    check("after a turn grew b, trimmed");
    EXPECT_GT(cache.footprint_bytes(), three);
    histories["b"].insert(histories["b"].end(), grown.history_delta.begin(),
                          grown.history_delta.end());

    // A turn that ends the execution clears its slot (zero bytes), then the caller drops it.
    ResidentSlot* ending = cache.slot("b");
    TurnInput last{"b", 1, histories["b"], {}, 1000};
    last.messages = {WorkItem{work::ExternalRaised{.instance = "b", .name = "second", .data = ""}}};
    run_turn(registry, stacks, last, ending);
    EXPECT_FALSE(ending->holds());
    check("after b ended");
    cache.drop("b");
    check("after b was dropped");
    cache.trim();
    check("after b was dropped, trimmed");

    // Evictions by count and by memory take their slots' bytes off the total.
    histories["d"] = start_in("d").history_delta;
    histories["e"] = start_in("e").history_delta;
    check("before the count eviction");
    cache.trim();
    check("after the count eviction");
    EXPECT_EQ(cache.size(), 4u);
    const std::size_t before = cache.footprint_bytes();
    cache.set_limits(4, before - 1); // evicts the least recently used one
    check("after the memory eviction");
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_LT(cache.footprint_bytes(), before);

    // A slot handed out and dropped before any trim(), then made again.
    start_in("f");
    cache.drop("f");
    check("after f was dropped unsettled");
    start_in("f");
    check("after f was made again");
    cache.trim();
    check("after f was made again, trimmed");

    cache.clear();
    EXPECT_EQ(cache.footprint_bytes(), 0u);
    check("after clear()");
    start_in("g");
    cache.trim();
    check("after a start following clear()");
    EXPECT_GT(cache.footprint_bytes(), 0u);
}

// A wide fan-out whose completions arrive in batches, as a dispatcher fetches what the workers
// recorded: resumed turn by turn, it decides what replaying decides, and the resident turns
// (which no longer scan the history for a terminal event) end it once, with every result.
TEST(Resident, AWideFanOutCompletedInBatchesIsTheSameResidentAndReplayed) {
    constexpr int kWidth = 300;
    expect_same_in_every_mode(
        [](OrchestrationRegistry& r) {
            r.register_orchestration("Wide", [](OrchestrationContext& ctx, const std::string&) {
                std::vector<DurableFuture> branches;
                for (int i = 0; i < kWidth; ++i) {
                    branches.push_back(ctx.schedule_activity("B", std::to_string(i)));
                }
                std::string joined;
                for (const auto& outcome : ctx.join(branches)) {
                    joined += outcome.value() + ",";
                }
                return joined;
            });
        },
        [](InstanceRun& run) {
            run.turn({start("Wide", "")});
            ASSERT_EQ(run.activities.size(), static_cast<std::size_t>(kWidth));
            // Completions in batches of 7, newest first within each batch.
            while (!run.activities.empty()) {
                std::vector<WorkItem> batch;
                for (int i = 0; i < 7 && !run.activities.empty(); ++i) {
                    const auto execute =
                        std::get<work::ActivityExecute>(run.activities.back().kind);
                    run.activities.pop_back();
                    batch.push_back(
                        WorkItem{work::ActivityCompleted{.instance = "inst",
                                                         .execution_id = 1,
                                                         .id = execute.id,
                                                         .result = "r" + execute.input}});
                }
                run.turn(std::move(batch));
            }
            ASSERT_FALSE(run.history.empty());
            EXPECT_TRUE(run.history.back().is_terminal());
            EXPECT_EQ(std::count_if(run.history.begin(), run.history.end(),
                                    [](const Event& e) { return e.is_terminal(); }),
                      1);
            const auto* done =
                std::get_if<events::OrchestrationCompleted>(&run.history.back().kind);
            ASSERT_NE(done, nullptr);
            EXPECT_EQ(done->output.substr(0, 9), "r0,r1,r2,");
        },
        true);
}

// The terminal flag a resident turn checks instead of scanning its history: set by the events
// the context indexes, from its history and from the events appended later.
TEST(Resident, TheContextKnowsWhetherItsHistoryHoldsATerminalEvent) {
    const TurnInput input{"inst", 1, {}, {}, 1000};
    TurnResult result;
    auto event = [&](uint64_t id, EventKind kind) {
        return replay_detail::make_event(input, id, std::nullopt, std::move(kind));
    };
    const Event started =
        event(1, events::OrchestrationStarted{.name = "P",
                                              .version = "1.0.0",
                                              .input = "",
                                              .parent_instance = std::nullopt,
                                              .parent_id = std::nullopt,
                                              .carry_forward_events = std::nullopt,
                                              .initial_custom_status = std::nullopt,
                                              .parent_execution_id = std::nullopt,
                                              .open_sessions = std::nullopt});
    replay_detail::Turn running(input, result, {started}, "P", "1.0.0");
    EXPECT_FALSE(running.terminal_recorded());
    running.history_for_append().push_back(
        event(2, events::ActivityScheduled{
                     .name = "A", .input = "", .session_id = std::nullopt, .tag = std::nullopt}));
    running.index_appended(1);
    EXPECT_FALSE(running.terminal_recorded());
    running.history_for_append().push_back(event(3, events::OrchestrationCompleted{.output = "x"}));
    running.index_appended(2);
    EXPECT_TRUE(running.terminal_recorded());

    replay_detail::Turn ended(
        input, result,
        {started,
         event(2, events::OrchestrationFailed{.details = ErrorDetails::activity_failed("e")})},
        "P", "1.0.0");
    EXPECT_TRUE(ended.terminal_recorded());
}
