// Inline turns (docs/architecture.md, "Inline turns"): an activity worker that records
// completions runs, in the same transaction and before it commits, the next turn of each
// instance they went to, when it can lock that instance at once. The completion and the turn it
// wakes then commit together: no dispatcher wake-up, fetch or commit in between. Each turn runs
// in a subtransaction, decided by the core's dispatcher (core::dispatch::decide) on this
// worker's fiber stacks and resident executions, and recorded by the dispatcher's store
// operations; anything unusual (the instance locked, a long history, a retried activity or
// message, a turn that is not an ordinary ack, any error) rolls the subtransaction back and
// leaves the completion queued for a dispatcher, exactly as without inline turns. In auto mode
// (duroxide.inline_turns = auto) a commit's turns are tried only when a dispatcher would
// otherwise be woken for them alone (InlineTurns::worth_it).
#pragma once

#include "core/dispatch/orchestration_dispatcher.hpp"
#include "core/engine/resident_cache.hpp"
#include "core/fiber/stack_pool.hpp"
#include "core/routing/tag_filter.hpp"
#include "runtime/orchestration/turn_reporting.hpp"
#include "runtime/plugins/handlers.hpp"
#include "store/store.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace duroxide::runtime {

class InlineTurns {
public:
    InlineTurns(Handlers& handlers, core::StackPool& stacks, core::ResidentCache& cache)
        : handlers_(handlers), stacks_(stacks), cache_(cache) {}

    // duroxide.inline_turns = auto: the unit of work recording the next completions stopped
    // fetching because its batch was full, not because the queue was empty (more work waits
    // for this worker). Completions recorded while a unit still fetches (a long activity's
    // held ones, a ctx.sql() activity's) go by the previous unit's answer.
    // `tags`: the worker's tag filter (auto keeps for it one activity its turns schedule that
    // it may run: runtime/activity/inline_turns.cpp, keep_one_activity).
    void backlogged(bool more_work, core::TagFilter tags) {
        backlogged_ = more_work;
        tags_ = std::move(tags);
    }
    // In the transaction under way, the completion of an activity fetched for the
    // `attempt`-th time was written.
    void completed(const core::WorkItem& completion, uint32_t attempt);
    // Just before that transaction commits: the turns, and the wake-ups its commit owes (the
    // dispatchers when a completion is left to them or a turn queued orchestrator messages).
    // The handlers are refreshed first, as a dispatcher's fetch does: a plugin reloaded while
    // an activity ran has its new orchestration code run the turn.
    void run(pg::SpiConnection& spi, store::Store& store);
    // The transaction ended: when it committed, the turns are counted and their traces
    // written; otherwise they did not happen (and their resident executions are dropped).
    void finished(bool committed);

private:
    struct Pending {
        std::string instance;
        bool eligible = true;
    };
    struct Recorded {
        core::provider::OrchestrationItem item;
        core::dispatch::DecidedTurn turn;
        int64_t duration_us = 0;
    };
    // on: always. auto: only when the turns would otherwise wake a dispatcher for them alone
    // and their worker has nothing else to do: no dispatcher is running a unit of work (a
    // running one takes the completions into the batch it fetches next, 16 turns to a commit,
    // resuming its resident executions) and this worker's last fetch found its queue empty
    // (an idle dispatcher runs the turn on the other core while the worker goes on).
    bool worth_it() const;
    // auto: one activity `result` scheduled is left to this worker (no idle one woken).
    void keep_one_activity(const core::TurnResult& result);
    // One instance's turn in a subtransaction; false when it was left to a dispatcher.
    bool run_one(store::Store& store, const std::string& instance,
                 const core::dispatch::DispatchSettings& dispatch);

    Handlers& handlers_;
    core::StackPool& stacks_;
    core::ResidentCache& cache_;
    WorkerObserver observer_;
    std::vector<Pending> pending_;
    bool backlogged_ = false;
    std::optional<core::TagFilter> tags_;
    bool kept_ = false; // an activity is kept for this worker in the transaction under way
    std::deque<Recorded> recorded_; // decided turns point at their items: never moved
};

// Developer crash points (duroxide.debug_crash_point): a worker reaching `point` kills itself.
void crash_point(const char* point);

} // namespace duroxide::runtime
