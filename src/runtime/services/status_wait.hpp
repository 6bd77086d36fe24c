// Sleeping until an instance's status may have changed, for the client's wait functions. A
// waiter reads the change count of the instance it waits for, checks the status, and sleeps
// only if the count is unchanged; a commit that changes an instance's status bumps the count
// of its key and sets the latches of the waiters of that instance only (runtime/process/
// wakeup), so no change is missed, nobody polls, and N clients waiting for N instances are not
// all woken by every commit (a thundering herd). Key 0 waits for any instance.
#pragma once

#include "pg/postgres.hpp"

#include <string_view>

namespace duroxide::runtime {

// The key of the waits for `instance` in `database`: a 64-bit hash, never 0.
uint64 status_wait_key(Oid database, std::string_view instance);

// The change count a waiter for `key` compares (runtime/process/shared_state).
uint64 status_change_count(uint64 key);

// Returns at once if the count moved past `seen`; otherwise sleeps until a change of the
// instance of `key` (any instance: key 0) is committed, `timeout_ms` passes, or an interrupt
// (query cancel) arrives.
void await_status_change(uint64 key, uint64 seen, long timeout_ms);

} // namespace duroxide::runtime
