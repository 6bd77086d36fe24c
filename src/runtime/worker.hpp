// The per-database background workers: orchestration dispatchers and activity workers.
#pragma once

#include "runtime/shared_state.hpp"

namespace duroxide::runtime {

// Packs the launcher's (database entry, slot) choice into a worker's bgw_main_arg.
inline Datum worker_argument(int database_index, int slot) {
    return Int32GetDatum(database_index * 1024 + slot);
}

// This worker process's lease owner id: random, never reused, recorded on everything it
// fetches (locked_by) so that its leases die with the process.
int64 my_lease_owner();

} // namespace duroxide::runtime
