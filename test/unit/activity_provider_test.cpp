// The activity half of the provider contract over the in-memory provider: the exactly-once
// path (complete_and_ack_work_item: what the completion's code writes stands only with the
// ack) and the batched ack (in_one_commit: a worker's completions commit together or not at
// all), the two operations the PostgreSQL worker's SQL activities and batches rely on.
#include "memory_provider.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using core::provider::ActivityItem;
using core::provider::LeaseLost;
using duroxide::testing::MemoryProvider;

namespace {

core::work::ActivityExecute activity(const std::string& instance, uint64_t id) {
    return {.instance = instance,
            .execution_id = 1,
            .id = id,
            .name = "Work",
            .input = "in",
            .session_id = std::nullopt,
            .tag = std::nullopt};
}

core::WorkItem completed(const ActivityItem& item, const std::string& result) {
    return core::WorkItem{core::work::ActivityCompleted{.instance = item.item.instance,
                                                        .execution_id = item.item.execution_id,
                                                        .id = item.item.id,
                                                        .result = result}};
}

// What an activity's code writes to the store beside its completion (an SQL activity's rows).
core::WorkItem side_effect(const std::string& instance) {
    return core::WorkItem{core::work::ExternalRaised{
        .instance = instance, .name = "written-by-the-activity", .data = "row"}};
}

} // namespace

TEST(ActivityProvider, CompleteAndAckCommitsTheActivitysWritesWithItsCompletion) {
    MemoryProvider provider;
    provider.queue_activity(activity("a", 2));
    const auto item = provider.fetch_work_item(core::TagFilter{});
    ASSERT_TRUE(item);
    provider.complete_and_ack_work_item(*item, [&] {
        provider.enqueue(side_effect("a"));
        return completed(*item, "done");
    });
    EXPECT_EQ(provider.worker_queue_size(), 0u);
    EXPECT_EQ(provider.orchestrator_queue_size(), 2u); // the write and the completion
}

TEST(ActivityProvider, CompleteAndAckWithALostLeaseLeavesNothingWritten) {
    MemoryProvider provider;
    provider.queue_activity(activity("a", 2));
    const auto stale = provider.fetch_work_item(core::TagFilter{});
    ASSERT_TRUE(stale);
    ASSERT_TRUE(provider.abandon_work_item(*stale, 0, false)); // taken over by another fetch
    const auto current = provider.fetch_work_item(core::TagFilter{});
    ASSERT_TRUE(current);
    bool ran = false;
    EXPECT_THROW(provider.complete_and_ack_work_item(*stale,
                                                     [&] {
                                                         ran = true;
                                                         provider.enqueue(side_effect("a"));
                                                         return completed(*stale, "stale");
                                                     }),
                 LeaseLost);
    EXPECT_TRUE(ran);
    EXPECT_EQ(provider.orchestrator_queue_size(), 0u); // its write went with the failed ack
    EXPECT_EQ(provider.worker_queue_size(), 1u);
    provider.ack_work_item(*current, completed(*current, "current")); // still the new lease's
    EXPECT_EQ(provider.worker_queue_size(), 0u);
    EXPECT_EQ(provider.orchestrator_queue_size(), 1u);
}

TEST(ActivityProvider, CompleteAndAckThatFailsToCompleteLeavesTheLeaseAsItWas) {
    MemoryProvider provider;
    provider.queue_activity(activity("a", 2));
    const auto item = provider.fetch_work_item(core::TagFilter{});
    ASSERT_TRUE(item);
    EXPECT_THROW(provider.complete_and_ack_work_item(*item,
                                                     [&]() -> core::WorkItem {
                                                         provider.enqueue(side_effect("a"));
                                                         throw std::runtime_error("gone");
                                                     }),
                 std::runtime_error);
    EXPECT_EQ(provider.orchestrator_queue_size(), 0u);
    EXPECT_TRUE(provider.abandon_work_item(*item, 0, false)); // still leased to the caller
}

TEST(ActivityProvider, ABatchOfAcksCommitsTogetherOrNotAtAll) {
    MemoryProvider provider;
    provider.queue_activity(activity("a", 2));
    provider.queue_activity(activity("b", 2));
    const auto a = provider.fetch_work_item(core::TagFilter{});
    const auto b = provider.fetch_work_item(core::TagFilter{});
    ASSERT_TRUE(a && b);
    ActivityItem stale_b = *b;
    stale_b.lock_token = "not-the-lease";
    EXPECT_THROW(provider.in_one_commit([&] {
        provider.ack_work_item(*a, completed(*a, "a"));
        provider.ack_work_item(stale_b, completed(stale_b, "b"));
    }),
                 LeaseLost);
    EXPECT_EQ(provider.worker_queue_size(), 2u); // a's ack was taken back with b's failure
    EXPECT_EQ(provider.orchestrator_queue_size(), 0u);

    provider.in_one_commit([&] {
        provider.ack_work_item(*a, completed(*a, "a"));
        provider.complete_and_ack_work_item(*b, [&] { return completed(*b, "b"); });
    });
    EXPECT_EQ(provider.worker_queue_size(), 0u);
    EXPECT_EQ(provider.orchestrator_queue_size(), 2u);
}
