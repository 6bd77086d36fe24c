// duroxide.register_plugin(name): load a plugin, check its ABI, record what it provides.
#include "duroxide/registry.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "runtime/plugin_loader.hpp"
#include "sql_api/access.hpp"
#include "sql_api/arguments.hpp"

#include <span>
#include <string>
#include <vector>

extern "C" {
#include "miscadmin.h"
#include "utils/lsyscache.h"
}

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

// The allow-list argument in text form (regrole[] output), or NULL.
SqlText allowed_roles_argument(FunctionCallInfo fcinfo) {
    if (PG_NARGS() < 2 || PG_ARGISNULL(1)) {
        return std::nullopt;
    }
    char* text = duroxide::pg::call([fcinfo] {
        Oid output_function;
        bool varlena;
        getTypeOutputInfo(get_fn_expr_argtype(fcinfo->flinfo, 1), &output_function, &varlena);
        return OidOutputFunctionCall(output_function, PG_GETARG_DATUM(1));
    });
    std::string value(text);
    duroxide::pg::call([text] { pfree(text); });
    return value;
}

} // namespace

// SECURITY DEFINER: the tables are written here only. registered_by is the calling role (the
// session's current role), never the function's owner.
DUROXIDE_SQL_FUNCTION(duroxide_register_plugin) {
    const std::string name = duroxide::sql_api::required_text(fcinfo, 0, "plugin name");
    // The 0.1.0 schema (before ALTER EXTENSION UPDATE) declares register_plugin(text), an
    // INVOKER function writing through duroxide_admin's table grants, without the 0.2.0 columns.
    const bool schema_0_1 = PG_NARGS() < 2;
    const SqlText allowed_roles = allowed_roles_argument(fcinfo);
    duroxide::pg::SpiConnection spi;
    SqlText allowed;
    if (!schema_0_1) {
        // Before the library is loaded: EXECUTE may have been passed on by an administrator's
        // function to a role that is not one.
        spi.execute("SELECT duroxide._require_admin('register a plugin')", {});
        allowed = spi.execute("SELECT duroxide._allowed_roles($1::regrole[])::text",
                              std::vector<SqlText>{allowed_roles})
                      .rows.at(0)[0];
    }
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

    const Oid caller = duroxide::sql_api::calling_role();
    const bool caller_is_superuser = duroxide::pg::call([caller] { return superuser_arg(caller); });
    const std::vector<SqlText> plugin_row = {plugin.name,
                                             plugin.path,
                                             std::to_string(plugin.abi_version),
                                             std::to_string(caller),
                                             caller_is_superuser ? "true" : "false",
                                             allowed};
    if (spi.execute("SELECT 1 FROM duroxide.plugins WHERE name = $1",
                    std::vector<SqlText>{plugin.name})
            .processed > 0) {
        throw SqlError(ERRCODE_DUPLICATE_OBJECT, "plugin \"" + name + "\" is already registered",
                       {}, "Use duroxide.unregister_plugin first to register it again.");
    }
    if (schema_0_1) {
        spi.execute("INSERT INTO duroxide.plugins (name, path, abi_version, registered_by) "
                    "VALUES ($1, $2, $3::integer, $4::oid::regrole)",
                    std::span<const SqlText>(plugin_row).first(4));
    } else {
        spi.execute("INSERT INTO duroxide.plugins (name, path, abi_version, registered_by, "
                    "registered_by_superuser, allowed_roles) "
                    "VALUES ($1, $2, $3::integer, $4::oid::regrole, $5::boolean, $6::regrole[])",
                    plugin_row);
    }

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
