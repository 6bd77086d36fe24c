// wait_for_schedule {"cron": ..., "timezone"?: ...}: validated at define time; at run time the
// next fire time comes from a system activity (recorded), then the recorded clock and one
// timer, so replay never recomputes the fire time.
#include "memory_runtime.hpp"

#include "core/schedule/cron.hpp"
#include "core/workflow/definition.hpp"
#include "core/workflow/interpreter.hpp"
#include "core/workflow/json.hpp"
#include "core/workflow/progress.hpp"
#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core::workflow;
using duroxide::testing::MemoryRuntime;

namespace {

std::string definition_error(const std::string& text) {
    try {
        (void)parse_definition_text(text);
    } catch (const DefinitionError& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(WorkflowSchedule, DefinitionsAreValidated) {
    EXPECT_EQ(definition_error(R"({"kind":"wait_for_schedule","cron":"0 9 * * MON-FRI",
                                   "timezone":"Europe/Paris","as":"fired"})"),
              "(accepted)");
    EXPECT_EQ(definition_error(R"({"kind":"wait_for_schedule","cron":"@hourly","timezone":null})"),
              "(accepted)");
    EXPECT_EQ(definition_error(R"({"kind":"seq","steps":[
                                   {"kind":"wait_for_schedule","cron":"61 * * * *"}]})"),
              "$.steps[0].cron: bad cron expression: minute field \"61\": 61 is out of range 0-59");
    EXPECT_EQ(definition_error(R"({"kind":"wait_for_schedule"})"), "$: missing field \"cron\"");
    EXPECT_EQ(definition_error(R"({"kind":"wait_for_schedule","cron":5})"),
              "$.cron: must be a string, not number");
    EXPECT_EQ(definition_error(R"({"kind":"wait_for_schedule","cron":"* * * *"})"),
              "$.cron: bad cron expression: a cron expression has 5 fields (minute hour "
              "day-of-month month day-of-week), not 4");
    EXPECT_EQ(definition_error(R"({"kind":"wait_for_schedule","cron":"* * * * *",
                                   "timezone":"Paris; DROP"})"),
              "$.timezone: \"Paris; DROP\" is not a time zone name (such as \"Europe/Paris\" or "
              "\"UTC\")");
    EXPECT_EQ(definition_error(R"({"kind":"wait_for_schedule","cron":"* * * * *","every":1})"),
              "$.every: unknown field of a wait_for_schedule node");
}

class WaitForScheduleTest : public ::testing::Test {
protected:
    void SetUp() override {
        rt.orchestrations.register_orchestration(
            std::string(kWorkflowOrchestration),
            [](OrchestrationContext& ctx, const std::string& in) { return run_workflow(ctx, in); });
        rt.activities.register_system_activity(
            std::string(OrchestrationContext::kSystemUtcNowMs),
            [this](ActivityContext&, const std::string&) { return std::to_string(rt.now_ms); });
        // UTC only here (zones are PostgreSQL's, tested in sql/workflow_schedule.sql). Each
        // call moves `shift` on, so a recomputation on replay would show.
        rt.activities.register_system_activity(
            std::string(kWorkflowScheduleActivity),
            [this](ActivityContext&, const std::string& input) {
                ++calls;
                inputs.push_back(input);
                const Json call = Json::parse(input);
                const auto cron =
                    core::schedule::CronSchedule::parse(call.find("cron")->as_string());
                const std::int64_t at =
                    *cron.next_after_utc_ms(static_cast<std::int64_t>(rt.now_ms) + shift * calls);
                return R"({"fire_at_ms":)" + std::to_string(at) + "}";
            });
    }
    MemoryRuntime rt;
    int calls = 0;
    std::int64_t shift = 0;
    std::vector<std::string> inputs;
};

TEST_F(WaitForScheduleTest, SleepsUntilTheRecordedFireTime) {
    // The virtual clock starts at 1'000'000 ms (00:16:40 UTC): every 5 minutes -> 00:20:00.
    rt.start("cron", std::string(kWorkflowOrchestration),
             R"({"workflow":"w","version":"1.0.0","definition":{"kind":"seq","steps":[
                 {"kind":"wait_for_schedule","cron":"*/5 * * * *","as":"tick"},
                 {"kind":"return","value":"$steps.tick.fire_at_ms"}]},"input":null})");
    const auto& done = rt.finish("cron");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "1200000");
    EXPECT_EQ(rt.shape("cron"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                "3 ActivityCompleted<2, 4 ActivityScheduled, "
                                "5 ActivityCompleted<4, 6 TimerCreated, 7 TimerFired<6, "
                                "8 OrchestrationCompleted");
    const auto& history = rt.instances.at("cron").current().history;
    const auto* timer = std::get_if<core::events::TimerCreated>(&history[5].kind);
    ASSERT_NE(timer, nullptr);
    EXPECT_EQ(timer->fire_at_ms, 1'200'000u);
    EXPECT_EQ(calls, 1);
    ASSERT_EQ(inputs.size(), 1u);
    EXPECT_EQ(inputs[0], R"({"cron":"*/5 * * * *","timezone":null})");
}

TEST_F(WaitForScheduleTest, ReplayUsesTheRecordedFireTimeNotANewOne) {
    // A loop of two waits: every later turn replays the first wait; were its fire time
    // recomputed, the shifting activity would give another and the history would not match.
    shift = 10 * 60 * 1000;
    rt.start("twice", std::string(kWorkflowOrchestration),
             R"({"workflow":"w","version":"1.0.0","definition":{"kind":"seq","steps":[
                 {"kind":"wait_for_schedule","cron":"*/5 * * * *","timezone":"UTC","as":"a"},
                 {"kind":"wait_for_schedule","cron":"*/5 * * * *","as":"b"},
                 {"kind":"return","value":["$steps.a.fire_at_ms","$steps.b.fire_at_ms"]}]},
                 "input":null})");
    const auto& done = rt.finish("twice");
    EXPECT_EQ(done.status, "Completed");
    // First: after 00:16:40 + 10 min -> 00:30:00; second (at 00:30:00) after + 20 min -> 00:55.
    EXPECT_EQ(done.output, "[1800000,3300000]");
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(inputs[0], R"({"cron":"*/5 * * * *","timezone":"UTC"})");
}

TEST_F(WaitForScheduleTest, ProgressShowsTheNodeWaitingThenDone) {
    rt.start("p", std::string(kWorkflowOrchestration),
             R"({"workflow":"w","version":"1.0.0","definition":{"kind":"seq","steps":[
                 {"kind":"wait_for_schedule","cron":"0 * * * *"}]},"input":null})");
    rt.finish("p");
    const auto& history = rt.instances.at("p").current().history;
    const Json rows = workflow_progress(history);
    ASSERT_EQ(rows.as_array().size(), 2u);
    const Json& node = rows.as_array()[1];
    EXPECT_EQ(node.find("kind")->as_string(), "wait_for_schedule");
    EXPECT_EQ(node.find("state")->as_string(), "done");
    EXPECT_EQ(node.find("attempts")->as_int(), 1);
    EXPECT_EQ(node.find("finished_ms")->as_int(), 3'600'000);
}

} // namespace
