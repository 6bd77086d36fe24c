#include "runtime/process/unit_of_work.hpp"

#include "runtime/process/wakeup.hpp"
#include "store/statements.hpp"

#include <string>
#include <vector>

namespace duroxide::runtime {

void begin_unit(pg::SpiConnection& spi, Commit commit) {
    // A try-lock: a worker that waited for the gate while a drop holds it would sit in the
    // lock queue for as long as the drop waits for its own locks (a client's transaction, say),
    // and every later unit of every worker would queue behind it. One of the worker's fixed
    // statements: kept with the store's (store/statements.hpp).
    auto gate = spi.execute(store::statement_set(),
                            commit == Commit::Relaxed
                                ? "SELECT pg_catalog.pg_try_advisory_xact_lock_shared($1::bigint), "
                                  "pg_catalog.set_config('synchronous_commit', 'off', true)"
                                : "SELECT pg_catalog.pg_try_advisory_xact_lock_shared($1::bigint)",
                            std::vector<pg::SqlText>{std::to_string(kExtensionGateLockKey)});
    if (gate.rows.empty() || !gate.rows[0][0] || *gate.rows[0][0] != "t") {
        throw ExtensionGateClosed();
    }
}

} // namespace duroxide::runtime
