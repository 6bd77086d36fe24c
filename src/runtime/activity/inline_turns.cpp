#include "runtime/activity/inline_turns.hpp"

#include "pg/guard.hpp"
#include "pg/local_setting.hpp"
#include "pg/transaction.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/process/worker.hpp"
#include "runtime/services/metrics.hpp"
#include "store/inline_provider.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>

extern "C" {
#include "miscadmin.h"
}

namespace duroxide::runtime {

namespace {

// How long an inline turn's statements may wait for a row lock: a dispatcher inserting the same
// lock row at that moment. The worker never waits longer (the dispatcher runs the turn then),
// so it can hold up a dispatcher briefly but never deadlock with one.
constexpr const char* kInlineLockTimeout = "1ms";

// Turns one commit runs inline at most: each is a subtransaction, and a transaction with more
// than 64 subtransactions makes every snapshot in the server slower (subxid cache overflow).
constexpr std::size_t kMaxInlinePerCommit = 16;

// Anything that is not an ordinary turn for the dispatcher's fetch to miss.
struct NotInlined {};

uint64_t completion_source_id(const core::WorkItem& completion) {
    if (auto* done = std::get_if<core::work::ActivityCompleted>(&completion.kind)) {
        return done->id;
    }
    if (auto* failed = std::get_if<core::work::ActivityFailed>(&completion.kind)) {
        return failed->id;
    }
    return 0;
}

// An ordinary turn: recorded by an ack, with nothing for the dispatcher's give-back rules.
bool ordinary(const core::dispatch::DecidedTurn& turn) {
    return !turn.abandon_after_ms && !turn.result.needs_full_history &&
           !turn.result.handler_missing && turn.counted();
}

void log_left(const std::string& instance, const char* why) {
    const std::string message =
        "duroxide: the turn of \"" + instance + "\" is left to a dispatcher: " + why;
    pg::call([&message] { ereport(DEBUG1, (errmsg_internal("%s", message.c_str()))); });
}

// auto: the turns of one commit go to the dispatchers, and why (DEBUG1).
void log_declined(const char* why) {
    const std::string message =
        std::string("duroxide: inline_turns = auto leaves this commit's turns to a dispatcher: ") +
        why;
    pg::call([&message] { ereport(DEBUG1, (errmsg_internal("%s", message.c_str()))); });
}

} // namespace

void crash_point(const char* point) {
    if (settings.debug_crash_point == nullptr ||
        std::strcmp(settings.debug_crash_point, point) != 0) {
        return;
    }
    const std::string message = std::string("duroxide: crash point ") + point + " reached";
    pg::call([&message] {
        ereport(LOG, (errmsg_internal("%s", message.c_str())));
        (void)kill(MyProcPid, SIGKILL);
    });
}

void InlineTurns::completed(const core::WorkItem& completion, uint32_t attempt) {
    if (settings.inline_turns == kInlineTurnsOff) {
        wake_at_commit(kWakeDispatchers);
        return;
    }
    const std::string& instance = completion.target_instance();
    // A retried activity may have died in an inline turn: its turn goes to a dispatcher, whose
    // attempt counting ends a turn that always kills its process as poison. An activity
    // scheduled late in a long history is the dispatcher's too (the lock checks the length).
    const bool eligible =
        attempt == 1 && completion_source_id(completion) <=
                            static_cast<uint64_t>(std::max(settings.inline_turn_max_history, 0));
    auto found = std::find_if(pending_.begin(), pending_.end(),
                              [&instance](const Pending& p) { return p.instance == instance; });
    if (found == pending_.end()) {
        pending_.push_back({.instance = instance, .eligible = eligible});
    } else {
        found->eligible = found->eligible && eligible;
    }
}

bool InlineTurns::run_one(store::Store& store, const std::string& instance,
                          const core::dispatch::DispatchSettings& dispatch) {
    const auto started = std::chrono::steady_clock::now();
    std::optional<Recorded> recorded;
    bool decided = false; // a turn ran: a resident execution may have moved on
    try {
        pg::in_subtransaction([&] {
            pg::with_setting("lock_timeout", kInlineLockTimeout, [&] {
                store::InlineOrchestrationProvider provider(
                    store, instance,
                    {.owner = my_lease_owner(),
                     .lock_timeout_ms = settings.orchestration_lock_timeout_ms,
                     .max_history =
                         static_cast<uint64_t>(std::max(settings.inline_turn_max_history, 0))});
                core::ResidentCache& cache = cache_;
                core::provider::OrchestrationFetch fetch = provider.fetch_orchestration_items(
                    1, [&cache](const std::string& id, uint64_t execution_id) {
                        const core::ResidentSlot* slot = cache.find(id);
                        return slot != nullptr && slot->execution_id == execution_id
                                   ? std::optional<uint64_t>(slot->last_event_id)
                                   : std::nullopt;
                    });
                if (fetch.items.empty()) {
                    throw NotInlined{}; // held by another, or too long
                }
                recorded.emplace(
                    Recorded{.item = std::move(fetch.items.front()), .turn = {}, .duration_us = 0});
                const core::provider::OrchestrationItem& item = recorded->item;
                // A message fetched before (its turn failed or its fetcher died) keeps the
                // dispatcher's attempt counting and poison rules.
                if (item.attempt_count != 1 || item.attempt_count > dispatch.max_attempts ||
                    item.history_error) {
                    throw NotInlined{};
                }
                crash_point("inline_locked");
                decided = true;
                recorded->turn =
                    core::dispatch::decide({.provider = provider,
                                            .orchestrations = handlers_.orchestrations(),
                                            .stacks = stacks_,
                                            .cache = cache_,
                                            .settings = dispatch,
                                            .observer = observer_,
                                            .now_ms = wall_clock_ms},
                                           item);
                if (!ordinary(recorded->turn)) {
                    throw NotInlined{};
                }
                crash_point("inline_decided");
                provider.ack_orchestration_item(item, recorded->turn.input.execution_id,
                                                recorded->turn.result);
            });
        });
    } catch (const NotInlined&) {
        if (decided) {
            cache_.drop(instance); // its resident execution moved on; the store did not
        }
        return false;
    } catch (const std::exception& e) {
        // Locked meanwhile (lock_timeout), the instance's row busy, a write that failed: the
        // subtransaction rolled back, and a dispatcher runs the turn as it would have.
        if (decided) {
            cache_.drop(instance);
        }
        log_left(instance, e.what());
        return false;
    }
    const core::TurnResult& result = recorded->turn.result;
    wake_for_turn(instance, result);
    keep_one_activity(result);
    if (!result.orchestrator_items.empty()) {
        wake_at_commit(kWakeDispatchers); // timers, children, a parent: the dispatchers' work
    }
    recorded->duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    recorded_.push_back(std::move(*recorded));
    recorded_.back().turn.item = &recorded_.back().item;
    return true;
}

bool InlineTurns::worth_it() const {
    if (settings.inline_turns != kInlineTurnsAuto) {
        return true;
    }
    if (backlogged_) {
        log_declined("its activity worker has more work waiting");
        return false;
    }
    if (a_dispatcher_is_busy()) {
        log_declined("a dispatcher is running");
        return false;
    }
    return true;
}

// auto: this worker fetches again as soon as it commits (it recorded work), and it holds the
// instance's execution resident: one activity the turn scheduled that this worker may run
// (untagged for its filter, outside any session) wakes no idle worker, so that this worker
// most likely runs it and resumes the execution for its turn instead of another replaying it.
// Once per commit: the others' activities still wake idle workers, for parallelism.
void InlineTurns::keep_one_activity(const core::TurnResult& result) {
    if (settings.inline_turns != kInlineTurnsAuto || kept_ || !tags_) {
        return;
    }
    for (const core::WorkItem& item : result.worker_items) {
        const auto* execute = std::get_if<core::work::ActivityExecute>(&item.kind);
        if (execute != nullptr && !execute->session_id && tags_->admits(execute->tag)) {
            keep_activity_for_this_worker_at_commit();
            kept_ = true;
            return;
        }
    }
}

void InlineTurns::run(pg::SpiConnection& spi, store::Store& store) {
    if (pending_.empty()) {
        return;
    }
    if (!worth_it()) {
        pending_.clear();
        wake_at_commit(kWakeDispatchers);
        return;
    }
    // The transaction may be old (an activity's ctx.sql() one, a batch that ran SQL activities):
    // read what has committed since, a plugin reload included, as a dispatcher's fetch would.
    const pg::FreshSnapshot fresh;
    if (handlers_.refresh(spi)) {
        cache_.clear(); // new plugin code: replay from history
    }
    const core::dispatch::DispatchSettings dispatch = dispatch_settings();
    cache_.set_limits(dispatch.resident_cache_size, dispatch.resident_cache_bytes);
    const std::size_t evictions_before = cache_.evictions();
    bool left_to_dispatchers = false;
    std::size_t tried = 0;
    for (const Pending& pending : pending_) {
        if (!pending.eligible || tried >= kMaxInlinePerCommit) {
            left_to_dispatchers = true;
            continue;
        }
        ++tried;
        if (!run_one(store, pending.instance, dispatch)) {
            left_to_dispatchers = true;
        }
    }
    pending_.clear();
    cache_.trim();
    observer_.resident_evictions(cache_.evictions() - evictions_before);
    if (left_to_dispatchers) {
        wake_at_commit(kWakeDispatchers);
    }
    if (!recorded_.empty()) {
        crash_point("inline_before_commit");
    }
}

void InlineTurns::finished(bool committed) {
    pending_.clear();
    kept_ = false;
    for (const Recorded& recorded : recorded_) {
        if (committed) {
            observer_.turn_recorded(recorded.turn);
            metrics::add(metrics::Counter::InlineTurns);
            metrics::observe(metrics::Histogram::TurnDuration, recorded.duration_us);
        } else {
            cache_.drop(recorded.item.instance); // its execution moved on; the store did not
        }
    }
    recorded_.clear();
}

} // namespace duroxide::runtime
