// A child reports to the parent execution that scheduled it (parent_execution_id), and a
// parent that has continued as new since ignores completions meant for its older execution.
#include "core/codec/json_codec.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core;

namespace {

struct Family {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};

    Family() {
        // Execution 1 continues as new at once; execution 2 calls a child.
        registry.register_orchestration(
            "Parent", [](OrchestrationContext& ctx, const std::string& input) -> std::string {
                if (input == "1") {
                    ctx.continue_as_new("2");
                }
                return "parent:" + ctx.schedule_sub_orchestration("Child", "x").value();
            });
        // Continues as new once, then completes.
        registry.register_orchestration(
            "Child", [](OrchestrationContext& ctx, const std::string& input) -> std::string {
                if (input == "x") {
                    ctx.continue_as_new("y");
                }
                return "child:" + input;
            });
    }

    TurnResult run(const std::string& instance, uint64_t execution, std::vector<Event>& history,
                   std::vector<WorkItem> messages,
                   std::optional<events::OrchestrationStarted> continued_from = std::nullopt) {
        TurnInput input{instance, execution, history, std::move(messages), 1000};
        input.continued_from = std::move(continued_from);
        TurnResult result = run_turn(registry, stacks, input);
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        return result;
    }
};

template <typename T>
const T& only(const std::vector<WorkItem>& items) {
    const T* found = nullptr;
    for (const auto& item : items) {
        if (auto* match = std::get_if<T>(&item.kind)) {
            EXPECT_EQ(found, nullptr);
            found = match;
        }
    }
    if (found == nullptr) {
        throw std::runtime_error("item not found");
    }
    return *found;
}

} // namespace

TEST(ParentExecution, TheChildReportsTheExecutionThatScheduledIt) {
    Family s;
    // The parent's execution 1 continues as new; execution 2 schedules the child.
    std::vector<Event> parent1, parent2;
    auto ended = s.run("p", 1, parent1,
                       {WorkItem{work::StartOrchestration{.instance = "p",
                                                          .orchestration = "Parent",
                                                          .input = "1",
                                                          .version = std::nullopt,
                                                          .parent_instance = std::nullopt,
                                                          .parent_id = std::nullopt,
                                                          .execution_id = 1,
                                                          .parent_execution_id = std::nullopt}}});
    const auto next = only<work::ContinueAsNew>(ended.orchestrator_items);
    auto scheduled = s.run("p", 2, parent2, {WorkItem{next}});
    const auto start = only<work::StartOrchestration>(scheduled.orchestrator_items);
    EXPECT_EQ(start.instance, "p::sub::2");
    EXPECT_EQ(start.parent_execution_id, 2u);

    // The child keeps its parent link across its own continue-as-new.
    std::vector<Event> child1, child2;
    auto child_ended = s.run("p::sub::2", 1, child1, {WorkItem{start}});
    const auto& child_started = std::get<events::OrchestrationStarted>(child1.front().kind);
    EXPECT_EQ(child_started.parent_execution_id, 2u);
    auto child_done =
        s.run("p::sub::2", 2, child2,
              {WorkItem{only<work::ContinueAsNew>(child_ended.orchestrator_items)}}, child_started);
    EXPECT_EQ(child_done.status, ExecutionStatus::Completed);
    const auto report = only<work::SubOrchCompleted>(child_done.orchestrator_items);
    EXPECT_EQ(report.parent_instance, "p");
    EXPECT_EQ(report.parent_execution_id, 2u);
    EXPECT_EQ(report.parent_id, 2u);
    EXPECT_EQ(report.result, "child:y");

    // A completion meant for the parent's execution 1 changes nothing; the right one completes.
    auto stale = s.run("p", 2, parent2,
                       {WorkItem{work::SubOrchCompleted{.parent_instance = "p",
                                                        .parent_execution_id = 1,
                                                        .parent_id = 2,
                                                        .result = "for the old execution"}}});
    EXPECT_TRUE(stale.history_delta.empty());
    EXPECT_EQ(stale.status, ExecutionStatus::Running);
    auto done = s.run("p", 2, parent2, {WorkItem{report}});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "parent:child:y");
}

TEST(ParentExecution, AStaleFailureIsIgnoredToo) {
    Family s;
    std::vector<Event> parent1, parent2;
    auto ended = s.run("p", 1, parent1,
                       {WorkItem{work::StartOrchestration{.instance = "p",
                                                          .orchestration = "Parent",
                                                          .input = "1",
                                                          .version = std::nullopt,
                                                          .parent_instance = std::nullopt,
                                                          .parent_id = std::nullopt,
                                                          .execution_id = 1,
                                                          .parent_execution_id = std::nullopt}}});
    s.run("p", 2, parent2, {WorkItem{only<work::ContinueAsNew>(ended.orchestrator_items)}});
    auto stale = s.run(
        "p", 2, parent2,
        {WorkItem{work::SubOrchFailed{.parent_instance = "p",
                                      .parent_execution_id = 1,
                                      .parent_id = 2,
                                      .details = ErrorDetails::orchestration_failed("old")}}});
    EXPECT_TRUE(stale.history_delta.empty());
    EXPECT_EQ(stale.status, ExecutionStatus::Running);
}

TEST(ParentExecution, TheExtensionFieldsSurviveTheCodecAndAreAbsentWhenUnset) {
    const WorkItem start{work::StartOrchestration{.instance = "c",
                                                  .orchestration = "Child",
                                                  .input = "x",
                                                  .version = std::nullopt,
                                                  .parent_instance = "p",
                                                  .parent_id = 2,
                                                  .execution_id = 1,
                                                  .parent_execution_id = 3}};
    const std::string json = codec::encode(start);
    EXPECT_NE(json.find("\"parent_execution_id\":3"), std::string::npos) << json;
    EXPECT_EQ(codec::decode_work_item(json), start);
    const WorkItem plain{work::StartOrchestration{.instance = "c",
                                                  .orchestration = "Child",
                                                  .input = "x",
                                                  .version = std::nullopt,
                                                  .parent_instance = std::nullopt,
                                                  .parent_id = std::nullopt,
                                                  .execution_id = 1,
                                                  .parent_execution_id = std::nullopt}};
    EXPECT_EQ(codec::encode(plain).find("parent_execution_id"), std::string::npos);

    Event started{1,
                  std::nullopt,
                  "c",
                  1,
                  5,
                  "0.1.29",
                  events::OrchestrationStarted{.name = "Child",
                                               .version = "1.0.0",
                                               .input = "x",
                                               .parent_instance = "p",
                                               .parent_id = 2,
                                               .carry_forward_events = std::nullopt,
                                               .initial_custom_status = std::nullopt,
                                               .parent_execution_id = 3,
                                               .open_sessions = std::nullopt}};
    EXPECT_EQ(codec::decode_event(codec::encode(started)), started);
}
