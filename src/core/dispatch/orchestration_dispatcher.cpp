#include "core/dispatch/orchestration_dispatcher.hpp"

#include "core/codec/json_codec.hpp"
#include "core/dispatch/unregistered.hpp"
#include "core/engine/activity_fiber.hpp"
#include "core/replay/kv_state.hpp"

#include <algorithm>
#include <span>

namespace duroxide::core::dispatch {

using provider::OrchestrationItem;

TurnInput turn_input(const OrchestrationItem& item, const DispatchSettings& settings,
                     uint64_t now_ms) {
    TurnInput input{item.instance, item.execution_id, item.history, item.messages, now_ms};
    input.kv_snapshot = item.kv_snapshot;
    input.max_open_sessions = settings.max_open_sessions;
    input.max_output_bytes = settings.max_output_bytes;
    if (item.execution_status != ExecutionStatus::ContinuedAsNew) {
        input.history_omitted = item.history_omitted;
        input.last_event_id = item.history_last_event_id;
        return input;
    }
    for (const auto& message : item.messages) {
        if (std::holds_alternative<work::ContinueAsNew>(message.kind)) {
            input.execution_id = item.execution_id + 1;
            if (!input.history.empty()) {
                if (auto* previous =
                        std::get_if<events::OrchestrationStarted>(&input.history.front().kind)) {
                    input.continued_from = *previous;
                }
            }
            input.history.clear();
            // The engine starts the execution from it, with what it carries forward.
            input.messages = {message};
            for (const auto& other : item.messages) {
                if (!std::holds_alternative<work::ContinueAsNew>(other.kind)) {
                    input.messages.push_back(other);
                }
            }
            break;
        }
    }
    return input;
}

bool changes_status(const TurnResult& result) {
    if (result.status != ExecutionStatus::Running || result.orchestration_name) {
        return true;
    }
    return std::any_of(result.history_delta.begin(), result.history_delta.end(), [](const auto& e) {
        return std::holds_alternative<events::CustomStatusUpdated>(e.kind) ||
               is_kv_event(e.kind); // duroxide.wait_for_kv_value waits on the same latch
    });
}

std::string messages_json(const std::vector<WorkItem>& messages) {
    std::string json = "[";
    for (size_t i = 0; i < messages.size(); ++i) {
        json += (i ? "," : "") + codec::encode(messages[i]);
    }
    return json + "]";
}

DecidedTurn decide(const OrchestrationDispatch& dispatch, const OrchestrationItem& item) {
    const DispatchSettings& settings = dispatch.settings;
    DecidedTurn turn{.item = &item,
                     .input = turn_input(item, settings, dispatch.now_ms()),
                     .result = {},
                     .abandon_after_ms = std::nullopt,
                     .unregistered = std::nullopt};
    const uint32_t max_attempts = settings.max_attempts;
    if (item.history_error && item.execution_status != ExecutionStatus::ContinuedAsNew) {
        // Reference §4.1/§4.4: back off while attempts remain, then fail the execution without
        // running its code. An execution that already ended only has its messages discarded;
        // one that continued as new needs none of its history (its next execution starts from
        // the ContinueAsNew message).
        dispatch.cache.drop(item.instance);
        if (item.execution_status == ExecutionStatus::Completed ||
            item.execution_status == ExecutionStatus::Failed) {
            return turn;
        }
        if (item.attempt_count <= max_attempts) {
            turn.abandon_after_ms = settings.retry_after_failure_ms;
            return turn;
        }
        turn.result = unreadable_history_poison_turn(
            turn.input,
            {item.attempt_count, max_attempts,
             PoisonFailedDeserialization{item.instance, item.execution_id, *item.history_error},
             *item.history_error});
        return turn;
    }
    if (item.attempt_count > max_attempts) {
        dispatch.cache.drop(item.instance);
        turn.result = poison_turn(dispatch.orchestrations, turn.input,
                                  {item.attempt_count, max_attempts,
                                   PoisonOrchestration{item.instance, turn.input.execution_id},
                                   unregistered_orchestration(dispatch.orchestrations, turn.input)
                                       .value_or(messages_json(item.messages))});
        return turn;
    }
    ResidentSlot* slot = dispatch.cache.slot(item.instance);
    turn.result = run_turn(dispatch.orchestrations, dispatch.stacks, turn.input, slot);
    if (turn.result.resumed) {
        dispatch.observer.resident_cache(true);
    } else if (slot != nullptr && turn.input.messages.size() > 0 &&
               !std::holds_alternative<work::StartOrchestration>(
                   turn.input.messages.front().kind)) {
        dispatch.observer.resident_cache(false); // replayed a running execution
    }
    if (slot != nullptr && !slot->holds()) {
        dispatch.cache.drop(item.instance);
    }
    if (turn.result.handler_missing) {
        turn.unregistered = unregistered_orchestration(dispatch.orchestrations, turn.input);
    }
    return turn;
}

namespace {

// Records one decided turn (in the caller's commit, when there is one).
void record(const OrchestrationDispatch& dispatch, const DecidedTurn& turn) {
    auto& provider = dispatch.provider;
    if (turn.abandon_after_ms) {
        provider.abandon_orchestration_item(*turn.item, *turn.abandon_after_ms, false);
        return;
    }
    if (turn.result.needs_full_history) {
        // The resident execution went away between fetch and turn: fetch again, with history.
        provider.abandon_orchestration_item(*turn.item, 0, true);
        return;
    }
    if (turn.result.handler_missing) {
        const uint32_t attempt = turn.item->attempt_count;
        const int64_t delay_ms =
            unregistered_backoff(attempt, dispatch.settings.unregistered_backoff).count();
        provider.abandon_orchestration_item(*turn.item, delay_ms, false);
        dispatch.observer.unregistered_backoff(
            turn.unregistered.value_or("orchestration is not registered"), turn.item->instance,
            delay_ms, attempt, dispatch.settings.max_attempts);
        return;
    }
    provider.ack_orchestration_item(*turn.item, turn.input.execution_id, turn.result);
}

// One turn in its own commit; a failure is reported and the instance given back.
void record_alone(const OrchestrationDispatch& dispatch, const DecidedTurn& turn) {
    auto& provider = dispatch.provider;
    try {
        provider.in_one_commit([&] { record(dispatch, turn); });
        dispatch.observer.turn_recorded(turn);
    } catch (const provider::LeaseLost& e) {
        dispatch.observer.turn_discarded(e.what());
    } catch (const provider::InstanceBusy& e) {
        // Not the turn's fault: run it again later, its attempt not counted.
        dispatch.observer.turn_discarded(e.what());
        provider.abandon_orchestration_item(*turn.item, dispatch.settings.retry_after_failure_ms,
                                            true);
    } catch (const std::exception& e) {
        if (provider.must_stop(e)) {
            throw; // nothing can be recorded now; the locks run out meanwhile
        }
        // Not recorded (say, a history or queue write failed): give the instance back with a
        // delay; its messages keep the attempt, so a turn that always fails ends as poison.
        dispatch.observer.turn_not_recorded(e.what());
        provider.abandon_orchestration_item(*turn.item, dispatch.settings.retry_after_failure_ms,
                                            false);
    }
}

// Extends the instance locks of a fetched batch while its turns are decided: orchestration
// code runs outside any commit, and a batch of long turns (big replays, heavy code) can
// outlast the lock timeout. Without this, the later turns' acks would find their locks
// expired (or taken over by another dispatcher) and be discarded, to run again.
class BatchLockRenewal {
public:
    BatchLockRenewal(const OrchestrationDispatch& dispatch,
                     std::span<const OrchestrationItem> items, SteadyClock::time_point locked_at)
        : dispatch_(dispatch), items_(items),
          schedule_(locked_at, renewal_interval(dispatch.settings.lock_timeout)) {}

