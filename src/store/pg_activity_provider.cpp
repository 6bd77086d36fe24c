#include "store/pg_activity_provider.hpp"

#include "pg/transaction.hpp"

#include <stdexcept>
#include <string>

namespace duroxide::store {

using core::provider::ActivityItem;

FetchedActivity fetched_activity(const ActivityItem& item) {
    return FetchedActivity{.id = item.id,
                           .lock_token = item.lock_token,
                           .attempt_count = item.attempt_count,
                           .item = item.item,
                           .session_continued = false};
}

ActivityItem activity_item(const FetchedActivity& fetched) {
    return ActivityItem{.id = fetched.id,
                        .lock_token = fetched.lock_token,
                        .attempt_count = fetched.attempt_count,
                        .item = fetched.item};
}

void PgActivityProvider::with_store(std::string_view what,
                                    const std::function<void(Store&)>& work) {
    if (store_ != nullptr) {
        work(*store_);
        return;
    }
    try {
        pg::WorkerTransaction transaction(what);
        {
            pg::SpiConnection spi;
            hooks_.begin(spi, true);
            Store store(spi);
            store_ = &store;
            try {
                work(store);
                if (hooks_.before_commit) {
                    hooks_.before_commit(spi, store);
                }
            } catch (...) {
                store_ = nullptr;
                deleted_.clear();
                throw;
            }
            store_ = nullptr;
            deleted_.clear();
        }
        transaction.commit();
    } catch (...) {
        if (hooks_.finished) {
            hooks_.finished(false);
        }
        throw;
    }
    if (hooks_.finished) {
        hooks_.finished(true);
    }
}

Store& PgActivityProvider::store() const {
    if (store_ == nullptr) {
        throw std::logic_error("duroxide: the activity provider's store is used outside a unit");
    }
    return *store_;
}

std::vector<FetchedActivity> PgActivityProvider::look(const core::TagFilter& tags, int max_items,
                                                      bool& lost_race) {
    std::vector<FetchedActivity> fetched;
    pg::WorkerTransaction transaction(max_items == 1 ? "duroxide: fetching an activity"
                                                     : "duroxide: fetching activities");
    {
        pg::SpiConnection spi;
        hooks_.begin(spi, false);
        if (hooks_.before_fetch) {
            hooks_.before_fetch(spi);
        }
        Store store(spi);
        WorkBatchFetch fetch = store.fetch_work_items(lock_timeout_ms_, sessions_, tags, max_items);
        fetched = std::move(fetch.activities);
        lost_race = fetch.lost_session_race;
        if (fetched.empty() && !lost_race) {
            next_visible_in_ms_ = store.ms_until_next_visible(Queue::Worker);
        }
        if (hooks_.fetched) {
            for (const FetchedActivity& activity : fetched) {
                hooks_.fetched(spi, store, activity);
            }
        }
    }
    transaction.commit();
    return fetched;
}

std::optional<ActivityItem> PgActivityProvider::fetch_work_item(const core::TagFilter& tags) {
    std::vector<ActivityItem> items = fetch_work_items(tags, 1);
    if (items.empty()) {
        return std::nullopt;
    }
    return std::move(items.front());
}

std::vector<ActivityItem> PgActivityProvider::fetch_work_items(const core::TagFilter& tags,
                                                               int max_items) {
    next_visible_in_ms_.reset();
    std::vector<ActivityItem> items;
    for (int looks = 0; looks < 3; ++looks) {
        bool lost_race = false;
        for (const FetchedActivity& fetched : look(tags, max_items, lost_race)) {
            items.push_back(activity_item(fetched));
        }
        if (!items.empty() || !lost_race) {
            break;
        }
    }
    return items;
}

void PgActivityProvider::ack_in(Store& store, const ActivityItem& item,
                                const core::WorkItem& completion) {
    try {
        store.ack_work_item(fetched_activity(item), completion, sessions_,
                            deleted_.erase(item.id) > 0);
    } catch (const LeaseLost& e) {
        throw core::provider::LeaseLost(e.what());
    }
    if (hooks_.acked) {
        hooks_.acked(item, completion);
    }
}

void PgActivityProvider::ack_work_item(const ActivityItem& item, const core::WorkItem& completion) {
    with_store("duroxide: activity " + item.item.name,
               [&](Store& store) { ack_in(store, item, completion); });
}

void PgActivityProvider::complete_and_ack_work_item(
    const ActivityItem& item, const std::function<core::WorkItem()>& complete) {
    with_store("duroxide: activity " + item.item.name,
               [&](Store& store) { ack_in(store, item, complete()); });
}

bool PgActivityProvider::abandon_work_item(const ActivityItem& item, int64_t delay_ms,
                                           bool ignore_attempt) {
    bool released = false;
    with_store("duroxide: abandoning an activity", [&](Store& store) {
        released = store.abandon_work_item(fetched_activity(item), delay_ms, ignore_attempt);
    });
    return released;
}

void PgActivityProvider::delete_for_ack(std::span<const ActivityItem> items) {
    std::vector<FetchedActivity> activities;
    for (const ActivityItem& item : items) {
        activities.push_back(fetched_activity(item));
    }
    try {
        store().delete_work_items(activities);
    } catch (const LeaseLost& e) {
        throw core::provider::LeaseLost(e.what());
    }
    for (const ActivityItem& item : items) {
        deleted_.insert(item.id);
    }
}

void PgActivityProvider::release_unstarted(std::span<const ActivityItem> items,
                                           const std::function<void()>& in_transaction) {
    std::vector<FetchedActivity> activities;
    for (const ActivityItem& item : items) {
        activities.push_back(fetched_activity(item));
    }
    with_store("duroxide: giving back activities", [&](Store& store) {
        if (store.release_work_items(activities) > 0 && in_transaction) {
            in_transaction();
        }
    });
}

void PgActivityProvider::in_one_commit(std::string_view what, const std::function<void()>& acks) {
    if (store_ != nullptr) {
        acks(); // already inside one
        return;
    }
    with_store(what, [&](Store&) { acks(); });
}

} // namespace duroxide::store
