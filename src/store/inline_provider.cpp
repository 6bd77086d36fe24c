#include "store/inline_provider.hpp"

namespace duroxide::store {

using core::provider::OrchestrationItem;

OrchestrationItem orchestration_item(OrchestrationBatch& batch) {
    return OrchestrationItem{.instance = batch.instance,
                             .lock_token = batch.lock_token,
                             .attempt_count = batch.attempt_count,
                             .messages = std::move(batch.messages),
                             .execution_id = batch.execution_id,
                             .execution_status = batch.execution_status,
                             .history = std::move(batch.history),
                             .history_error = batch.history_error,
                             .history_omitted = batch.history_omitted,
                             .history_last_event_id = batch.history_last_event_id,
                             .kv_snapshot = std::move(batch.kv_snapshot)};
}

core::provider::OrchestrationFetch InlineOrchestrationProvider::fetch_orchestration_items(
    std::size_t max_items, const core::provider::ResidentLookup& resident) {
    core::provider::OrchestrationFetch fetch;
    if (max_items == 0 || batch_) {
        return fetch;
    }
    batch_ = store_.lock_for_inline_turn(instance_, lock_.owner, lock_.lock_timeout_ms,
                                         lock_.max_history, resident);
    if (batch_) {
        fetch.items.push_back(orchestration_item(*batch_));
    }
    return fetch;
}

const OrchestrationBatch&
InlineOrchestrationProvider::batch_of(const OrchestrationItem& item) const {
    if (!batch_ || batch_->instance != item.instance || batch_->lock_token != item.lock_token) {
        throw core::provider::LeaseLost("instance " + item.instance +
                                        " is not locked by this inline turn");
    }
    return *batch_;
}

void InlineOrchestrationProvider::ack_orchestration_item(const OrchestrationItem& item,
                                                         uint64_t execution_id,
                                                         const core::TurnResult& turn) {
    try {
        store_.ack_orchestration_item(batch_of(item), execution_id, turn);
    } catch (const LeaseLost& e) {
        throw core::provider::LeaseLost(e.what());
    } catch (const InstanceRowBusy& e) {
        throw core::provider::InstanceBusy(e.what());
    }
}

void InlineOrchestrationProvider::abandon_orchestration_item(const OrchestrationItem& item,
                                                             int64_t delay_ms,
                                                             bool ignore_attempt) {
    try {
        store_.abandon_orchestration_item(batch_of(item), delay_ms, ignore_attempt);
    } catch (const LeaseLost& e) {
        throw core::provider::LeaseLost(e.what());
    }
}

std::size_t InlineOrchestrationProvider::renew_orchestration_item_locks(
    std::span<const OrchestrationItem> items) {
    std::size_t renewed = 0;
    for (const auto& item : items) {
        renewed += store_.renew_orchestration_item_lock(batch_of(item), lock_.lock_timeout_ms);
    }
    return renewed;
}

} // namespace duroxide::store
