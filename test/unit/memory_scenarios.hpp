// The scenario fixture of the in-memory runtime tests: sample activities and orchestrations
// registered on a MemoryRuntime (the real dispatcher over the in-memory provider).
#pragma once

#include "memory_runtime.hpp"

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace duroxide::testing {

using std::chrono::milliseconds;

inline void register_samples(MemoryRuntime& rt) {
    auto& a = rt.activities;
    a.register_activity(
        "Hello", [](ActivityContext&, const std::string& name) { return "Hello, " + name + "!"; });
    a.register_activity("Append", [](ActivityContext&, const std::string& s) { return s + "x"; });
    a.register_activity("Fail", [](ActivityContext&, const std::string& message) -> std::string {
        throw std::runtime_error(message);
    });
    a.register_activity("Upper", [](ActivityContext&, const std::string& s) {
        std::string out = s;
        std::transform(out.begin(), out.end(), out.begin(), ::toupper);
        return out;
    });
    a.register_activity("Where", [](ActivityContext& ctx, const std::string&) {
        return ctx.tag().value_or("untagged") + "@" + ctx.worker_id();
    });
    auto& o = rt.orchestrations;
    o.register_orchestration("HelloWorld", [](OrchestrationContext& ctx, const std::string& in) {
        ctx.schedule_activity("Hello", "Rust").value();
        return ctx.schedule_activity("Hello", in).value();
    });
    o.register_orchestration("Greet", [](OrchestrationContext& ctx, const std::string& in) {
        return ctx.schedule_activity("Hello", in).value();
    });
    o.register_orchestration("Loop", [](OrchestrationContext& ctx, const std::string& in) {
        std::string acc = in;
        for (int i = 0; i < 3; ++i) {
            acc = ctx.schedule_activity("Append", acc).value();
        }
        return acc;
    });
    o.register_orchestration("Compensate", [](OrchestrationContext& ctx, const std::string&) {
        if (!ctx.schedule_activity("Fail", "boom").get().ok()) {
            return ctx.schedule_activity("Hello", "compensation").value();
        }
        return std::string("unexpected");
    });
    o.register_orchestration("Unhandled", [](OrchestrationContext& ctx, const std::string& in) {
        return ctx.schedule_activity("Fail", in).value();
    });
    o.register_orchestration("FanOut", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture calls[] = {ctx.schedule_activity("Hello", "Gabbar"),
                                       ctx.schedule_activity("Hello", "Samba")};
        std::vector<std::string> greetings;
        for (const auto& outcome : ctx.join(calls)) {
            greetings.push_back(outcome.value());
        }
        std::sort(greetings.begin(), greetings.end());
        return greetings[0] + ", " + greetings[1];
    });
    o.register_orchestration("Timer", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(20)).get();
        return std::string("done");
    });
    o.register_orchestration("WaitForGo", [](OrchestrationContext& ctx, const std::string&) {
        const DurableFuture race[] = {ctx.schedule_timer(milliseconds(300)),
                                      ctx.schedule_wait("Go")};
        return ctx.select(race) == 1 ? "event:" + race[1].value() : std::string("timeout");
    });
    o.register_orchestration("EarlyEvent", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(10)).get();
        const DurableFuture race[] = {ctx.schedule_wait("Evt"),
                                      ctx.schedule_timer(milliseconds(500))};
        return ctx.select(race) == 0 ? std::string("got-event")
                                     : std::string("early-event-dropped");
    });
    o.register_orchestration("Mailbox", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_timer(milliseconds(200)).get();
        const std::string first = ctx.dequeue_event("Signal").value();
        return "got:" + first + "," + ctx.dequeue_event("Signal").value();
    });
    o.register_orchestration("ChildUpper", [](OrchestrationContext& ctx, const std::string& in) {
        return ctx.schedule_activity("Upper", in).value();
    });
    o.register_orchestration("Parent", [](OrchestrationContext& ctx, const std::string& in) {
        return "parent:" + ctx.schedule_sub_orchestration("ChildUpper", in).value();
    });
    o.register_orchestration("Coordinator", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_orchestration("Greet", "W1", "A");
        ctx.schedule_orchestration("Greet", "W2", "B");
        return std::string("scheduled");
    });
    o.register_orchestration("Counter", [](OrchestrationContext& ctx, const std::string& in) {
        const int n = std::stoi(in);
        if (n < 3) {
            ctx.continue_as_new(std::to_string(n + 1));
        }
        return "final:" + std::to_string(n);
    });
    o.register_orchestration(
        "Versioned", [](OrchestrationContext&, const std::string&) { return std::string("v1"); });
    o.register_versioned("Versioned", "2.0.0", [](OrchestrationContext&, const std::string&) {
        return std::string("v2");
    });
    o.register_orchestration("WaitsForGo", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_wait("Go").value();
    });
    o.register_orchestration("ParentOfWaiter", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_sub_orchestration("WaitsForGo", "").value();
    });
    o.register_orchestration("Tagged", [](OrchestrationContext& ctx, const std::string& tag) {
        const DurableFuture race[] = {ctx.schedule_activity_with_tag("Where", "", tag),
                                      ctx.schedule_timer(milliseconds(1000))};
        return ctx.select(race) == 0 ? race[0].value() : std::string("timeout");
    });
}

struct Scenarios : ::testing::Test {
    MemoryRuntime rt;
    void SetUp() override { register_samples(rt); }
};

// The poison error an execution failed with.
inline const core::PoisonError& poison_of(const MemoryExecution& execution) {
    if (!execution.error || !std::holds_alternative<core::PoisonError>(execution.error->value)) {
        throw std::runtime_error("not a poison failure: " + execution.output);
    }
    return std::get<core::PoisonError>(execution.error->value);
}

} // namespace duroxide::testing
