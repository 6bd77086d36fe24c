// The orchestration dispatcher over any provider (core/provider/provider.hpp): fetch a batch
// of instances, decide each one's turn with no store access (poison past max attempts, a
// backoff for an unregistered orchestration or a history that does not decode, otherwise the
// real core::run_turn, resuming resident executions), then record every turn in one commit,
// falling back to one commit per turn when the batch does not commit, so that one turn's
// failure (a lost lease, a write error) does not sink the others.
#pragma once

#include "core/engine/resident_cache.hpp"
#include "core/fiber/stack_pool.hpp"
#include "core/provider/provider.hpp"
#include "core/replay/turn.hpp"
#include "core/retry/timing.hpp"
#include "duroxide/registry.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace duroxide::core::dispatch {

// The runtime fills these from its settings (duroxide.* GUCs); the unit tests set their own.
struct DispatchSettings {
    std::size_t batch_size = 1;        // instances fetched and recorded together (dispatch_batch)
    uint32_t max_attempts = 10;        // a fetch past this many attempts is poison
    Millis unregistered_backoff{1000}; // base of the backoff of an unregistered orchestration
    int64_t retry_after_failure_ms = 1000; // a turn not recorded, an unreadable history
    std::size_t max_output_bytes = 0;      // max_payload_size; 0: no limit
    std::size_t max_open_sessions = 10;
    std::chrono::milliseconds lock_timeout{30000}; // the locks are renewed well before it
    std::size_t resident_cache_size = 0;           // executions kept resident between turns
    std::size_t resident_cache_bytes = 0;          // and their memory bound (0: none)
};

// A turn as decided, before it is recorded.
struct DecidedTurn {
    const provider::OrchestrationItem* item = nullptr;
    TurnInput input;
    TurnResult result;
    // Nothing was decided (the history does not decode): give the item back after this
    // delay, its attempt counted, so that it ends as poison after max attempts.
    std::optional<int64_t> abandon_after_ms;
    // Why the turn's orchestration cannot run (not registered): reported at each backoff.
    std::optional<std::string> unregistered;

    // Whether the turn's outcome is counted once it is recorded (a backoff is not).
    bool counted() const { return !result.handler_missing && !abandon_after_ms; }
};

// What the runtime observes of the dispatcher: its metrics, its log lines. Called outside any
// commit of the provider except where said.
class DispatchObserver {
public:
    virtual ~DispatchObserver() = default;
    // After the turn's commit: its counts (when `turn.counted()`) and the traces its code wrote.
    virtual void turn_recorded(const DecidedTurn&) {}
    // The lease was lost (another dispatcher owns the instance now): not an error.
    virtual void turn_discarded(std::string_view) {}
    // The turn could not be recorded and was given back with a delay.
    virtual void turn_not_recorded(std::string_view) {}
    // An unregistered orchestration's item went back for `delay_ms` (inside the commit).
    virtual void unregistered_backoff(std::string_view, const std::string&, int64_t, uint32_t,
                                      uint32_t) {}
    // A turn resumed a resident execution (hit) or replayed a running one (miss).
    virtual void resident_cache(bool) {}
    virtual void resident_evictions(std::size_t) {}
    virtual void locks_renewed(std::size_t) {}
    virtual void locks_not_renewed(std::string_view) {}
    // The batch of `turns` took `elapsed_us` from its first decision to its last record.
    virtual void batch_done(std::size_t, int64_t) {}
};

struct DispatchOutcome {
    std::size_t processed = 0;              // items handled: when any, look for more at once
    std::optional<int64_t> next_work_in_ms; // when idle: when queued work becomes visible
};

struct OrchestrationDispatch {
    provider::OrchestrationProvider& provider;
    const OrchestrationRegistry& orchestrations;
    StackPool& stacks;
    ResidentCache& cache;
    const DispatchSettings& settings;
    DispatchObserver& observer;
    std::function<uint64_t()> now_ms; // the wall clock turns see (virtual in the unit tests)
};

// The turn input of an item: after continue-as-new, the ContinueAsNew message starts
// execution n+1 with an empty history (the other messages go with it).
TurnInput turn_input(const provider::OrchestrationItem& item, const DispatchSettings& settings,
                     uint64_t now_ms);

// Decides one item's turn (no provider call).
DecidedTurn decide(const OrchestrationDispatch& dispatch, const provider::OrchestrationItem& item);

// Whether waiters on the instance's status have something to see after this turn (a status,
// a custom status or a key-value change): the provider wakes them when the ack commits.
bool changes_status(const TurnResult& result);

// The messages of a batch as a JSON array (the payload of an orchestration's poison error).
std::string messages_json(const std::vector<WorkItem>& messages);

// One fetch, its turns decided and recorded.
DispatchOutcome run_orchestration_batch(const OrchestrationDispatch& dispatch);

} // namespace duroxide::core::dispatch
