// The benchmark's workflows (bench/run.sh): small, fixed shapes so that the figures measure the
// runtime, not the work. Activities return at once.
#include <duroxide/duroxide.hpp>

#include <chrono>
#include <string>
#include <vector>

using duroxide::ActivityContext;
using duroxide::DurableFuture;
using duroxide::OrchestrationContext;

namespace {

std::string echo(ActivityContext&, const std::string& input) {
    return input;
}

// seq3: three sequential activities.
std::string seq3(OrchestrationContext& ctx, const std::string& input) {
    std::string value = input;
    for (int i = 0; i < 3; ++i) {
        value = ctx.schedule_activity("Echo", value).value();
    }
    return value;
}

// fan10: ten activities in parallel, then join.
std::string fan10(OrchestrationContext& ctx, const std::string& input) {
    std::vector<DurableFuture> branches;
    for (int i = 0; i < 10; ++i) {
        branches.push_back(ctx.schedule_activity("Echo", input + "." + std::to_string(i)));
    }
    return std::to_string(ctx.join(branches).size());
}

// fan1000 / fan5000: one turn schedules `width` activities, then joins them (fan-out cost
// against its width).
template <int width>
std::string fan_wide(OrchestrationContext& ctx, const std::string&) {
    std::vector<DurableFuture> branches;
    branches.reserve(width);
    for (int i = 0; i < width; ++i) {
        branches.push_back(ctx.schedule_activity("Echo", std::to_string(i)));
    }
    return std::to_string(ctx.join(branches).size());
}

// sql3: three sequential SQL activities (BenchInsert, registered by the driver).
std::string sql3(OrchestrationContext& ctx, const std::string& input) {
    std::string value = input;
    for (int i = 0; i < 3; ++i) {
        value = ctx.schedule_activity("BenchInsert", input).value();
    }
    return value;
}

// timer: a zero-length durable timer.
std::string timer0(OrchestrationContext& ctx, const std::string&) {
    ctx.schedule_timer(std::chrono::milliseconds(0)).get();
    return "fired";
}

// event: waits for the external event "Go"; the custom status tells the client it may raise
// it (an event raised before the wait is recorded is not delivered).
std::string event(OrchestrationContext& ctx, const std::string&) {
    DurableFuture go = ctx.schedule_wait("Go");
    ctx.set_custom_status("waiting");
    return go.value();
}

// sub10: ten sub-orchestrations in parallel, each running one activity (BenchChild).
std::string child(OrchestrationContext& ctx, const std::string& input) {
    return ctx.schedule_activity("Echo", input).value();
}
std::string sub10(OrchestrationContext& ctx, const std::string& input) {
    std::vector<DurableFuture> children;
    for (int i = 0; i < 10; ++i) {
        children.push_back(ctx.schedule_sub_orchestration("BenchChild", input));
    }
    return std::to_string(ctx.join(children).size());
}

// long: `input` sequential activities in one execution (history grows by two per turn).
std::string long_chain(OrchestrationContext& ctx, const std::string& input) {
    const int count = std::stoi(input);
    for (int i = 0; i < count; ++i) {
        ctx.schedule_activity("Echo", std::to_string(i)).value();
    }
    return std::to_string(count);
}

void register_all(duroxide::PluginRegistrar& r) {
    auto& o = r.orchestrations();
    o.register_orchestration("BenchSeq3", seq3);
    o.register_orchestration("BenchFan10", fan10);
    o.register_orchestration("BenchFan1000", fan_wide<1000>);
    o.register_orchestration("BenchFan5000", fan_wide<5000>);
    o.register_orchestration("BenchSql3", sql3);
    o.register_orchestration("BenchTimer", timer0);
    o.register_orchestration("BenchEvent", event);
    o.register_orchestration("BenchLong", long_chain);
    o.register_orchestration("BenchSub10", sub10);
    o.register_orchestration("BenchChild", child);
    r.activities().register_activity("Echo", echo);
}

} // namespace

DUROXIDE_PLUGIN(register_all)
