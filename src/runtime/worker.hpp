// The per-database background workers: orchestration dispatchers and activity workers.
#pragma once

#include "runtime/shared_state.hpp"

#include <string>

namespace duroxide::runtime {

// Packs the launcher's (database entry, slot) choice into a worker's bgw_main_arg.
inline Datum worker_argument(int database_index, int slot) {
    return Int32GetDatum(database_index * 1024 + slot);
}

// The stable identity of a slot's worker: the owner recorded on its leases, so that a
// replacement process in the same slot can release what a dead one held.
std::string slot_owner_id(Oid database, WorkerRole role, int index);

} // namespace duroxide::runtime
