#include "runtime/services/status_wait.hpp"

#include "pg/guard.hpp"
#include "runtime/process/shared_state.hpp"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
}

namespace duroxide::runtime {

namespace {

uint64 count_locked(SharedState& shared) {
    const DatabaseEntry* entry = find_database(MyDatabaseId);
    return entry != nullptr ? entry->status_changes : 0;
}

// A waiter slot held for the duration of one sleep; released however the sleep ends.
class WaiterRegistration {
public:
    explicit WaiterRegistration(uint64 seen) {
        SharedState& shared = shared_state();
        LWLockAcquire(shared.lock, LW_EXCLUSIVE);
        changed_ = count_locked(shared) != seen;
        for (StatusWaiter& waiter : shared.status_waiters) {
            if (!changed_ && waiter.database == InvalidOid) {
                waiter.database = MyDatabaseId;
                waiter.latch = MyLatch;
                slot_ = &waiter;
                break;
            }
        }
        LWLockRelease(shared.lock);
    }
    ~WaiterRegistration() {
        if (slot_ != nullptr) {
            SharedState& shared = shared_state();
            LWLockAcquire(shared.lock, LW_EXCLUSIVE);
            slot_->database = InvalidOid;
            slot_->latch = nullptr;
            LWLockRelease(shared.lock);
        }
    }
    WaiterRegistration(const WaiterRegistration&) = delete;
    WaiterRegistration& operator=(const WaiterRegistration&) = delete;

    bool changed() const { return changed_; }
    bool registered() const { return slot_ != nullptr; }

private:
    StatusWaiter* slot_ = nullptr;
    bool changed_ = false;
};

constexpr long kUnregisteredPollMs = 10; // all waiter slots taken: poll instead

} // namespace

uint64 status_change_count() {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_SHARED);
    const uint64 count = count_locked(shared);
    LWLockRelease(shared.lock);
    return count;
}

void await_status_change(uint64 seen, long timeout_ms) {
    WaiterRegistration registration(seen);
    if (registration.changed()) {
        return;
    }
    const long sleep_ms =
        registration.registered() ? timeout_ms : std::min(timeout_ms, kUnregisteredPollMs);
    pg::call([sleep_ms] {
        WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, sleep_ms,
                  PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    });
}

} // namespace duroxide::runtime
