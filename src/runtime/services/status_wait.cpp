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

// A waiter slot held for the duration of one sleep; released however the sleep ends.
class WaiterRegistration {
public:
    WaiterRegistration(uint64 key, uint64 seen)
        : ticket_(shared_state().add_status_waiter(MyDatabaseId, key, seen, MyLatch)) {}
    ~WaiterRegistration() {
        if (ticket_.slot >= 0) {
            shared_state().remove_status_waiter(ticket_.slot);
        }
    }
    WaiterRegistration(const WaiterRegistration&) = delete;
    WaiterRegistration& operator=(const WaiterRegistration&) = delete;

    bool changed() const { return ticket_.changed; }
    bool registered() const { return ticket_.slot >= 0; }

private:
    StatusWaiterTicket ticket_;
};

constexpr long kUnregisteredPollMs = 10; // all waiter slots taken: poll instead

} // namespace

uint64 status_wait_key(Oid database, std::string_view instance) {
    // FNV-1a over the database and the id; the waits compare full keys, so two instances
    // share wake-ups only if their 64-bit keys collide.
    uint64 hash = 14695981039346656037ULL;
    const auto mix = [&hash](unsigned char byte) {
        hash ^= byte;
        hash *= 1099511628211ULL;
    };
    for (int shift = 0; shift < 32; shift += 8) {
        mix(static_cast<unsigned char>((database >> shift) & 0xff));
    }
    for (const char c : instance) {
        mix(static_cast<unsigned char>(c));
    }
    return hash == 0 ? 1 : hash;
}

uint64 status_change_count(uint64 key) {
    return shared_state().status_change_count(MyDatabaseId, key);
}

void await_status_change(uint64 key, uint64 seen, long timeout_ms) {
    WaiterRegistration registration(key, seen);
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
