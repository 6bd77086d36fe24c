#include "store/pg_provider.hpp"

#include "pg/transaction.hpp"
#include "store/inline_provider.hpp"

namespace duroxide::store {

using core::provider::OrchestrationItem;

void PgOrchestrationProvider::with_store(const char* what, bool durable,
                                         const std::function<void(Store&)>& work) {
    if (store_ != nullptr) {
        work(*store_);
        return;
    }
    pg::WorkerTransaction transaction(what);
    {
        pg::SpiConnection spi;
        hooks_.begin(spi, durable);
        Store store(spi);
        work(store);
    }
    transaction.commit();
}

const OrchestrationBatch& PgOrchestrationProvider::batch_of(const OrchestrationItem& item) const {
    auto it = batches_.find(item.instance);
    if (it == batches_.end() || it->second.lock_token != item.lock_token) {
        throw core::provider::LeaseLost("instance " + item.instance +
                                        " is not locked by this dispatcher's fetch");
    }
    return it->second;
}

core::provider::OrchestrationFetch
PgOrchestrationProvider::fetch_orchestration_items(std::size_t max_items,
                                                   const core::provider::ResidentLookup& resident) {
    core::provider::OrchestrationFetch fetch;
    std::vector<OrchestrationBatch> batches;
    pg::WorkerTransaction transaction("duroxide: fetching orchestration work");
    {
        pg::SpiConnection spi;
        hooks_.begin(spi, false);
        if (hooks_.before_fetch) {
            hooks_.before_fetch(spi);
        }
        Store store(spi);
        batches = store.fetch_orchestration_items(lease_owner_, lock_timeout_ms_,
                                                  static_cast<int>(max_items), resident);
        if (batches.empty()) {
            fetch.next_visible_in_ms = store.ms_until_next_visible(Queue::Orchestrator);
        }
    }
    transaction.commit();
    batches_.clear();
    fetch.items.reserve(batches.size());
    for (auto& batch : batches) {
        fetch.items.push_back(orchestration_item(batch));
        std::string instance = batch.instance;
        batches_.insert_or_assign(std::move(instance), std::move(batch));
    }
    return fetch;
}

void PgOrchestrationProvider::ack_orchestration_item(const OrchestrationItem& item,
                                                     uint64_t execution_id,
                                                     const core::TurnResult& turn) {
    const OrchestrationBatch& batch = batch_of(item);
    with_store("duroxide: recording an orchestration turn", true, [&](Store& store) {
        try {
            store.ack_orchestration_item(batch, execution_id, turn);
        } catch (const LeaseLost& e) {
            throw core::provider::LeaseLost(e.what());
        } catch (const InstanceRowBusy& e) {
            throw core::provider::InstanceBusy(e.what());
        }
        if (hooks_.acked) {
            hooks_.acked(item.instance, turn);
        }
    });
}

void PgOrchestrationProvider::abandon_orchestration_item(const OrchestrationItem& item,
                                                         int64_t delay_ms, bool ignore_attempt) {
    const OrchestrationBatch& batch = batch_of(item);
    with_store("duroxide: abandoning an orchestration turn", true, [&](Store& store) {
        store.abandon_orchestration_item(batch, delay_ms, ignore_attempt);
    });
}

std::size_t
PgOrchestrationProvider::renew_orchestration_item_locks(std::span<const OrchestrationItem> items) {
    std::size_t renewed = 0;
    pg::WorkerTransaction transaction("duroxide: renewing orchestration locks");
    {
        pg::SpiConnection spi;
        hooks_.begin(spi, false);
        Store store(spi);
        for (const auto& item : items) {
            renewed +=
                store.renew_orchestration_item_lock(batch_of(item), lock_timeout_ms_) ? 1 : 0;
        }
    }
    transaction.commit();
    return renewed;
}

void PgOrchestrationProvider::in_one_commit(const std::function<void()>& acks) {
    pg::WorkerTransaction transaction("duroxide: recording orchestration turns");
    {
        pg::SpiConnection spi;
        hooks_.begin(spi, true);
        Store store(spi);
        store_ = &store;
        try {
            acks();
        } catch (...) {
            store_ = nullptr;
            throw;
        }
        store_ = nullptr;
    }
    transaction.commit();
}

} // namespace duroxide::store