    // Renews the batch's locks when the renewal interval has passed. A lock that is gone stays
    // gone: that turn's ack reports it.
    void renew_if_due() {
        const auto now = SteadyClock::now();
        if (!schedule_.due(now)) {
            return;
        }
        schedule_.renewed(now);
        std::size_t renewed = 0;
        try {
            renewed = dispatch_.provider.renew_orchestration_item_locks(items_);
        } catch (const std::exception& e) {
            // The turns go on; an ack whose lock ran out reports it and is run again.
            dispatch_.observer.locks_not_renewed(e.what());
            return;
        }
        dispatch_.observer.locks_renewed(renewed);
    }

private:
    const OrchestrationDispatch& dispatch_;
    std::span<const OrchestrationItem> items_;
    LeaseSchedule schedule_;
};

} // namespace

DispatchOutcome run_orchestration_batch(const OrchestrationDispatch& dispatch) {
    DispatchOutcome outcome;
    ResidentCache& cache = dispatch.cache;
    const auto locked_at = SteadyClock::now(); // no later than the locks' start
    cache.set_limits(dispatch.settings.resident_cache_size, dispatch.settings.resident_cache_bytes);
    provider::OrchestrationFetch fetch = dispatch.provider.fetch_orchestration_items(
        dispatch.settings.batch_size,
        [&cache](const std::string& instance, uint64_t execution_id) -> std::optional<uint64_t> {
            const ResidentSlot* slot = cache.find(instance);
            if (slot == nullptr || slot->execution_id != execution_id) {
                return std::nullopt;
            }
            return slot->last_event_id;
        });
    const std::vector<OrchestrationItem>& items = fetch.items;
    if (items.empty()) {
        outcome.next_work_in_ms = fetch.next_visible_in_ms;
        return outcome;
    }
    outcome.processed = items.size();
    const auto started = SteadyClock::now();
    std::vector<DecidedTurn> turns;
    turns.reserve(items.size());
    const std::size_t evictions_before = cache.evictions();
    BatchLockRenewal renewal(dispatch, items, locked_at);
    for (const auto& item : items) {
        renewal.renew_if_due();
        turns.push_back(decide(dispatch, item));
    }
    renewal.renew_if_due();
    cache.trim(); // the turns grew the executions they kept
    dispatch.observer.resident_evictions(cache.evictions() - evictions_before);
    // All turns in one commit (for the PostgreSQL provider, one WAL flush for the batch).
    bool recorded = false;
    try {
        dispatch.provider.in_one_commit([&] {
            for (const auto& turn : turns) {
                record(dispatch, turn);
            }
        });
        recorded = true;
    } catch (const std::exception&) {
        // One turn's failure (a lost lease, a write error) must not sink the others: record
        // each on its own.
    }
    for (const auto& turn : turns) {
        if (recorded) {
            dispatch.observer.turn_recorded(turn);
        } else {
            record_alone(dispatch, turn);
        }
    }
    const auto elapsed_us =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started).count();
    dispatch.observer.batch_done(turns.size(), elapsed_us);
    return outcome;
}

} // namespace duroxide::core::dispatch
