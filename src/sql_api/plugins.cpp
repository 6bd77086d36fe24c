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
#include "store/plugins.hpp"

#include <cstdint>
#include <optional>
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
namespace store = duroxide::store;
using store::HandlerKind;

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
    auto add = [&](HandlerKind kind, const std::string& handler, const std::string& version) {
        if (auto owner = store::other_handler_provider(spi, kind, handler, name)) {
            throw SqlError(
                ERRCODE_DUPLICATE_OBJECT,
                std::string(kind == HandlerKind::Activity ? "activity" : "orchestration") + " \"" +
                    handler + "\" of plugin \"" + name + "\" is already provided by " + *owner,
                {}, "A handler name belongs to one plugin or SQL function.");
        }
        store::insert_plugin_handler(spi, name, kind, handler, version);
        ++handlers;
    };
    auto& orchestrations = registrar.orchestrations();
    for (const auto& orchestration : orchestrations.names()) {
        for (const auto& version : orchestrations.versions(orchestration)) {
            add(HandlerKind::Orchestration, orchestration, version.to_string());
        }
    }
    for (const auto& activity : registrar.activities().names()) {
        add(HandlerKind::Activity, activity, "");
    }
    return handlers;
}

// The registration of `plugin` by the calling role.
store::PluginRegistration registration_by_caller(const duroxide::runtime::LoadedPlugin& plugin,
                                                 SqlText allowed_roles) {
    const Oid caller = duroxide::sql_api::calling_role();
    return store::PluginRegistration{
        .library = plugin.name,
        .path = plugin.path,
        .abi_version = plugin.abi_version,
        .registered_by = caller,
        .registered_by_superuser = duroxide::pg::call([caller] { return superuser_arg(caller); }),
        .allowed_roles = std::move(allowed_roles),
    };
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
        store::require_admin(spi, "register a plugin");
        allowed = store::normalized_allowed_roles(spi, allowed_roles);
    }
    CollectingRegistrar registrar;
    const duroxide::runtime::LoadedPlugin plugin = load(name, registrar);

    if (store::plugin_registered(spi, plugin.name)) {
        throw SqlError(ERRCODE_DUPLICATE_OBJECT, "plugin \"" + name + "\" is already registered",
                       {}, "Use duroxide.unregister_plugin first to register it again.");
    }
    store::insert_plugin(spi, registration_by_caller(plugin, allowed), schema_0_1);

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
    store::require_admin(spi, "reload a plugin");
    const std::optional<store::LockedPlugin> current = store::lock_plugin(spi, name);
    if (!current) {
        throw SqlError(ERRCODE_UNDEFINED_OBJECT,
                       "plugin " + duroxide::core::quoted(name) + " is not registered", {},
                       "Register it with duroxide.register_plugin.");
    }
    const std::string library = library_argument.value_or(current->library.value_or(name));
    CollectingRegistrar registrar;
    const duroxide::runtime::LoadedPlugin plugin = load(library, registrar);

    // Orchestration versions the new build drops while an instance still runs them: refused
    // (the instance could not replay). Activities it drops: a warning (any orchestration may
    // schedule them; a scheduled one waits for a provider, then fails as poison).
    std::string dropped_activities;
    for (const store::PluginHandler& previous : store::plugin_handlers(spi, name)) {
        const std::string& handler = previous.name;
        const std::string& version = previous.version;
        if (previous.kind == HandlerKind::Activity) {
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
        const uint64_t running = store::running_instances_of(spi, handler, version);
        if (running > 0) {
            throw SqlError(ERRCODE_OBJECT_IN_USE,
                           "library " + duroxide::core::quoted(library) +
                               " does not provide orchestration " +
                               duroxide::core::quoted(handler) + " version " + version +
                               ", which " + std::to_string(running) + " running instance(s) use",
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

    // The registration keeps its allow-list (not part of the update).
    store::repoint_plugin(spi, name, registration_by_caller(plugin, std::nullopt));
    return Int32GetDatum(record_handlers(spi, name, registrar));
}
