#include "runtime/plugins/handlers.hpp"

#include "core/workflow/interpreter.hpp"
#include "pg/guard.hpp"
#include "runtime/plugins/plugin_loader.hpp"
#include "store/statements.hpp"

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
    // Every change to either catalog moves its count or its latest timestamp (version policies
    // are never deleted, only updated): one cheap statement per fetch tells whether to reload.
    // The plugins (a handful of rows) are summed up row by row: a reload_plugin that commits
    // after a later one still changes the digest, where it would not move a maximum.
    auto version = spi.execute(
        store::statement_set(),
        "SELECT (SELECT count(*)::text || ':' || coalesce(md5(string_agg(name || '/' || library "
        "               || '/' || registered_at::text || '/' || coalesce(reloaded_at::text, ''), "
        "               ',' ORDER BY name)), '') "
        "          FROM duroxide.plugins), "
        "       (SELECT count(*)::text || ':' || coalesce(max(set_at)::text, '') "
        "          FROM duroxide.version_policies)",
        {}, true);
    const std::string plugins = version.rows[0][0].value_or("");
    const std::string policies = version.rows[0][1].value_or("");
    const bool reloaded = plugins != catalog_version_;
    if (reloaded) {
        reload_plugins(spi);
        catalog_version_ = plugins;
    }
    if (reloaded || policies != policies_version_) {
        apply_version_policies(spi);
        policies_version_ = policies;
    }
    return reloaded;
}

void Handlers::apply_version_policies(pg::SpiConnection& spi) {
    OrchestrationRegistry with_policies = plugin_orchestrations_;
    auto rows = spi.execute(
        "SELECT orchestration, version FROM duroxide.version_policies ORDER BY orchestration", {},
        true);
    for (const auto& row : rows.rows) {
        const std::string& name = *row[0];
        try {
            if (with_policies.has(name)) {
                with_policies.set_policy(name, row[1] ? VersionPolicy::exact(Semver::parse(*row[1]))
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
    auto plugins =
        spi.execute("SELECT name, library FROM duroxide.plugins ORDER BY name", {}, true);
    for (const auto& row : plugins.rows) {
        const std::string& name = *row[0];
        try {
            Collector one;
            load_plugin(row[1].value_or(name), one);
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
    auto rows =
        spi.execute("SELECT function_oid::oid, run_as::oid, input_type::oid, output_type::oid, "
                    "       registered_by_superuser, definition_hash, "
                    "       ceil(extract(epoch FROM statement_timeout) * 1000)::integer "
                    "  FROM duroxide.sql_activities WHERE name = $1",
                    std::vector<pg::SqlText>{name}, true);
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    const auto& r = rows.rows[0];
    auto oid = [](const pg::SqlText& value) { return static_cast<Oid>(std::stoul(*value)); };
    return SqlActivity{
        .function = oid(r[0]),
        .run_as = oid(r[1]),
        .input_type = oid(r[2]),
        .output_type = oid(r[3]),
        .registered_by_superuser = r[4] == "t",
        .definition_hash = r[5].value_or(""),
        .statement_timeout_ms = r[6] ? std::optional<int>(std::stoi(*r[6])) : std::nullopt,
    };
}

} // namespace duroxide::runtime
