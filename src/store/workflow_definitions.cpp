#include "store/workflow_definitions.hpp"

#include <vector>

namespace duroxide::store {

std::optional<StoredWorkflow> load_workflow_for_instance(pg::SpiConnection& spi,
                                                         const std::string& name,
                                                         const std::optional<std::string>& version,
                                                         const std::string& role,
                                                         const std::string& instance) {
    auto rows = spi.execute(
        "SELECT d.version, d.definition::text FROM duroxide.workflow_definitions d "
        " WHERE d.name = $1 AND d.version = coalesce($2::text, "
        "         (SELECT p.version FROM duroxide.workflow_version_policies p WHERE p.name = $1), "
        "         d.version) "
        "   AND duroxide._may_start_workflow(d.name, d.owner_role, $3::oid) "
        " ORDER BY string_to_array(d.version, '.')::int[] DESC LIMIT 1",
        std::vector<pg::SqlText>{name, version, role}, true);
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    StoredWorkflow found{*rows.rows[0][0], *rows.rows[0][1]};
    spi.execute("INSERT INTO duroxide.workflow_instances (instance_id, name, version) "
                "VALUES ($1, $2, $3) ON CONFLICT (instance_id) DO NOTHING",
                std::vector<pg::SqlText>{instance, name, found.version});
    return found;
}

} // namespace duroxide::store
