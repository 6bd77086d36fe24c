// The PostgreSQL provider: the core's provider contract (core/provider/provider.hpp) over the
// store's operations (store.hpp). Each fetch, renewal and give-back runs in a worker
// transaction of its own; acks run in one transaction per in_one_commit (a whole batch, or one
// turn when the batch did not commit). Store errors become the contract's: store::LeaseLost
// is core LeaseLost, store::InstanceRowBusy is core InstanceBusy. What the worker process
// adds around a transaction (the extension gate, the handlers' refresh, the wake-ups at
// commit) comes in as hooks, so that src/store does not depend on src/runtime.
#pragma once

#include "core/provider/provider.hpp"
#include "pg/spi.hpp"
#include "store/store.hpp"

#include <functional>
#include <map>
#include <string>

namespace duroxide::store {

struct PgProviderHooks {
    // The first statement of every transaction; `durable`: whether its commit must be flushed
    // before it returns (acks) or may be asynchronous (fetches, renewals).
    std::function<void(pg::SpiConnection&, bool durable)> begin;
    // In the fetch's transaction, before the fetch (the worker refreshes its handlers).
    std::function<void(pg::SpiConnection&)> before_fetch;
    // In an ack's transaction, after the turn of `instance` was written (the wake-ups of its
    // commit).
    std::function<void(std::string_view instance, const core::TurnResult&)> acked;
    // Exceptions the dispatcher must not absorb (DROP EXTENSION in progress).
    std::function<bool(const std::exception&)> must_stop;
};

class PgOrchestrationProvider final : public core::provider::OrchestrationProvider {
public:
    PgOrchestrationProvider(int64_t lease_owner, int lock_timeout_ms, PgProviderHooks hooks)
        : lease_owner_(lease_owner), lock_timeout_ms_(lock_timeout_ms), hooks_(std::move(hooks)) {}

    core::provider::OrchestrationFetch
    fetch_orchestration_items(std::size_t max_items,
                              const core::provider::ResidentLookup& resident) override;
    void ack_orchestration_item(const core::provider::OrchestrationItem& item,
                                uint64_t execution_id, const core::TurnResult& turn) override;
    void abandon_orchestration_item(const core::provider::OrchestrationItem& item, int64_t delay_ms,
                                    bool ignore_attempt) override;
    std::size_t renew_orchestration_item_locks(
        std::span<const core::provider::OrchestrationItem> items) override;
    void in_one_commit(const std::function<void()>& acks) override;
    bool must_stop(const std::exception& e) const override {
        return hooks_.must_stop && hooks_.must_stop(e);
    }

    // The typed state of a stored execution ("" when there is none).

private:
    // Runs `work` on the store of the current in_one_commit, or in a transaction of its own.
    void with_store(const char* what, bool durable, const std::function<void(Store&)>& work);
    const OrchestrationBatch& batch_of(const core::provider::OrchestrationItem& item) const;

    int64_t lease_owner_;
    int lock_timeout_ms_;
    PgProviderHooks hooks_;
    // The fetched batches, by instance: what the store needs to ack them beyond the item
    // (their history, messages and key-value snapshot moved into the items).
    std::map<std::string, OrchestrationBatch, std::less<>> batches_;
    Store* store_ = nullptr; // the store of the in_one_commit under way
};

} // namespace duroxide::store
