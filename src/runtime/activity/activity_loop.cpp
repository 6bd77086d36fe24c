// The activity loop of a background worker: fetch and run activities one at a time (plugin
// code on a fiber, SQL and system activities when they are recorded), record their
// completions together, with the core's poison and unregistered-backoff rules
// (core/dispatch/activity_dispatcher).
#include "runtime/activity/activity_loop.hpp"

#include "core/dispatch/activity_dispatcher.hpp"
#include "core/engine/activity_fiber.hpp"
#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/activity/activity_access.hpp"
#include "runtime/activity/activity_execution.hpp"
#include "runtime/activity/activity_outcomes.hpp"
#include "runtime/activity/sql_activity.hpp"
#include "runtime/activity/system_activities.hpp"
#include "runtime/plugins/unregistered.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/process/worker.hpp"
#include "runtime/services/instance_isolation.hpp"
#include "runtime/services/metrics.hpp"
#include "runtime/services/trace_log.hpp"
#include "store/store.hpp"

#include <chrono>
#include <functional>
#include <span>

namespace duroxide::runtime {

namespace {

void count_activity(const core::WorkItem& completion) {
    if (std::holds_alternative<core::work::ActivityCompleted>(completion.kind)) {
        metrics::add(metrics::Counter::ActivitiesSucceeded);
        return;
    }
    const auto& failed = std::get<core::work::ActivityFailed>(completion.kind);
    metrics::add(std::string_view(failed.details.category()) == "poison"
                     ? metrics::Counter::ActivitiesPoisoned
                     : metrics::Counter::ActivitiesFailedApplication);
}

// A stale lease: another worker owns the work now, or it was cancelled. Not an error.
void report_discarded(const std::string& what) {
    const std::string message = std::string("duroxide: ") + what;
    pg::call([&message] { ereport(LOG, (errmsg_internal("%s", message.c_str()))); });
}

// The trace form (operations.md), unquoted like the orchestration traces; log messages use
// activity_message_label.
std::string activity_trace_label(const core::work::ActivityExecute& item) {
    return "activity " + item.name + " #" + std::to_string(item.id) + " of " + item.instance;
}

// The current work shown in duroxide.runtime_status.
std::string describe_activity(const core::work::ActivityExecute& item) {
    return activity_trace_label(item) +
           (item.session_id ? " (session " + *item.session_id + ")" : "") +
           (item.tag ? " (tag " + *item.tag + ")" : "");
}

void trace_activity(const core::work::ActivityExecute& item, TraceLevel level,
                    std::string_view message) {
    write_trace(level,
                activity_trace_label(item) + " (execution " + std::to_string(item.execution_id) +
                    ")",
                message);
}

// A fetched activity and, once run, its completion (SQL activities run when it is recorded).
struct PendingActivity {
    store::FetchedActivity fetched;
    store::SessionOwner session_owner;
    std::optional<SqlActivity> sql;
    std::optional<core::WorkItem> completion{};
    bool handler_missing = false;
    bool system = false; // a built-in activity: runs when it is recorded
    // A plugin activity that needs no recording with the batch: it was recorded with its
    // ctx.sql() writes, or dropped (cancelled, lease lost, given back).
    bool settled = false;
    std::optional<Oid> owner; // the instance's owner role (runtime_status shows it to whom)
    // How long the run took; observed once its completion is recorded (a discarded attempt
    // would count twice, or count a run that did not happen as far as the store knows).
    std::optional<int64_t> duration_us{};
};

int64_t microseconds_since(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
}

std::optional<PendingActivity> fetch_and_run(Handlers& handlers, SessionKeeper& sessions,
                                             WorkOutcome& outcome,
                                             const std::function<void()>& record_held) {
    std::optional<store::FetchedActivity> fetched;
    const ActivityFn* handler = nullptr;
    std::optional<SqlActivity> sql;
    std::optional<store::ActivityAccess> access;
    bool system = false;
    // A session claimed by another worker between read and claim gives the item back; the
    // next look skips it (it is that worker's now).
    for (int look = 0; look < 3 && !fetched; ++look) {
        bool lost_race = false;
        pg::WorkerTransaction transaction("duroxide: fetching an activity");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Relaxed);
            store::Store store(spi);
            handlers.refresh(spi);
            const core::TagFilter tags = worker_tag_filter(sessions.worker_index());
            report_tag_filter(tags.to_string());
            store::WorkFetch fetch =
                store.fetch_work_item(settings.worker_lock_timeout_ms, sessions.owner(), tags);
            fetched = std::move(fetch.activity);
            lost_race = fetch.lost_session_race;
            if (!fetched && !lost_race) {
                outcome.next_work_in_ms = store.ms_until_next_visible(store::Queue::Worker);
            } else if (fetched && is_system_activity(fetched->item.name)) {
                system = true;
            } else if (fetched && !(handler = handlers.activities().find(fetched->item.name))) {
                sql = handlers.sql_activity(spi, fetched->item.name);
            }
            if (fetched && !system) {
                access = store.activity_access(fetched->item.name, fetched->item.instance);
            }
        }
        transaction.commit();
        if (!lost_race) {
            break;
        }
    }
    if (!fetched) {
        return std::nullopt;
    }
    sessions.fetched(*fetched);
    PendingActivity pending{.fetched = std::move(*fetched),
                            .session_owner = sessions.owner(),
                            .sql = sql,
                            .system = system,
                            .owner = access ? access->owner : std::nullopt};
    const auto& item = pending.fetched.item;
    const auto max_attempts = static_cast<uint32_t>(settings.max_attempts);
    if (pending.fetched.attempt_count > max_attempts) {
        pending.completion = core::dispatch::activity_poison(
            item, pending.fetched.attempt_count, max_attempts, handler != nullptr || sql || system);
    } else if (access && !access->may_call && (handler != nullptr || sql)) {
        // The allow-list of the activity's registration: nothing runs. (An activity nothing
        // provides takes the unregistered-activity path below.)
        pending.completion = activity_call_denied(item, access->owner_name);
    } else if (handler != nullptr) {
        // Plugin code runs on a fiber; its ctx.sql() statements run in a transaction of
        // their own that records the completion with them (activity_execution.cpp).
        const auto started = std::chrono::steady_clock::now();
        report_current_work(describe_activity(item), pending.owner);
        PluginActivityOutcome run = run_plugin_activity(
            *handler, pending.fetched, pending.session_owner, sessions,
            {.worker_id = sessions.owner_id(),
             .session_states = &sessions.states(),
             .trace = trace_activity,
             .max_output_bytes = static_cast<std::size_t>(settings.max_payload_kb) * 1024},
            record_held);
        report_current_work("");
        pending.completion = std::move(run.to_record);
        pending.settled = !pending.completion;
        if (run.recorded) {
            count_activity(*run.recorded);
            metrics::observe(metrics::Histogram::ActivityDuration, microseconds_since(started));
        } else if (pending.completion) {
            pending.duration_us = microseconds_since(started);
        }
    } else {
        pending.handler_missing = !sql && !system;
    }
    return pending;
}

