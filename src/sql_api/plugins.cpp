// duroxide.register_plugin(name): load a plugin, check its ABI, record what it provides.
#include "duroxide/registry.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "runtime/plugin_loader.hpp"
#include "sql_api/arguments.hpp"

#include <string>
#include <vector>

namespace {

// Collects what a plugin registers, without keeping it: the workers load plugins themselves.
class CollectingRegistrar : public duroxide::PluginRegistrar {
public:
    duroxide::OrchestrationRegistry& orchestrations() override { return orchestrations_; }
    duroxide::ActivityRegistry& activities() override { return activities_; }

private:
    duroxide::OrchestrationRegistry orchestrations_;
    duroxide::ActivityRegistry activities_;
};

using duroxide::pg::SqlError;
using duroxide::pg::SqlText;

} // namespace

DUROXIDE_SQL_FUNCTION(duroxide_register_plugin) {
    const std::string name = duroxide::sql_api::required_text(fcinfo, 0, "plugin name");
    CollectingRegistrar registrar;
    duroxide::runtime::LoadedPlugin plugin;
    try {
        plugin = duroxide::runtime::load_plugin(name, registrar);
    } catch (const duroxide::RegistryError& e) {
        throw SqlError(ERRCODE_INVALID_OBJECT_DEFINITION,
                       "plugin \"" + name + "\" registered an invalid handler: " + e.what());
    } catch (const std::invalid_argument& e) {
        throw SqlError(ERRCODE_INVALID_OBJECT_DEFINITION,
                       "plugin \"" + name + "\" registered an invalid handler: " + e.what());
    }

    duroxide::pg::SpiConnection spi;
    const std::string registered_by =
        std::to_string(duroxide::pg::call([] { return GetUserId(); }));
    const std::vector<SqlText> plugin_row = {plugin.name, plugin.path,
                                             std::to_string(plugin.abi_version), registered_by};
    if (spi.execute("SELECT 1 FROM duroxide.plugins WHERE name = $1",
                    std::vector<SqlText>{plugin.name})
            .processed > 0) {
        throw SqlError(ERRCODE_DUPLICATE_OBJECT, "plugin \"" + name + "\" is already registered",
                       {}, "Use duroxide.unregister_plugin first to register it again.");
    }
    spi.execute("INSERT INTO duroxide.plugins (name, path, abi_version, registered_by) "
                "VALUES ($1, $2, $3::integer, $4::oid::regrole)",
                plugin_row);

    int handlers = 0;
    auto add = [&](const char* kind, const std::string& handler, const std::string& version) {
        const std::vector<SqlText> key = {std::string(kind), handler, plugin.name};
        auto owner =
            spi.execute("SELECT plugin FROM duroxide.plugin_handlers WHERE kind = $1 AND name = $2 "
                        "AND plugin <> $3 UNION ALL SELECT 'SQL function ' || function_oid::text "
                        "FROM duroxide.sql_activities WHERE $1 = 'activity' AND name = $2 LIMIT 1",
                        key);
        if (!owner.rows.empty()) {
            throw SqlError(ERRCODE_DUPLICATE_OBJECT,
                           std::string(kind) + " \"" + handler + "\" of plugin \"" + name +
                               "\" is already provided by " + owner.rows[0][0].value_or("?"),
                           {}, "A handler name belongs to one plugin or SQL function.");
        }
        spi.execute("INSERT INTO duroxide.plugin_handlers (plugin, kind, name, version) "
                    "VALUES ($1, $2, $3, $4)",
                    std::vector<SqlText>{plugin.name, std::string(kind), handler, version});
        ++handlers;
    };
    auto& orchestrations = registrar.orchestrations();
    for (const auto& orchestration : orchestrations.names()) {
        for (const auto& version : orchestrations.versions(orchestration)) {
            add("orchestration", orchestration, version.to_string());
        }
    }
    for (const auto& activity : registrar.activities().names()) {
        add("activity", activity, "");
    }
    return Int32GetDatum(handlers);
}
