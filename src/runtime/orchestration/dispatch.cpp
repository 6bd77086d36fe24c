#include "runtime/orchestration/dispatch.hpp"

#include "core/codec/json_codec.hpp"
#include "core/engine/activity_fiber.hpp"
#include "core/engine/activity_runner.hpp"
#include "core/engine/resident_cache.hpp"
#include "core/replay/kv_state.hpp"
#include "core/replay/turn.hpp"
#include "core/retry/timing.hpp"
#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/activity/activity_access.hpp"
#include "runtime/activity/activity_execution.hpp"
#include "runtime/activity/activity_outcomes.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/services/metrics.hpp"
#include "runtime/activity/sessions.hpp"
#include "runtime/activity/sql_activity.hpp"
#include "runtime/activity/system_activities.hpp"
#include "runtime/services/trace_log.hpp"
#include "runtime/plugins/unregistered.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/process/worker.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <span>

namespace duroxide::runtime {

namespace {

uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// duroxide.max_payload_size: the largest output an activity or orchestration may record.
std::size_t max_payload_bytes() {
    return static_cast<std::size_t>(settings.max_payload_kb) * 1024;
}

// The messages of a batch for the execution they belong to: after continue-as-new the
// ContinueAsNew message starts execution n+1.
core::TurnInput turn_input(const store::OrchestrationBatch& batch) {
    core::TurnInput input{batch.instance, batch.execution_id, batch.history, batch.messages,
                          wall_clock_ms()};
    input.kv_snapshot = batch.kv_snapshot;
    input.max_open_sessions = static_cast<std::size_t>(settings.max_open_sessions);
    input.max_output_bytes = max_payload_bytes();
    if (batch.execution_status != core::ExecutionStatus::ContinuedAsNew) {
        input.history_omitted = batch.history_omitted;
        input.last_event_id = batch.history_last_event_id;
        return input;
    }
    for (const auto& message : batch.messages) {
        if (std::holds_alternative<core::work::ContinueAsNew>(message.kind)) {
            input.execution_id = batch.execution_id + 1;
            if (!input.history.empty()) {
                if (auto* previous = std::get_if<core::events::OrchestrationStarted>(
                        &input.history.front().kind)) {
                    input.continued_from = *previous;
                }
            }
            input.history.clear();
            // The engine starts the execution from it, with what it carries forward.
            input.messages = {message};
            for (const auto& other : batch.messages) {
                if (!std::holds_alternative<core::work::ContinueAsNew>(other.kind)) {
                    input.messages.push_back(other);
                }
            }
            break;
        }
    }
    return input;
}

void count_outcome(const core::TurnResult& result) {
    metrics::add(metrics::Counter::OrchestrationTurns);
    if (result.orchestration_name && result.history_delta.size() > 0 &&
        std::holds_alternative<core::events::OrchestrationStarted>(
            result.history_delta.front().kind)) {
        metrics::add(metrics::Counter::OrchestrationsStarted);
    }
    switch (result.status) {
    case core::ExecutionStatus::Completed:
        metrics::add(metrics::Counter::OrchestrationsCompleted);
        break;
    case core::ExecutionStatus::ContinuedAsNew:
        metrics::add(metrics::Counter::OrchestrationsContinuedAsNew);
        break;
    case core::ExecutionStatus::Failed: {
        const std::string category = result.error ? result.error->category() : "application";
        metrics::add(
            category == "poison"           ? metrics::Counter::OrchestrationsFailedPoison
            : category == "configuration"  ? metrics::Counter::OrchestrationsFailedConfiguration
            : category == "infrastructure" ? metrics::Counter::OrchestrationsFailedInfrastructure
                                           : metrics::Counter::OrchestrationsFailedApplication);
        break;
    }
    case core::ExecutionStatus::Running:
        break;
    }
}

std::string messages_json(const std::vector<core::WorkItem>& messages) {
    std::string json = "[";
    for (size_t i = 0; i < messages.size(); ++i) {
        json += (i ? "," : "") + core::codec::encode(messages[i]);
    }
    return json + "]";
}

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

void report_turn_not_recorded(const std::string& what) {
    const std::string message = std::string("duroxide: a turn could not be recorded: ") + what;
    pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
}

// Whether waiters on the instance's status have something to see after this turn.
bool changes_status(const core::TurnResult& result) {
    if (result.status != core::ExecutionStatus::Running || result.orchestration_name) {
        return true;
    }
    return std::any_of(result.history_delta.begin(), result.history_delta.end(), [](const auto& e) {
        return std::holds_alternative<core::events::CustomStatusUpdated>(e.kind) ||
               core::is_kv_event(e.kind); // duroxide.wait_for_kv_value waits on the same latch
    });
}

int64_t unknown_handler_delay_ms(uint32_t attempt) {
    return core::unregistered_backoff(attempt, core::Millis(settings.unregistered_backoff_ms))
        .count();
}

struct DecidedTurn {
    const store::OrchestrationBatch* batch;
    core::TurnInput input;
    core::TurnResult result;
    // Nothing was decided (the history does not decode): give the batch back after this
    // delay, its attempt counted, so that it ends as poison after max attempts.
    std::optional<int64_t> abandon_after_ms;
    // Why the turn's orchestration cannot run (not registered): logged at each backoff.
    std::optional<std::string> unregistered;
};

DecidedTurn decide(Handlers& handlers, core::StackPool& stacks, core::ResidentCache& cache,
                   const store::OrchestrationBatch& batch) {
    DecidedTurn turn{&batch, turn_input(batch), {}};
    const auto max_attempts = static_cast<uint32_t>(settings.max_attempts);
    if (batch.history_error && batch.execution_status != core::ExecutionStatus::ContinuedAsNew) {
        // Reference §4.1/§4.4: back off while attempts remain, then fail the execution without
        // running its code. An execution that already ended only has its messages discarded;
        // one that continued as new needs none of its history (its next execution starts from
        // the ContinueAsNew message).
        cache.drop(batch.instance);
        if (batch.execution_status == core::ExecutionStatus::Completed ||
            batch.execution_status == core::ExecutionStatus::Failed) {
            return turn;
        }
        if (batch.attempt_count <= max_attempts) {
            turn.abandon_after_ms = kRetryAfterFailureMs;
            return turn;
        }
        turn.result = core::unreadable_history_poison_turn(
            turn.input, {batch.attempt_count, max_attempts,
                         core::PoisonFailedDeserialization{batch.instance, batch.execution_id,
                                                           *batch.history_error},
                         *batch.history_error});
        return turn;
    }
    if (batch.attempt_count > max_attempts) {
        cache.drop(batch.instance);
        turn.result =
            core::poison_turn(handlers.orchestrations(), turn.input,
                              {batch.attempt_count, max_attempts,
                               core::PoisonOrchestration{batch.instance, turn.input.execution_id},
                               unregistered_orchestration(handlers.orchestrations(), turn.input)
                                   .value_or(messages_json(batch.messages))});
        return turn;
    }
    core::ResidentSlot* slot = cache.slot(batch.instance);
    turn.result = core::run_turn(handlers.orchestrations(), stacks, turn.input, slot);
    if (turn.result.resumed) {
        metrics::add(metrics::Counter::ResidentCacheHits);
    } else if (slot != nullptr && turn.input.messages.size() > 0 &&
               !std::holds_alternative<core::work::StartOrchestration>(
                   turn.input.messages.front().kind)) {
        metrics::add(metrics::Counter::ResidentCacheMisses); // replayed a running execution
    }
    if (slot != nullptr && !slot->holds()) {
        cache.drop(batch.instance);
    }
    if (turn.result.handler_missing) {
        turn.unregistered = unregistered_orchestration(handlers.orchestrations(), turn.input);
    }
    return turn;
}

// Writes one decided turn in the caller's transaction (the wake-ups fire at its commit).
void record(store::Store& store, const DecidedTurn& turn) {
    if (turn.abandon_after_ms) {
        store.abandon_orchestration_item(*turn.batch, *turn.abandon_after_ms, false);
        return;
    }
    if (turn.result.needs_full_history) {
        // The resident execution went away between fetch and turn: fetch again, with history.
        store.abandon_orchestration_item(*turn.batch, 0, true);
        return;
    }
    if (turn.result.handler_missing) {
        const int64_t delay_ms = unknown_handler_delay_ms(turn.batch->attempt_count);
        store.abandon_orchestration_item(*turn.batch, delay_ms, false);
        log_unregistered_backoff(turn.unregistered.value_or("orchestration is not registered"),
                                 turn.batch->instance, delay_ms, turn.batch->attempt_count,
                                 static_cast<uint32_t>(settings.max_attempts));
        return;
    }
    store.ack_orchestration_item(*turn.batch, turn.input.execution_id, turn.result);
    if (!turn.result.worker_items.empty()) {
        wake_activity_workers_at_commit(turn.result.worker_items.size());
    }
    if (changes_status(turn.result)) {
        wake_at_commit(kWakeStatusWaiters);
    }
}

// After the turn committed: its counts, and the trace lines its code wrote (once: a turn that
// is not recorded runs again and writes them then).
void count_recorded(const DecidedTurn& turn) {
    if (!turn.result.handler_missing && !turn.abandon_after_ms) {
        count_outcome(turn.result);
    }
    for (const core::TraceLine& trace : turn.result.traces) {
        write_trace(trace.level,
                    "orchestration " + trace.orchestration +
                        (trace.version.empty() ? "" : "@" + trace.version) + " " +
                        turn.input.instance + " (execution " +
                        std::to_string(turn.input.execution_id) + ")",
                    trace.message);
    }
}

// One turn in its own transaction; a failure is logged and the instance given back.
void record_alone(const DecidedTurn& turn) {
    try {
        pg::WorkerTransaction transaction("duroxide: recording an orchestration turn");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store store(spi);
            record(store, turn);
        }
        transaction.commit();
        count_recorded(turn);
    } catch (const store::LeaseLost& e) {
        report_discarded(e.what());
    } catch (const ExtensionGateClosed&) {
        throw; // nothing can be recorded until the drop ends; the locks run out meanwhile
    } catch (const store::InstanceRowBusy& e) {
        // Not the turn's fault: run it again later, its attempt not counted.
        report_discarded(e.what());
        pg::WorkerTransaction transaction("duroxide: giving back a turn of a busy instance");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store(spi).abandon_orchestration_item(*turn.batch, kRetryAfterFailureMs, true);
        }
        transaction.commit();
    } catch (const std::exception& e) {
        // Not recorded (say, a history or queue write failed): give the instance back with a
        // delay; its messages keep the attempt, so a turn that always fails ends as poison.
        report_turn_not_recorded(e.what());
        pg::WorkerTransaction transaction("duroxide: abandoning an orchestration turn");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store(spi).abandon_orchestration_item(*turn.batch, kRetryAfterFailureMs, false);
        }
        transaction.commit();
    }
}

