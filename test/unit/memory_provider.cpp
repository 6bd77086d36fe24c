#include "memory_provider.hpp"

namespace duroxide::testing {

using core::provider::ActivityItem;
using core::provider::LeaseLost;
using core::provider::OrchestrationItem;

void MemoryProvider::enqueue(core::WorkItem item, std::optional<uint64_t> visible_at) {
    uint64_t at = visible_at.value_or(now_ms);
    if (auto* timer = std::get_if<core::work::TimerFired>(&item.kind); timer && !visible_at) {
        at = timer->fire_at_ms;
    }
    const std::string target = item.target_instance();
    orchestrator_queue_.push_back({target, std::move(item), at, next_sequence_++});
}

void MemoryProvider::set_attempts(const std::string& instance, uint32_t attempts) {
    for (auto& message : orchestrator_queue_) {
        if (message.instance == instance) {
            message.attempts = attempts;
        }
    }
}

std::optional<uint64_t> MemoryProvider::next_visible_at() const {
    std::optional<uint64_t> next;
    for (const auto& message : orchestrator_queue_) {
        if (message.visible_at > now_ms) {
            next = std::min(next.value_or(message.visible_at), message.visible_at);
        }
    }
    for (const auto& activity : worker_queue_) {
        if (activity.visible_at > now_ms && !activity.lock_token) {
            next = std::min(next.value_or(activity.visible_at), activity.visible_at);
        }
    }
    return next;
}

bool MemoryProvider::has_visible_messages(const std::string& instance) const {
    return std::any_of(orchestrator_queue_.begin(), orchestrator_queue_.end(), [&](const auto& m) {
        return m.instance == instance && m.visible_at <= now_ms;
    });
}

void MemoryProvider::queue_activity(const core::work::ActivityExecute& item) {
    worker_queue_.push_back({next_activity_id_++, item, now_ms, 0, std::nullopt});
}

bool MemoryProvider::timer_queued(const core::work::TimerFired& timer) const {
    return std::any_of(orchestrator_queue_.begin(), orchestrator_queue_.end(), [&](const auto& m) {
        const auto* fired = std::get_if<core::work::TimerFired>(&m.item.kind);
        return fired != nullptr && *fired == timer;
    });
}

void MemoryProvider::apply_kv_events(core::KvSnapshot& kv, const std::vector<core::Event>& events) {
    for (const auto& event : events) {
        if (auto* set = std::get_if<core::events::KeyValueSet>(&event.kind)) {
            kv[set->key] = {set->value, set->last_updated_at_ms};
        } else if (auto* cleared = std::get_if<core::events::KeyValueCleared>(&event.kind)) {
            kv.erase(cleared->key);
        } else if (std::holds_alternative<core::events::KeyValuesCleared>(event.kind)) {
            kv.clear();
        }
    }
}

// The instances of the oldest visible messages, each with all its visible messages.
core::provider::OrchestrationFetch
MemoryProvider::fetch_orchestration_items(std::size_t max_items,
                                          const core::provider::ResidentLookup& resident) {
    core::provider::OrchestrationFetch fetch;
    while (fetch.items.size() < max_items) {
        const QueuedMessage* oldest = nullptr;
        for (const auto& message : orchestrator_queue_) {
            if (message.visible_at <= now_ms && !locked_.count(message.instance) &&
                (!oldest || message.sequence < oldest->sequence)) {
                oldest = &message;
            }
        }
        if (oldest == nullptr) {
            break;
        }
        const std::string instance = oldest->instance;
        Locked& lock = locked_[instance];
        lock.lock_token = "lock-" + std::to_string(++next_lock_);
        std::erase_if(orchestrator_queue_, [&](const QueuedMessage& message) {
            if (message.instance == instance && message.visible_at <= now_ms) {
                lock.messages.push_back(message);
                return true;
            }
            return false;
        });
        OrchestrationItem item{.instance = instance,
                               .lock_token = lock.lock_token,
                               .attempt_count = 0,
                               .messages = {},
                               .execution_id = 1,
                               .execution_status = std::nullopt,
                               .history = {},
                               .history_error = std::nullopt,
                               .history_omitted = false,
                               .history_last_event_id = 0,
                               .kv_snapshot = {}};
        for (auto& message : lock.messages) { // the store counts a fetch on every message
            item.attempt_count = std::max(item.attempt_count, ++message.attempts);
            item.messages.push_back(message.item);
        }
        if (auto existing = instances.find(instance); existing != instances.end()) {
            const MemoryExecution& current = existing->second.current();
            item.execution_id = current.execution_id;
            item.execution_status =
                current.status == "Running"     ? core::ExecutionStatus::Running
                : current.status == "Completed" ? core::ExecutionStatus::Completed
                : current.status == "Failed"    ? core::ExecutionStatus::Failed
                                                : core::ExecutionStatus::ContinuedAsNew;
            const auto known = resident ? resident(instance, current.execution_id) : std::nullopt;
            const uint64_t last = current.history.empty() ? 0 : current.history.back().event_id;
            if (auto bad = unreadable_history.find(instance); bad != unreadable_history.end()) {
                item.history_error = bad->second;
            } else if (known && *known == last) {
                item.history_omitted = true;
                item.history_last_event_id = last;
            } else {
                item.history = current.history;
                for (const auto& execution : existing->second.executions) {
                    if (execution.status != "Running") { // merged into kv_store when it ended
                        apply_kv_events(item.kv_snapshot, execution.history);
                    }
                }
            }
        }
        fetch.items.push_back(std::move(item));
    }
    if (fetch.items.empty()) {
        if (auto next = next_visible_at()) {
            fetch.next_visible_in_ms = static_cast<int64_t>(*next - now_ms);
        }
    }
    return fetch;
}

MemoryProvider::Locked& MemoryProvider::lock_of(const OrchestrationItem& item) {
    auto it = locked_.find(item.instance);
    if (it == locked_.end() || it->second.lock_token != item.lock_token) {
        throw LeaseLost("the lock of instance " + item.instance + " is not this item's");
    }
    return it->second;
}

void MemoryProvider::ack_orchestration_item(const OrchestrationItem& item, uint64_t execution_id,
                                            const core::TurnResult& result) {
    lock_of(item);
    if (failing_acks.count(item.instance)) {
        throw std::runtime_error("injected write failure for " + item.instance);
    }
    if (busy_acks.count(item.instance)) {
        throw core::provider::InstanceBusy("instance " + item.instance + " is busy");
    }
    locked_.erase(item.instance); // the item's messages are deleted with the lock
    ++acks;
    if (result.history_delta.empty() && result.worker_items.empty() &&
        result.orchestrator_items.empty()) {
        return; // nothing decided (an ended execution, or nothing to start)
    }
    MemoryInstance& instance = instances[item.instance];
    if (result.orchestration_name) {
        instance.name = *result.orchestration_name;
        instance.version = result.orchestration_version.value_or("");
        instance.parent = result.parent_instance;
    }
    if (instance.executions.empty() || instance.executions.back().execution_id < execution_id) {
        instance.executions.push_back({execution_id, "Running", "", std::nullopt, {}});
    }
    MemoryExecution& execution = instance.executions.back();
    execution.history.insert(execution.history.end(), result.history_delta.begin(),
                             result.history_delta.end());
    switch (result.status) {
    case core::ExecutionStatus::Completed:
        execution.status = "Completed";
        break;
    case core::ExecutionStatus::Failed:
        execution.status = "Failed";
        break;
    case core::ExecutionStatus::ContinuedAsNew:
        execution.status = "ContinuedAsNew";
        break;
    case core::ExecutionStatus::Running:
        break;
    }
    if (result.status != core::ExecutionStatus::Running) {
        execution.output = result.output;
        execution.error = result.error;
    }
    for (auto it = result.history_delta.rbegin(); it != result.history_delta.rend(); ++it) {
        if (auto* status = std::get_if<core::events::CustomStatusUpdated>(&it->kind)) {
            instance.custom_status = status->status;
            ++instance.custom_status_version;
            break;
        }
    }
    for (const auto& work : result.worker_items) {
        const auto& execute = std::get<core::work::ActivityExecute>(work.kind);
        auto duration = activity_duration_ms.find(execute.name);
        worker_queue_.push_back(
            {next_activity_id_++, execute,
             now_ms + (duration == activity_duration_ms.end() ? 0 : duration->second), 0,
             std::nullopt});
    }
    for (const auto& cancelled : result.cancelled_activities) {
        std::erase_if(worker_queue_, [&](const QueuedActivity& queued) {
            return queued.item.instance == cancelled.instance &&
                   queued.item.execution_id == cancelled.execution_id &&
                   queued.item.id == cancelled.activity_id;
        });
    }
    for (const auto& message : result.orchestrator_items) {
        enqueue(message);
    }
}

void MemoryProvider::abandon_orchestration_item(const OrchestrationItem& item, int64_t delay_ms,
                                                bool ignore_attempt) {
    Locked lock = std::move(lock_of(item));
    locked_.erase(item.instance);
    ++abandons;
    for (auto& message : lock.messages) {
        message.visible_at = now_ms + static_cast<uint64_t>(std::max<int64_t>(delay_ms, 0));
        if (ignore_attempt && message.attempts > 0) {
            --message.attempts;
        }
        orchestrator_queue_.push_back(std::move(message));
    }
}

std::size_t
MemoryProvider::renew_orchestration_item_locks(std::span<const OrchestrationItem> items) {
    return static_cast<std::size_t>(std::count_if(items.begin(), items.end(), [&](const auto& i) {
        auto it = locked_.find(i.instance);
        return it != locked_.end() && it->second.lock_token == i.lock_token;
    }));
}

MemoryProvider::State MemoryProvider::save() const {
    return {instances, orchestrator_queue_, worker_queue_,
            locked_,   next_sequence_,      next_activity_id_};
}

void MemoryProvider::restore(State state) {
    instances = std::move(state.instances);
    orchestrator_queue_ = std::move(state.orchestrator_queue);
    worker_queue_ = std::move(state.worker_queue);
    locked_ = std::move(state.locked);
    next_sequence_ = state.next_sequence;
    next_activity_id_ = state.next_activity_id;
}

void MemoryProvider::in_one_commit(const std::function<void()>& writes) {
    State saved = save();
    try {
        writes();
    } catch (...) {
        restore(std::move(saved));
        throw;
    }
    ++commits;
}

std::optional<ActivityItem> MemoryProvider::fetch_work_item(const core::TagFilter& tags) {
    auto it = std::find_if(worker_queue_.begin(), worker_queue_.end(), [&](const auto& queued) {
        return !queued.lock_token && queued.visible_at <= now_ms && tags.admits(queued.item.tag);
    });
    if (it == worker_queue_.end()) {
        return std::nullopt;
    }
    // Taken to the back: the queue stays in the order activities became available.
    QueuedActivity queued = std::move(*it);
    worker_queue_.erase(it);
    queued.lock_token = "lease-" + std::to_string(++next_lock_);
    ++queued.attempts;
    ActivityItem item{queued.id, *queued.lock_token, queued.attempts, queued.item};
    worker_queue_.push_back(std::move(queued));
    return item;
}

void MemoryProvider::ack_work_item(const ActivityItem& item, const core::WorkItem& completion) {
    auto it = std::find_if(worker_queue_.begin(), worker_queue_.end(), [&](const auto& queued) {
        return queued.id == item.id && queued.lock_token == item.lock_token;
    });
    if (it == worker_queue_.end()) {
        throw LeaseLost("activity " + std::to_string(item.id) + " is no longer leased");
    }
    worker_queue_.erase(it);
    enqueue(completion);
}

bool MemoryProvider::abandon_work_item(const ActivityItem& item, int64_t delay_ms,
                                       bool ignore_attempt) {
    auto it = std::find_if(worker_queue_.begin(), worker_queue_.end(), [&](const auto& queued) {
        return queued.id == item.id && queued.lock_token == item.lock_token;
    });
    if (it == worker_queue_.end()) {
        return false;
    }
    it->lock_token.reset();
    it->visible_at = now_ms + static_cast<uint64_t>(std::max<int64_t>(delay_ms, 0));
    if (ignore_attempt && it->attempts > 0) {
        --it->attempts;
    }
    return true;
}

void MemoryProvider::complete_and_ack_work_item(const ActivityItem& item,
                                                const std::function<core::WorkItem()>& complete) {
    State saved = save();
    try {
        ack_work_item(item, complete());
    } catch (...) {
        restore(std::move(saved));
        throw;
    }
}

} // namespace duroxide::testing
