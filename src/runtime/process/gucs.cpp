#include "runtime/process/gucs.hpp"

#include <climits>
#include <cstdio>
#include <string>

#include "pg/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace duroxide::runtime {

Settings settings;

namespace {

// The highest activity worker index (duroxide.activity_workers is at most 64).
constexpr int kMaxWorkerIndex = 63;

// Check hooks: an invalid value is refused with the parser's message (an ERROR for SET and
// ALTER SYSTEM, a logged message keeping the old value on reload). The message is copied out
// before PostgreSQL is called, so no C++ object is alive if it reports an error.
char tag_filter_problem[512];

bool refuse_tag_filter() {
    GUC_check_errdetail("%s", tag_filter_problem);
    return false;
}

bool check_worker_tag_filter(char** value, void**, GucSource) {
    try {
        core::parse_tag_filter(*value != nullptr ? *value : "");
        return true;
    } catch (const std::exception& e) {
        snprintf(tag_filter_problem, sizeof(tag_filter_problem), "%s", e.what());
    }
    return refuse_tag_filter();
}

bool check_worker_tag_filters(char** value, void**, GucSource) {
    try {
        core::parse_worker_tag_filters(*value != nullptr ? *value : "", kMaxWorkerIndex);
        return true;
    } catch (const std::exception& e) {
        snprintf(tag_filter_problem, sizeof(tag_filter_problem), "%s", e.what());
    }
    return refuse_tag_filter();
}

} // namespace

core::TagFilter worker_tag_filter(int worker_index) {
    // Parsed again only when a setting changed (a reload).
    static std::string parsed_filter, parsed_filters;
    static core::TagFilter common;
    static std::map<int, core::TagFilter> per_worker;
    const std::string filter = settings.worker_tag_filter ? settings.worker_tag_filter : "";
    const std::string filters = settings.worker_tag_filters ? settings.worker_tag_filters : "";
    if (filter != parsed_filter || filters != parsed_filters) {
        common = core::parse_tag_filter(filter);
        per_worker = core::parse_worker_tag_filters(filters, kMaxWorkerIndex);
        parsed_filter = filter;
        parsed_filters = filters;
    }
    const auto own = per_worker.find(worker_index);
    return own != per_worker.end() ? own->second : common;
}

