// Two builds of one plugin for test/tap/019_plugin_redeploy.pl, compiled from this file with
// BUILD_TAG "v1" or "v2" (Makefile): the code names the build it came from, so a test sees
// which build ran each turn and each activity. Build v2 also provides one more activity.
#include <duroxide/activity_context.hpp>
#include <duroxide/orchestration_context.hpp>
#include <duroxide/plugin.hpp>
#include <duroxide/registry.hpp>

#include <chrono>
#include <string>
#include <thread>

#ifndef BUILD_TAG
#error "BUILD_TAG must be defined (\"v1\" or \"v2\")"
#endif

namespace {

using duroxide::ActivityContext;
using duroxide::OrchestrationContext;

std::string build(ActivityContext&, const std::string&) {
    return BUILD_TAG;
}

// Counts its start (sequence redeploy_started: not rolled back, visible at once), then waits
// until table redeploy_go holds its input, and names its build.
std::string wait_then_build(ActivityContext& ctx, const std::string& input) {
    ctx.sql("SELECT nextval('redeploy_started')");
    while (!ctx.is_cancelled()) {
        if (!ctx.sql("SELECT 1 FROM redeploy_go WHERE input = $1", input).rows.empty()) {
            return BUILD_TAG;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "cancelled";
}

// Input "now": calls RedeployBuild; any other input: RedeployWait with it. The output names the
// build of the turn that completed it and the build of the activity.
std::string redeploy(OrchestrationContext& ctx, const std::string& input) {
    const std::string activity =
        ctx.schedule_activity(input == "now" ? "RedeployBuild" : "RedeployWait", input).value();
    return std::string("orchestration ") + BUILD_TAG + ", activity " + activity;
}

void register_all(duroxide::PluginRegistrar& registrar) {
    registrar.orchestrations().register_orchestration("Redeploy", redeploy);
    registrar.activities().register_activity("RedeployBuild", build);
    registrar.activities().register_activity("RedeployWait", wait_then_build);
#if defined(REDEPLOY_V2)
    registrar.activities().register_activity(
        "RedeployAddedInV2", [](ActivityContext&, const std::string&) { return "added"; });
#endif
}

} // namespace

DUROXIDE_PLUGIN(register_all)
