#include "runtime/process/worker.hpp"

#include "pg/guard.hpp"
#include "duroxide/version.hpp"
#include "pg/latch_wait.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runtime/activity/activity_envelope.hpp"
#include "runtime/orchestration/dispatch.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/services/metrics.hpp"
#include "runtime/services/retention.hpp"
#include "runtime/activity/sessions.hpp"
#include "runtime/process/unit_of_work.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void duroxide_worker_main(Datum main_arg);
}

namespace duroxide::runtime {

namespace {

struct Identity {
    int database_index = -1;
    int slot_index = -1;
    Oid database = InvalidOid;
    WorkerRole role = WorkerRole::Dispatcher;
    int index = 0;
};

Identity me;
int64 lease_owner = 0;

WorkerSlot& my_slot() {
    return shared_state().databases[me.database_index].slots[me.slot_index];
}

// While a drop holds the extension gate: look again this often (the drop wakes nobody when it
// rolls back).
constexpr long kGateClosedPollMs = 200;

void set_state(const char* state) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    WorkerSlot& slot = my_slot();
    std::snprintf(slot.state, sizeof(slot.state), "%s", state);
    slot.state_since = GetCurrentTimestamp();
    slot.idle = std::strcmp(state, "idle") == 0;
    if (slot.idle) {
        // A worker waiting for work works on nothing, whatever a unit of work that ended by
        // an exception (lease lost, rolled back) left in `current` (runtime_status).
        slot.current[0] = '\0';
    }
    LWLockRelease(shared.lock);
}

void count_items(std::size_t count) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    my_slot().items_processed += count;
    LWLockRelease(shared.lock);
}

void record_error(const char* message) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    std::snprintf(my_slot().last_error, sizeof(my_slot().last_error), "%s", message);
    LWLockRelease(shared.lock);
}

// Every warning duroxide's own code in the worker writes to the server log (a turn or an
// activity given back, a turn not recorded, locks not renewed) is also its
// runtime_status.last_error: the give-back paths log and go on, so without this the view
// would show no error at all. Trace lines of user code (trace_log.cpp) and warnings of SQL
// activities are not errors of the worker and are left out. Runs inside ereport: it only
// copies the message, and not while this process holds the shared lock.
emit_log_hook_type previous_emit_log_hook = nullptr;

// PostgreSQL keeps only the base name of the source file that raised a message: duroxide's
// are C++ (.cpp), PostgreSQL's and its procedural languages' are C.
bool raised_by_duroxide(const char* file) {
    if (file == nullptr) {
        return false;
    }
    const std::string_view name(file);
    return name.ends_with(".cpp") && name != "trace_log.cpp";
}

void keep_last_warning(ErrorData* edata) {
    if (previous_emit_log_hook != nullptr) {
        previous_emit_log_hook(edata);
    }
    if (edata->elevel < WARNING || edata->message == nullptr || me.slot_index < 0 ||
        !raised_by_duroxide(edata->filename) || LWLockHeldByMe(shared_state().lock)) {
        return;
    }
    record_error(edata->message);
}

// Clears the slot's process fields when the process exits, however it exits.
void forget_process(int, Datum) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    WorkerSlot& slot = my_slot();
    if (slot.pid == MyProcPid) {
        slot.pid = 0;
        slot.lease_owner = 0;
        slot.latch = nullptr;
        slot.idle = false;
        slot.sessions = 0;
        slot.current[0] = '\0';
        slot.current_owner = InvalidOid;
        slot.tag_filter[0] = '\0';
    }
    LWLockRelease(shared.lock);
}

// The extension as the catalog of this database has it: absent, or at some version.
std::optional<std::string> installed_version() {
    pg::WorkerTransaction transaction("duroxide: checking the extension");
    std::optional<std::string> version;
    {
        pg::SpiConnection spi;
        const pg::SpiRows found = spi.execute(
            "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'duroxide'", {}, true);
        if (!found.rows.empty()) {
            version = found.rows[0][0];
        }
    }
    transaction.commit();
    return version;
}

// The extension is gone from this database: tell the launcher and exit for good.
[[noreturn]] void leave_database(bool was_probe) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    DatabaseEntry& entry = shared.databases[me.database_index];
    if (entry.database == me.database) {
        entry.state = was_probe && entry.state == DatabaseState::Probing ? DatabaseState::Free
                                                                         : DatabaseState::Stopping;
    }
    Latch* launcher = shared.launcher_latch;
    LWLockRelease(shared.lock);
    if (launcher != nullptr) {
        SetLatch(launcher);
    }
    pg::call([] { proc_exit(0); });
    pg_unreachable();
}

