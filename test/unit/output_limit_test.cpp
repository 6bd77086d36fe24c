// Outputs over duroxide.max_payload_size (issue 18, defect 8): an orchestration that would end
// with a larger output (or continue as new with a larger input) fails instead, and so does an
// activity that returns one; the message gives the size and the limit.
#include "core/engine/activity_runner.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core;

namespace {

struct Limits : ::testing::Test {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};

    void SetUp() override {
        registry.register_orchestration(
            "Echo", [](OrchestrationContext&, const std::string& in) { return in; });
        registry.register_orchestration(
            "Again", [](OrchestrationContext& ctx, const std::string& in) -> std::string {
                ctx.continue_as_new(in + in);
                return "";
            });
    }

    TurnResult start(const std::string& name, const std::string& input, std::size_t limit) {
        TurnInput turn{"i",
                       1,
                       {},
                       {{work::StartOrchestration{.instance = "i",
                                                  .orchestration = name,
                                                  .input = input,
                                                  .version = std::nullopt,
                                                  .parent_instance = std::nullopt,
                                                  .parent_id = std::nullopt,
                                                  .execution_id = 1,
                                                  .parent_execution_id = std::nullopt}}},
                       1000};
        turn.max_output_bytes = limit;
        return run_turn(registry, stacks, turn);
    }
};

std::string types(const TurnResult& result) {
    std::string out;
    for (const Event& event : result.history_delta) {
        out += (out.empty() ? "" : ", ") + std::string(event.type_name());
    }
    return out;
}

TEST_F(Limits, OutputAtTheLimitCompletes) {
    const TurnResult result = start("Echo", std::string(100, 'x'), 100);
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(result.output, std::string(100, 'x'));
}

TEST_F(Limits, LargerOutputFailsTheOrchestration) {
    const TurnResult result = start("Echo", std::string(101, 'x'), 100);
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output, "output of orchestration \"Echo\" is too large (101 bytes, the limit "
                             "is 100 bytes, duroxide.max_payload_size)");
    ASSERT_TRUE(result.error);
    EXPECT_STREQ(result.error->category(), "application");
    EXPECT_EQ(types(result), "OrchestrationStarted, OrchestrationFailed");
}

TEST_F(Limits, NoLimitWhenZero) {
    EXPECT_EQ(start("Echo", std::string(5000, 'x'), 0).status, ExecutionStatus::Completed);
}

TEST_F(Limits, LargerContinueAsNewInputFailsTheOrchestration) {
    const TurnResult result = start("Again", std::string(60, 'x'), 100);
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output, "output of orchestration \"Again\" is too large (120 bytes, the limit "
                             "is 100 bytes, duroxide.max_payload_size)");
    EXPECT_EQ(types(result), "OrchestrationStarted, OrchestrationFailed");
}

TEST(ActivityLimits, LargerActivityOutputFailsTheActivity) {
    const ActivityFn big = [](ActivityContext&, const std::string& in) {
        return std::string(std::stoul(in), 'y');
    };
    ActivityEnvironment environment;
    environment.max_output_bytes = 10;
    const work::ActivityExecute fits{.instance = "i",
                                     .execution_id = 1,
                                     .id = 2,
                                     .name = "Big",
                                     .input = "10",
                                     .session_id = std::nullopt,
                                     .tag = std::nullopt};
    const work::ActivityExecute over{.instance = "i",
                                     .execution_id = 1,
                                     .id = 3,
                                     .name = "Big",
                                     .input = "11",
                                     .session_id = std::nullopt,
                                     .tag = std::nullopt};
    const WorkItem ok = run_activity(big, fits, environment);
    ASSERT_TRUE(std::holds_alternative<work::ActivityCompleted>(ok.kind));
    EXPECT_EQ(std::get<work::ActivityCompleted>(ok.kind).result, "yyyyyyyyyy");
    const WorkItem failed = run_activity(big, over, environment);
    ASSERT_TRUE(std::holds_alternative<work::ActivityFailed>(failed.kind));
    EXPECT_EQ(std::get<work::ActivityFailed>(failed.kind).details.display_message(),
              "output of activity \"Big\" is too large (11 bytes, the limit is 10 bytes, "
              "duroxide.max_payload_size)");
}

} // namespace
