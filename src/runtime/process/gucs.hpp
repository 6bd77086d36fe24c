// Configuration parameters (GUCs), all under the reserved "duroxide." prefix.
#pragma once

#include "core/routing/tag_filter.hpp"

namespace duroxide::runtime {

struct Settings {
    char* database = nullptr;          // database the launcher connects to
    int activity_workers = 2;          // activity workers per database
    int orchestration_dispatchers = 1; // orchestration dispatchers per database
    int poll_interval_ms = 1000;       // safety-net poll; wake-ups normally come from latches
    int max_attempts = 10;             // poison threshold (attempt_count > max_attempts)
    int orchestration_lock_timeout_ms = 30000; // instance lock lease of a fetched batch
    int worker_lock_timeout_ms = 300000;       // lease of a fetched activity
    int unregistered_backoff_ms = 1000;        // first retry delay of an unknown handler
    int dispatch_batch = 16;                   // instances a dispatcher takes per fetch
    int activity_batch = 8;                    // completions an activity worker records at once
    int activity_fetch_batch = 8;              // activities an activity worker leases per fetch
    int resident_cache_size = 1000;            // executions a dispatcher keeps between turns
    int resident_cache_memory_kb = 512 * 1024; // their estimated memory at most; 0: no bound
    int fiber_stack_kb = 256;                  // orchestration / activity fiber stack size
    int max_payload_kb = 3072;                 // largest input / output / event payload accepted
    char* plugin_directories = nullptr;   // directories besides $libdir that plugins may load from
    bool isolate_instances = true;        // users reach only instances their roles started
    char* worker_node_id = nullptr;       // prefix of the workers' stable session owner ids
    int session_lock_timeout_ms = 30000;  // session lease, renewed while the session is busy
    int session_idle_timeout_ms = 300000; // a session without activity this long is unpinned
    int session_cleanup_interval_ms = 300000; // how often orphaned session rows are removed
    int max_sessions_per_worker = 10;         // sessions one activity worker owns at most
    int max_open_sessions = 10; // explicit sessions one orchestration may have open at once
    int activity_cancellation_grace_period_ms = 10000; // a cancelled activity's time to return
    int activity_statement_timeout_ms = 240000; // an activity's statement at most; 0: no limit
    int retention_period_s = 0; // finished root instances older than this are deleted; 0: off
    char* worker_tag_filter = nullptr;  // which tagged activities the activity workers run
    char* worker_tag_filters = nullptr; // per-worker overrides: "<index>=<filter>;..."
    bool run_workers = true;            // off (per database): the workers leave it alone
    char* http_allowed_hosts = nullptr; // hosts workflow http steps may call; empty: none
    bool notify_completions = true;     // pg_notify when an execution completes or fails
    bool notify_custom_status = false;  // pg_notify when a custom status changes
    int inline_turns = 0; // InlineTurnsMode: activity workers run the next turn with a completion
    int inline_turn_max_history = 300; // longer histories' turns are the dispatchers'
    bool child_first_turn = false;     // a child's first turn runs in its parent's ack
    char* debug_crash_point = nullptr; // crash tests: a worker reaching this point dies
    char* debug_wait_point = nullptr;  // race tests: a worker reaching this point waits
};

// duroxide.inline_turns (docs/architecture.md, "Inline turns"): never, whenever the instance is
// free, or only when the turn would otherwise wake an idle dispatcher for it alone.
enum InlineTurnsMode : int { kInlineTurnsOff = 0, kInlineTurnsOn = 1, kInlineTurnsAuto = 2 };

extern Settings settings;

// Defines every GUC; called once from _PG_init.
void define_gucs();

// The tag filter of activity worker `worker_index`: its entry in duroxide.worker_tag_filters,
// else duroxide.worker_tag_filter (settings as of now; both were validated when set).
core::TagFilter worker_tag_filter(int worker_index);

} // namespace duroxide::runtime
