// sleep {"until": expr}: a timestamp from data (ISO-8601 text or Unix ms), validated at define
// time and at run time, slept with the recorded clock and one timer.
#include "memory_runtime.hpp"

#include "core/workflow/definition.hpp"
#include "core/workflow/interpreter.hpp"
#include "core/workflow/json.hpp"
#include "core/workflow/timestamp.hpp"
#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core::workflow;
using duroxide::testing::MemoryRuntime;

namespace {

TEST(WorkflowTimestamp, ParsesIso8601AndEpochMilliseconds) {
    EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_iso8601_ms("1970-01-01"), 0);
    EXPECT_EQ(parse_iso8601_ms("2000-03-01T00:00:00Z"), 951868800000);
    // PostgreSQL's JSON form of a timestamptz, with a fraction and an offset.
    EXPECT_EQ(parse_iso8601_ms("2026-12-24T18:00:00.25+01:00"), 1798131600250);
    EXPECT_EQ(parse_iso8601_ms("2026-12-24 17:00:00.25"), 1798131600250);
    EXPECT_EQ(parse_iso8601_ms("2026-12-24T12:30-04:30"), 1798131600000);
    EXPECT_EQ(parse_iso8601_ms("2024-02-29T00:00:00Z"), 1709164800000);
    for (const char* bad : {"", "tomorrow", "2026-13-01", "2025-02-29", "2026-12-24T24:00",
                            "2026-12-24T10:00:00+", "2026-12-24T10:00:00Zjunk", "2026-1-1"}) {
        EXPECT_EQ(parse_iso8601_ms(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(timestamp_ms(Json(std::int64_t{1234})), 1234);
    EXPECT_EQ(timestamp_ms(Json(1234.6)), 1235);
    EXPECT_EQ(timestamp_ms(Json(true)), std::nullopt);
    EXPECT_EQ(timestamp_ms(Json()), std::nullopt);
}

TEST(WorkflowTimestamp, DefinitionsAreValidated) {
    EXPECT_NO_THROW(parse_definition_text(R"({"kind":"sleep","until":"$input.due"})"));
    EXPECT_THROW(parse_definition_text(R"({"kind":"sleep","until":"$input.due","duration":"1 s"})"),
                 DefinitionError);
    EXPECT_THROW(parse_definition_text(R"({"kind":"sleep","until":"$steps.nothing.due"})"),
                 DefinitionError);
    EXPECT_THROW(parse_definition_text(R"({"kind":"sleep","until":42})"), DefinitionError);
    EXPECT_THROW(parse_definition_text(R"({"kind":"sleep"})"), DefinitionError);
}

class SleepUntilTest : public ::testing::Test {
protected:
    void SetUp() override {
        rt.orchestrations.register_orchestration(
            std::string(kWorkflowOrchestration),
            [](OrchestrationContext& ctx, const std::string& in) { return run_workflow(ctx, in); });
        rt.activities.register_system_activity(
            std::string(OrchestrationContext::kSystemUtcNowMs),
            [this](ActivityContext&, const std::string&) { return std::to_string(rt.now_ms); });
    }
    void start(const std::string& instance, const std::string& input) {
        rt.start(instance, std::string(kWorkflowOrchestration),
                 R"({"workflow":"w","version":"1.0.0","definition":{"kind":"seq","steps":[
                     {"kind":"sleep","until":"$input.due"},
                     {"kind":"return","value":"woke"}]},"input":)" +
                     input + "}");
    }
    MemoryRuntime rt;
};

TEST_F(SleepUntilTest, SleepsUntilTheTimestampFromData) {
    const std::uint64_t began = rt.now_ms;             // virtual clock
    start("iso", R"({"due":"1970-01-01T00:16:50Z"})"); // 1'010'000 ms: 10 s after start
    const auto& done = rt.finish("iso");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, R"("woke")");
    EXPECT_EQ(rt.shape("iso"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                               "3 ActivityCompleted<2, 4 TimerCreated, 5 TimerFired<4, "
                               "6 OrchestrationCompleted");
    EXPECT_GE(rt.now_ms, began + 10'000);
    const auto& history = rt.instances.at("iso").current().history;
    const auto* timer = std::get_if<core::events::TimerCreated>(&history[3].kind);
    ASSERT_NE(timer, nullptr);
    EXPECT_EQ(timer->fire_at_ms, 1'010'000u);
}

TEST_F(SleepUntilTest, EpochMillisecondsAndAPastTimeDoNotWait) {
    start("past", R"({"due":5})");
    const auto& done = rt.finish("past");
    EXPECT_EQ(done.status, "Completed");
    const auto& history = rt.instances.at("past").current().history;
    const auto* timer = std::get_if<core::events::TimerCreated>(&history[3].kind);
    ASSERT_NE(timer, nullptr);
    // Due long ago (5 ms after the epoch): the timer fires when the clock was read.
    const auto* clock = std::get_if<core::events::ActivityCompleted>(&history[2].kind);
    ASSERT_NE(clock, nullptr);
    const std::uint64_t read_at = std::stoull(clock->result);
    EXPECT_GE(timer->fire_at_ms, read_at);
    EXPECT_LT(timer->fire_at_ms, read_at + 1000);
}

TEST_F(SleepUntilTest, ANonTimestampFailsTheWorkflowAtTheNode) {
    start("bad", R"({"due":"next tuesday"})");
    const auto& done = rt.finish("bad");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_NE(done.output.find("not a timestamp"), std::string::npos) << done.output;
}

} // namespace