// Returns whether a latch (work committed, or a signal) ended the wait.
bool wait_for_work(long timeout_ms) {
    set_state("idle");
    const bool woken = pg::wait_on_latch(timeout_ms);
    metrics::add(woken ? metrics::Counter::WakeUps : metrics::Counter::SafetyNetPolls);
    set_state("running");
    return woken;
}

// DROP EXTENSION marks the database Stopping in shared memory when it commits.
bool database_stopping() {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_SHARED);
    const bool stopping = shared.databases[me.database_index].state == DatabaseState::Stopping;
    LWLockRelease(shared.lock);
    return stopping;
}

// The library serves only the schema of its own version: after a package upgrade the workers
// of a database still at an older version wait (touching none of its tables) until
// ALTER EXTENSION duroxide UPDATE brings the schema up; they leave if the extension is dropped.
void await_current_schema() {
    bool warned = false;
    for (;;) {
        const std::optional<std::string> version = installed_version();
        if (!version) {
            leave_database(false);
        }
        if (*version == kLibraryVersion) {
            return;
        }
        if (!warned) {
            const std::string message = "duroxide: the extension in this database is at version " +
                                        *version + ", the library at " + kLibraryVersion +
                                        "; workers wait until it is updated";
            pg::call([&message] {
                ereport(WARNING,
                        (errmsg_internal("%s", message.c_str()),
                         errhint("Run ALTER EXTENSION duroxide UPDATE in this database.")));
            });
            record_error(message.c_str());
            warned = true;
        }
        set_state("awaiting UPDATE");
        pg::wait_on_latch(settings.poll_interval_ms);
    }
}

