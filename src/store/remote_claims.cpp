#include "store/remote_claims.hpp"

#include "core/codec/json_codec.hpp"
#include "store/statements.hpp"

#include <vector>

namespace duroxide::store {

std::optional<FetchedActivity> leased_activity(pg::SpiConnection& spi, int64_t id,
                                               std::string_view token) {
    Statements statements(spi);
    auto rows =
        statements.execute("SELECT work_item, attempt_count FROM duroxide.worker_queue "
                           "WHERE id = $1::bigint AND lock_token = $2",
                           std::vector<pg::SqlText>{std::to_string(id), std::string(token)}, true);
    if (rows.rows.empty()) {
        return std::nullopt;
    }
    core::WorkItem item = core::codec::decode_work_item(*rows.rows[0][0]);
    return FetchedActivity{.id = id,
                           .lock_token = std::string(token),
                           .attempt_count = static_cast<uint32_t>(std::stoul(*rows.rows[0][1])),
                           .item = std::get<core::work::ActivityExecute>(item.kind)};
}

bool activity_registered(pg::SpiConnection& spi, const std::string& name) {
    Statements statements(spi);
    auto rows = statements.execute(
        "SELECT EXISTS (SELECT FROM duroxide.plugin_handlers h "
        "                WHERE h.kind = 'activity' AND h.name = $1) "
        "    OR EXISTS (SELECT FROM duroxide.sql_activities a WHERE a.name = $1)",
        std::vector<pg::SqlText>{name}, true);
    return rows.rows.at(0)[0] == "t";
}

} // namespace duroxide::store
