// The provider of an activity worker's inline turn (docs/architecture.md, "Inline turns"): the
// core's OrchestrationProvider over one instance, inside the transaction that records the
// activity's completion. Its fetch locks that instance (Store::lock_for_inline_turn: nothing when
// another worker or a dispatcher holds it), its acks and give-backs are the dispatcher's store
// operations, and its "commits" are the caller's: the caller runs it in a subtransaction and
// rolls that back on any failure, so the completion stays queued for a dispatcher as if no inline
// turn had been tried. Store errors become the contract's, as in PgOrchestrationProvider.
#pragma once

#include "core/provider/provider.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>

namespace duroxide::store {

struct InlineLock {
    int64_t owner = 0;        // the worker's lease owner id (locked_by)
    int lock_timeout_ms = 0;  // the lock's lease, as a dispatcher's
    uint64_t max_history = 0; // longer histories are left to the dispatcher
};

// The item the core sees of a fetched batch (its history, messages and snapshot moved).
core::provider::OrchestrationItem orchestration_item(OrchestrationBatch& batch);

class InlineOrchestrationProvider final : public core::provider::OrchestrationProvider {
public:
    InlineOrchestrationProvider(Store& store, std::string instance, InlineLock lock)
        : store_(store), instance_(std::move(instance)), lock_(lock) {}

    // The instance, locked and read, or nothing (at most once: max_items is at least 1).
    core::provider::OrchestrationFetch
    fetch_orchestration_items(std::size_t max_items,
                              const core::provider::ResidentLookup& resident) override;
    void ack_orchestration_item(const core::provider::OrchestrationItem& item,
                                uint64_t execution_id, const core::TurnResult& turn) override;
    void abandon_orchestration_item(const core::provider::OrchestrationItem& item, int64_t delay_ms,
                                    bool ignore_attempt) override;
    std::size_t renew_orchestration_item_locks(
        std::span<const core::provider::OrchestrationItem> items) override;
    // Already inside the caller's transaction (and subtransaction).
    void in_one_commit(const std::function<void()>& acks) override { acks(); }

private:
    const OrchestrationBatch& batch_of(const core::provider::OrchestrationItem& item) const;

    Store& store_;
    std::string instance_;
    InlineLock lock_;
    std::optional<OrchestrationBatch> batch_; // what the store needs to ack it
};

} // namespace duroxide::store
