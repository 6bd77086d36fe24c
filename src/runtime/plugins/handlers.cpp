#include "runtime/plugins/handlers.hpp"

#include "core/workflow/interpreter.hpp"
#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/plugins/plugin_loader.hpp"
#include "runtime/process/debug_wait.hpp"
#include "runtime/process/shared_state.hpp"
#include "store/plugins.hpp"

namespace duroxide::runtime {

namespace {

class Collector final : public PluginRegistrar {
public:
    OrchestrationRegistry& orchestrations() override { return orchestrations_; }
    ActivityRegistry& activities() override { return activities_; }
    OrchestrationRegistry orchestrations_;
    ActivityRegistry activities_;
};

} // namespace

bool Handlers::refresh(pg::SpiConnection& spi) {
    // The generation is read before the catalog statements: a change that commits after the
    // read bumps it again after its commit, so the next call reads the catalogs once more
    // and no change is missed. A change that committed before the read must be visible to
    // the statements, so they read under a snapshot taken after it: the transaction's own
    // snapshot (which read-only SPI statements would use) can be older than the read, and a
    // change committed in between would be marked seen without ever being read.
    debug_wait_point("catalog_refresh"); // tests: a catalog change commits meanwhile
    const uint64 generation = shared_state().catalog_generation();
    if (generation_seen_ && *generation_seen_ == generation) {
        return false; // nothing committed to the catalogs since the last read
    }
    const pg::FreshSnapshot after_the_generation;
    // Whether the plugins changed (store::plugins_digest): only then are they reloaded. The
    // version policies (a few rows) are applied again at every move of the generation, so a
    // change that leaves their count and timestamps alone (an owner's direct UPDATE) applies.
    const std::string plugins = store::plugins_digest(spi);
    const bool reloaded = plugins != catalog_version_;
    if (reloaded) {
        reload_plugins(spi);
        catalog_version_ = plugins;
    }
    apply_version_policies(spi);
    generation_seen_ = generation; // only once everything above succeeded
    return reloaded;
}

void Handlers::apply_version_policies(pg::SpiConnection& spi) {
    OrchestrationRegistry with_policies = plugin_orchestrations_;
    for (const store::VersionPolicyRow& policy : store::version_policies(spi)) {
        const std::string& name = policy.orchestration;
        try {
            if (with_policies.has(name)) {
                with_policies.set_policy(
                    name, policy.version ? VersionPolicy::exact(Semver::parse(*policy.version))
                                         : VersionPolicy::latest());
            }
        } catch (const std::exception& e) {
            const std::string message =
                "duroxide: version policy of \"" + name + "\" not applied: " + e.what();
            pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
        }
    }
    orchestrations_ = std::move(with_policies);
}

void Handlers::reload_plugins(pg::SpiConnection& spi) {
    Collector merged;
    // The extension's own orchestration: the interpreter of SQL-authored workflows. Registered
    // first, so a plugin that claims its name is the one refused.
    merged.orchestrations_.register_versioned(std::string(core::workflow::kWorkflowOrchestration),
                                              core::workflow::kWorkflowOrchestrationVersion,
                                              core::workflow::run_workflow);
    // A registration loads its library (another build's file after duroxide.reload_plugin).
    // Builds loaded before stay mapped (runtime/plugins/plugin_loader.hpp); the caller drops the
    // resident executions, which replay on the new code.
    for (const store::RegisteredPlugin& plugin : store::registered_plugins(spi)) {
        const std::string& name = plugin.name;
        try {
            Collector one;
            load_plugin(plugin.library.value_or(name), one);
            merged.orchestrations_.merge(one.orchestrations_);
            merged.activities_.merge(one.activities_);
        } catch (const std::exception& e) {
            const std::string message = "duroxide: plugin \"" + name + "\" not loaded: " + e.what();
            pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
        }
    }
    plugin_orchestrations_ = std::move(merged.orchestrations_);
    activities_ = std::move(merged.activities_);
}

std::optional<SqlActivity> Handlers::sql_activity(pg::SpiConnection& spi,
                                                  const std::string& name) const {
    return store::sql_activity(spi, name);
}

} // namespace duroxide::runtime
