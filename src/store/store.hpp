// The durable store: every statement against duroxide.* tables. Each operation runs in the
// caller's transaction (a worker's pg::WorkerTransaction, or a SQL function's), which owns the
// commit. Fetches take leases (an unguessable token, locked_until, and the fetching worker's
// lease owner id) and are committed on their own; acks validate the token in the transaction
// that records the outcome, so a stale or stolen lease never acks. A lease is free when it
// expires or its owner process is gone: a dead worker's work is fetchable at once.
#pragma once

#include "core/model/event.hpp"
#include "core/model/work_item.hpp"
#include "core/replay/turn.hpp"
#include "core/routing/tag_filter.hpp"
#include "pg/spi.hpp"
#include "store/statements.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace duroxide::store {

struct OrchestrationBatch {
    std::string instance;
    std::string lock_token;
    uint32_t attempt_count = 0; // the highest over the batch's messages, this fetch included
    std::vector<core::WorkItem> messages;
    // The ids (a bigint[] literal) of the messages an earlier holder of the instance lock
    // claimed and never released (it crashed or its lease ran out): their attempt is counted
    // when this fetch takes the lock over. nullopt when the lock was free (released) or new.
    std::optional<std::string> unfinished_claim;
    bool instance_exists = false;
    std::optional<Oid> owner_role; // the instance's owner role, or its starter's
    uint64_t execution_id = 1;     // current execution
    // The current execution's status; nullopt when there is none yet.
    std::optional<core::ExecutionStatus> execution_status;
    std::vector<core::Event> history; // of the current execution
    // A history row that does not decode: the history is left empty, the lock held and the
    // attempt counted, so the dispatcher can back off and end the instance as poison
    // (FailedDeserialization) instead of failing the fetch of the whole batch.
    std::optional<std::string> history_error;
    // Not loaded because the dispatcher holds the execution resident and the store's last
    // event id is the one it knows (history_last_event_id).
    bool history_omitted = false;
    uint64_t history_last_event_id = 0;
    // The key-value store as earlier executions left it (kv_store); loaded with the history
    // only (a resident execution already holds the state of its execution).
    core::KvSnapshot kv_snapshot;
};

// For an instance and execution the dispatcher holds resident: the last event id it has seen.
using ResidentLookup =
    std::function<std::optional<uint64_t>(const std::string& instance, uint64_t execution_id)>;

// The owner of a fetched activity's instance, read by the fetch itself (the owner never changes).
struct ActivityOwner {
    std::optional<Oid> role;              // nullopt: the instance is gone or records no owner
    std::optional<std::string> role_name; // its name (the oid when the role is gone)
};

struct FetchedActivity {
    int64_t id = 0;
    std::string lock_token;
    uint32_t attempt_count = 0;
    core::work::ActivityExecute item;
    // For a session activity: the session was already this process's (not newly claimed).
    bool session_continued = false;
    // Read with the fetch (Store::fetch_work_items); nullopt when it was not.
    std::optional<ActivityOwner> owner{};
};

struct PluginRole {
    Oid role = InvalidOid;
    bool registered_by_superuser = false;
};

struct ActivityAccess {
    std::optional<Oid> owner;              // the instance's owner role
    std::optional<std::string> owner_name; // its name (the oid when the role is gone)
    bool may_call = true;
};

// How an activity worker takes part in sessions.
struct SessionOwner {
    std::string owner_id;    // stable: node id, database, worker index
    int64_t lease_owner = 0; // this process (liveness)
    int lock_timeout_ms = 30000;
    int max_sessions = 10;        // sessions it may own; at the limit it claims no new one
    int idle_timeout_ms = 300000; // validated: sessions idle longer are no longer renewed
};

// A session's identity: sessions belong to their instance.
struct SessionKey {
    std::string instance, session;
    bool operator==(const SessionKey&) const = default;
};

// A fetch of several activities (Store::fetch_work_items), in (visible_at, id) order.
struct WorkBatchFetch {
    std::vector<FetchedActivity> activities;
    // Some item's session was claimed by another worker between the fetch's read and its
    // claim, or this worker reached max_sessions within the batch: those items were given
    // back (attempt not counted).
    bool lost_session_race = false;
};

struct WorkFetch {
    std::optional<FetchedActivity> activity;
    // The item's session was claimed by another worker between the fetch's read and its
    // claim: the item was given back (attempt not counted); fetch again.
    bool lost_session_race = false;
};

// A lease that is no longer ours: expired (and perhaps taken over), or its row deleted
// (the activity was cancelled).
struct LeaseLost : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The instance's row is locked by another transaction (an operator's SELECT ... FOR UPDATE,
// say): the ack did not wait for it. The caller's transaction must roll back; the turn is
// given back without counting an attempt, so that the other instances of the batch go on.
struct InstanceRowBusy : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Queue { Orchestrator, Worker };

