#include "runtime/orchestration/child_first_turns.hpp"

#include "pg/guard.hpp"
#include "pg/local_setting.hpp"
#include "pg/spi.hpp"
#include "runtime/activity/inline_turns.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/process/worker.hpp"
#include "runtime/services/metrics.hpp"
#include "store/first_turn_provider.hpp"

#include <algorithm>

namespace duroxide::runtime {

namespace {

// How long a first turn's statements may wait for a row lock (a worker writing a lock row for
// the same id): never longer, the start message is then left to a dispatcher.
constexpr const char* kFirstTurnLockTimeout = "1ms";

// Parents per commit whose children run here: each is a subtransaction, and a transaction with
// more than 64 subtransactions makes every snapshot in the server slower (subxid cache overflow).
constexpr std::size_t kMaxGroupsPerCommit = 16;

// A child's turn that is not an ordinary first turn: its parent's children go by message.
struct NotRunHere {};

bool ordinary(const core::dispatch::DecidedTurn& turn) {
    return !turn.abandon_after_ms && !turn.result.needs_full_history &&
           !turn.result.handler_missing && turn.counted();
}

// The new instances a turn starts, each once, in the order it started them.
std::vector<std::string> started_instances(const core::TurnResult& turn) {
    std::vector<std::string> ids;
    for (const core::WorkItem& item : turn.orchestrator_items) {
        if (const auto* start = std::get_if<core::work::StartOrchestration>(&item.kind)) {
            if (std::find(ids.begin(), ids.end(), start->instance) == ids.end()) {
                ids.push_back(start->instance);
            }
        }
    }
    return ids;
}

void log_left(const std::string& parent, const char* why) {
    const std::string message = "duroxide: the children of \"" + parent +
                                "\" start through their queued start messages: " + why;
    pg::call([&message] { ereport(DEBUG1, (errmsg_internal("%s", message.c_str()))); });
}

} // namespace

void ChildFirstTurns::ack_orchestration_item(const core::provider::OrchestrationItem& item,
                                             uint64_t execution_id, const core::TurnResult& turn) {
    inner_.ack_orchestration_item(item, execution_id, turn);
    // A parent fetched again (its turn failed, its dispatcher died) starts its children by
    // message: a child whose code kills its process must not make its parent poison.
    if (!in_commit_ || !settings.child_first_turn || item.attempt_count != 1 ||
        turn.orchestrator_items.empty()) {
        return;
    }
    run_children(item.instance, turn);
}

void ChildFirstTurns::run_children(const std::string& parent, const core::TurnResult& turn) {
    const std::vector<std::string> children = started_instances(turn);
    if (children.empty() || groups_ >= kMaxGroupsPerCommit) {
        return;
    }
    ++groups_;
    const std::size_t first = recorded_.size();
    std::vector<std::string> decided; // their resident executions moved on
    try {
        pg::in_subtransaction([&] {
            pg::with_setting("lock_timeout", kFirstTurnLockTimeout, [&] {
                pg::SpiConnection spi;
                store::Store store(spi);
                store::FirstTurnProvider provider(store, children, my_lease_owner(),
                                                  settings.orchestration_lock_timeout_ms);
                core::provider::OrchestrationFetch fetch =
                    provider.fetch_orchestration_items(children.size(), {});
                if (fetch.items.size() != children.size()) {
                    throw NotRunHere{}; // an id in use
                }
                crash_point("child_first_locked");
                for (auto& item : fetch.items) {
                    recorded_.push_back(Recorded{.item = std::move(item), .turn = {}});
                    Recorded& recorded = recorded_.back();
                    if (recorded.item.attempt_count != 1 || recorded.item.history_error) {
                        throw NotRunHere{};
                    }
                    decided.push_back(recorded.item.instance);
                    recorded.turn =
                        core::dispatch::decide({.provider = provider,
                                                .orchestrations = handlers_.orchestrations(),
                                                .stacks = stacks_,
                                                .cache = cache_,
                                                .settings = dispatch_,
                                                .observer = observer_,
                                                .now_ms = wall_clock_ms},
                                               recorded.item);
                    recorded.turn.item = &recorded.item;
                    if (!ordinary(recorded.turn)) {
                        throw NotRunHere{};
                    }
                    crash_point("child_first_decided");
                    provider.ack_orchestration_item(recorded.item, recorded.turn.input.execution_id,
                                                    recorded.turn.result);
                }
            });
        });
    } catch (const NotRunHere&) {
        for (const std::string& child : decided) {
            cache_.drop(child);
        }
        recorded_.resize(first);
        return;
    } catch (const std::exception& e) {
        // A lock row being written (lock_timeout), a write that failed: the subtransaction
        // rolled back, and the queued starts run as they would have.
        for (const std::string& child : decided) {
            cache_.drop(child);
        }
        recorded_.resize(first);
        if (inner_.must_stop(e)) {
            throw;
        }
        log_left(parent, e.what());
        return;
    }
    for (std::size_t i = first; i < recorded_.size(); ++i) {
        const core::TurnResult& result = recorded_[i].turn.result;
        wake_for_turn(recorded_[i].item.instance, result);
        if (!result.orchestrator_items.empty()) {
            wake_at_commit(kWakeDispatchers); // timers, grandchildren, a parent
        }
    }
}

void ChildFirstTurns::in_one_commit(const std::function<void()>& acks) {
    in_commit_ = true;
    groups_ = 0;
    try {
        inner_.in_one_commit(acks);
    } catch (...) {
        in_commit_ = false;
        finished(false);
        throw;
    }
    in_commit_ = false;
    finished(true);
}

void ChildFirstTurns::finished(bool committed) {
    for (const Recorded& recorded : recorded_) {
        if (committed) {
            observer_.turn_recorded(recorded.turn);
            metrics::add(metrics::Counter::FirstTurns);
        } else {
            cache_.drop(recorded.item.instance); // its execution moved on; the store did not
        }
    }
    recorded_.clear();
}

} // namespace duroxide::runtime
