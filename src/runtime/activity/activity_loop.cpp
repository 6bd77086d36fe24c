// The activity loop of a background worker: fetch activities (several per statement with
// duroxide.activity_fetch_batch) and run them one at a time (plugin code on a fiber, SQL and
// system activities when they are recorded), record their completions together, with the
// core's poison and unregistered-backoff rules (core/dispatch/activity_dispatcher). Fetches, acks,
// give-backs and the batch's one commit go through the PostgreSQL provider's activity half
// (store/pg_activity_provider); what stays here because it is PostgreSQL-specific is said where it
// happens: an SQL activity runs inside its ack (complete_and_ack_work_item), a system activity
// reads the ack's store, and a plugin activity whose ctx.sql() statements ran records its
// completion in their own transaction (activity_execution.cpp), outside the provider.
#include "runtime/activity/activity_loop.hpp"

#include "core/dispatch/activity_dispatcher.hpp"
#include "core/engine/activity_fiber.hpp"
#include "pg/guard.hpp"
#include "runtime/activity/activity_access.hpp"
#include "runtime/activity/activity_execution.hpp"
#include "runtime/activity/activity_outcomes.hpp"
#include "runtime/activity/inline_turns.hpp"
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
#include "store/pg_activity_provider.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
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

// A fetched activity and, once run, its completion (SQL and system activities run when it is
// recorded).
struct PendingActivity {
    store::FetchedActivity fetched;
    store::SessionOwner session_owner;
    std::optional<SqlActivity> sql;
    std::optional<core::WorkItem> completion{};
    bool handler_missing = false;
    bool system = false; // a built-in activity: runs when it is recorded
    // An SQL or system activity whose completion is computed in the transaction that records
    // it (again on every attempt to record it: a rolled-back run's writes are gone).
    bool runs_at_record = false;
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

// What the fetch's transaction reads about the activity it leased.
struct FetchedKind {
    std::optional<store::FetchedActivity> fetched{};
    const ActivityFn* handler = nullptr;
    std::optional<SqlActivity> sql{};
    std::optional<store::ActivityAccess> access{};
    bool system = false;
};

// The worker's hooks around the provider's transactions; each fetched activity's kind is
// appended to `fetched`.
store::PgActivityHooks activity_hooks(Handlers& handlers, std::deque<FetchedKind>& fetched_kinds,
                                      core::ResidentCache& cache, InlineTurns& inline_turns) {
    return {
        .begin = [](pg::SpiConnection& spi,
                    bool durable) { begin_unit(spi, durable ? Commit::Durable : Commit::Relaxed); },
        .before_fetch =
            [&handlers, &cache](pg::SpiConnection& spi) {
                if (handlers.refresh(spi)) {
                    cache.clear(); // new plugin code: inline turns replay from history
                }
            },
        .fetched =
            [&handlers, &fetched_kinds](pg::SpiConnection& spi, store::Store& store,
                                        const store::FetchedActivity& fetched) {
                FetchedKind& kind = fetched_kinds.emplace_back(FetchedKind{.fetched = fetched});
                const std::string& name = fetched.item.name;
                if (is_system_activity(name)) {
                    kind.system = true;
                    return;
                }
                if (!(kind.handler = handlers.activities().find(name))) {
                    kind.sql = handlers.sql_activity(spi, name);
                }
                kind.access = store.activity_access(name, fetched.item.instance, fetched.owner);
            },
        // The dispatchers are woken at commit for the completions no inline turn took.
        .acked =
            [&inline_turns](const core::provider::ActivityItem& item,
                            const core::WorkItem& completion) {
                inline_turns.completed(completion, item.attempt_count);
            },
        .before_commit = [&inline_turns](pg::SpiConnection& spi,
                                         store::Store& store) { inline_turns.run(spi, store); },
        .finished = [&inline_turns](bool committed) { inline_turns.finished(committed); }};
}

// Runs a plugin activity on a fiber; its ctx.sql() statements run in a transaction of their
// own that records the completion with them (activity_execution.cpp).
void run_plugin(store::PgActivityProvider& provider, const ActivityFn& handler,
                PendingActivity& pending, SessionKeeper& sessions,
                const std::function<void()>& record_held, InlineTurns& inline_turns) {
    const auto& item = pending.fetched.item;
    const auto started = std::chrono::steady_clock::now();
    report_current_work(describe_activity(item), pending.owner);
    PluginActivityOutcome run = run_plugin_activity(
        provider, handler, pending.fetched, pending.session_owner, sessions,
        {.worker_id = sessions.owner_id(),
         .session_states = &sessions.states(),
         .trace = trace_activity,
         .max_output_bytes = static_cast<std::size_t>(settings.max_payload_kb) * 1024},
        record_held, inline_turns);
    report_current_work("");
    pending.completion = std::move(run.to_record);
    pending.settled = !pending.completion;
    if (run.recorded) {
        count_activity(*run.recorded);
        metrics::observe(metrics::Histogram::ActivityDuration, microseconds_since(started));
    } else if (pending.completion) {
        pending.duration_us = microseconds_since(started);
    }
}

// Decides a fetched activity with the core's rules: poison past max attempts, refused by the
// registration's allow-list, run now (plugin code), run when recorded (SQL and system
// activities), or given back for the unregistered backoff.
PendingActivity run_fetched(store::PgActivityProvider& provider, FetchedKind& kind,
                            SessionKeeper& sessions, const std::function<void()>& record_held,
                            InlineTurns& inline_turns) {
    sessions.fetched(*kind.fetched);
    PendingActivity pending{.fetched = std::move(*kind.fetched),
                            .session_owner = sessions.owner(),
                            .sql = kind.sql,
                            .system = kind.system,
                            .owner = kind.access ? kind.access->owner : std::nullopt};
    const auto& item = pending.fetched.item;
    const ActivityFn* handler = kind.handler;
    const auto max_attempts = static_cast<uint32_t>(settings.max_attempts);
    if (pending.fetched.attempt_count > max_attempts) {
        pending.completion =
            core::dispatch::activity_poison(item, pending.fetched.attempt_count, max_attempts,
                                            handler != nullptr || pending.sql || pending.system);
    } else if (kind.access && !kind.access->may_call && (handler != nullptr || pending.sql)) {
        // The allow-list of the activity's registration: nothing runs. (An activity nothing
        // provides takes the unregistered-activity path below.)
        pending.completion = activity_call_denied(item, kind.access->owner_name);
    } else if (handler != nullptr) {
        run_plugin(provider, *handler, pending, sessions, record_held, inline_turns);
    } else {
        pending.handler_missing = !pending.sql && !pending.system;
        pending.runs_at_record = !pending.handler_missing;
    }
    return pending;
}

// The completion of an SQL or system activity, computed in the transaction that records it.
core::WorkItem run_at_record(store::PgActivityProvider& provider, PendingActivity& pending) {
    if (pending.system) {
        return run_system_activity(provider.store(), pending.fetched.item);
    }
    const auto started = std::chrono::steady_clock::now();
    report_current_work(describe_activity(pending.fetched.item), pending.owner);
    core::WorkItem completion = run_sql_activity(*pending.sql, pending.fetched.item);
    report_current_work("");
    pending.duration_us = microseconds_since(started);
    return completion;
}

// Records one activity through the provider (in the caller's in_one_commit, or alone): an SQL
// activity runs in the ack's transaction, so that its writes commit with its completion;
// throws core::provider::LeaseLost when the lease is gone.
void record(store::PgActivityProvider& provider, PendingActivity& pending) {
    const core::provider::ActivityItem item = store::activity_item(pending.fetched);
    if (pending.handler_missing) {
        const int64_t delay_ms = core::dispatch::unregistered_activity_delay_ms(
            pending.fetched.attempt_count,
            {.unregistered_backoff = core::Millis(settings.unregistered_backoff_ms)});
        provider.abandon_work_item(item, delay_ms, false);
        log_unregistered_backoff(
            unregistered_activity(pending.fetched.item.name), pending.fetched.item.instance,
            delay_ms, pending.fetched.attempt_count, static_cast<uint32_t>(settings.max_attempts));
        return;
    }
    if (pending.runs_at_record) {
        provider.complete_and_ack_work_item(item, [&] {
            pending.completion = run_at_record(provider, pending);
            return *pending.completion;
        });
        return;
    }
    provider.ack_work_item(item, *pending.completion);
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
bool record_together(store::PgActivityProvider& provider, std::span<PendingActivity> batch) {
    provider.in_one_commit(batch.size() == 1
                               ? "duroxide: activity " + batch.front().fetched.item.name
                               : std::string("duroxide: recording activities"),
                           [&] {
                               // The acks' deletes in one statement.
                               std::vector<core::provider::ActivityItem> acked;
                               for (const auto& pending : batch) {
                                   if (!pending.handler_missing) {
                                       acked.push_back(store::activity_item(pending.fetched));
                                   }
                               }
                               if (acked.size() > 1) {
                                   provider.delete_for_ack(acked);
                               }
                               for (auto& pending : batch) {
                                   record(provider, pending);
                               }
                           });
    return true;
}

void record_alone(store::PgActivityProvider& provider, PendingActivity& pending) {
    try {
        record_together(provider, std::span<PendingActivity>(&pending, 1));
        count_recorded(pending);
    } catch (const core::provider::LeaseLost& e) {
        metrics::add(metrics::Counter::LockSteals);
        report_discarded(e.what());
    } catch (const ExtensionGateClosed&) {
        throw; // the lease runs out and the activity runs again after the drop rolls back
    } catch (const std::exception& e) {
        // Not the activity's own failure (that is its completion): its SQL function is gone,
        // or the store failed.
        give_back_activity(provider, store::activity_item(pending.fetched), e.what());
    }
}

// Records the completions of `batch` (in one transaction when they all can be) and empties it.
void record_batch(store::PgActivityProvider& provider, std::vector<PendingActivity>& batch) {
    if (batch.size() == 1) {
        record_alone(provider, batch.front());
        batch.clear();
        return;
    }
    bool recorded = false;
    if (!batch.empty()) {
        try {
            recorded = record_together(provider, batch);
        } catch (const std::exception&) {
            // One lost lease or failure must not sink the others: record each on its own
            // (SQL activities run again; only a committed run's writes remain).
        }
    }
    for (auto& pending : batch) {
        if (recorded) {
            count_recorded(pending);
        } else {
            record_alone(provider, pending);
        }
    }
    batch.clear();
}

// Gives the fetched activities not started yet back to the queue (one statement), and wakes
// idle workers for them.
void give_back_unstarted(store::PgActivityProvider& provider, std::deque<FetchedKind>& waiting) {
    if (waiting.empty()) {
        return;
    }
    std::vector<core::provider::ActivityItem> items;
    for (const FetchedKind& kind : waiting) {
        items.push_back(store::activity_item(*kind.fetched));
    }
    waiting.clear();
    try {
        provider.release_unstarted(items,
                                   [n = items.size()] { wake_activity_workers_at_commit(n); });
    } catch (const ExtensionGateClosed&) {
        throw;
    } catch (const std::exception& e) {
        // Their leases run out and another worker runs them then.
        report_discarded(std::string("giving back fetched activities failed: ") + e.what());
    }
}

// How long fetched activities may wait in a worker before it gives them back: a batch of
// short activities runs well within it, and activities behind a slow one go to other workers.
constexpr auto kUnstartedHold = std::chrono::milliseconds(20);

} // namespace

WorkOutcome run_activities(Handlers& handlers, SessionKeeper& sessions, core::StackPool& stacks,
                           core::ResidentCache& cache) {
    WorkOutcome outcome;
    // Fetched and not started yet, in queue order (the provider's fetched hook appends).
    std::deque<FetchedKind> waiting;
    InlineTurns inline_turns(handlers, stacks, cache);
    store::PgActivityProvider provider(settings.worker_lock_timeout_ms, sessions.owner(),
                                       activity_hooks(handlers, waiting, cache, inline_turns));
    std::vector<PendingActivity> batch;
    std::size_t processed = 0;
    // A plugin activity that suspends may run long: the activities fetched behind it go back
    // to the queue for other workers, and the completions held so far are recorded before
    // their leases run out.
    int fetch_batch = std::max(1, settings.activity_fetch_batch);
    const std::function<void()> record_held = [&provider, &batch, &waiting, &fetch_batch] {
        if (!waiting.empty()) {
            give_back_unstarted(provider, waiting);
            fetch_batch = 1; // activities may be long here: one at a time from here
        }
        record_batch(provider, batch);
    };
    // Fetch up to duroxide.activity_fetch_batch at once and run them one at a time (each lease
    // is short and the queue stays shared: what waits longer than kUnstartedHold is given
    // back), and record up to duroxide.activity_batch together while more work is waiting.
    auto fetched_at = std::chrono::steady_clock::now();
    while (static_cast<int>(processed) < settings.activity_batch) {
        if (!waiting.empty() && std::chrono::steady_clock::now() - fetched_at > kUnstartedHold) {
            give_back_unstarted(provider, waiting);
            fetch_batch = 1; // these activities are not short: one at a time from here
        }
        if (waiting.empty()) {
            const core::TagFilter tags = worker_tag_filter(sessions.worker_index());
            report_tag_filter(tags.to_string());
            const int room = settings.activity_batch - static_cast<int>(processed);
            provider.fetch_work_items(tags, std::min(fetch_batch, room));
            if (waiting.empty()) {
                outcome.next_work_in_ms = provider.next_visible_in_ms();
                break;
            }
            fetched_at = std::chrono::steady_clock::now();
        }
        FetchedKind kind = std::move(waiting.front());
        waiting.pop_front();
        PendingActivity pending = run_fetched(provider, kind, sessions, record_held, inline_turns);
        ++processed;
        if (!pending.settled) {
            batch.push_back(std::move(pending));
        }
    }
    give_back_unstarted(provider, waiting);
    outcome.processed = processed;
    inline_turns.backlogged(static_cast<int>(processed) >= settings.activity_batch,
                            worker_tag_filter(sessions.worker_index()));
    record_batch(provider, batch);
    return outcome;
}

} // namespace duroxide::runtime
