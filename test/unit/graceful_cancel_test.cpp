// Graceful cancellation (OrchestrationContext::cancellation_requested, duroxide.cancel_instance
// with a grace period) on the in-memory runtime: exact histories of an orchestration that
// compensates and ends cancelled, of one that ignores the request and is forced at the
// deadline, and of one that never opted in and is cancelled at once.
#include "memory_runtime.hpp"

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using duroxide::testing::MemoryRuntime;

namespace {

struct GracefulCancel : ::testing::Test {
    MemoryRuntime rt;

    void SetUp() override {
        auto& a = rt.activities;
        a.register_activity("Charge",
                            [](ActivityContext&, const std::string& s) { return "charged:" + s; });
        a.register_activity("Refund",
                            [](ActivityContext&, const std::string& s) { return "refunded:" + s; });
        auto& o = rt.orchestrations;
        // Charges, then waits for shipping approval or a cancellation; on cancellation it
        // refunds and ends cancelled.
        o.register_orchestration("Order", [](OrchestrationContext& ctx, const std::string& in) {
            const DurableFuture cancel = ctx.cancellation_requested();
            ctx.schedule_activity("Charge", in).value();
            const DurableFuture race[] = {ctx.schedule_wait("Ship"), cancel};
            if (ctx.select(race) == 1) {
                ctx.schedule_activity("Refund", in).value();
                throw OrchestrationCancelled(cancel.value());
            }
            return std::string("shipped");
        });
        // Opts in but never looks again: forced when the grace period is over.
        o.register_orchestration("Stubborn", [](OrchestrationContext& ctx, const std::string&) {
            ctx.cancellation_requested();
            return ctx.schedule_wait("Never").value();
        });
        o.register_orchestration("Plain", [](OrchestrationContext& ctx, const std::string&) {
            return ctx.schedule_wait("Never").value();
        });
    }
};

TEST_F(GracefulCancel, TheOrchestrationCompensatesAndEndsCancelled) {
    rt.start("o", "Order", "42");
    rt.run();
    rt.cancel_gracefully("o", "customer asked", 60'000);
    const auto& done = rt.finish("o");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(done.output, "canceled: customer asked");
    ASSERT_TRUE(done.error.has_value());
    EXPECT_EQ(*done.error, core::ErrorDetails::cancelled("customer asked"));
    EXPECT_EQ(rt.shape("o"),
              "1 OrchestrationStarted, 2 ExternalSubscribedPersistent, 3 ActivityScheduled, "
              "4 ActivityCompleted<3, 5 ExternalSubscribed, 6 ExternalEventPersistent, "
              "7 ExternalSubscribedCancelled<5, 8 ActivityScheduled, 9 ActivityCompleted<8, "
              "10 OrchestrationFailed");
    // The deadline's forced cancel finds the instance finished and changes nothing.
    rt.run();
    EXPECT_EQ(rt.shape("o").substr(rt.shape("o").rfind(", ") + 2), "10 OrchestrationFailed");
}

TEST_F(GracefulCancel, IgnoringTheRequestIsForcedAtTheDeadline) {
    rt.start("s", "Stubborn", "");
    rt.run();
    const uint64_t asked_at = rt.now_ms;
    rt.cancel_gracefully("s", "shutting down", 5'000);
    rt.run([&] { return rt.now_ms >= asked_at + 4'999 || rt.is_finished("s"); }, 4'999);
    EXPECT_FALSE(rt.is_finished("s")); // still in its grace period
    const auto& done = rt.finish("s");
    EXPECT_EQ(rt.now_ms, asked_at + 5'000);
    EXPECT_EQ(done.output, "canceled: shutting down");
    EXPECT_EQ(rt.shape("s"), "1 OrchestrationStarted, 2 ExternalSubscribedPersistent, "
                             "3 ExternalSubscribed, 4 ExternalEventPersistent, "
                             "5 OrchestrationCancelRequested, "
                             "6 ExternalSubscribedCancelled<3, 7 OrchestrationFailed");
}

TEST_F(GracefulCancel, AnOrchestrationThatDidNotOptInIsCancelledAtOnce) {
    rt.start("p", "Plain", "");
    rt.run();
    const uint64_t asked_at = rt.now_ms;
    rt.cancel_gracefully("p", "now", 60'000);
    const auto& done = rt.finish("p");
    EXPECT_EQ(rt.now_ms, asked_at);
    EXPECT_EQ(done.output, "canceled: now");
    EXPECT_EQ(rt.shape("p"), "1 OrchestrationStarted, 2 ExternalSubscribed, "
                             "3 OrchestrationCancelRequested, 4 ExternalSubscribedCancelled<2, "
                             "5 OrchestrationFailed");
}

} // namespace
