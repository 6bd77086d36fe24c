// Children's first turns in their parent's ack (duroxide.child_first_turn; docs/architecture.md,
// "First turns in the creating transaction"). A provider around the dispatcher's: when the ack
// of a parent's turn enqueues the start of new instances (sub-orchestrations, detached
// orchestrations), each one's first turn runs in that same transaction, before it commits: the
// instance is locked as a fetch locks it (store/first_turn_provider: a new instance can have no
// other holder), its turn is decided by the core's dispatcher with this dispatcher's handlers,
// fiber stacks and resident cache, and recorded by the unchanged ack. The start message, the
// dispatcher's wake-up, fetch and the child's own commit are saved. A parent's children run in
// one subtransaction: anything unusual (an id in use, a turn that is not an ordinary ack, any
// error) rolls it back, and the starts stay queued for a dispatcher exactly as without this.
// The child's code failing is an ordinary turn: the child fails, the parent's ack goes on.
#pragma once

#include "core/dispatch/orchestration_dispatcher.hpp"
#include "core/engine/resident_cache.hpp"
#include "core/fiber/stack_pool.hpp"
#include "runtime/orchestration/turn_reporting.hpp"
#include "runtime/plugins/handlers.hpp"

#include <deque>
#include <string>
#include <vector>

namespace duroxide::runtime {

class ChildFirstTurns final : public core::provider::OrchestrationProvider {
public:
    ChildFirstTurns(core::provider::OrchestrationProvider& inner, Handlers& handlers,
                    core::StackPool& stacks, core::ResidentCache& cache,
                    const core::dispatch::DispatchSettings& dispatch)
        : inner_(inner), handlers_(handlers), stacks_(stacks), cache_(cache), dispatch_(dispatch) {}

    core::provider::OrchestrationFetch
    fetch_orchestration_items(std::size_t max_items,
                              const core::provider::ResidentLookup& resident) override {
        return inner_.fetch_orchestration_items(max_items, resident);
    }
    // The parent's ack, then (inside a commit, on its first attempt) its new children's first
    // turns in the same transaction.
    void ack_orchestration_item(const core::provider::OrchestrationItem& item,
                                uint64_t execution_id, const core::TurnResult& turn) override;
    void abandon_orchestration_item(const core::provider::OrchestrationItem& item, int64_t delay_ms,
                                    bool ignore_attempt) override {
        inner_.abandon_orchestration_item(item, delay_ms, ignore_attempt);
    }
    std::size_t renew_orchestration_item_locks(
        std::span<const core::provider::OrchestrationItem> items) override {
        return inner_.renew_orchestration_item_locks(items);
    }
    // The inner commit; when it committed, the children's turns are counted and their traces
    // written, otherwise they did not happen (their resident executions are dropped).
    void in_one_commit(const std::function<void()>& acks) override;
    bool must_stop(const std::exception& e) const override { return inner_.must_stop(e); }

private:
    struct Recorded {
        core::provider::OrchestrationItem item;
        core::dispatch::DecidedTurn turn;
    };
    // The first turns of the new instances `turn` starts, in one subtransaction.
    void run_children(const std::string& parent, const core::TurnResult& turn);
    void finished(bool committed);

    core::provider::OrchestrationProvider& inner_;
    Handlers& handlers_;
    core::StackPool& stacks_;
    core::ResidentCache& cache_;
    const core::dispatch::DispatchSettings& dispatch_;
    WorkerObserver observer_;
    bool in_commit_ = false;
    std::size_t groups_ = 0;        // subtransactions of the commit under way
    std::deque<Recorded> recorded_; // decided turns point at their items: never moved
};

} // namespace duroxide::runtime
