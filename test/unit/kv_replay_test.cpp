// The durable key-value store in the replay engine: set/get/clear/clear-all/prune, the snapshot
// of earlier executions plus this execution's events, the limits, nondeterminism on changed KV
// calls, and identical histories and values whether an execution is replayed every turn or
// kept resident. Also the system calls (built-in activities) and their JSON helpers.
#include "core/model/limits.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace duroxide;
using namespace duroxide::core;

namespace {

// Runs one execution to its end, completing activities one per turn (replayed every turn,
// or resident when `keep_resident`).
struct KvRun {
    explicit KvRun(bool keep_resident = false) : resident(keep_resident) {}

    bool resident;
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    ResidentSlot slot;
    KvSnapshot snapshot;
    std::vector<Event> history;
    std::vector<WorkItem> activities;
    uint64_t now = 1000;
    std::vector<TurnResult> turns;
    std::function<std::string(const std::string&, const std::string&)> act =
        [](const std::string&, const std::string& input) { return input; };

    TurnResult turn(std::vector<WorkItem> messages) {
        TurnInput input{"inst", 1, history, std::move(messages), now};
        input.kv_snapshot = snapshot;
        if (resident && slot.holds()) { // as the store does: neither history nor snapshot
            input.history.clear();
            input.kv_snapshot.clear();
            input.history_omitted = true;
            input.last_event_id = history.empty() ? 0 : history.back().event_id;
        }
        TurnResult result = run_turn(registry, stacks, input, resident ? &slot : nullptr);
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        activities.insert(activities.end(), result.worker_items.begin(), result.worker_items.end());
        turns.push_back(result);
        return result;
    }

    TurnResult start(const std::string& name, const std::string& input = "") {
        turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                .orchestration = name,
                                                .input = input,
                                                .version = std::nullopt,
                                                .parent_instance = std::nullopt,
                                                .parent_id = std::nullopt,
                                                .execution_id = 1,
                                                .parent_execution_id = std::nullopt}}});
        while (!activities.empty() && !history.back().is_terminal()) {
            const auto execute = std::get<work::ActivityExecute>(activities.front().kind);
            activities.erase(activities.begin());
            now += 10;
            turn({WorkItem{work::ActivityCompleted{.instance = "inst",
                                                   .execution_id = 1,
                                                   .id = execute.id,
                                                   .result = act(execute.name, execute.input)}}});
        }
        return turns.back();
    }

    // Event kinds as text, timestamps left out.
    std::string kinds() const {
        std::string out;
        for (const Event& event : history) {
            out += out.empty() ? "" : ",";
            out += event.type_name();
            if (auto* set = std::get_if<events::KeyValueSet>(&event.kind)) {
                out += "(" + set->key + "=" + set->value + ")";
            } else if (auto* cleared = std::get_if<events::KeyValueCleared>(&event.kind)) {
                out += "(" + cleared->key + ")";
            }
        }
        return out;
    }
};

std::string joined(const std::map<std::string, std::string>& values) {
    std::string out;
    for (const auto& [key, value] : values) {
        out += (out.empty() ? "" : ";") + key + "=" + value;
    }
    return out;
}

// Reads and writes around two activities; returns what it saw at each step.
std::string read_modify_write(OrchestrationContext& ctx, const std::string&) {
    std::string seen;
    for (int round = 0; round < 3; ++round) {
        const int counter = std::stoi(ctx.get_kv_value("counter").value_or("0"));
        const std::string next = ctx.schedule_activity("Add", std::to_string(counter + 1)).value();
        ctx.set_kv_value("counter", next);
        seen += next + ",";
    }
    ctx.set_kv_value("tmp", "x");
    ctx.clear_kv_value("tmp");
    const std::size_t pruned = ctx.prune_kv_values_updated_before(10);
    seen += std::to_string(ctx.get_kv_length()) + ":" + joined(ctx.get_kv_all_values());
    return seen + "|pruned " + std::to_string(pruned);
}

