// A well-formed plugin: two versions of one orchestration and two activities.
#include <duroxide/plugin.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/version.hpp>

namespace {
std::string orchestration_v1(duroxide::OrchestrationContext&, const std::string&) {
    return "v1";
}
std::string orchestration_v2(duroxide::OrchestrationContext&, const std::string&) {
    return "v2";
}
std::string hello(duroxide::ActivityContext&, const std::string& input) {
    return "Hello, " + input + "!";
}

void register_all(duroxide::PluginRegistrar& registrar) {
    registrar.orchestrations().register_orchestration("TestHello", orchestration_v1);
    registrar.orchestrations().register_versioned("TestHello", "2.0.0", orchestration_v2);
    registrar.activities().register_activity("TestHelloActivity", hello);
    registrar.activities().register_activity(
        "TestEcho", [](duroxide::ActivityContext&, const std::string& in) { return in; });
}
} // namespace

DUROXIDE_PLUGIN(register_all)
