#include "runtime/unit_of_work.hpp"

#include "runtime/wakeup.hpp"
#include "store/statements.hpp"

#include <string>
#include <vector>

namespace duroxide::runtime {

void begin_unit(pg::SpiConnection& spi, Commit commit) {
    // One of the worker's fixed statements: kept with the store's (store/statements.hpp).
    spi.execute(store::statement_set(),
                commit == Commit::Relaxed
                    ? "SELECT pg_catalog.pg_advisory_xact_lock_shared($1::bigint), "
                      "pg_catalog.set_config('synchronous_commit', 'off', true)"
                    : "SELECT pg_catalog.pg_advisory_xact_lock_shared($1::bigint)",
                std::vector<pg::SqlText>{std::to_string(kExtensionGateLockKey)});
}

} // namespace duroxide::runtime
