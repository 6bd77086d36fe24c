// The PostgreSQL provider's activity half: the core's ActivityProvider (core/provider/
// provider.hpp) over the store's worker-queue operations (store.hpp), for one activity worker
// (its lease timeout and its part in sessions). Each fetch and each give-back runs in a worker
// transaction of its own; an ack runs in the transaction of the in_one_commit under way (a
// worker's batch of completions) or in one of its own. complete_and_ack_work_item runs the
// completion's code in the ack's transaction: an SQL activity's statements (and a system
// activity's reads, through store()) commit with its completion or not at all. store::LeaseLost
// becomes the contract's LeaseLost. What the worker process adds around a transaction (the
// extension gate, the handlers' refresh, what it reads about a fetched activity, the wake-ups at
// commit) comes in as hooks, so that src/store does not depend on src/runtime.
//
// Not here, and kept in the runtime (runtime/activity/activity_execution.cpp): a plugin
// activity whose ctx.sql() statements ran records its completion in the transaction those
// statements opened on the worker's main stack while its fiber was suspended, and renews or
// checks its lease there; that transaction outlives any one call of this contract.
#pragma once

#include "core/provider/provider.hpp"
#include "pg/spi.hpp"
#include "store/store.hpp"

#include <functional>
#include <optional>
#include <set>
#include <span>
#include <vector>
#include <string_view>

namespace duroxide::store {

struct PgActivityHooks {
    // The first statement of every transaction; `durable`: whether its commit must be flushed
    // before it returns (acks, give-backs) or may be asynchronous (fetches).
    std::function<void(pg::SpiConnection&, bool durable)> begin;
    // In the fetch's transaction, before the fetch (the worker refreshes its handlers).
    std::function<void(pg::SpiConnection&)> before_fetch;
    // In the fetch's transaction, after a fetch that leased `activity` (session_continued
    // included): what the worker reads about it (its kind of handler, who may call it).
    std::function<void(pg::SpiConnection&, Store&, const FetchedActivity& activity)> fetched;
    // In an ack's transaction, after the completion of `item` was written (the wake-ups of its
    // commit, the worker's inline turns).
    std::function<void(const core::provider::ActivityItem& item, const core::WorkItem& completion)>
        acked;
    // In each transaction of the provider's own (an in_one_commit's, a lone ack's), after its
    // work and before its commit: the worker's inline turns run there.
    std::function<void(pg::SpiConnection&, Store&)> before_commit;
    // After each such transaction: whether it committed.
    std::function<void(bool committed)> finished;
};

// The store's lease of `item` (session_continued is the fetch's business, not the lease's).
FetchedActivity fetched_activity(const core::provider::ActivityItem& item);
core::provider::ActivityItem activity_item(const FetchedActivity& fetched);

class PgActivityProvider final : public core::provider::ActivityProvider {
public:
    PgActivityProvider(int lock_timeout_ms, SessionOwner sessions, PgActivityHooks hooks)
        : lock_timeout_ms_(lock_timeout_ms), sessions_(std::move(sessions)),
          hooks_(std::move(hooks)) {}

    // Leases as Store::fetch_work_item does, with this worker's sessions; a session claimed by
    // another worker between read and claim gives the item back and looks again (up to three
    // looks, each a transaction of its own).
    std::optional<core::provider::ActivityItem>
    fetch_work_item(const core::TagFilter& tags) override;
    void ack_work_item(const core::provider::ActivityItem& item,
                       const core::WorkItem& completion) override;
    bool abandon_work_item(const core::provider::ActivityItem& item, int64_t delay_ms,
                           bool ignore_attempt) override;
    void complete_and_ack_work_item(const core::provider::ActivityItem& item,
                                    const std::function<core::WorkItem()>& complete) override;
    void in_one_commit(const std::function<void()>& acks) override {
        in_one_commit("duroxide: recording activities", acks);
    }

    // PostgreSQL-specific:
    // Leases up to `max_items` activities with one fetch statement (Store::fetch_work_items),
    // in their queue order, in a transaction of its own; the fetched hook runs for each.
    std::vector<core::provider::ActivityItem> fetch_work_items(const core::TagFilter& tags,
                                                               int max_items);
    // In the unit under way (an in_one_commit): deletes the rows of `items` with one statement
    // before their acks, which then only write their completions; throws LeaseLost when any
    // lease is gone (the unit rolls back).
    void delete_for_ack(std::span<const core::provider::ActivityItem> items);
    // Gives back fetched activities that were not started (attempt not counted, places in the
    // queue kept) with one statement; `in_transaction` runs in its transaction (the wake-ups).
    void release_unstarted(std::span<const core::provider::ActivityItem> items,
                           const std::function<void()>& in_transaction);
    // in_one_commit with `what` shown in pg_stat_activity while it runs.
    void in_one_commit(std::string_view what, const std::function<void()>& acks);
    // The store of the unit under way (inside complete_and_ack_work_item's `complete` or an
    // in_one_commit): a system activity reads the store's live view there. Throws outside one.
    Store& store() const;
    // After a fetch that found nothing: in how long the earliest queued activity becomes
    // visible (nullopt: none is queued for later, or the last fetch found something).
    std::optional<int64_t> next_visible_in_ms() const { return next_visible_in_ms_; }

private:
    // Runs `work` on the store of the current in_one_commit, or in a transaction of its own.
    void with_store(std::string_view what, const std::function<void(Store&)>& work);
    // One look of the fetch; `lost_race`: a session claimed by another worker gave it back.
    std::vector<FetchedActivity> look(const core::TagFilter& tags, int max_items, bool& lost_race);
    void ack_in(Store& store, const core::provider::ActivityItem& item,
                const core::WorkItem& completion);

    int lock_timeout_ms_;
    SessionOwner sessions_;
    PgActivityHooks hooks_;
    std::optional<int64_t> next_visible_in_ms_;
    Store* store_ = nullptr; // the store of the unit under way
    // Rows delete_for_ack deleted in the unit under way (their acks skip the delete).
    std::set<int64_t> deleted_;
};

} // namespace duroxide::store
