// The demo's plugin (scripts/demo.sh): three small orchestrations and the one activity they
// call, written only against the public headers, as a user's plugin would be.
#include <duroxide/activity_context.hpp>
#include <duroxide/orchestration_context.hpp>
#include <duroxide/plugin.hpp>
#include <duroxide/registry.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

using duroxide::ActivityContext;
using duroxide::DurableFuture;
using duroxide::OrchestrationContext;

namespace {

// The activity: does the work (here, builds a greeting). It may run more than once.
std::string hello(ActivityContext&, const std::string& name) {
    return "Hello, " + name + "!";
}

// One activity call; its result is the orchestration's output.
std::string hello_world(OrchestrationContext& ctx, const std::string& input) {
    return ctx.schedule_activity("Hello", input).value();
}

// Fan-out / fan-in: one activity per comma-separated name, run in parallel, joined.
std::string fan_out(OrchestrationContext& ctx, const std::string& input) {
    std::vector<DurableFuture> greetings;
    for (std::size_t start = 0; start <= input.size();) {
        std::size_t end = std::min(input.find(',', start), input.size());
        greetings.push_back(ctx.schedule_activity("Hello", input.substr(start, end - start)));
        start = end + 1;
    }
    std::vector<std::string> results;
    for (const auto& outcome : ctx.join(greetings)) {
        results.push_back(outcome.value());
    }
    std::sort(results.begin(), results.end());
    std::string joined;
    for (const auto& r : results) {
        joined += (joined.empty() ? "" : " ") + r;
    }
    return joined;
}

// A durable timer: the orchestration sleeps one second without holding a worker, then greets.
std::string reminder(OrchestrationContext& ctx, const std::string& input) {
    ctx.set_custom_status("sleeping");
    ctx.schedule_timer(std::chrono::seconds(1)).value();
    ctx.set_custom_status("awake");
    return ctx.schedule_activity("Hello", input).value();
}

void register_demo(duroxide::PluginRegistrar& r) {
    r.orchestrations().register_orchestration("HelloWorld", hello_world);
    r.orchestrations().register_orchestration("FanOut", fan_out);
    r.orchestrations().register_orchestration("Reminder", reminder);
    r.activities().register_activity("Hello", hello);
}

} // namespace

DUROXIDE_PLUGIN(register_demo)
