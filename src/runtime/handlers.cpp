#include "runtime/handlers.hpp"

#include "pg/guard.hpp"
#include "runtime/plugin_loader.hpp"

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
    auto version =
        spi.execute("SELECT count(*)::text || ':' || coalesce(max(registered_at)::text, '') "
                    "FROM duroxide.plugins",
                    {}, true);
    const std::string current = version.rows[0][0].value_or("");
    if (current == catalog_version_) {
        return false;
    }
    Collector merged;
    auto plugins = spi.execute("SELECT name FROM duroxide.plugins ORDER BY name", {}, true);
    for (const auto& row : plugins.rows) {
        const std::string& name = *row[0];
        try {
            Collector one;
            load_plugin(name, one);
            merged.orchestrations_.merge(one.orchestrations_);
            merged.activities_.merge(one.activities_);
        } catch (const std::exception& e) {
            const std::string message = "duroxide: plugin \"" + name + "\" not loaded: " + e.what();
            pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
        }
    }
    orchestrations_ = std::move(merged.orchestrations_);
    activities_ = std::move(merged.activities_);
    catalog_version_ = current;
    return true;
}

std::optional<SqlActivity> Handlers::sql_activity(pg::SpiConnection& spi,
                                                  const std::string& name) const {
    auto rows = spi.execute("SELECT function_oid::oid, run_as::oid, input_type::oid, "
                            "output_type::oid FROM duroxide.sql_activities WHERE name = $1",
                            std::vector<pg::SqlText>{name}, true);
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    const auto& r = rows.rows[0];
    return SqlActivity{static_cast<Oid>(std::stoul(*r[0])), static_cast<Oid>(std::stoul(*r[1])),
                       static_cast<Oid>(std::stoul(*r[2])), static_cast<Oid>(std::stoul(*r[3]))};
}

} // namespace duroxide::runtime