// Extends the instance locks of a fetched batch while its turns are decided: orchestration
// code runs without a transaction, and a batch of long turns (big replays, heavy code) can
// outlast duroxide.orchestration_lock_timeout. Without this, the later turns' acks would find
// their locks expired (or taken over by another dispatcher) and be discarded, to run again.
class BatchLockRenewal {
public:
    BatchLockRenewal(std::span<const store::OrchestrationBatch> batches,
                     core::SteadyClock::time_point locked_at)
        : batches_(batches), schedule_(locked_at, core::renewal_interval(std::chrono::milliseconds(
                                                      settings.orchestration_lock_timeout_ms))) {}

    // Renews the batch's locks when the renewal interval has passed. A lock that is gone stays
    // gone: that turn's ack reports it.
    void renew_if_due() {
        const auto now = core::SteadyClock::now();
        if (!schedule_.due(now)) {
            return;
        }
        schedule_.renewed(now);
        uint64_t renewed = 0;
        try {
            pg::WorkerTransaction transaction("duroxide: renewing orchestration locks");
            {
                pg::SpiConnection spi;
                begin_unit(spi, Commit::Relaxed);
                store::Store store(spi);
                for (const auto& batch : batches_) {
                    renewed += store.renew_orchestration_item_lock(
                                   batch, settings.orchestration_lock_timeout_ms)
                                   ? 1
                                   : 0;
                }
            }
            transaction.commit();
        } catch (const std::exception& e) {
            // The turns go on; an ack whose lock ran out reports it and is run again.
            const std::string message =
                std::string("duroxide: the instance locks of a batch could not be renewed: ") +
                e.what();
            pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
            return;
        }
        metrics::add(metrics::Counter::LockRenewals, renewed);
    }

private:
    std::span<const store::OrchestrationBatch> batches_;
    core::LeaseSchedule schedule_;
};

} // namespace