void run_worker(Datum argument) {
    const int packed = DatumGetInt32(argument);
    me.database_index = packed / 1024;
    me.slot_index = packed % 1024;
    me.role = me.slot_index < kMaxDispatchers ? WorkerRole::Dispatcher : WorkerRole::Activity;
    me.index = me.role == WorkerRole::Dispatcher ? me.slot_index : me.slot_index - kMaxDispatchers;

    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_SHARED);
    me.database = shared.databases[me.database_index].database;
    const bool probing = shared.databases[me.database_index].state == DatabaseState::Probing;
    LWLockRelease(shared.lock);

    pg::call([] {
        pqsignal(SIGHUP, SignalHandlerForConfigReload);
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
        BackgroundWorkerInitializeConnectionByOid(me.database, InvalidOid, 0);
        before_shmem_exit(forget_process, 0);
    });
    // Nothing a user creates or sets may redirect the worker's own statements (activity code
    // runs in an envelope with the database's search_path, runtime/activity/activity_envelope.hpp).
    pin_worker_session();
    char name[64];
    std::snprintf(name, sizeof(name), "duroxide %s %d",
                  me.role == WorkerRole::Dispatcher ? "dispatcher" : "activity worker", me.index);
    pg::call([&name] { pgstat_report_appname(name); });
    previous_emit_log_hook = emit_log_hook;
    emit_log_hook = keep_last_warning;

    while (lease_owner <= 0) {
        if (!pg_strong_random(&lease_owner, sizeof(lease_owner))) {
            throw std::runtime_error("no random source for the worker's lease owner id");
        }
    }
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    WorkerSlot& slot = my_slot();
    slot.pid = MyProcPid;
    slot.lease_owner = lease_owner;
    slot.latch = MyLatch;
    slot.role = me.role;
    slot.index = me.index;
    LWLockRelease(shared.lock);
    set_state("starting");

    if (!installed_version()) {
        leave_database(probing);
    }
    if (!settings.run_workers) {
        // ALTER DATABASE ... SET duroxide.run_workers = off: this database is not served.
        pg::call([] {
            ereport(LOG, (errmsg("duroxide: not serving database %u: duroxide.run_workers is off",
                                 me.database)));
        });
        leave_database(probing);
    }
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    DatabaseEntry& entry = shared.databases[me.database_index];
    if (entry.state == DatabaseState::Probing) {
        entry.state = DatabaseState::Active; // found by the startup probe
    }
    Latch* launcher = shared.launcher_latch;
    LWLockRelease(shared.lock);
    if (launcher != nullptr) {
        SetLatch(launcher);
    }
    await_current_schema();

    Handlers handlers;
    core::StackPool stacks(static_cast<std::size_t>(settings.fiber_stack_kb) * 1024);
    // Declared after the stack pool: resident fibers give their stacks back to it.
    core::ResidentCache resident(static_cast<std::size_t>(settings.resident_cache_size));
    std::optional<SessionKeeper> sessions;
    if (me.role == WorkerRole::Activity) {
        sessions.emplace(me.database, me.index);
    }
    std::optional<RetentionKeeper> retention;
    if (me.role == WorkerRole::Dispatcher && me.index == 0) {
        retention.emplace();
    }
    bool gate_closed_reported = false;
    for (;;) {
        long timeout_ms = settings.poll_interval_ms;
        try {
            for (;;) {
                if (sessions) {
                    sessions->maintain();
                }
                WorkOutcome outcome = me.role == WorkerRole::Dispatcher
                                          ? run_orchestration_turns(handlers, stacks, resident)
                                          : run_activities(handlers, *sessions);
                if (outcome.processed == 0) {
                    if (outcome.next_work_in_ms) {
                        timeout_ms = std::clamp<long>(*outcome.next_work_in_ms, 1, timeout_ms);
                    }
                    if (const auto upkeep = sessions ? sessions->ms_until_due() : std::nullopt) {
                        timeout_ms = std::clamp<long>(*upkeep, 1, timeout_ms);
                    }
                    if (retention) {
                        // Only when there are no turns to run: retention is off the hot path.
                        retention->maintain();
                        if (const auto due = retention->ms_until_due()) {
                            timeout_ms = std::clamp<long>(*due, 1, timeout_ms);
                        }
                    }
                    break;
                }
                count_items(outcome.processed);
                gate_closed_reported = false;
            }
        } catch (const ExtensionGateClosed& e) {
            // Said once per drop: the worker waits for it to commit (and leaves) or roll back.
            if (!gate_closed_reported) {
                pg::call([] {
                    ereport(LOG, (errmsg("duroxide worker: DROP EXTENSION in progress: waiting")));
                });
                gate_closed_reported = true;
            }
            set_state("awaiting DROP EXTENSION");
            timeout_ms = std::min<long>(timeout_ms, kGateClosedPollMs);
        } catch (const std::exception& e) {
            // The unit of work was rolled back; report it and go on with the next one.
            record_error(e.what());
            const std::string message = std::string("duroxide worker: ") + e.what();
            pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
        }
        const bool woken = wait_for_work(timeout_ms);
        // The catalog is asked only when a drop was announced, and at each safety-net poll
        // (for drops the utility hook cannot see, such as DROP SCHEMA ... CASCADE).
        if (database_stopping() || !woken) {
            await_current_schema();
        }
    }
}

} // namespace

int64 my_lease_owner() {
    return lease_owner;
}

void report_current_work(const std::string& work, std::optional<Oid> owner) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    std::snprintf(my_slot().current, sizeof(my_slot().current), "%s", work.c_str());
    my_slot().current_owner = owner.value_or(InvalidOid);
    LWLockRelease(shared.lock);
}

void report_sessions_owned(int sessions) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    my_slot().sessions = sessions;
    LWLockRelease(shared.lock);
}

void report_session_owner(const std::string& owner_id) {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    std::snprintf(my_slot().session_owner, sizeof(my_slot().session_owner), "%s", owner_id.c_str());
    LWLockRelease(shared.lock);
}

void report_tag_filter(const std::string& filter) {
    static std::string reported;
    if (filter == reported) {
        return;
    }
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_EXCLUSIVE);
    std::snprintf(my_slot().tag_filter, sizeof(my_slot().tag_filter), "%s", filter.c_str());
    LWLockRelease(shared.lock);
    reported = filter;
}

uint64 session_releases_seen_by_database() {
    SharedState& shared = shared_state();
    LWLockAcquire(shared.lock, LW_SHARED);
    const uint64 releases = shared.databases[me.database_index].session_releases;
    LWLockRelease(shared.lock);
    return releases;
}

} // namespace duroxide::runtime

void duroxide_worker_main(Datum main_arg) {
    duroxide::pg::entry("duroxide_worker_main",
                        [main_arg] { duroxide::runtime::run_worker(main_arg); });
}
