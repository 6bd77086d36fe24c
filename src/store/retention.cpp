#include "store/retention.hpp"

#include "store/statements.hpp"

#include <string>
#include <vector>

namespace duroxide::store {

uint64_t delete_finished_instances(pg::SpiConnection& spi, int64_t older_than_s,
                                   int max_instances) {
    const pg::SpiRows rows = Statements(spi).execute(
        "SELECT instances FROM duroxide.delete_instances("
        "  completed_before => pg_catalog.clock_timestamp() - $1::bigint * "
        "interval '1 second', "
        "  max_instances => $2::int)",
        std::vector<pg::SqlText>{std::to_string(older_than_s), std::to_string(max_instances)});
    return std::stoull(rows.rows.at(0).at(0).value_or("0"));
}

} // namespace duroxide::store