// A PostgreSQL text[] literal of `values` (for $n::text[] parameters).
std::string text_array(const std::vector<std::string>& values);
// Parameter types of a statement whose only parameter is such an array (store.cpp and
// kv_store.cpp both compare a column with one row by row).
inline constexpr Oid kOneTextArray[] = {TEXTARRAYOID};

// duroxide.executions.status's text of `status` ("Running", "ContinuedAsNew", ...).
const char* execution_status_name(core::ExecutionStatus status);

class Store {
public:
    explicit Store(pg::SpiConnection& spi) : spi_(spi) {}

    // Client path: enqueue for an instance's orchestrator queue. Never creates instance rows.
    // `started_by` (a role) becomes the owner of the instance a StartOrchestration creates.
    void enqueue_orchestrator(const core::WorkItem& item,
                              std::optional<Oid> started_by = std::nullopt);
    // Enqueues several messages with one statement (timers visible at their fire time).
    void enqueue_orchestrator_items(std::span<const core::WorkItem> items,
                                    std::optional<Oid> started_by);

    // The owner role of an instance; nullopt when it does not exist or has none.
    std::optional<Oid> instance_owner(const std::string& instance);

    // Locks up to `max_items` instances, those of the oldest visible messages whose instance
    // is not locked, claims their visible messages (their ids, in the lock row: the messages
    // themselves are not written; attempt_count + 1 is this fetch's attempt) and reads their
    // current executions' histories. Empty when there is nothing to do.
    // The history of an execution in `resident` is not read when its last event id is the one
    // the dispatcher knows (history_omitted).
    std::vector<OrchestrationBatch> fetch_orchestration_items(int64_t owner, int lock_timeout_ms,
                                                              int max_items,
                                                              const ResidentLookup& resident);

    // An activity worker's inline turn (runtime/activity/inline_turns.cpp, store/inline_provider):
    // locks `instance`, in the caller's transaction, for a turn recorded before that transaction
    // commits, and reads it as fetch_orchestration_items does. Never waits for another worker:
    // nullopt when another holds the instance (its lock row, or the advisory lock the inline
    // lockers take without waiting), when it does not exist, when its current execution was
    // started by a newer duroxide, or when that execution's history has more than `max_history`
    // events (a long history is the dispatcher's, which may hold it resident). A lock row another
    // transaction is still writing is waited for as the caller's lock_timeout allows.
    std::optional<OrchestrationBatch> lock_for_inline_turn(const std::string& instance,
                                                           int64_t owner, int lock_timeout_ms,
                                                           uint64_t max_history,
                                                           const ResidentLookup& resident);

    // The first turns of new instances in the transaction that enqueued their starts
    // (store/first_turn_claims.cpp): locks those of `instances` that have no instance row and
    // no other holder as a fetch does, with one statement, and claims and reads them
    // (load_batches). The caller runs it in a subtransaction and rolls that back when it does
    // not get them all (their starts stay queued).
    std::vector<OrchestrationBatch> lock_new_instances(const std::vector<std::string>& instances,
                                                       int64_t owner, int lock_timeout_ms);

    // Records a turn (throws LeaseLost if the instance lock expired or is another's, and
    // InstanceRowBusy rather than wait when another transaction holds the instance's row):
    // deletes the batch's messages, creates/updates instance and execution, appends history,
    // sets status and custom status, enqueues worker items before deleting cancelled
    // activities, enqueues orchestrator items (timers visible at their time), releases the lock.
    void ack_orchestration_item(const OrchestrationBatch& batch, uint64_t execution_id,
                                const core::TurnResult& turn);

    // Releases the lock; the batch's messages become visible after `delay_ms` with this
    // fetch's attempt counted, unless `ignore_attempt`.
    void abandon_orchestration_item(const OrchestrationBatch& batch, int64_t delay_ms,
                                    bool ignore_attempt);

    // Extends the instance lock to now + `lock_timeout_ms`; false when it expired or is not
    // this batch's any more.
    bool renew_orchestration_item_lock(const OrchestrationBatch& batch, int lock_timeout_ms);