// Records one activity in the caller's transaction: an SQL activity runs here, so that its
// writes commit with its completion; throws store::LeaseLost when the lease is gone.
void record(store::Store& store, PendingActivity& pending) {
    if (pending.handler_missing) {
        const int64_t delay_ms = core::dispatch::unregistered_activity_delay_ms(
            pending.fetched.attempt_count,
            {.unregistered_backoff = core::Millis(settings.unregistered_backoff_ms)});
        store.abandon_work_item(pending.fetched, delay_ms, false);
        log_unregistered_backoff(
            unregistered_activity(pending.fetched.item.name), pending.fetched.item.instance,
            delay_ms, pending.fetched.attempt_count, static_cast<uint32_t>(settings.max_attempts));
        return;
    }
    if (!pending.completion && pending.system) {
        pending.completion = run_system_activity(store, pending.fetched.item);
    } else if (!pending.completion) {
        const auto started = std::chrono::steady_clock::now();
        report_current_work(describe_activity(pending.fetched.item), pending.owner);
        pending.completion = run_sql_activity(*pending.sql, pending.fetched.item);
        report_current_work("");
        pending.duration_us = microseconds_since(started);
    }
    store.ack_work_item(pending.fetched, *pending.completion, pending.session_owner);
    wake_at_commit(kWakeDispatchers);
}

void count_recorded(const PendingActivity& pending) {
    if (pending.completion) {
        count_activity(*pending.completion);
    }
    if (pending.duration_us) {
        metrics::observe(metrics::Histogram::ActivityDuration, *pending.duration_us);
    }
}

// Records `batch` in one transaction (one commit for all); true when it committed.
bool record_together(std::span<PendingActivity> batch) {
    pg::WorkerTransaction transaction(batch.size() == 1
                                          ? "duroxide: activity " + batch.front().fetched.item.name
                                          : std::string("duroxide: recording activities"));
    {
        pg::SpiConnection spi;
        begin_unit(spi, Commit::Durable);
        store::Store store(spi);
        for (auto& pending : batch) {
            record(store, pending);
        }
    }
    transaction.commit();
    return true;
}

void record_alone(PendingActivity& pending) {
    try {
        record_together(std::span<PendingActivity>(&pending, 1));
        count_recorded(pending);
    } catch (const store::LeaseLost& e) {
        metrics::add(metrics::Counter::LockSteals);
        report_discarded(e.what());
    } catch (const ExtensionGateClosed&) {
        throw; // the lease runs out and the activity runs again after the drop rolls back
    } catch (const std::exception& e) {
        // Not the activity's own failure (that is its completion): its SQL function is gone,
        // or the store failed.
        give_back_activity(pending.fetched, e.what());
    }
}

// Records the completions of `batch` (in one transaction when they all can be) and empties it.
void record_batch(std::vector<PendingActivity>& batch) {
    if (batch.size() == 1) {
        record_alone(batch.front());
        batch.clear();
        return;
    }
    bool recorded = false;
    if (!batch.empty()) {
        try {
            recorded = record_together(batch);
        } catch (const std::exception&) {
            // One lost lease or failure must not sink the others: record each on its own
            // (SQL activities run again; only a committed run's writes remain).
        }
    }
    for (auto& pending : batch) {
        if (recorded) {
            count_recorded(pending);
        } else {
            record_alone(pending);
        }
    }
    batch.clear();
}

} // namespace

WorkOutcome run_activities(Handlers& handlers, SessionKeeper& sessions) {
    WorkOutcome outcome;
    std::vector<PendingActivity> batch;
    std::size_t processed = 0;
    // A plugin activity that runs long records the completions held so far before their
    // leases run out.
    const std::function<void()> record_held = [&batch] { record_batch(batch); };
    // Fetch and run one at a time (each lease is short and the queue stays shared), but
    // record up to duroxide.activity_batch together while more work is waiting.
    while (static_cast<int>(processed) < settings.activity_batch) {
        auto pending = fetch_and_run(handlers, sessions, outcome, record_held);
        if (!pending) {
            break;
        }
        ++processed;
        if (!pending->settled) {
            batch.push_back(std::move(*pending));
        }
    }
    outcome.processed = processed;
    record_batch(batch);
    return outcome;
}

} // namespace duroxide::runtime
