// The per-database background workers: orchestration dispatchers and activity workers.
#pragma once

#include "runtime/process/shared_state.hpp"

#include <optional>
#include <string_view>

namespace duroxide::runtime {

// Packs the launcher's (database entry, slot) choice into a worker's bgw_main_arg.
inline Datum worker_argument(int database_index, int slot) {
    return Int32GetDatum(database_index * 1024 + slot);
}

// This worker process's lease owner id: random, never reused, recorded on everything it
// fetches (locked_by) so that its leases die with the process.
int64 my_lease_owner();

// What this worker shows in duroxide.runtime_status: its current work ("" when none) and the
// number of sessions it owns.
// `owner`: the role owning the instance the work belongs to (InvalidOid: none or unknown);
// runtime_status shows the work only to roles that may access that instance.
void report_current_work(std::string_view work, std::optional<Oid> owner = std::nullopt);
void report_sessions_owned(int sessions);
// Publishes the slot's session owner id (its sessions are its own while it lives).
void report_session_owner(std::string_view owner_id);
// Publishes the tag filter this activity worker fetches with (written only when it changes).
void report_tag_filter(std::string_view filter);
// Whether a dispatcher of this worker's database is running a unit of work (not waiting for
// work): auto inline turns leave their turns to it then.
bool a_dispatcher_is_busy();
// The count of SQL session releases committed in this worker's database.
uint64 session_releases_seen_by_database();

} // namespace duroxide::runtime