TEST(KvReplay, SetGetClearAcrossTurns) {
    KvRun run;
    run.registry.register_orchestration("Rmw", read_modify_write);
    const TurnResult last = run.start("Rmw");
    ASSERT_EQ(last.status, ExecutionStatus::Completed) << last.output;
    EXPECT_EQ(last.output, "1,2,3,1:counter=3|pruned 0");
    EXPECT_EQ(run.kinds(),
              "OrchestrationStarted,ActivityScheduled,ActivityCompleted,KeyValueSet(counter=1),"
              "ActivityScheduled,ActivityCompleted,KeyValueSet(counter=2),ActivityScheduled,"
              "ActivityCompleted,KeyValueSet(counter=3),KeyValueSet(tmp=x),KeyValueCleared(tmp),"
              "OrchestrationCompleted");
}

TEST(KvReplay, ResidentAndReplayGiveIdenticalHistoriesAndValues) {
    KvRun replayed(false), resident(true);
    for (KvRun* run : {&replayed, &resident}) {
        // "old" is pruned (last written at 5 < 10), "counter" is written first, "kept" is new.
        run->snapshot = {{"old", {"o", 5}}, {"counter", {"10", 5}}, {"kept", {"k", 50}}};
        run->registry.register_orchestration("Rmw", read_modify_write);
        run->start("Rmw");
    }
    EXPECT_EQ(replayed.turns.back().output, "11,12,13,2:counter=13;kept=k|pruned 1");
    EXPECT_EQ(resident.turns.back().output, replayed.turns.back().output);
    EXPECT_EQ(resident.kinds(), replayed.kinds());
    ASSERT_EQ(resident.history.size(), replayed.history.size());
    for (std::size_t i = 0; i < resident.history.size(); ++i) {
        EXPECT_EQ(resident.history[i], replayed.history[i]) << "event " << i;
    }
    int resumed = 0;
    for (const auto& turn : resident.turns) {
        resumed += turn.resumed;
    }
    EXPECT_GT(resumed, 0); // the resident run really resumed
}

TEST(KvReplay, SnapshotSeedsStateAndClearAllEmptiesIt) {
    KvRun run;
    run.snapshot = {{"a", {"1", 100}}, {"b", {"2", 100}}};
    run.registry.register_orchestration("ClearAll", [](OrchestrationContext& ctx,
                                                       const std::string&) {
        std::string out = ctx.get_kv_value("a").value_or("-") + "|";
        for (const auto& key : ctx.get_kv_all_keys()) {
            out += key;
        }
        ctx.schedule_activity("Echo", "x").value();
        ctx.clear_all_kv_values();
        out += "|" + std::to_string(ctx.get_kv_length());
        ctx.set_kv_value("c", "3");
        out += "|" + joined(ctx.get_kv_all_values()) + "|" + ctx.get_kv_value("a").value_or("-");
        return out;
    });
    const TurnResult last = run.start("ClearAll");
    EXPECT_EQ(last.output, "1|ab|0|c=3|-");
    EXPECT_EQ(run.kinds(), "OrchestrationStarted,ActivityScheduled,ActivityCompleted,"
                           "KeyValuesCleared,KeyValueSet(c=3),OrchestrationCompleted");
}

TEST(KvReplay, PruneClearsOnlyOldCarriedKeys) {
    KvRun run;
    run.snapshot = {{"old", {"o", 100}}, {"fresh", {"f", 5000}}, {"rewritten", {"r", 100}}};
    run.registry.register_orchestration("Prune", [](OrchestrationContext& ctx, const std::string&) {
        ctx.set_kv_value("rewritten", "r2"); // written by this execution: never pruned
        ctx.schedule_activity("Echo", "x").value();
        const std::size_t pruned = ctx.prune_kv_values_updated_before(2000);
        ctx.schedule_activity("Echo", "y").value();
        return std::to_string(pruned) + ":" + joined(ctx.get_kv_all_values());
    });
    const TurnResult last = run.start("Prune");
    EXPECT_EQ(last.output, "1:fresh=f;rewritten=r2");
    EXPECT_NE(run.kinds().find("KeyValueCleared(old)"), std::string::npos);
    EXPECT_EQ(run.kinds().find("KeyValueCleared(fresh)"), std::string::npos);
}

