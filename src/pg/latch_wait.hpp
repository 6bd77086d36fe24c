// The one way a duroxide background process sleeps: on its latch, with a timeout, exiting if
// the postmaster dies, then serving interrupts (SIGTERM ends the process here) and reloading
// the configuration after SIGHUP.
#pragma once

namespace duroxide::pg {

// Returns true when the latch was set (a wake-up), false on timeout.
bool wait_on_latch(long timeout_ms);

} // namespace duroxide::pg
