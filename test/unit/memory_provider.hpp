// The in-memory provider of the unit tests: the second implementation of the provider
// contract (core/provider/provider.hpp) beside the PostgreSQL one. Instances with their
// executions and histories, an orchestrator queue with visibility times and attempt counts,
// instance locks, and a worker queue, on a virtual clock (`now_ms`). It does what src/store
// does on an ack (create the instance or execution, append the delta, set the status and the
// custom status, enqueue worker items before deleting cancelled activities, enqueue
// orchestrator items with timers visible at their time) and keeps the key-value store as the
// store does (kv_store from ended executions, kv_delta from the current one). `in_one_commit`
// (both halves) and `complete_and_ack_work_item` are all or nothing. Test hooks: `failing_acks`
// makes an instance's ack fail (a write error), `busy_acks` busy, `unreadable_history` makes its
// history fail to decode, `set_attempts` forces a count.
#pragma once

#include "core/provider/provider.hpp"
#include "core/routing/tag_filter.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace duroxide::testing {

struct MemoryExecution {
    uint64_t execution_id = 1;
    std::string status = "Running"; // Running, Completed, Failed, ContinuedAsNew
    std::string output;
    std::optional<core::ErrorDetails> error;
    std::vector<core::Event> history;
};

struct MemoryInstance {
    std::string name, version;
    std::optional<std::string> parent;
    std::vector<MemoryExecution> executions; // oldest first; the last is current
    std::optional<std::string> custom_status;
    uint64_t custom_status_version = 0; // +1 per ack whose delta updates it

    const MemoryExecution& current() const { return executions.back(); }
};

class MemoryProvider : public core::provider::OrchestrationProvider,
                       public core::provider::ActivityProvider {
public:
    std::map<std::string, MemoryInstance> instances;
    uint64_t now_ms = 1'000'000;
    // An activity named here takes that long: its worker item is only taken once the time has
    // passed, so a timer can win a race against it (and the turn steal its worker item).
    std::map<std::string, uint64_t> activity_duration_ms;
    // Instances whose ack fails (as a history or queue write that fails would).
    std::set<std::string> failing_acks;
    // Instances whose ack finds their row locked by another transaction (InstanceBusy).
    std::set<std::string> busy_acks;
    // Instances whose stored history does not decode (the fetch reports this error).
    std::map<std::string, std::string> unreadable_history;
    std::size_t acks = 0, abandons = 0, commits = 0; // what the dispatcher asked for

    // Client path: enqueue for an instance's orchestrator queue (timers at their fire time).
    void enqueue(core::WorkItem item, std::optional<uint64_t> visible_at = std::nullopt);

    // As a store whose fetch counted `attempts` already: the next fetch of the instance's
    // queued messages is attempt `attempts + 1`.
    void set_attempts(const std::string& instance, uint32_t attempts);

    // When the earliest message or activity not yet visible becomes visible.
    std::optional<uint64_t> next_visible_at() const;
    // Whether `instance` has messages visible now.
    bool has_visible_messages(const std::string& instance) const;

    std::size_t worker_queue_size() const { return worker_queue_.size(); }
    std::size_t orchestrator_queue_size() const { return orchestrator_queue_.size(); }
    // duroxide.rewind_instance's writes: activities queued again, timers re-armed.
    void queue_activity(const core::work::ActivityExecute& item);
    bool timer_queued(const core::work::TimerFired& timer) const;

    // OrchestrationProvider
    core::provider::OrchestrationFetch
    fetch_orchestration_items(std::size_t max_items,
                              const core::provider::ResidentLookup& resident) override;
    void ack_orchestration_item(const core::provider::OrchestrationItem& item,
                                uint64_t execution_id, const core::TurnResult& turn) override;
    void abandon_orchestration_item(const core::provider::OrchestrationItem& item, int64_t delay_ms,
                                    bool ignore_attempt) override;
    std::size_t renew_orchestration_item_locks(
        std::span<const core::provider::OrchestrationItem> items) override;
    void in_one_commit(const std::function<void()>& writes) override;

    // ActivityProvider
    std::optional<core::provider::ActivityItem>
    fetch_work_item(const core::TagFilter& tags) override;
    void ack_work_item(const core::provider::ActivityItem& item,
                       const core::WorkItem& completion) override;
    bool abandon_work_item(const core::provider::ActivityItem& item, int64_t delay_ms,
                           bool ignore_attempt) override;
    // What `complete` changes in this provider (enqueue, say) is put back when the ack fails.
    void complete_and_ack_work_item(const core::provider::ActivityItem& item,
                                    const std::function<core::WorkItem()>& complete) override;
    // (in_one_commit above serves both halves: all or nothing over the whole state.)

    static void apply_kv_events(core::KvSnapshot& kv, const std::vector<core::Event>& events);

private:
    struct QueuedMessage {
        std::string instance;
        core::WorkItem item;
        uint64_t visible_at = 0;
        uint64_t sequence = 0;
        uint32_t attempts = 0; // fetches so far
    };
    struct QueuedActivity {
        int64_t id = 0;
        core::work::ActivityExecute item;
        uint64_t visible_at = 0;
        uint32_t attempts = 0;
        std::optional<std::string> lock_token;
    };
    struct Locked {
        std::string lock_token;
        std::vector<QueuedMessage> messages;
    };
    // Everything an ack changes, so that in_one_commit can put it back.
    struct State {
        std::map<std::string, MemoryInstance> instances;
        std::vector<QueuedMessage> orchestrator_queue;
        std::vector<QueuedActivity> worker_queue;
        std::map<std::string, Locked> locked;
        uint64_t next_sequence = 0;
        int64_t next_activity_id = 1;
    };

    Locked& lock_of(const core::provider::OrchestrationItem& item);
    State save() const;
    void restore(State state);

    std::vector<QueuedMessage> orchestrator_queue_;
    std::vector<QueuedActivity> worker_queue_;
    std::map<std::string, Locked> locked_; // instance -> its fetched messages
    uint64_t next_sequence_ = 0;
    uint64_t next_lock_ = 0;
    int64_t next_activity_id_ = 1;
};

} // namespace duroxide::testing