TEST(KvReplay, ReplayKeepsTheFirstRecordedTimestamp) {
    KvRun run;
    run.registry.register_orchestration("Stamp", [](OrchestrationContext& ctx, const std::string&) {
        ctx.set_kv_value("k", "v");
        ctx.schedule_activity("Echo", "x").value();
        return std::string("done");
    });
    run.start("Stamp");
    std::vector<uint64_t> stamps;
    for (const Event& event : run.history) {
        if (auto* set = std::get_if<events::KeyValueSet>(&event.kind)) {
            stamps.push_back(set->last_updated_at_ms);
        }
    }
    ASSERT_EQ(stamps.size(), 1u);
    EXPECT_EQ(stamps[0], 1000u); // the first turn's clock, not a later replay's
}

TEST(KvReplay, ValueOverLimitFailsTheOrchestrationUncatchably) {
    KvRun run;
    run.registry.register_orchestration("Big", [](OrchestrationContext& ctx, const std::string&) {
        try {
            ctx.set_kv_value("big", std::string(kMaxKvValueBytes + 1, 'x'));
        } catch (...) {
            return std::string("caught");
        }
        return std::string("not failed");
    });
    const TurnResult last = run.start("Big");
    ASSERT_EQ(last.status, ExecutionStatus::Failed);
    ASSERT_TRUE(last.error);
    const auto* app = std::get_if<ApplicationError>(&last.error->value);
    ASSERT_NE(app, nullptr);
    EXPECT_TRUE(std::holds_alternative<AppOrchestrationFailed>(app->kind));
    EXPECT_FALSE(app->retryable);
    EXPECT_NE(last.output.find("65537 bytes"), std::string::npos) << last.output;
}

TEST(KvReplay, KeyOverLimitFailsTheOrchestration) {
    KvRun run;
    run.registry.register_orchestration(
        "LongKey", [](OrchestrationContext& ctx, const std::string&) {
            ctx.set_kv_value(std::string(kMaxKvKeyBytes, 'k'), "fits");
            ctx.set_kv_value(std::string(kMaxKvKeyBytes + 1, 'k'), "too long");
            return std::string("not failed");
        });
    const TurnResult last = run.start("LongKey");
    ASSERT_EQ(last.status, ExecutionStatus::Failed);
    EXPECT_NE(last.output.find("a key of 1025 bytes"), std::string::npos) << last.output;
}

TEST(KvReplay, ValueAtLimitIsAccepted) {
    KvRun run;
    run.registry.register_orchestration("Edge", [](OrchestrationContext& ctx, const std::string&) {
        ctx.set_kv_value("edge", std::string(kMaxKvValueBytes, 'x'));
        return std::to_string(ctx.get_kv_value("edge")->size());
    });
    EXPECT_EQ(run.start("Edge").output, std::to_string(kMaxKvValueBytes));
}

TEST(KvReplay, KeyCountLimitCountsSnapshotKeysAndAllowsOverwrites) {
    KvRun run;
    for (std::size_t i = 0; i + 1 < kMaxKvKeys; ++i) {
        run.snapshot["s" + std::to_string(i)] = {"v", 1};
    }
    run.registry.register_orchestration("Many", [](OrchestrationContext& ctx, const std::string&) {
        ctx.set_kv_value("last", "1"); // key 150
        ctx.set_kv_value("last", "2"); // overwrite: still 150
        ctx.set_kv_value("s0", "3");
        ctx.set_kv_value("one-too-many", "x");
        return std::string("not failed");
    });
    const TurnResult last = run.start("Many");
    ASSERT_EQ(last.status, ExecutionStatus::Failed);
    EXPECT_NE(last.output.find("limit of 150 keys"), std::string::npos) << last.output;
    EXPECT_EQ(run.kinds().find("one-too-many"), std::string::npos);
}