WorkOutcome run_orchestration_turns(Handlers& handlers, core::StackPool& stacks,
                                    core::ResidentCache& cache) {
    WorkOutcome outcome;
    std::vector<store::OrchestrationBatch> batches;
    const auto locked_at = core::SteadyClock::now(); // no later than the locks' start
    {
        pg::WorkerTransaction transaction("duroxide: fetching orchestration work");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Relaxed);
            store::Store store(spi);
            if (handlers.refresh(spi)) {
                cache.clear(); // new plugin code: replay from history
            }
            cache.set_limits(static_cast<std::size_t>(settings.resident_cache_size),
                             static_cast<std::size_t>(settings.resident_cache_memory_kb) * 1024);
            batches = store.fetch_orchestration_items(
                my_lease_owner(), settings.orchestration_lock_timeout_ms, settings.dispatch_batch,
                [&cache](const std::string& instance,
                         uint64_t execution_id) -> std::optional<uint64_t> {
                    const core::ResidentSlot* slot = cache.find(instance);
                    if (slot == nullptr || slot->execution_id != execution_id) {
                        return std::nullopt;
                    }
                    return slot->last_event_id;
                });
            if (batches.empty()) {
                outcome.next_work_in_ms = store.ms_until_next_visible(store::Queue::Orchestrator);
            }
        }
        transaction.commit();
    }
    if (batches.empty()) {
        return outcome;
    }
    outcome.processed = batches.size();
    const auto started = std::chrono::steady_clock::now();
    std::vector<DecidedTurn> turns;
    turns.reserve(batches.size());
    const std::size_t evictions_before = cache.evictions();
    BatchLockRenewal renewal(batches, locked_at);
    for (const auto& batch : batches) {
        renewal.renew_if_due();
        turns.push_back(decide(handlers, stacks, cache, batch));
    }
    renewal.renew_if_due();
    cache.trim(); // the turns grew the executions they kept
    metrics::add(metrics::Counter::ResidentCacheEvictions, cache.evictions() - evictions_before);
    // All turns in one transaction: one commit (one WAL flush) for the whole batch.
    bool recorded = false;
    try {
        pg::WorkerTransaction transaction("duroxide: recording orchestration turns");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            store::Store store(spi);
            for (const auto& turn : turns) {
                record(store, turn);
            }
        }
        transaction.commit();
        recorded = true;
    } catch (const std::exception&) {
        // One turn's failure (a lost lease, a write error) must not sink the others: record
        // each on its own.
    }
    for (const auto& turn : turns) {
        if (recorded) {
            count_recorded(turn);
        } else {
            record_alone(turn);
        }
    }
    const auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    for (size_t i = 0; i < turns.size(); ++i) {
        metrics::observe(metrics::Histogram::TurnDuration,
                         elapsed_us / static_cast<int64_t>(turns.size()));
    }
    return outcome;
}

