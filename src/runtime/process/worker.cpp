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
#include "runtime/services/schedule_runner.hpp"
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

SlotId my_slot() {
    return {.database_index = me.database_index, .slot_index = me.slot_index};
}

// While a drop holds the extension gate: look again this often (the drop wakes nobody when it
// rolls back).
constexpr long kGateClosedPollMs = 200;

void set_state(const char* state) {
    shared_state().report_state(my_slot(), state, GetCurrentTimestamp());
}

void count_items(std::size_t count) {
    shared_state().count_items(my_slot(), count);
}

void record_error(const char* message) {
    shared_state().record_error(my_slot(), message);
}

// Every warning duroxide's own code in the worker writes to the server log (a turn or an
// activity given back, a turn not recorded, locks not renewed) is also its
// runtime_status.last_error: the give-back paths log and go on, so without this the view
// would show no error at all. Trace lines of user code (trace_log.cpp) and warnings of SQL
// activities are not errors of the worker and are left out. Runs inside ereport: it only
// copies the message, and not while this process holds the shared lock (taking it again
// would wait for itself).
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
        !raised_by_duroxide(edata->filename) || shared_state().lock_held_by_me()) {
        return;
    }
    record_error(edata->message);
}

// Clears the slot's process fields when the process exits, however it exits.
void forget_process(int, Datum) {
    shared_state().release_slot(my_slot(), MyProcPid);
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
    shared_state().mark_database_left(me.database_index, me.database, was_probe);
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
    return shared_state().database_stopping(me.database_index);
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

// Step 1: the process takes its slot. Reads which database entry and slot the launcher chose
// (bgw_main_arg), connects to that database, and publishes its pid, lease owner id and latch.
// Returns whether it was started as the launcher's probe of the database.
bool attach(Datum argument) {
    const int packed = DatumGetInt32(argument);
    me.database_index = packed / 1024;
    me.slot_index = packed % 1024;
    me.role = me.slot_index < kMaxDispatchers ? WorkerRole::Dispatcher : WorkerRole::Activity;
    me.index = me.role == WorkerRole::Dispatcher ? me.slot_index : me.slot_index - kMaxDispatchers;
    const SharedState::Assignment assigned = shared_state().assignment(me.database_index);
    me.database = assigned.database;

    // The slot is claimed, and its release registered, before connecting: connecting ends the
    // process with FATAL when the database was dropped meanwhile (DROP DATABASE ... WITH
    // (FORCE)), and the exit callback must release the slot then too. The launcher, seeing the
    // process gone, finds the database gone and frees its entry.
    while (lease_owner <= 0) {
        if (!pg_strong_random(&lease_owner, sizeof(lease_owner))) {
            throw std::runtime_error("no random source for the worker's lease owner id");
        }
    }
    pg::call([] { before_shmem_exit(forget_process, 0); });
    shared_state().claim_slot(my_slot(), MyProcPid, lease_owner, MyLatch, me.role, me.index);
    set_state("starting");
    pg::call([] {
        pqsignal(SIGHUP, SignalHandlerForConfigReload);
        pqsignal(SIGTERM, die);
        BackgroundWorkerUnblockSignals();
        BackgroundWorkerInitializeConnectionByOid(me.database, InvalidOid, 0);
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

    return assigned.probing;
}

// Step 2: whether this database is to be served at all. Leaves (and exits) when the extension
// is absent or duroxide.run_workers is off here; otherwise tells the launcher the database is
// active (a probe's finding).
void confirm_database_served(bool probing) {
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
    shared_state().mark_database_found(me.database_index);
}

// Step 4: the main loop. Runs units of work (orchestration turns or activities, by role) until
// one finds nothing, sleeps until woken or the next piece of work is due, and looks again;
// after a drop was announced, and at each safety-net poll, checks that the schema is still
// there (and leaves when it is not). Holds what lives as long as the process: the handlers,
// the fiber stacks, the resident executions, and the sessions or retention it keeps.
class WorkLoop {
public:
    WorkLoop()
        : stacks_(static_cast<std::size_t>(settings.fiber_stack_kb) * 1024),
          resident_(static_cast<std::size_t>(settings.resident_cache_size)) {
        if (me.role == WorkerRole::Activity) {
            sessions_.emplace(me.database, me.index);
        }
        if (me.role == WorkerRole::Dispatcher && me.index == 0) {
            retention_.emplace();
        }
        if (me.role == WorkerRole::Dispatcher) {
            schedules_.emplace();
        }
    }

    [[noreturn]] void run() {
        for (;;) {
            const long timeout_ms = run_until_idle();
            const bool woken = wait_for_work(timeout_ms);
            // The catalog is asked only when a drop was announced, and at each safety-net poll
            // (for drops the utility hook cannot see, such as DROP SCHEMA ... CASCADE).
            if (database_stopping() || !woken) {
                await_current_schema();
            }
        }
    }

private:
    // Runs units of work until one finds nothing; returns how long the worker may sleep.
    long run_until_idle() {
        long timeout_ms = settings.poll_interval_ms;
        try {
            for (;;) {
                const WorkOutcome outcome = run_unit();
                if (outcome.processed == 0) {
                    prepare_to_sleep(outcome, timeout_ms);
                    return timeout_ms;
                }
                count_items(outcome.processed);
                gate_closed_reported_ = false;
            }
        } catch (const ExtensionGateClosed&) {
            // Said once per drop: the worker waits for it to commit (and leaves) or roll back.
            if (!gate_closed_reported_) {
                pg::call([] {
                    ereport(LOG, (errmsg("duroxide worker: DROP EXTENSION in progress: waiting")));
                });
                gate_closed_reported_ = true;
            }
            set_state("awaiting DROP EXTENSION");
            timeout_ms = std::min<long>(timeout_ms, kGateClosedPollMs);
        } catch (const std::exception& e) {
            // The unit of work was rolled back; report it and go on with the next one.
            record_error(e.what());
            const std::string message = std::string("duroxide worker: ") + e.what();
            pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
        }
        return timeout_ms;
    }

    // One unit of work of this process's role (the loops: runtime/orchestration/dispatch).
    WorkOutcome run_unit() {
        if (sessions_) {
            sessions_->maintain();
        }
        if (schedules_) {
            schedules_->maintain();
        }
        return me.role == WorkerRole::Dispatcher
                   ? run_orchestration_turns(handlers_, stacks_, resident_)
                   : run_activities(handlers_, *sessions_, stacks_, resident_);
    }

    // Nothing to do: sleeps no longer than until queued work, session upkeep or retention is
    // due; retention runs here, off the hot path.
    void prepare_to_sleep(const WorkOutcome& outcome, long& timeout_ms) {
        if (outcome.next_work_in_ms) {
            timeout_ms = std::clamp<long>(*outcome.next_work_in_ms, 1, timeout_ms);
        }
        if (const auto upkeep = sessions_ ? sessions_->ms_until_due() : std::nullopt) {
            timeout_ms = std::clamp<long>(*upkeep, 1, timeout_ms);
        }
        if (schedules_) {
            timeout_ms = std::clamp<long>(schedules_->ms_until_due(), 1, timeout_ms);
        }
        if (retention_) {
            retention_->maintain();
            if (const auto due = retention_->ms_until_due()) {
                timeout_ms = std::clamp<long>(*due, 1, timeout_ms);
            }
        }
    }

    Handlers handlers_;
    core::StackPool stacks_;
    // Declared after the stack pool: resident fibers give their stacks back to it.
    core::ResidentCache resident_;
    std::optional<SessionKeeper> sessions_;
    std::optional<RetentionKeeper> retention_;
    std::optional<ScheduleRunner> schedules_; // every dispatcher (recurring schedules)
    bool gate_closed_reported_ = false;
};

// A worker process from start to end. It exits by leave_database (extension gone, or the
// database not served) or by PostgreSQL (SIGTERM from the launcher, postmaster death); its
// slot is cleared by forget_process either way.
void run_worker(Datum argument) {
    const bool probing = attach(argument);
    confirm_database_served(probing);
    // Step 3: wait (touching no table) while the schema is older than the library.
    await_current_schema();
    WorkLoop loop;
    loop.run();
}

} // namespace

int64 my_lease_owner() {
    return lease_owner;
}

void report_current_work(std::string_view work, std::optional<Oid> owner) {
    shared_state().report_current_work(my_slot(), work, owner.value_or(InvalidOid));
}

void report_sessions_owned(int sessions) {
    shared_state().report_sessions(my_slot(), sessions);
}

void report_session_owner(std::string_view owner_id) {
    shared_state().report_session_owner(my_slot(), owner_id);
}

void report_tag_filter(std::string_view filter) {
    static std::string reported;
    if (filter == reported) {
        return;
    }
    shared_state().report_tag_filter(my_slot(), filter);
    reported = filter;
}

bool a_dispatcher_is_busy() {
    return shared_state().dispatcher_busy(me.database_index);
}

uint64 session_releases_seen_by_database() {
    return shared_state().session_releases(me.database_index);
}

} // namespace duroxide::runtime

void duroxide_worker_main(Datum main_arg) {
    duroxide::pg::entry("duroxide_worker_main",
                        [main_arg] { duroxide::runtime::run_worker(main_arg); });
}
