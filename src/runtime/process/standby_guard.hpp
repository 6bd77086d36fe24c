// The standby guard. On a hot standby (a server in recovery) duroxide runs no launcher and no
// worker (they are registered with BgWorkerStart_RecoveryFinished, so the postmaster starts them
// only once recovery has finished, i.e. at promotion), and every client function that writes is
// refused with SQLSTATE 25006, the function's name and a hint to connect to the primary; reads
// (status, history, lists, metrics, waits) work.
//
// One check for every function: through PostgreSQL's function-manager hook, each call of a
// VOLATILE function of schema `duroxide` or `duroxide_internal` is refused while the server is
// in recovery, unless the function is on the list of reads in standby_guard.cpp. A new function
// is therefore refused on a standby by default (SQL functions default to VOLATILE); a new
// VOLATILE function that only reads must be added to that list (or be declared STABLE).
// test/tap/028_failover_sync.pl calls every such function on a standby.
//
// On a primary the hook costs one RecoveryInProgress() test per function lookup (a local flag
// once recovery is over) and changes nothing: no function is routed through the hook.
#pragma once

namespace duroxide::runtime {

// Installs the function-manager hook; called once from _PG_init.
void install_standby_guard();

} // namespace duroxide::runtime
