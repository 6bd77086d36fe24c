// Sleeping until an instance's status may have changed, for the client's wait functions. A
// waiter reads the database's change count, checks the status, and sleeps only if the count
// is unchanged; a dispatcher that commits a status change bumps the count and sets every
// waiter's latch (runtime/process/wakeup), so no change is missed and nobody polls.
#pragma once

#include "pg/postgres.hpp"

namespace duroxide::runtime {

// The current database's status change count.
uint64 status_change_count();

// Returns at once if the count moved past `seen`; otherwise sleeps until a status change is
// committed, `timeout_ms` passes, or an interrupt (query cancel) arrives.
void await_status_change(uint64 seen, long timeout_ms);

} // namespace duroxide::runtime
