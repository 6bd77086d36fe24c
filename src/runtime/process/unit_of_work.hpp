// The first statement of every worker unit of work.
#pragma once

#include "pg/spi.hpp"

#include <stdexcept>

namespace duroxide::runtime {

enum class Commit { Durable, Relaxed };

// DROP EXTENSION duroxide holds the extension gate: the unit did not start (nothing was done)
// and the worker waits for the next poll instead of queueing behind the drop's locks.
struct ExtensionGateClosed : std::runtime_error {
    ExtensionGateClosed()
        : std::runtime_error("DROP EXTENSION duroxide is in progress in this database") {}
};

// Takes the extension gate (see kExtensionGateLockKey) without waiting, or throws
// ExtensionGateClosed, and, for Relaxed units (fetches, session upkeep), makes the commit
// asynchronous: they need no flush to disk of their own; if the server crashes before the
// next synchronous commit flushes them, they did not happen.
void begin_unit(pg::SpiConnection& spi, Commit commit);

} // namespace duroxide::runtime
