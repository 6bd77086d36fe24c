// The provider of a first turn run in the transaction that creates the instance
// (docs/architecture.md, "First turns in the creating transaction"): the core's
// OrchestrationProvider over new instances, inside the caller's transaction. Its fetch locks
// the instance (Store::lock_new_instance: nothing when the id is in use), its acks and
// give-backs are the dispatcher's store operations, and its "commits" are the caller's, which
// runs it in a subtransaction and rolls that back on any failure, so that the start message
// stays queued for a dispatcher as if no first turn had been tried.
#pragma once

#include "core/provider/provider.hpp"
#include "store/store.hpp"

#include <string>
#include <vector>

namespace duroxide::store {

class FirstTurnProvider final : public core::provider::OrchestrationProvider {
public:
    FirstTurnProvider(Store& store, std::vector<std::string> instances, int64_t owner,
                      int lock_timeout_ms)
        : store_(store), instances_(std::move(instances)), owner_(owner),
          lock_timeout_ms_(lock_timeout_ms) {}

    // The new instances that could be locked, with their starts claimed (at most once).
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
    std::vector<std::string> instances_;
    int64_t owner_;
    int lock_timeout_ms_;
    bool fetched_ = false;
    std::vector<OrchestrationBatch> batches_; // what the store needs to ack them
};

} // namespace duroxide::store
