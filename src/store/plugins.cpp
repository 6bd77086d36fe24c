#include "store/plugins.hpp"

#include "store/sql_values.hpp"
#include "store/statements.hpp"

namespace duroxide::store {

namespace {

using pg::SqlText;

const char* kind_name(HandlerKind kind) {
    return kind == HandlerKind::Orchestration ? "orchestration" : "activity";
}

std::string text_of(uint64_t value) {
    return std::to_string(value);
}

} // namespace

std::string plugins_digest(pg::SpiConnection& spi) {
    // The plugins (a handful of rows) are summed up row by row: a reload_plugin that commits
    // after a later one still changes the digest, where it would not move a maximum.
    auto rows = Statements(spi).execute(
        "SELECT pg_catalog.count(*)::text || ':' || "
        "       coalesce(pg_catalog.md5(pg_catalog.string_agg(name || '/' || library "
        "       || '/' || registered_at::text || '/' || coalesce(reloaded_at::text, ''), "
        "       ',' ORDER BY name)), '') "
        "  FROM duroxide.plugins",
        {}, true);
    return rows.rows.at(0)[0].value_or("");
}

std::vector<VersionPolicyRow> version_policies(pg::SpiConnection& spi) {
    auto rows = Statements(spi).execute(
        "SELECT orchestration, version FROM duroxide.version_policies ORDER BY orchestration", {},
        true);
    std::vector<VersionPolicyRow> policies;
    policies.reserve(rows.rows.size());
    for (auto& row : rows.rows) {
        policies.push_back({.orchestration = std::move(*row[0]), .version = std::move(row[1])});
    }
    return policies;
}

std::vector<RegisteredPlugin> registered_plugins(pg::SpiConnection& spi) {
    auto rows = Statements(spi).execute("SELECT name, library FROM duroxide.plugins ORDER BY name",
                                        {}, true);
    std::vector<RegisteredPlugin> plugins;
    plugins.reserve(rows.rows.size());
    for (auto& row : rows.rows) {
        plugins.push_back({.name = std::move(*row[0]), .library = std::move(row[1])});
    }
    return plugins;
}

std::optional<SqlActivity> sql_activity(pg::SpiConnection& spi, const std::string& name) {
    auto rows = Statements(spi).execute(
        "SELECT function_oid::oid, run_as::oid, input_type::oid, output_type::oid, "
        "       registered_by_superuser, definition_hash, "
        "       pg_catalog.ceil(extract(epoch FROM statement_timeout) * 1000)::integer "
        "  FROM duroxide.sql_activities WHERE name = $1",
        std::vector<SqlText>{name}, true);
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    const auto& r = rows.rows[0];
    return SqlActivity{
        .function = oid_of(r[0]).value_or(InvalidOid),
        .run_as = oid_of(r[1]).value_or(InvalidOid),
        .input_type = oid_of(r[2]).value_or(InvalidOid),
        .output_type = oid_of(r[3]).value_or(InvalidOid),
        .registered_by_superuser = r[4] == "t",
        .definition_hash = r[5].value_or(""),
        .statement_timeout_ms = r[6] ? std::optional<int>(std::stoi(*r[6])) : std::nullopt,
    };
}

void require_admin(pg::SpiConnection& spi, std::string_view action) {
    Statements(spi).execute("SELECT duroxide._require_admin($1)",
                            std::vector<SqlText>{std::string(action)});
}

SqlText normalized_allowed_roles(pg::SpiConnection& spi, const SqlText& allowed_roles) {
    return Statements(spi)
        .execute("SELECT duroxide._allowed_roles($1::pg_catalog.regrole[])::pg_catalog.text",
                 std::vector<SqlText>{allowed_roles})
        .rows.at(0)[0];
}

bool plugin_registered(pg::SpiConnection& spi, const std::string& name) {
    return Statements(spi)
               .execute("SELECT 1 FROM duroxide.plugins WHERE name = $1",
                        std::vector<SqlText>{name})
               .processed > 0;
}

void insert_plugin(pg::SpiConnection& spi, const PluginRegistration& plugin, bool schema_0_1) {
    Statements statements(spi);
    std::vector<SqlText> row = {plugin.library, plugin.path, text_of(plugin.abi_version),
                                text_of(plugin.registered_by)};
    if (schema_0_1) {
        statements.execute("INSERT INTO duroxide.plugins (name, path, abi_version, registered_by) "
                           "VALUES ($1, $2, $3::integer, $4::oid::regrole)",
                           row);
        return;
    }
    row.push_back(plugin.registered_by_superuser ? "true" : "false");
    row.push_back(plugin.allowed_roles);
    statements.execute(
        "INSERT INTO duroxide.plugins (name, path, abi_version, registered_by, "
        "registered_by_superuser, allowed_roles, library) "
        "VALUES ($1, $2, $3::integer, $4::oid::regrole, $5::boolean, $6::regrole[], $1)",
        row);
}

std::optional<std::string> other_handler_provider(pg::SpiConnection& spi, HandlerKind kind,
                                                  const std::string& handler,
                                                  const std::string& plugin) {
    auto rows = Statements(spi).execute(
        "SELECT plugin FROM duroxide.plugin_handlers WHERE kind = $1 AND name = $2 "
        "AND plugin <> $3 UNION ALL SELECT 'SQL function ' || function_oid::text "
        "FROM duroxide.sql_activities WHERE $1 = 'activity' AND name = $2 LIMIT 1",
        std::vector<SqlText>{std::string(kind_name(kind)), handler, plugin});
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    return rows.rows[0][0].value_or("?");
}

void insert_plugin_handler(pg::SpiConnection& spi, const std::string& plugin, HandlerKind kind,
                           const std::string& handler, const std::string& version) {
    Statements(spi).execute(
        "INSERT INTO duroxide.plugin_handlers (plugin, kind, name, version) "
        "VALUES ($1, $2, $3, $4)",
        std::vector<SqlText>{plugin, std::string(kind_name(kind)), handler, version});
}

std::optional<LockedPlugin> lock_plugin(pg::SpiConnection& spi, const std::string& name) {
    auto rows =
        Statements(spi).execute("SELECT library FROM duroxide.plugins WHERE name = $1 FOR UPDATE",
                                std::vector<SqlText>{name});
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    return LockedPlugin{.library = rows.rows[0][0]};
}

std::vector<PluginHandler> plugin_handlers(pg::SpiConnection& spi, const std::string& plugin) {
    auto rows = Statements(spi).execute("SELECT kind, name, version FROM duroxide.plugin_handlers "
                                        "WHERE plugin = $1 ORDER BY kind, name, version",
                                        std::vector<SqlText>{plugin});
    std::vector<PluginHandler> handlers;
    handlers.reserve(rows.rows.size());
    for (auto& row : rows.rows) {
        handlers.push_back(
            {.kind = *row[0] == "activity" ? HandlerKind::Activity : HandlerKind::Orchestration,
             .name = std::move(*row[1]),
             .version = row[2].value_or("")});
    }
    return handlers;
}

uint64_t running_instances_of(pg::SpiConnection& spi, const std::string& name,
                              const std::string& version) {
    auto rows = Statements(spi).execute(
        "SELECT pg_catalog.count(*) FROM duroxide.instances i JOIN duroxide.executions e "
        "    ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id "
        " WHERE e.status = 'Running' AND i.orchestration_name = $1 "
        "   AND i.orchestration_version = $2",
        std::vector<SqlText>{name, version});
    return std::stoull(rows.rows.at(0)[0].value_or("0"));
}

void repoint_plugin(pg::SpiConnection& spi, const std::string& name,
                    const PluginRegistration& plugin) {
    Statements statements(spi);
    statements.execute("DELETE FROM duroxide.plugin_handlers WHERE plugin = $1",
                       std::vector<SqlText>{name});
    statements.execute(
        "UPDATE duroxide.plugins SET library = $2, path = $3, abi_version = $4::integer, "
        "       registered_by = $5::oid::regrole, registered_by_superuser = $6::boolean, "
        "       reloaded_at = pg_catalog.clock_timestamp() "
        " WHERE name = $1",
        std::vector<SqlText>{name, plugin.library, plugin.path, text_of(plugin.abi_version),
                             text_of(plugin.registered_by),
                             plugin.registered_by_superuser ? "true" : "false"});
}

} // namespace duroxide::store