TEST(KvReplay, ChangedKvCallsAreNondeterministic) {
    std::string value = "a";
    KvRun run;
    run.registry.register_orchestration("Swap",
                                        [&value](OrchestrationContext& ctx, const std::string&) {
                                            ctx.set_kv_value("k", value);
                                            return ctx.schedule_activity("Echo", "x").value();
                                        });
    run.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                .orchestration = "Swap",
                                                .input = "",
                                                .version = std::nullopt,
                                                .parent_instance = std::nullopt,
                                                .parent_id = std::nullopt,
                                                .execution_id = 1,
                                                .parent_execution_id = std::nullopt}}});
    value = "b"; // the code now writes another value
    const auto execute = std::get<work::ActivityExecute>(run.activities.front().kind);
    const TurnResult result = run.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = execute.id, .result = "x"}}});
    ASSERT_EQ(result.status, ExecutionStatus::Failed);
    ASSERT_TRUE(result.error);
    EXPECT_TRUE(std::holds_alternative<ConfigurationError>(result.error->value));
    EXPECT_NE(result.output.find("set of key k"), std::string::npos) << result.output;
}

TEST(KvReplay, MissingKvCallIsNondeterministic) {
    bool clear = true;
    KvRun run;
    run.registry.register_orchestration("Drop",
                                        [&clear](OrchestrationContext& ctx, const std::string&) {
                                            if (clear) {
                                                ctx.clear_kv_value("k");
                                            }
                                            return ctx.schedule_activity("Echo", "x").value();
                                        });
    run.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                .orchestration = "Drop",
                                                .input = "",
                                                .version = std::nullopt,
                                                .parent_instance = std::nullopt,
                                                .parent_id = std::nullopt,
                                                .execution_id = 1,
                                                .parent_execution_id = std::nullopt}}});
    clear = false;
    const auto execute = std::get<work::ActivityExecute>(run.activities.front().kind);
    const TurnResult result = run.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = execute.id, .result = "x"}}});
    ASSERT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_TRUE(std::holds_alternative<ConfigurationError>(result.error->value));
}

TEST(KvReplay, SystemCallsAreBuiltInActivities) {
    KvRun run;
    run.act = [](const std::string& name, const std::string& input) -> std::string {
        if (name == "__duroxide_syscall:new_guid") {
            return "6f1c2a8e-0000-4000-8000-000000000001";
        }
        if (name == "__duroxide_syscall:utc_now_ms") {
            return "1700000000123";
        }
        EXPECT_EQ(name, "__duroxide_syscall:get_kv_value");
        EXPECT_EQ(input, R"({"instance_id":"other \"1\"","key":"k\u000a"})");
        return R"("v\u00e9\"\\")";
    };
    run.registry.register_orchestration("Sys", [](OrchestrationContext& ctx, const std::string&) {
        const std::string guid = ctx.new_guid().value();
        const auto now = utc_time_point(ctx.utc_now().value());
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        const auto value =
            kv_lookup_value(ctx.get_kv_value_from_instance("other \"1\"", "k\n").value());
        return guid + "|" + std::to_string(ms) + "|" + value.value_or("<none>");
    });
    const TurnResult last = run.start("Sys");
    ASSERT_EQ(last.status, ExecutionStatus::Completed) << last.output;
    EXPECT_EQ(last.output, "6f1c2a8e-0000-4000-8000-000000000001|1700000000123|v\xc3\xa9\"\\");
}

TEST(KvReplay, KvLookupValueDecodesNullStringsAndRejectsOtherJson) {
    EXPECT_EQ(kv_lookup_value("null"), std::nullopt);
    EXPECT_EQ(kv_lookup_value(R"("")"), std::optional<std::string>(""));
    EXPECT_EQ(kv_lookup_value(R"("a\tb\/c")"), std::optional<std::string>("a\tb/c"));
    EXPECT_EQ(kv_lookup_value(R"("\ud83d\ude00")"), std::optional<std::string>("\xf0\x9f\x98\x80"));
    EXPECT_THROW(kv_lookup_value("42"), std::invalid_argument);
    EXPECT_THROW(kv_lookup_value(R"("\u12")"), std::invalid_argument);
}

} // namespace