namespace {

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
    std::optional<core::WorkItem> completion;
    bool handler_missing = false;
    bool system = false; // a built-in activity: runs when it is recorded
    // A plugin activity that needs no recording with the batch: it was recorded with its
    // ctx.sql() writes, or dropped (cancelled, lease lost, given back).
    bool settled = false;
    std::optional<Oid> owner; // the instance's owner role (runtime_status shows it to whom)
    // How long the run took; observed once its completion is recorded (a discarded attempt
    // would count twice, or count a run that did not happen as far as the store knows).
    std::optional<int64_t> duration_us;
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
        pending.completion = core::WorkItem{core::work::ActivityFailed{
            item.instance, item.execution_id, item.id,
            core::ErrorDetails{core::PoisonError{
                pending.fetched.attempt_count, max_attempts,
                core::PoisonActivity{item.instance, item.execution_id, item.name, item.id},
                handler == nullptr && !sql && !system
                    ? unregistered_activity(item.name)
                    : core::codec::encode(core::WorkItem{item})}}}};
    } else if (access && !access->may_call && (handler != nullptr || sql)) {
        // The allow-list of the activity's registration: nothing runs. (An activity nothing
        // provides takes the unregistered-activity path below.)
        pending.completion = activity_call_denied(item, access->owner_name);
    } else if (handler != nullptr) {
        // Plugin code runs on a fiber; its ctx.sql() statements run in a transaction of
        // their own that records the completion with them (activity_execution.cpp).
        const auto started = std::chrono::steady_clock::now();
        report_current_work(describe_activity(item), pending.owner);
        PluginActivityOutcome run =
            run_plugin_activity(*handler, pending.fetched, pending.session_owner, sessions,
                                {.worker_id = sessions.owner_id(),
                                 .session_states = &sessions.states(),
                                 .trace = trace_activity,
                                 .max_output_bytes = max_payload_bytes()},
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
        const int64_t delay_ms = unknown_handler_delay_ms(pending.fetched.attempt_count);
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
