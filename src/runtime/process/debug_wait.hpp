// Developer wait points (duroxide.debug_wait_point, superuser only): a worker that reaches the
// named point waits there, in its transaction, for as long as another session holds the
// advisory lock kDebugWaitLockKey exclusively (pg_advisory_lock(kDebugWaitLockKey)); so a test
// can hold a worker at a precise place, commit something meanwhile and let it go. The wait is
// visible in pg_locks (an ungranted advisory lock of a duroxide backend). Points:
//   catalog_refresh   Handlers::refresh, after the unit of work took its snapshot and before it
//                     reads the catalog generation (test/tap/040_catalog_generation.pl).
#pragma once

namespace duroxide::runtime {

// "duroxide" - 1: beside the extension gate's key (wakeup.hpp), never the same.
inline constexpr long long kDebugWaitLockKey = 0x6475726f78696465LL - 1;

// Waits at `point` when duroxide.debug_wait_point names it; returns at once otherwise.
void debug_wait_point(const char* point);

} // namespace duroxide::runtime
