// schedule_activity_with_retry stops at a failure marked non-retryable (an SQL activity's
// SQLSTATE DX001, or a plugin activity's message starting with kNonRetryablePrefix).
#include "memory_runtime.hpp"

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <memory>

using namespace duroxide;
using duroxide::testing::MemoryRuntime;
using std::chrono::milliseconds;

namespace {

void register_retry(MemoryRuntime& rt, std::shared_ptr<int> calls, std::string error) {
    rt.activities.register_activity(
        "Refuses", [calls, error](ActivityContext&, const std::string&) -> std::string {
            ++*calls;
            throw std::runtime_error(error);
        });
    rt.orchestrations.register_orchestration(
        "Retry", [](OrchestrationContext& ctx, const std::string&) {
            RetryPolicy policy(3);
            policy.with_backoff(BackoffStrategy{FixedBackoff{milliseconds(10)}});
            return ctx.schedule_activity_with_retry("Refuses", "", policy).value();
        });
}

} // namespace

TEST(NonRetryable, MarkedFailureIsNotRetried) {
    MemoryRuntime rt;
    auto calls = std::make_shared<int>(0);
    register_retry(rt, calls, "non-retryable: card declined");
    rt.start("declined", "Retry", "");
    const auto& done = rt.finish("declined");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(done.output, "non-retryable: card declined");
    EXPECT_EQ(*calls, 1);
    EXPECT_EQ(rt.shape("declined"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, "
              "4 OrchestrationFailed");
}

TEST(NonRetryable, OrdinaryFailureIsRetried) {
    MemoryRuntime rt;
    auto calls = std::make_shared<int>(0);
    register_retry(rt, calls, "card service unavailable");
    rt.start("flaky", "Retry", "");
    EXPECT_EQ(rt.finish("flaky").status, "Failed");
    EXPECT_EQ(*calls, 3);
}

TEST(NonRetryable, Predicate) {
    EXPECT_TRUE(is_non_retryable(Outcome::failure("non-retryable: x")));
    EXPECT_FALSE(is_non_retryable(Outcome::failure("x non-retryable: ")));
    EXPECT_FALSE(is_non_retryable(Outcome::success("non-retryable: x")));
}
