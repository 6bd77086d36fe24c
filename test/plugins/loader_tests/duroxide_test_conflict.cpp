// Provides an activity name that duroxide_test_hello already provides.
#include <duroxide/plugin.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/version.hpp>

namespace {
void register_all(duroxide::PluginRegistrar& registrar) {
    registrar.activities().register_activity(
        "TestConflictOwn", [](duroxide::ActivityContext&, const std::string& in) { return in; });
    registrar.activities().register_activity(
        "TestEcho", [](duroxide::ActivityContext&, const std::string& in) { return in; });
}
} // namespace

DUROXIDE_PLUGIN(register_all)
