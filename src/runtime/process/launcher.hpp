// The launcher background worker: one per server, started by the postmaster.
#pragma once

namespace duroxide::runtime {

// Registers the launcher as a static background worker (from _PG_init only).
void register_launcher();

} // namespace duroxide::runtime
