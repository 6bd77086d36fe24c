// The first statement of every worker unit of work.
#pragma once

#include "pg/spi.hpp"

namespace duroxide::runtime {

enum class Commit { Durable, Relaxed };

// Takes the extension gate (see kExtensionGateLockKey) and, for Relaxed units (fetches,
// session upkeep), makes the commit asynchronous: they need no flush to disk of their own; if
// the server crashes before the next synchronous commit flushes them, they did not happen.
void begin_unit(pg::SpiConnection& spi, Commit commit);

} // namespace duroxide::runtime
