// The handlers a worker process can run: the merged registries of every registered plugin
// (reloaded when the plugin catalog changes) and the SQL activities.
#pragma once

#include "duroxide/registry.hpp"
#include "pg/spi.hpp"
#include "store/plugins.hpp"

#include <optional>
#include <string>

namespace duroxide::runtime {

// A row of duroxide.sql_activities, as the worker runs it (store/plugins.hpp).
using SqlActivity = store::SqlActivity;

class Handlers {
public:
    // Reloads the plugins when duroxide.plugins changed since the last call (caller's
    // transaction), and applies duroxide.version_policies over their registries again. Runs no
    // statement while the catalog generation (shared memory, bumped after every committed catalog
    // change) has not moved since the last call. A plugin that fails to load is logged and skipped.
    // Returns true when the plugins were reloaded (a policy change alone returns false: it
    // only changes which version new instances get).
    bool refresh(pg::SpiConnection& spi);

    const OrchestrationRegistry& orchestrations() const { return orchestrations_; }
    const ActivityRegistry& activities() const { return activities_; }
    std::optional<SqlActivity> sql_activity(pg::SpiConnection& spi, const std::string& name) const;

private:
    void reload_plugins(pg::SpiConnection& spi);
    void apply_version_policies(pg::SpiConnection& spi);

    std::string catalog_version_;
    std::optional<uint64_t> generation_seen_;     // the catalog generation of the last read
    OrchestrationRegistry plugin_orchestrations_; // as the plugins registered them
    OrchestrationRegistry orchestrations_;        // with the SQL version policies applied
    ActivityRegistry activities_;
};
} // namespace duroxide::runtime
