// An activity worker's side of sessions: its stable owner id, the session state it keeps for
// plugins, and the upkeep of its session leases (renewal of busy sessions, unpinning of idle
// and released ones, orphan cleanup by worker 0), done between units of work since the worker
// is single-threaded. When the worker stops gracefully (SIGTERM, DROP EXTENSION, run_workers
// off) it deletes its session leases on the way out; a crashed worker's rows stay, claimable
// by others at once (no live process has the owner id) or reclaimed by this slot's next
// process (same owner id). Sessions are keyed by (instance, session id).
#pragma once

#include "core/sessions/session_states.hpp"
#include "core/sessions/session_timing.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace duroxide::runtime {

class SessionKeeper {
public:
    SessionKeeper(unsigned database_oid, int worker_index);
    SessionKeeper(const SessionKeeper&) = delete;
    SessionKeeper& operator=(const SessionKeeper&) = delete;

    const std::string& owner_id() const { return owner_id_; }
    int worker_index() const { return worker_index_; }
    // This process's part in fetches and acks (settings as of now).
    store::SessionOwner owner() const;
    core::SessionStates& states() { return states_; }

    // Renews, unpins and cleans up when due, or at once when sessions were released from
    // SQL. Runs its own short transaction when there is something to do.
    void maintain();
    // Milliseconds until maintain() has something to do; nullopt when nothing is scheduled.
    std::optional<long> ms_until_due() const;

    // A running plugin activity keeps maintain() from running: at its suspension points it asks
    // whether the session leases are due for renewal (on maintain()'s schedule) and renews them
    // in its own short transaction. That renewal also marks the session of `running` (if any)
    // as in use, so that the idle rule does not drop it, and with `through_activity_lease`
    // holds it at least until the activity's lease ends.
    bool renewal_due() const { return has_sessions() && Clock::now() >= next_renewal_; }
    // Returns false when the running activity's session is no longer this worker's (closed by
    // its orchestration, released, or taken over): the activity is then cancelled.
    bool renew_for_running_activity(store::Store& store, const store::FetchedActivity& running,
                                    bool through_activity_lease);

    // A session activity was fetched: a newly claimed session starts with no state (a
    // leftover from an earlier ownership is dropped).
    void fetched(const store::FetchedActivity& activity);

private:
    using Clock = std::chrono::steady_clock;
    void apply_settings();
    void sync(const std::vector<store::SessionKey>& owned);
    // Whether there are leases to renew or state to drop.
    bool has_sessions() const { return owned_ > 0 || !states_.empty(); }

    std::string owner_id_;
    int worker_index_;
    core::SessionStates states_;
    core::SessionTimings timings_{};
    std::string last_warning_;
    int owned_ = 0;
    uint64_t seen_releases_ = 0;
    Clock::time_point next_renewal_;
    Clock::time_point next_cleanup_;
};

} // namespace duroxide::runtime
