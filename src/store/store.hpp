// The durable store: every statement against duroxide.* tables. Every operation runs in the
// caller's transaction (a worker's pg::WorkerTransaction, or a SQL function's), which owns the
// commit. Claims hold row locks (FOR UPDATE SKIP LOCKED) and, for orchestrations, a
// transaction-scoped advisory lock on the instance: a turn's fetch, replay and ack commit as
// one transaction, and a worker that dies mid-turn releases everything at once because its
// transaction aborts.
#pragma once

#include "core/model/event.hpp"
#include "core/model/work_item.hpp"
#include "core/replay/turn.hpp"
#include "pg/spi.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace duroxide::store {

struct OrchestrationBatch {
    std::string instance;
    std::vector<int64_t> message_ids;
    std::vector<core::WorkItem> messages;
    bool instance_exists = false;
    uint64_t execution_id = 1;        // current execution
    std::string execution_status;     // "Running", "Completed", ... ("" when none yet)
    std::vector<core::Event> history; // of the current execution
};

struct ClaimedActivity {
    int64_t id = 0;
    core::work::ActivityExecute item;
};

class Store {
public:
    explicit Store(pg::SpiConnection& spi) : spi_(spi) {}

    // Client path: enqueue for an instance's orchestrator queue. Never creates instance rows.
    void enqueue_orchestrator(const core::WorkItem& item);

    // The oldest visible message's instance with all its visible messages, locked until the
    // caller's transaction ends; nullopt when there is nothing to do (or another dispatcher
    // holds that instance).
    std::optional<OrchestrationBatch> claim_orchestration_batch();

    // Records a turn: deletes the batch's messages, creates/updates instance and execution,
    // appends history, sets status and custom status, enqueues worker items before deleting
    // cancelled activities, and enqueues orchestrator items (timers visible at their time).
    void record_turn(const OrchestrationBatch& batch, uint64_t execution_id,
                     const core::TurnResult& turn);

    // Leaves the batch's messages queued but invisible for `delay_ms` (unregistered handler).
    void postpone_batch(const OrchestrationBatch& batch, uint64_t delay_ms);

    // The oldest visible activity, row-locked until the caller's transaction ends.
    std::optional<ClaimedActivity> claim_activity();
    // Leaves the activity queued but invisible for `delay_ms` (unregistered activity).
    void postpone_activity(const ClaimedActivity& activity, uint64_t delay_ms);
    // Deletes the activity and enqueues its completion, in the caller's transaction.
    void complete_activity(const ClaimedActivity& activity, const core::WorkItem& completion);

    // Milliseconds until the earliest future orchestrator message becomes visible.
    std::optional<int64_t> ms_until_next_visible();

private:
    pg::SpiConnection& spi_;
};

} // namespace duroxide::store
