#include "store/first_turn_provider.hpp"

#include "store/inline_provider.hpp"

namespace duroxide::store {

using core::provider::OrchestrationItem;

core::provider::OrchestrationFetch
FirstTurnProvider::fetch_orchestration_items(std::size_t max_items,
                                             const core::provider::ResidentLookup&) {
    core::provider::OrchestrationFetch fetch;
    if (max_items == 0 || fetched_) {
        return fetch;
    }
    fetched_ = true;
    batches_ = store_.lock_new_instances(instances_, owner_, lock_timeout_ms_);
    for (auto& batch : batches_) {
        fetch.items.push_back(orchestration_item(batch));
    }
    return fetch;
}

const OrchestrationBatch& FirstTurnProvider::batch_of(const OrchestrationItem& item) const {
    for (const auto& batch : batches_) {
        if (batch.instance == item.instance && batch.lock_token == item.lock_token) {
            return batch;
        }
    }
    throw core::provider::LeaseLost("instance " + item.instance +
                                    " is not locked by this first turn");
}

void FirstTurnProvider::ack_orchestration_item(const OrchestrationItem& item, uint64_t execution_id,
                                               const core::TurnResult& turn) {
    try {
        store_.ack_orchestration_item(batch_of(item), execution_id, turn);
    } catch (const LeaseLost& e) {
        throw core::provider::LeaseLost(e.what());
    } catch (const InstanceRowBusy& e) {
        throw core::provider::InstanceBusy(e.what());
    }
}

void FirstTurnProvider::abandon_orchestration_item(const OrchestrationItem& item, int64_t delay_ms,
                                                   bool ignore_attempt) {
    try {
        store_.abandon_orchestration_item(batch_of(item), delay_ms, ignore_attempt);
    } catch (const LeaseLost& e) {
        throw core::provider::LeaseLost(e.what());
    }
}

std::size_t
FirstTurnProvider::renew_orchestration_item_locks(std::span<const OrchestrationItem> items) {
    std::size_t renewed = 0;
    for (const auto& item : items) {
        renewed += store_.renew_orchestration_item_lock(batch_of(item), lock_timeout_ms_);
    }
    return renewed;
}

} // namespace duroxide::store
