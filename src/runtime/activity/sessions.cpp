#include "runtime/activity/sessions.hpp"

#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/shared_state.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "runtime/process/worker.hpp"

#include <algorithm>
#include <set>

extern "C" {
#include "storage/ipc.h"
}

namespace duroxide::runtime {

namespace {

using std::chrono::milliseconds;

std::string make_owner_id(unsigned database_oid, int worker_index) {
    const std::string node = settings.worker_node_id != nullptr && *settings.worker_node_id != '\0'
                                 ? settings.worker_node_id
                                 : "local";
    return node + "/" + std::to_string(database_oid) + "/" + std::to_string(worker_index);
}

// Who this process is in sessions, for the exit callback (one keeper per process).
store::SessionOwner exiting_owner;

// A graceful stop (SIGTERM, DROP EXTENSION, run_workers off: all end in proc_exit) releases
// this worker's sessions at once. Runs before PostgreSQL's own shutdown callback, so that a
// transaction can still be run; a crash never gets here (its sessions are free at once anyway,
// since no live process has the owner id). Any failure (the schema was dropped) is ignored.
void release_sessions_at_exit(int, Datum) {
    if (exiting_owner.owner_id.empty()) {
        return;
    }
    try {
        pg::call([] { AbortOutOfAnyTransaction(); });
        pg::WorkerTransaction transaction("duroxide: releasing sessions");
        {
            pg::SpiConnection spi;
            store::Store(spi).release_owner_sessions(exiting_owner);
        }
        transaction.commit();
    } catch (...) {
        try {
            pg::call([] {
                AbortOutOfAnyTransaction();
                FlushErrorState();
            });
        } catch (...) {
            // Exiting anyway: the sessions are free once this process is gone.
        }
    }
    exiting_owner.owner_id.clear();
}

} // namespace

SessionKeeper::SessionKeeper(unsigned database_oid, int worker_index)
    : owner_id_(make_owner_id(database_oid, worker_index)), worker_index_(worker_index) {
    apply_settings();
    report_session_owner(owner_id_);
    seen_releases_ = session_releases_seen_by_database();
    next_renewal_ = Clock::now();
    next_cleanup_ = Clock::now() + milliseconds(settings.session_cleanup_interval_ms);
    exiting_owner = owner();
    pg::call([] { before_shmem_exit(release_sessions_at_exit, 0); });
}

store::SessionOwner SessionKeeper::owner() const {
    return {owner_id_, my_lease_owner(), static_cast<int>(timings_.lock_timeout.count()),
            settings.max_sessions_per_worker, static_cast<int>(timings_.idle_timeout.count())};
}

void SessionKeeper::apply_settings() {
    timings_ = core::validate_session_timings(milliseconds(settings.session_lock_timeout_ms),
                                              milliseconds(settings.session_idle_timeout_ms),
                                              milliseconds(settings.worker_lock_timeout_ms));
    const std::string warning = timings_.warning.value_or("");
    if (!warning.empty() && warning != last_warning_) {
        pg::call(
            [&warning] { ereport(WARNING, (errmsg_internal("duroxide: %s", warning.c_str()))); });
    }
    last_warning_ = warning;
}

void SessionKeeper::fetched(const store::FetchedActivity& activity) {
    if (!activity.item.session_id) {
        return;
    }
    if (!activity.session_continued) {
        states_.drop(core::session_state_key(activity.item.instance, *activity.item.session_id));
        // A claim: count it now and renew from here on.
        ++owned_;
        report_sessions_owned(owned_);
        next_renewal_ = std::min(
            next_renewal_, Clock::now() + core::session_renewal_interval(timings_.lock_timeout));
    }
}

std::optional<long> SessionKeeper::ms_until_due() const {
    Clock::time_point due = worker_index_ == 0 ? next_cleanup_ : Clock::time_point::max();
    if (has_sessions()) {
        due = std::min(due, next_renewal_);
    }
    if (due == Clock::time_point::max()) {
        return std::nullopt;
    }
    const auto wait = std::chrono::duration_cast<milliseconds>(due - Clock::now()).count();
    return std::max<long>(wait, 0);
}

bool SessionKeeper::renew_for_running_activity(store::Store& store,
                                               const store::FetchedActivity& running,
                                               bool through_activity_lease) {
    const store::SessionOwner sessions = owner();
    // The owned list is left to maintain() after the activity: dropping session state now
    // could pull the running activity's own state from under it.
    store.renew_sessions(sessions, sessions.idle_timeout_ms);
    bool kept = true;
    if (running.item.session_id) {
        // After renew_sessions, which would cut a longer hold back to the session lock timeout.
        kept = store.keep_activity_session(running, sessions, through_activity_lease);
    }
    next_renewal_ = Clock::now() + core::session_renewal_interval(timings_.lock_timeout);
    return kept;
}

void SessionKeeper::sync(const std::vector<store::SessionKey>& owned) {
    std::set<std::string> kept;
    for (const auto& key : owned) {
        kept.insert(core::session_state_key(key.instance, key.session));
    }
    states_.keep_only(kept);
    owned_ = static_cast<int>(owned.size());
    report_sessions_owned(owned_);
}

void SessionKeeper::maintain() {
    apply_settings();
    const auto now = Clock::now();
    const uint64_t releases = session_releases_seen_by_database();
    const bool released = releases != seen_releases_;
    const bool renew = has_sessions() && now >= next_renewal_;
    const bool cleanup = worker_index_ == 0 && now >= next_cleanup_;
    if (!released && !renew && !cleanup) {
        return;
    }
    seen_releases_ = releases;
    std::vector<store::SessionKey> owned;
    {
        pg::WorkerTransaction transaction("duroxide: session upkeep");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Relaxed);
            store::Store store(spi);
            owned = store.renew_sessions(owner(), static_cast<int>(timings_.idle_timeout.count()));
            if (cleanup) {
                store.cleanup_orphaned_sessions();
            }
        }
        transaction.commit();
    }
    sync(owned);
    next_renewal_ = now + core::session_renewal_interval(timings_.lock_timeout);
    if (cleanup) {
        next_cleanup_ = now + milliseconds(settings.session_cleanup_interval_ms);
    }
}

} // namespace duroxide::runtime
