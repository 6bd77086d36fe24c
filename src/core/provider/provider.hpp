// The provider contract: what the dispatcher needs from a durable store, after duroxide's
// Provider trait. An orchestration item is an instance locked with its visible messages and
// its current execution's history; the dispatcher runs its turn and either acks it (the turn's
// history delta, new work, status and output, all written at once, lock released) or abandons
// it (lock released, messages visible again after a delay). Activities are leased one at a
// time and acked with their completion, alone or several in one commit. src/store/pg_provider is
// the PostgreSQL provider; test/unit/memory_provider the in-memory one of the unit tests.
#pragma once

#include "core/model/event.hpp"
#include "core/model/work_item.hpp"
#include "core/replay/turn.hpp"
#include "core/routing/tag_filter.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace duroxide::core::provider {

// The stored state of an instance's current execution (None: the instance has none yet).
struct OrchestrationItem {
    std::string instance;
    std::string lock_token;
    uint32_t attempt_count = 0; // the highest over the item's messages, this fetch included
    std::vector<WorkItem> messages;
    uint64_t execution_id = 1;                       // the current execution
    std::optional<ExecutionStatus> execution_status; // empty: no execution yet
    std::vector<Event> history;                      // of the current execution
    // A stored history event that does not decode: the history is left empty, the lock held
    // and the attempt counted, so that the dispatcher backs off and ends the instance as
    // poison (FailedDeserialization) instead of failing the whole fetch.
    std::optional<std::string> history_error;
    // Not loaded because the dispatcher holds the execution resident and the store's last
    // event id is the one it knows.
    bool history_omitted = false;
    uint64_t history_last_event_id = 0;
    // The key-value store as earlier executions left it (loaded with the history only).
    KvSnapshot kv_snapshot;
};

// For an instance and execution the dispatcher holds resident: the last event id it has seen.
using ResidentLookup =
    std::function<std::optional<uint64_t>(const std::string& instance, uint64_t execution_id)>;

struct OrchestrationFetch {
    std::vector<OrchestrationItem> items;
    // When nothing was fetched: in how long the earliest queued message becomes visible.
    std::optional<int64_t> next_visible_in_ms;
};

struct ActivityItem {
    int64_t id = 0;
    std::string lock_token;
    uint32_t attempt_count = 0; // this fetch included
    work::ActivityExecute item;
};

// The lease is no longer ours (expired and perhaps taken over, or the work was cancelled):
// nothing was written; not an error of the turn.
struct LeaseLost : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The instance is held by someone else for now (a row lock the ack does not wait for):
// nothing was written; the item goes back without counting an attempt.
struct InstanceBusy : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class OrchestrationProvider {
public:
    virtual ~OrchestrationProvider() = default;

    // Locks up to `max_items` instances with visible messages (each fetch counts an attempt on
    // the messages it locks) and reads their current executions; the fetch commits on its own.
    // The history of an execution `resident` knows up to its last event is not read.
    virtual OrchestrationFetch fetch_orchestration_items(std::size_t max_items,
                                                         const ResidentLookup& resident) = 0;
    // Records a turn of `execution_id` (the item's, or the next one after continue-as-new):
    // deletes the item's messages, appends the history delta, sets status, output and custom
    // status, enqueues the worker and orchestrator items, deletes cancelled activities and
    // releases the lock. Throws LeaseLost or InstanceBusy with nothing written.
    virtual void ack_orchestration_item(const OrchestrationItem& item, uint64_t execution_id,
                                        const TurnResult& turn) = 0;
    // Releases the lock; the messages become visible after `delay_ms`. `ignore_attempt` takes
    // this fetch back from their attempt counts.
    virtual void abandon_orchestration_item(const OrchestrationItem& item, int64_t delay_ms,
                                            bool ignore_attempt) = 0;
    // Extends the locks of `items`; returns how many were still held. Throws when the store
    // cannot be reached (the turns go on; their acks find out).
    virtual std::size_t
    renew_orchestration_item_locks(std::span<const OrchestrationItem> items) = 0;
    // Runs `acks` (calls of ack/abandon above) so that they commit together or not at all,
    // and throws what they throw. Outside it each call commits on its own.
    virtual void in_one_commit(const std::function<void()>& acks) = 0;
    // An exception the dispatcher must not absorb (the store is going away): rethrown as is.
    virtual bool must_stop(const std::exception&) const { return false; }
};

class ActivityProvider {
public:
    virtual ~ActivityProvider() = default;
    // Leases the oldest visible activity whose tag `tags` admits (counting an attempt);
    // nullopt when there is none.
    virtual std::optional<ActivityItem> fetch_work_item(const TagFilter& tags) = 0;
    // Deletes the activity and enqueues its completion for its orchestration; throws LeaseLost.
    virtual void ack_work_item(const ActivityItem& item, const WorkItem& completion) = 0;
    // Releases the lease; visible again after `delay_ms`. False when it was no longer ours.
    virtual bool abandon_work_item(const ActivityItem& item, int64_t delay_ms,
                                   bool ignore_attempt) = 0;
    // Runs `complete` and acks the completion it returns as one unit: what `complete` writes
    // to the store commits with the completion or not at all (the exactly-once path of
    // activities whose effects live in the store, such as PostgreSQL's SQL activities, whose
    // statements run in the ack's transaction). Throws LeaseLost, or what `complete` throws,
    // with nothing written.
    virtual void complete_and_ack_work_item(const ActivityItem& item,
                                            const std::function<WorkItem()>& complete) = 0;
    // Runs `acks` (calls of the acks and abandons above) so that they commit together or not
    // at all (a worker's batch of completions), and throws what they throw. Outside it each
    // call commits on its own.
    virtual void in_one_commit(const std::function<void()>& acks) = 0;
};

} // namespace duroxide::core::provider