    // Leases the oldest visible, unleased activity (attempt_count + 1) that this worker may
    // run, in (visible_at, id) order with the time taken once, so that delayed activities
    // bound the index scan instead of being read on every fetch; undelayed ones are FIFO.
    // run: no session, a session it owns, or a claimable one (unowned, expired, or its owner
    // gone) while it owns fewer than max_sessions; the session is claimed with it.
    // Only activities whose tag `tags` admits are taken (none for TagFilter::Mode::None).
    WorkFetch fetch_work_item(int lock_timeout_ms, const SessionOwner& sessions,
                              const core::TagFilter& tags = {});
    // The same for up to `max_items` activities in one statement (worker_fetch.cpp), each with
    // its instance's owner: the rules of fetch_work_item hold for each, and the sessions it
    // claims count against max_sessions one by one (an item whose session would exceed it, or
    // went to another worker first, is given back without counting an attempt).
    WorkBatchFetch fetch_work_items(int lock_timeout_ms, const SessionOwner& sessions,
                                    const core::TagFilter& tags, int max_items);
    // Deletes the activity and enqueues its completion; throws LeaseLost when the lease
    // expired or the activity was cancelled (the caller's transaction must then roll back).
    // `deleted`: delete_work_items already deleted its row in this transaction.
    void ack_work_item(const FetchedActivity& activity, const core::WorkItem& completion,
                       const SessionOwner& sessions, bool deleted = false);
    // The deletes of several acks in one statement; throws LeaseLost (naming the first lost
    // one) unless every lease is still valid (the caller's transaction must then roll back).
    void delete_work_items(std::span<const FetchedActivity> activities);
    // Releases the leases of fetched activities that were not started (attempt not counted,
    // places in the queue kept), in one statement; returns how many were still ours.
    uint64_t release_work_items(std::span<const FetchedActivity> activities);
    // Extends the lease if it is still valid; false when it expired (even if nobody took it
    // over), was taken over or the activity was cancelled.
    bool renew_work_item_lock(const FetchedActivity& activity, int lock_timeout_ms);
    // Releases the lease; the activity becomes visible after `delay_ms` (without a delay it
    // keeps its visible_at, hence its place in the queue). False when the lease was no longer
    // ours (nothing changed).
    bool abandon_work_item(const FetchedActivity& activity, int64_t delay_ms, bool ignore_attempt);

    // Renews the leases of this process's sessions that saw activity within `idle_timeout_ms`
    // (idle ones run out) and returns the sessions it still owns.
    std::vector<SessionKey> renew_sessions(const SessionOwner& sessions, int idle_timeout_ms);
    // A graceful stop: releases every session of this process at once (others may claim them
    // now); returns how many.
    uint64_t release_owner_sessions(const SessionOwner& sessions);
    // Deletes sessions whose lease ran out or whose owner is gone and that have no queued
    // activity; returns how many.
    uint64_t cleanup_orphaned_sessions();
    // The session of a running activity (`activity` must have one) is in use: marks it active
    // and extends its lease to now + the session lock timeout, or to the end of the activity's
    // lease when `to_activity_lease_end` and that is later. Only while `sessions` still holds
    // it: false when the session was closed, released or taken over (the activity has lost
    // its session and is to be cancelled).
    bool keep_activity_session(const FetchedActivity& activity, const SessionOwner& sessions,
                               bool to_activity_lease_end);

    // ctx.sql() of plugin activities (runtime/activity/activity_execution.cpp).
    // Whether the lease is still ours and unexpired; reads only, so that a worker whose
    // transaction holds an activity's statements neither blocks a cancellation nor commits.
    bool holds_work_item_lease(const FetchedActivity& activity);
    // The role that registered the plugin providing activity `name`, and whether it was a
    // superuser then; nullopt when no registered plugin provides it.
    std::optional<PluginRole> activity_plugin_role(const std::string& name);
    // Whether the owner of `instance` may call activity `name` (duroxide._may_call_activity:
    // the registration's allow-list), and that owner. Fails closed: an instance without a
    // recorded owner (gone, or from before owners were recorded) may call an activity only
    // while its registrant exists and has duroxide_admin's privileges; an activity without a
    // registration row may not be called (system activities are not checked).
    // `owner`: the owner as the fetch read it (then only the cached answer may be missing).
    ActivityAccess activity_access(const std::string& name, const std::string& instance,
                                   const std::optional<ActivityOwner>& owner = std::nullopt);

    // Milliseconds until the earliest future message of `queue` becomes visible.
    std::optional<int64_t> ms_until_next_visible(Queue queue);

    // --- durable key-value store (kv_store.cpp)
    // The live value of a key: this execution's kv_delta over kv_store; nullopt when absent
    // or cleared.
    std::optional<std::string> kv_value(const std::string& instance, const std::string& key);

private:
    // Claims the visible messages of the locked `batches` and reads their current executions,
    // histories and key-value snapshots (the fetch after its locks).
    void load_batches(std::vector<OrchestrationBatch>& batches, const ResidentLookup& resident);
    // Fills kv_snapshot of the batches whose history was loaded.
    void load_kv_snapshots(std::vector<OrchestrationBatch>& batches);
    // Writes the turn's KV events into kv_delta (NULL value = tombstone; KeyValuesCleared
    // tombstones every key) and, when the execution ended, merges kv_delta into kv_store.
    void record_kv_changes(const std::string& instance, const core::TurnResult& turn);
    // Explicit sessions (sessions.cpp): records the sessions the turn opened; for those it
    // closed, deletes their queued activities (including running ones: lock stealing) and
    // their session lease; when the execution completed or failed, closes and unpins every
    // session of the instance. Continue-as-new keeps them.
    void record_session_changes(const std::string& instance, uint64_t execution_id,
                                const core::TurnResult& turn);

    Statements spi_; // the store's statement set on the caller's connection
};

} // namespace duroxide::store
