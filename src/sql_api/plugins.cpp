// duroxide.register_plugin(name) and duroxide.reload_plugin(name, library): load a plugin
// library, check its ABI, record what it provides. The workers load the libraries themselves
// (runtime/plugins/handlers.cpp) when the catalog changes.
#include "duroxide/registry.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "core/validation/message_quote.hpp"
#include "runtime/plugins/plugin_loader.hpp"
#include "sql_api/access.hpp"
#include "sql_api/arguments.hpp"

#include <optional>
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

// Loads library `library` into this backend (it stays loaded) and collects what it registers.
duroxide::runtime::LoadedPlugin load(const std::string& library, CollectingRegistrar& registrar) {
    try {
        return duroxide::runtime::load_plugin(library, registrar);
    } catch (const duroxide::RegistryError& e) {
        throw SqlError(ERRCODE_INVALID_OBJECT_DEFINITION,
                       "plugin \"" + library + "\" registered an invalid handler: " + e.what());
    } catch (const std::invalid_argument& e) {
        throw SqlError(ERRCODE_INVALID_OBJECT_DEFINITION,
                       "plugin \"" + library + "\" registered an invalid handler: " + e.what());
    }
}

// Records the handlers of plugin `name` (none recorded yet); returns how many. A handler name
// that another plugin or an SQL activity provides is refused.
int record_handlers(duroxide::pg::SpiConnection& spi, const std::string& name,
                    CollectingRegistrar& registrar) {
    int handlers = 0;
    auto add = [&](const char* kind, const std::string& handler, const std::string& version) {
        const std::vector<SqlText> key = {std::string(kind), handler, name};
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
                    std::vector<SqlText>{name, std::string(kind), handler, version});
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
    return handlers;
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
    const duroxide::runtime::LoadedPlugin plugin = load(name, registrar);

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
        spi.execute(
            "INSERT INTO duroxide.plugins (name, path, abi_version, registered_by, "
            "registered_by_superuser, allowed_roles, library) "
            "VALUES ($1, $2, $3::integer, $4::oid::regrole, $5::boolean, $6::regrole[], $1)",
            plugin_row);
    }

    return Int32GetDatum(record_handlers(spi, plugin.name, registrar));
}

// SECURITY DEFINER: points registration `name` at library `library` (default: the one it
// loads now, for a build installed under the same file name) in one transaction. The workers
// see the change at their next fetch, between turns and activities (runtime/plugins/handlers.cpp).
// The caller becomes the registrant, as with a new registration: ctx.sql() of the new code runs
// as the role that chose it.
DUROXIDE_SQL_FUNCTION(duroxide_reload_plugin) {
    const std::string name = duroxide::sql_api::required_text(fcinfo, 0, "plugin name");
    const std::optional<std::string> library_argument = duroxide::sql_api::optional_text(fcinfo, 1);
    duroxide::pg::SpiConnection spi;
    spi.execute("SELECT duroxide._require_admin('reload a plugin')", {});
    auto current = spi.execute("SELECT library FROM duroxide.plugins WHERE name = $1 FOR UPDATE",
                               std::vector<SqlText>{name});
    if (current.rows.empty()) {
        throw SqlError(ERRCODE_UNDEFINED_OBJECT,
                       "plugin " + duroxide::core::quoted(name) + " is not registered", {},
                       "Register it with duroxide.register_plugin.");
    }
    const std::string library = library_argument.value_or(current.rows[0][0].value_or(name));
    CollectingRegistrar registrar;
    const duroxide::runtime::LoadedPlugin plugin = load(library, registrar);

    // Orchestration versions the new build drops while an instance still runs them: refused
    // (the instance could not replay). Activities it drops: a warning (any orchestration may
    // schedule them; a scheduled one waits for a provider, then fails as poison).
    auto previous = spi.execute("SELECT kind, name, version FROM duroxide.plugin_handlers "
                                "WHERE plugin = $1 ORDER BY kind, name, version",
                                std::vector<SqlText>{name});
    std::string dropped_activities;
    for (const auto& row : previous.rows) {
        const std::string& kind = *row[0];
        const std::string& handler = *row[1];
        const std::string& version = *row[2];
        if (kind == "activity") {
            if (registrar.activities().find(handler) == nullptr) {
                dropped_activities +=
                    (dropped_activities.empty() ? "" : ", ") + duroxide::core::quoted(handler);
            }
            continue;
        }
        bool kept = false;
        for (const auto& v : registrar.orchestrations().versions(handler)) {
            kept = kept || v.to_string() == version;
        }
        if (kept) {
            continue;
        }
        auto running = spi.execute(
            "SELECT count(*) FROM duroxide.instances i JOIN duroxide.executions e "
            "    ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id "
            " WHERE e.status = 'Running' AND i.orchestration_name = $1 "
            "   AND i.orchestration_version = $2",
            std::vector<SqlText>{handler, version});
        if (running.rows.at(0)[0].value_or("0") != "0") {
            throw SqlError(ERRCODE_OBJECT_IN_USE,
                           "library " + duroxide::core::quoted(library) +
                               " does not provide orchestration " +
                               duroxide::core::quoted(handler) + " version " + version +
                               ", which " + *running.rows[0][0] + " running instance(s) use",
                           "Nothing was changed.",
                           "Keep that version in the new build until its instances finish, or "
                           "cancel them first.");
        }
    }
    if (!dropped_activities.empty()) {
        const std::string message = "library " + duroxide::core::quoted(library) +
                                    " no longer provides activities " + dropped_activities;
        duroxide::pg::call(
            [&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
    }

    const Oid caller = duroxide::sql_api::calling_role();
    const bool caller_is_superuser = duroxide::pg::call([caller] { return superuser_arg(caller); });
    spi.execute("DELETE FROM duroxide.plugin_handlers WHERE plugin = $1",
                std::vector<SqlText>{name});
    spi.execute("UPDATE duroxide.plugins SET library = $2, path = $3, abi_version = $4::integer, "
                "       registered_by = $5::oid::regrole, registered_by_superuser = $6::boolean, "
                "       reloaded_at = clock_timestamp() "
                " WHERE name = $1",
                std::vector<SqlText>{name, plugin.name, plugin.path,
                                     std::to_string(plugin.abi_version), std::to_string(caller),
                                     caller_is_superuser ? "true" : "false"});
    return Int32GetDatum(record_handlers(spi, name, registrar));
}
