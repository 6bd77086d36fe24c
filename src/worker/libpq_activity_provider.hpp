// The remote worker's activity provider: the core's ActivityProvider contract
// (core/provider/provider.hpp) over libpq and the server's remote-worker SQL functions
// (sql/objects/84_remote_workers.sql), one connection per worker slot. The in-server worker
// implements the same contract over SPI (store/pg_activity_provider); the dispatch rules
// (poison, unregistered backoff) come from core/dispatch in both.
//
// Transactions: a claim, an abandon and an ack outside a transaction commit on their own; an
// activity whose ctx.sql() ran opens one (begin()) that its completion's ack joins, so that its
// statements commit with the completion or not at all.
#pragma once

#include "core/provider/provider.hpp"
#include "worker/connection.hpp"

#include <deque>
#include <string>
#include <vector>

namespace duroxide::worker {

// What the server tells a slot when it attaches (duroxide.worker_attach).
struct ServerSettings {
    std::string owner_id; // the session owner id: ctx.worker_id()
    uint32_t max_attempts = 10;
    int unregistered_backoff_ms = 1000;
    int grace_ms = 10000;
    std::size_t max_output_bytes = 0;
};

struct ClaimSettings {
    int lock_timeout_ms = 30000;
    int batch = 1;
    int max_sessions = 10;
};

class LibpqActivityProvider final : public core::provider::ActivityProvider {
public:
    LibpqActivityProvider(Connection& connection, ClaimSettings settings)
        : connection_(connection), settings_(settings) {}

    // Claims up to `batch` activities at once and hands them out one by one (a held one whose
    // lease was lost meanwhile is skipped).
    std::optional<core::provider::ActivityItem>
    fetch_work_item(const core::TagFilter& tags) override;
    // Throws LeaseLost (the server raised: no longer held) with nothing written.
    void ack_work_item(const core::provider::ActivityItem& item,
                       const core::WorkItem& completion) override;
    bool abandon_work_item(const core::provider::ActivityItem& item, int64_t delay_ms,
                           bool ignore_attempt) override;
    void complete_and_ack_work_item(const core::provider::ActivityItem& item,
                                    const std::function<core::WorkItem()>& complete) override;
    void in_one_commit(const std::function<void()>& acks) override;

    // Remote-specific:
    // Attaches the connection as worker `worker_id` (its leases end with the connection),
    // names it in pg_stat_activity and listens for the server's wake-ups.
    ServerSettings attach(const std::string& worker_id);
    // A graceful stop: releases the worker's sessions and its attachment (errors ignored: the
    // connection's end does the same).
    void detach();
    // Extends the lease (and its session's; to the lease's end with `hold_session`).
    bool renew(const core::provider::ActivityItem& item, bool hold_session);
    // Whether the lease is still held (reads only: usable inside the activity's transaction).
    bool holds(const core::provider::ActivityItem& item);
    // Renews this slot's sessions; returns the (instance, session) pairs it owns.
    std::vector<std::pair<std::string, std::string>> renew_sessions();
    // The activity's own transaction (ctx.sql()).
    void begin();
    void commit();
    void roll_back();
    bool in_transaction() const { return in_transaction_; }
    Connection& connection() { return connection_; }
    // Gives back the claimed activities not handed out yet (a stopping slot).
    void give_back_held();

private:
    Connection& connection_;
    ClaimSettings settings_;
    std::deque<core::provider::ActivityItem> held_;
    bool in_transaction_ = false;
};

} // namespace duroxide::worker
