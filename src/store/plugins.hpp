// The plugin and SQL activity catalogs (duroxide.plugins, duroxide.plugin_handlers,
// duroxide.version_policies, duroxide.sql_activities, sql/install/30_registration.sql): what
// register_plugin and reload_plugin record (sql_api/plugins.cpp), and what the workers read to
// load the plugins and run SQL activities (runtime/plugins/handlers.cpp). Each operation runs in
// the caller's transaction.
#pragma once

#include "pg/postgres.hpp"
#include "pg/spi.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::store {

// --- read by the workers

// A digest of duroxide.plugins (count and a hash of every row's name, library and times): any
// change to the catalog changes it (runtime/plugins/handlers.cpp reloads the plugins when it
// moves; the version policies are applied again at every move of the catalog generation).
std::string plugins_digest(pg::SpiConnection& spi);

// A row of duroxide.version_policies.
struct VersionPolicyRow {
    std::string orchestration;
    std::optional<std::string> version; // the pinned version; nullopt: the latest
};
// Every version policy, by orchestration name.
std::vector<VersionPolicyRow> version_policies(pg::SpiConnection& spi);

// A registered plugin as the workers load it.
struct RegisteredPlugin {
    std::string name;
    std::optional<std::string> library; // nullopt (0.1.0 schema): the library is `name`
};
// Every registered plugin, by name.
std::vector<RegisteredPlugin> registered_plugins(pg::SpiConnection& spi);

// A row of duroxide.sql_activities, as the worker runs it.
struct SqlActivity {
    Oid function = InvalidOid;
    Oid run_as = InvalidOid;
    Oid input_type = InvalidOid;
    Oid output_type = InvalidOid;
    // A superuser registered it: only then may run_as be a superuser, or the function be owned
    // by another role than run_as (runtime/activity/sql_activity_registration.hpp).
    bool registered_by_superuser = false;
    std::string definition_hash; // duroxide._function_fingerprint at registration
    // The registration's statement_timeout in milliseconds; nullopt: the
    // duroxide.activity_statement_timeout default applies.
    std::optional<int> statement_timeout_ms;
};
// The SQL activity registered as `name`; nullopt when there is none.
std::optional<SqlActivity> sql_activity(pg::SpiConnection& spi, const std::string& name);

// --- written by register_plugin and reload_plugin

// Raises (duroxide._require_admin) unless the calling role has duroxide_admin's privileges;
// `action` completes the message ("register a plugin").
void require_admin(pg::SpiConnection& spi, std::string_view action);

// An allow-list (regrole[] in its text form, or NULL) as it is stored (duroxide._allowed_roles:
// sorted, distinct, NULL when empty; raises on a NULL element), in text form.
pg::SqlText normalized_allowed_roles(pg::SpiConnection& spi, const pg::SqlText& allowed_roles);

// Whether a plugin is registered as `name`.
bool plugin_registered(pg::SpiConnection& spi, const std::string& name);

// The registration of a plugin as a row of duroxide.plugins records it.
struct PluginRegistration {
    std::string library; // the library's name as given (plugin_directories resolve it)
    std::string path;    // the library file it was loaded from
    uint32_t abi_version = 0;
    Oid registered_by = InvalidOid;
    bool registered_by_superuser = false;
    pg::SqlText allowed_roles; // as normalized_allowed_roles returns it
};
// Records a new registration named after its library. `schema_0_1`: the database is still at
// the 0.1.0 schema, whose table has neither the allow-list nor the library columns.
void insert_plugin(pg::SpiConnection& spi, const PluginRegistration& plugin, bool schema_0_1);

enum class HandlerKind { Orchestration, Activity };

// What else provides handler `handler` of `kind`: another plugin than `plugin` (its name), or
// an SQL activity ("SQL function <oid>"); nullopt when nothing does.
std::optional<std::string> other_handler_provider(pg::SpiConnection& spi, HandlerKind kind,
                                                  const std::string& handler,
                                                  const std::string& plugin);
// Records that `plugin` provides `handler` of `kind` (`version`: "" for activities).
void insert_plugin_handler(pg::SpiConnection& spi, const std::string& plugin, HandlerKind kind,
                           const std::string& handler, const std::string& version);

// A registration locked for reload_plugin (FOR UPDATE, to the end of the transaction).
struct LockedPlugin {
    std::optional<std::string> library; // nullopt (0.1.0 rows): the library is the plugin name
};
// Locks the registration `name`; nullopt when there is none.
std::optional<LockedPlugin> lock_plugin(pg::SpiConnection& spi, const std::string& name);

// A row of duroxide.plugin_handlers.
struct PluginHandler {
    HandlerKind kind;
    std::string name;
    std::string version; // "" for activities
};
// The handlers `plugin` was recorded with: activities first, then orchestrations, each by name
// and version.
std::vector<PluginHandler> plugin_handlers(pg::SpiConnection& spi, const std::string& plugin);

// How many instances whose current execution is running use orchestration `name` `version`.
uint64_t running_instances_of(pg::SpiConnection& spi, const std::string& name,
                              const std::string& version);

// Points registration `name` at `plugin` (library, path, ABI, registrant; its allow-list is
// kept) and forgets its recorded handlers (the caller records the new build's). Sets
// reloaded_at, which the workers' catalog digest sees.
void repoint_plugin(pg::SpiConnection& spi, const std::string& name,
                    const PluginRegistration& plugin);

} // namespace duroxide::store
