#include "runtime/unit_of_work.hpp"

#include "runtime/wakeup.hpp"

#include <string>
#include <vector>

namespace duroxide::runtime {

void begin_unit(pg::SpiConnection& spi, Commit commit) {
    spi.execute(commit == Commit::Relaxed ? "SELECT pg_advisory_xact_lock_shared($1::bigint), "
                                            "set_config('synchronous_commit', 'off', true)"
                                          : "SELECT pg_advisory_xact_lock_shared($1::bigint)",
                std::vector<pg::SqlText>{std::to_string(kExtensionGateLockKey)});
}

} // namespace duroxide::runtime
