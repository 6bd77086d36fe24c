// Registers versions out of order: registration must fail cleanly, as an SQL error.
#include <duroxide/plugin.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/version.hpp>

namespace {
std::string orchestration(duroxide::OrchestrationContext&, const std::string&) {
    return "";
}
void register_all(duroxide::PluginRegistrar& registrar) {
    registrar.orchestrations().register_versioned("TestInvalid", "2.0.0", orchestration);
    registrar.orchestrations().register_versioned("TestInvalid", "1.0.0", orchestration);
}
} // namespace

DUROXIDE_PLUGIN(register_all)