namespace {

// The processes: where the launcher connects, how many workers each database gets, how
// often idle workers look for missed work.
void define_process_gucs() {
    DefineCustomStringVariable(
        "duroxide.database", "Database the duroxide launcher connects to.",
        "The launcher reads the list of databases from here; workers run in every database "
        "that has the extension.",
        &settings.database, "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.activity_workers", "Number of activity worker processes per database.", nullptr,
        &settings.activity_workers, 2, 0, 64, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("duroxide.orchestration_dispatchers",
                            "Number of orchestration dispatcher processes per database.", nullptr,
                            &settings.orchestration_dispatchers, 1, 0, 16, PGC_POSTMASTER, 0,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.poll_interval", "Safety-net polling interval of idle workers.",
        "Workers are woken at commit by the transactions that enqueue work; this interval only "
        "bounds how long a missed wake-up can delay work.",
        &settings.poll_interval_ms, 1000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
        nullptr, nullptr);
}

// Leases and retries: poison, lock timeouts, statement timeouts, the unregistered backoff.
void define_lease_gucs() {
    DefineCustomIntVariable(
        "duroxide.max_attempts", "Fetch attempts after which a message is treated as poison.",
        nullptr, &settings.max_attempts, 10, 1, 1000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.orchestration_lock_timeout",
        "How long a dispatcher holds an instance's lock for one turn.",
        "A lock held longer is taken over by another dispatcher; a dead dispatcher's locks are "
        "free at once.",
        &settings.orchestration_lock_timeout_ms, 30000, 100, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS,
        nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.worker_lock_timeout", "How long an activity worker holds a fetched activity.",
        "Set it above your longest activity: an activity whose lease expires is run again, and "
        "the first run's completion (with the database writes of an SQL activity) is rolled "
        "back. A dead worker's leases are free at once, whatever this value.",
        &settings.worker_lock_timeout_ms, 300000, 100, 24 * 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS,
        nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.activity_statement_timeout",
        "Longest an SQL activity, or one ctx.sql() statement of a plugin activity, may run.",
        "An activity that runs longer is cancelled (SQLSTATE 57014) and its attempt fails; the "
        "activity's retry policy applies. An activity's own timeout, when registered, replaces "
        "it. Keep it below duroxide.worker_lock_timeout, so that the failure is recorded while "
        "the activity's lease holds. 0: no limit.",
        &settings.activity_statement_timeout_ms, 240000, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MS,
        nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.unregistered_backoff",
        "First retry delay of work whose orchestration or activity is not registered.",
        "Doubles on each attempt up to 60 s, so a rolling deployment can bring the handler; "
        "after duroxide.max_attempts the work fails as poison.",
        &settings.unregistered_backoff_ms, 1000, 1, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
        nullptr, nullptr);
}

// Batches and memory: what a worker takes at once, resident executions, fiber stacks,
// payload sizes.
void define_capacity_gucs() {
    DefineCustomIntVariable(
        "duroxide.dispatch_batch", "Instances a dispatcher fetches, runs and records at once.",
        "Their turns are recorded in one transaction, so one commit serves them all; 1 gives one "
        "transaction per turn.",
        &settings.dispatch_batch, 16, 1, 256, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.activity_batch",
        "Activity completions an activity worker records in one transaction.",
        "A worker runs activities one at a time and, while more are waiting, records up to this "
        "many together (one commit for all); 1 gives one transaction per activity.",
        &settings.activity_batch, 8, 1, 256, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.activity_fetch_batch",
        "Activities an activity worker leases with one fetch statement.",
        "Up to this many (and no more than duroxide.activity_batch) visible activities are "
        "leased at once and run one after the other; those not started within a short hold "
        "time, or when a plugin activity suspends, are given back to the queue. 1 leases one "
        "activity per fetch.",
        &settings.activity_fetch_batch, 8, 1, 64, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.resident_cache_size",
        "Waiting executions a dispatcher keeps in memory between turns.",
        "A resident execution's next turn resumes its suspended code instead of replaying its "
        "whole history; 0 replays every turn. Each one holds its history and a fiber stack.",
        &settings.resident_cache_size, 1000, 0, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.resident_cache_memory",
        "Memory the resident executions of a dispatcher may take, estimated.",
        "Each resident execution counts its fiber stack and its history (encoded size); past "
        "this the least recently used are evicted (their next turn replays). 0: only "
        "duroxide.resident_cache_size bounds them.",
        &settings.resident_cache_memory_kb, 512 * 1024, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_KB,
        nullptr, nullptr, nullptr);
    DefineCustomIntVariable("duroxide.fiber_stack_size",
                            "Stack size of each orchestration and activity fiber.", nullptr,
                            &settings.fiber_stack_kb, 256, 64, 16 * 1024, PGC_SIGHUP, GUC_UNIT_KB,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("duroxide.max_payload_size",
                            "Largest orchestration input, event payload or output accepted.",
                            "Larger values are refused at the SQL boundary before anything is "
                            "written.",
                            &settings.max_payload_kb, 3072, 1, 1024 * 1024, PGC_SUSET, GUC_UNIT_KB,
                            nullptr, nullptr, nullptr);
}

// What the server trusts: plugin directories and the hosts http steps may call (superuser
// only).
void define_trust_gucs() {
    DefineCustomStringVariable(
        "duroxide.plugin_directories",
        "Absolute directories, besides $libdir, from which plugins may be loaded.",
        "Comma-separated. Loading a plugin runs its code in the server: list only directories "
        "that only trusted administrators can write to.",
        &settings.plugin_directories, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr,
        nullptr);
    DefineCustomStringVariable(
        "duroxide.http_allowed_hosts", "Hosts that workflow http steps may call.",
        "Comma-separated host names or host:port. Empty (the default) refuses every http step; "
        "a request to any other host is refused before it connects, and redirects are not "
        "followed.",
        &settings.http_allowed_hosts, "", PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
}

// Sessions: owner ids, leases, idle and cleanup intervals, limits.
void define_session_gucs() {
    DefineCustomStringVariable(
        "duroxide.worker_node_id", "Prefix of the activity workers' session owner ids.",
        "An activity worker's owner id is <node id>/<database oid>/<worker index>: stable across "
        "restarts, so a worker restarted in its slot keeps its sessions. Empty means 'local'.",
        &settings.worker_node_id, "", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.session_lock_timeout", "Lease of a session on its activity worker.",
        "Renewed by the owner while the session is in use (every timeout - 5 s, or half the "
        "timeout below 15 s); a dead worker's sessions are free at once, whatever this value.",
        &settings.session_lock_timeout_ms, 30000, 1000, 24 * 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS,
        nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.session_idle_timeout", "How long a session stays pinned without activity.",
        "After this long without a fetch or completion of its activities a session is no longer "
        "renewed; its lease runs out and its next activity may go to any worker. Must be longer "
        "than the renewal period of activity leases (from duroxide.worker_lock_timeout).",
        &settings.session_idle_timeout_ms, 300000, 1000, 7 * 24 * 3600 * 1000, PGC_SIGHUP,
        GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.session_cleanup_interval", "How often orphaned session rows are removed.",
        "Sessions whose lease ran out (or whose owner is gone) and that have no queued "
        "activities are deleted by activity worker 0 at this interval.",
        &settings.session_cleanup_interval_ms, 300000, 1000, 7 * 24 * 3600 * 1000, PGC_SIGHUP,
        GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.max_sessions_per_worker", "Sessions one activity worker owns at most.",
        "At the limit the worker takes only activities without a session or of its own sessions.",
        &settings.max_sessions_per_worker, 10, 1, 10000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.max_open_sessions", "Explicit sessions one orchestration may have open at once.",
        "Opening one more (OrchestrationContext::open_session) fails the orchestration.",
        &settings.max_open_sessions, 10, 1, 10000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
}

// What is served and to whom: retention, instance isolation, tag filters, whether a database
// is served, the cancellation grace period.
void define_serving_gucs() {
    DefineCustomIntVariable(
        "duroxide.retention_period", "How long finished instances are kept; 0 keeps them.",
        "When set, dispatcher 0 deletes root instances (with their sub-orchestrations) that "
        "completed or failed longer ago, 100 at a time, when it has no turns to run.",
        &settings.retention_period_s, 0, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
        nullptr);
    DefineCustomBoolVariable(
        "duroxide.isolate_instances",
        "Whether users reach only the instances started by roles they belong to.",
        "When on, a caller sees, waits on, signals and cancels only instances owned by a role it "
        "has the privileges of; superusers and members of duroxide_admin reach all.",
        &settings.isolate_instances, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "duroxide.worker_tag_filter", "Which activities the activity workers run, by tag.",
        "default: untagged activities only; any: all; none: no activity; tags:<t>[,<t>...]: "
        "only those tags; default,<t>[,<t>...]: untagged ones and those tags. At most 5 tags. A "
        "tagged activity that no worker admits waits until one does.",
        &settings.worker_tag_filter, "default", PGC_SIGHUP, 0, check_worker_tag_filter, nullptr,
        nullptr);
    DefineCustomStringVariable(
        "duroxide.worker_tag_filters",
        "Per activity worker overrides of duroxide.worker_tag_filter.",
        "Entries <worker index>=<tag filter> separated by ';', e.g. '1=tags:gpu; 2=default,io'; "
        "workers not listed use duroxide.worker_tag_filter.",
        &settings.worker_tag_filters, "", PGC_SIGHUP, 0, check_worker_tag_filters, nullptr,
        nullptr);
    DefineCustomBoolVariable(
        "duroxide.run_workers", "Whether duroxide's workers serve this database.",
        "Set it off for one database with ALTER DATABASE ... SET duroxide.run_workers = off: "
        "its dispatchers and activity workers leave it when they start, and nothing runs its "
        "queues (the store validation suite drives them itself). Read when the workers start.",
        &settings.run_workers, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.activity_cancellation_grace_period",
        "How long a cancelled plugin activity may run on before it is unwound.",
        "A plugin activity learns of its cancellation (or of its lost lease) from "
        "ctx.is_cancelled() and should return; one still running this long after is unwound at "
        "its next suspension point (ctx.sql(), ctx.heartbeat(), ctx.is_cancelled()). Its result "
        "is dropped either way, and its ctx.sql() writes roll back.",
        &settings.activity_cancellation_grace_period_ms, 10000, 0, 3600 * 1000, PGC_SIGHUP,
        GUC_UNIT_MS, nullptr, nullptr, nullptr);
    // Read by the triggers of sql/objects/81_notifications.sql (current_setting in their WHEN).
    DefineCustomBoolVariable(
        "duroxide.notify_completions",
        "Whether a completed or failed instance is announced with pg_notify.",
        "When on, the transaction that records an execution's Completed or Failed status sends "
        "a notification on its owner's channel and the all-instances channel "
        "(duroxide.listen).",
        &settings.notify_completions, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "duroxide.notify_custom_status",
        "Whether a custom status change is announced with pg_notify.",
        "When on, the transaction that records a new custom status sends a notification on the "
        "instance owner's channel and the all-instances channel (duroxide.listen).",
        &settings.notify_custom_status, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

// duroxide.inline_turns: the boolean spellings of its earlier form stay accepted.
const config_enum_entry kInlineTurnsOptions[] = {
    {"off", kInlineTurnsOff, false},   {"on", kInlineTurnsOn, false},
    {"auto", kInlineTurnsAuto, false}, {"true", kInlineTurnsOn, true},
    {"false", kInlineTurnsOff, true},  {"yes", kInlineTurnsOn, true},
    {"no", kInlineTurnsOff, true},     {"1", kInlineTurnsOn, true},
    {"0", kInlineTurnsOff, true},      {nullptr, 0, false}};

// Where turns run: inline in activity workers (docs/architecture.md, "Inline turns"), and the
// developer's crash points of the crash tests.
void define_turn_gucs() {
    DefineCustomEnumVariable(
        "duroxide.inline_turns",
        "Whether an activity worker runs the next turn of an instance in the transaction that "
        "records its activity's completion (off, on, auto).",
        "on: whenever the instance is not locked by another worker, the completion and the turn "
        "it wakes commit together, without a dispatcher's fetch and commit. auto: only when the "
        "worker's queue was empty at its last fetch and no dispatcher of the database is busy "
        "(the turn would otherwise wake an idle dispatcher for it alone). off, or a locked "
        "instance, a long history, a retried activity: a dispatcher runs the turn.",
        &settings.inline_turns, kInlineTurnsOff, kInlineTurnsOptions, PGC_SIGHUP, 0, nullptr,
        nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.inline_turn_max_history",
        "Longest history (events) whose next turn an activity worker runs inline.",
        "Longer executions are left to the dispatchers, which keep them resident instead of "
        "replaying their whole history in each activity worker.",
        &settings.inline_turn_max_history, 300, 0, 1000000, PGC_SIGHUP, 0, nullptr, nullptr,
        nullptr);
    DefineCustomBoolVariable(
        "duroxide.child_first_turn",
        "Whether a dispatcher runs the first turn of the orchestrations a turn starts in the "
        "transaction that records that turn.",
        "When on, a sub-orchestration (or detached orchestration) started by a parent's turn "
        "runs its first turn in the parent's ack, without a start message, fetch and commit of "
        "its own; an id in use, a retried parent turn or any failure leaves the start message "
        "to a dispatcher.",
        &settings.child_first_turn, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "duroxide.debug_crash_point",
        "Developer option: a worker that reaches this named point kills itself (SIGKILL).",
        "For crash tests only: inline_locked, inline_decided, inline_before_commit, "
        "child_first_locked, child_first_decided. Empty: none.",
        &settings.debug_crash_point, "", PGC_SUSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "duroxide.debug_wait_point",
        "Developer option: a worker that reaches this named point waits there while a session "
        "holds the debug advisory lock.",
        "For race tests only: catalog_refresh (after the unit of work's snapshot, before the "
        "catalog generation is read). Empty: none.",
        &settings.debug_wait_point, "", PGC_SUSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
}

} // namespace

// Defined in this order (one function per topic); the prefix is reserved last.
void define_gucs() {
    define_process_gucs();
    define_lease_gucs();
    define_capacity_gucs();
    define_trust_gucs();
    define_session_gucs();
    define_serving_gucs();
    define_turn_gucs();
    MarkGUCPrefixReserved("duroxide");
}

} // namespace duroxide::runtime
