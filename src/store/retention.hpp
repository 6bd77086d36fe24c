// Retention (duroxide.retention_period, runtime/services/retention.cpp): finished instances
// deleted in small batches through duroxide.delete_instances, in the caller's transaction.
#pragma once

#include "pg/spi.hpp"

#include <cstdint>

namespace duroxide::store {

// Deletes up to `max_instances` terminal root instances (with their trees) that completed more
// than `older_than_s` seconds ago; returns how many root instances it deleted.
uint64_t delete_finished_instances(pg::SpiConnection& spi, int64_t older_than_s, int max_instances);

} // namespace duroxide::store
