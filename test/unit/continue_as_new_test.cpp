// Continue-as-new carry-forward (reference §1.6, §4.12): queue messages no dequeue took and the
// custom status go to the next execution, which takes the messages first, in their order.
#include "core/model/limits.hpp"
#include "core/replay/turn.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace duroxide;
using namespace duroxide::core;
using std::chrono::milliseconds;

namespace {

struct Execution {
    const OrchestrationRegistry* registry;
    StackPool* stacks;
    uint64_t execution_id;
    std::vector<Event> history;

    TurnResult turn(std::vector<WorkItem> messages) {
        TurnInput input{"inst", execution_id, history, std::move(messages), 1000};
        TurnResult result = run_turn(*registry, *stacks, input);
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        return result;
    }
};

WorkItem message(const std::string& queue, const std::string& data) {
    return WorkItem{work::QueueMessage{.instance = "inst", .name = queue, .data = data}};
}

const work::ContinueAsNew& continued(const TurnResult& result) {
    for (const auto& item : result.orchestrator_items) {
        if (auto* next = std::get_if<work::ContinueAsNew>(&item.kind)) {
            return *next;
        }
    }
    throw std::runtime_error("no ContinueAsNew item");
}

// Execution 1 (input "1") takes one message of Q and continues; execution 2 takes three
// messages of Q and one of R and reports its custom status.
std::string carrier(OrchestrationContext& ctx, const std::string& input) {
    if (input == "1") {
        const std::string first = ctx.dequeue_event("Q").value();
        ctx.set_custom_status("took " + first);
        ctx.schedule_timer(milliseconds(10)).get();
        ctx.continue_as_new("2");
    }
    std::string out;
    for (int i = 0; i < 3; ++i) {
        out += ctx.dequeue_event("Q").value() + ",";
    }
    out += ctx.dequeue_event("R").value();
    return out + " / " + ctx.get_custom_status().value_or("none");
}

} // namespace

TEST(ContinueAsNew, UnconsumedMessagesAndTheCustomStatusAreCarriedInOrder) {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    registry.register_orchestration("Carrier", carrier);
    Execution first{&registry, &stacks, 1, {}};
    auto started =
        first.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                      .orchestration = "Carrier",
                                                      .input = "1",
                                                      .version = std::nullopt,
                                                      .parent_instance = std::nullopt,
                                                      .parent_id = std::nullopt,
                                                      .execution_id = 1,
                                                      .parent_execution_id = std::nullopt}},
                    message("Q", "a")});
    const WorkItem timer = started.orchestrator_items.at(0);
    first.turn({message("Q", "b"), message("R", "r1"), message("Q", "c")});
    auto ended = first.turn({timer});
    ASSERT_EQ(ended.status, ExecutionStatus::ContinuedAsNew);
    const work::ContinueAsNew& next = continued(ended);
    EXPECT_EQ(next.carry_forward_events, (CarryForwardEvents{{"Q", "b"}, {"R", "r1"}, {"Q", "c"}}));
    EXPECT_EQ(next.initial_custom_status, "took a");

    // Execution 2 starts from the ContinueAsNew item; a message sent meanwhile comes after
    // the carried ones.
    Execution second{&registry, &stacks, 2, {}};
    auto result = second.turn({WorkItem{next}, message("Q", "d")});
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(result.output, "b,c,d,r1 / took a");
    const auto& begin = std::get<events::OrchestrationStarted>(second.history.at(0).kind);
    EXPECT_EQ(begin.carry_forward_events, next.carry_forward_events);
    EXPECT_EQ(begin.initial_custom_status, "took a");
    std::vector<std::string> delivered;
    for (std::size_t i = 1; i <= 4; ++i) {
        const auto& event = std::get<events::QueueEventDelivered>(second.history.at(i).kind);
        delivered.push_back(event.name + ":" + event.data);
    }
    EXPECT_EQ(delivered, (std::vector<std::string>{"Q:b", "R:r1", "Q:c", "Q:d"}));

    // Replaying execution 2 from its history decides the same, and nothing new.
    TurnInput replay{"inst", 2, second.history, {}, 2000};
    auto again = run_turn(registry, stacks, replay);
    EXPECT_TRUE(again.history_delta.empty());
}

TEST(ContinueAsNew, AtMostTheOldestHundredMessagesAreCarried) {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    registry.register_orchestration(
        "Hoarder", [](OrchestrationContext& ctx, const std::string&) -> std::string {
            ctx.schedule_timer(milliseconds(10)).get();
            ctx.continue_as_new("again");
            return std::string(); // not reached
        });
    Execution run{&registry, &stacks, 1, {}};
    auto started =
        run.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                    .orchestration = "Hoarder",
                                                    .input = "",
                                                    .version = std::nullopt,
                                                    .parent_instance = std::nullopt,
                                                    .parent_id = std::nullopt,
                                                    .execution_id = 1,
                                                    .parent_execution_id = std::nullopt}}});
    std::vector<WorkItem> flood;
    for (int i = 0; i < 150; ++i) {
        flood.push_back(message("Q", std::to_string(i)));
    }
    run.turn(flood);
    auto ended = run.turn({started.orchestrator_items.at(0)});
    const auto& carried = continued(ended).carry_forward_events;
    ASSERT_EQ(carried.size(), kMaxCarryForwardEvents);
    EXPECT_EQ(carried.front().second, "0");
    EXPECT_EQ(carried.back().second, "99");
}

TEST(ContinueAsNew, AMessageACancelledDequeueDidNotTakeIsCarried) {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    registry.register_orchestration(
        "GiveUp", [](OrchestrationContext& ctx, const std::string&) -> std::string {
            const DurableFuture race[] = {ctx.dequeue_event("Q"),
                                          ctx.schedule_timer(milliseconds(10))};
            ctx.select(race); // the timer wins: the dequeue is cancelled
            ctx.schedule_timer(milliseconds(10)).get();
            ctx.continue_as_new("next");
            return std::string(); // not reached
        });
    Execution run{&registry, &stacks, 1, {}};
    auto started =
        run.turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                    .orchestration = "GiveUp",
                                                    .input = "",
                                                    .version = std::nullopt,
                                                    .parent_instance = std::nullopt,
                                                    .parent_id = std::nullopt,
                                                    .execution_id = 1,
                                                    .parent_execution_id = std::nullopt}}});
    auto fired = run.turn({started.orchestrator_items.at(0)}); // the race timer
    run.turn({message("Q", "late")});
    auto ended = run.turn({fired.orchestrator_items.at(0)});
    ASSERT_EQ(ended.status, ExecutionStatus::ContinuedAsNew);
    EXPECT_EQ(continued(ended).carry_forward_events, (CarryForwardEvents{{"Q", "late"}}));
    EXPECT_FALSE(continued(ended).initial_custom_status.has_value());
}
