// What dispatchers and activity workers (their inline turns, runtime/activity/inline_turns)
// share about orchestration turns: the core dispatcher's settings from the duroxide.* GUCs, the
// wall clock turns see, the observer that turns its reports into the worker's metrics, trace
// lines and server log, and the wake-ups a recorded turn asks of its commit.
#pragma once

#include "core/dispatch/orchestration_dispatcher.hpp"

#include <cstdint>

namespace duroxide::runtime {

uint64_t wall_clock_ms();

// The dispatcher's settings from the duroxide.* GUCs, read at each batch.
core::dispatch::DispatchSettings dispatch_settings();

// Counts a recorded turn's outcome (orchestration_turns, started, completed, failed ...).
void count_outcome(const core::TurnResult& result);

// In the transaction that records `result`: wakes, when it commits, the activity workers its
// new activities need and the waiters on the instance's status when it changed.
void wake_for_turn(std::string_view instance, const core::TurnResult& result);

// What the dispatcher reports, as the worker's metrics, trace lines and server log.
class WorkerObserver final : public core::dispatch::DispatchObserver {
public:
    void turn_recorded(const core::dispatch::DecidedTurn& turn) override;
    void turn_discarded(std::string_view why) override;
    void turn_not_recorded(std::string_view why) override;
    void unregistered_backoff(std::string_view reason, const std::string& instance,
                              int64_t delay_ms, uint32_t attempt, uint32_t max_attempts) override;
    void resident_cache(bool hit) override;
    void resident_evictions(std::size_t evicted) override;
    void locks_renewed(std::size_t renewed) override;
    void locks_not_renewed(std::string_view why) override;
    void batch_done(std::size_t turns, int64_t elapsed_us) override;
};

} // namespace duroxide::runtime
