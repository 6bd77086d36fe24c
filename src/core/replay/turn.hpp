// One orchestration turn: replay an execution's history plus this turn's messages on a fiber
// and return what must be persisted (history delta, queue items, status). Pure: no storage, no
// clock of its own (the caller passes now_ms), no PostgreSQL.
//
// Replay model: the messages are first turned into completion events appended to history;
// then every completion is known before the code runs. The code is run from the start; each
// schedule call is matched by position against the schedule events of history (kind, name and
// input must agree, else the execution fails as nondeterministic); awaiting work whose
// completion is in history returns at once, and awaiting anything else suspends the fiber,
// which ends the turn. select() picks the completion that comes first in history, so replay
// always takes the branch the first run took. External events follow duroxide's causal rule:
// an ExternalEvent completes the oldest open wait of its name recorded before it, or nothing.
#pragma once

#include "core/fiber/stack_pool.hpp"
#include "core/model/event.hpp"
#include "core/model/work_item.hpp"
#include "duroxide/registry.hpp"
#include "duroxide/trace.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace duroxide::core {

enum class ExecutionStatus { Running, Completed, Failed, ContinuedAsNew };

// A key of an instance's durable key-value store as earlier executions left it.
struct KvEntry {
    std::string value;
    uint64_t last_updated_at_ms = 0;
    bool operator==(const KvEntry&) const = default;
};
using KvSnapshot = std::map<std::string, KvEntry>;

struct TurnInput {
    std::string instance;
    uint64_t execution_id = 1;
    std::vector<Event> history; // persisted history of this execution, oldest first
    std::vector<WorkItem> messages;
    uint64_t now_ms = 0;
    // Set when the caller did not load the history because a resident execution holds it;
    // `last_event_id` is then the id of the last persisted event.
    bool history_omitted = false;
    uint64_t last_event_id = 0;
    // When a ContinueAsNew message starts this execution: the OrchestrationStarted of the
    // execution that continued, whose parent link (a child's parent) carries over.
    std::optional<events::OrchestrationStarted> continued_from{};

    // The key-value store as the previous executions left it (kv_store): the state this
    // execution starts from. Not needed (and not loaded) when history_omitted.
    KvSnapshot kv_snapshot{};

    // duroxide.max_open_sessions: how many explicit sessions may be open at once.
    std::size_t max_open_sessions = 10;
    // The largest output (or continue-as-new input) an execution may end with
    // (duroxide.max_payload_size); a larger one fails it. 0: no limit.
    std::size_t max_output_bytes = 0;

    uint64_t persisted_last_event_id() const {
        return history_omitted ? last_event_id : (history.empty() ? 0 : history.back().event_id);
    }
};

struct CancelledActivity {
    std::string instance;
    uint64_t execution_id = 0;
    uint64_t activity_id = 0;
    bool operator==(const CancelledActivity&) const = default;
};

// A trace line the code wrote this turn (never on replay); the caller logs it.
struct TraceLine {
    TraceLevel level = TraceLevel::Info;
    std::string message;
    std::string orchestration, version; // of the code that wrote it
    bool operator==(const TraceLine&) const = default;
};

struct TurnResult {
    std::vector<Event> history_delta;
    std::vector<WorkItem> worker_items;
    std::vector<WorkItem> orchestrator_items;
    std::vector<CancelledActivity> cancelled_activities; // lock stealing
    std::vector<TraceLine> traces;
    ExecutionStatus status = ExecutionStatus::Running;
    std::string output; // completed output, failure display message, or continue-as-new input
    std::optional<ErrorDetails> error;
    // Set when this turn started the execution (its delta holds OrchestrationStarted).
    std::optional<std::string> orchestration_name, orchestration_version, parent_instance;
    // The orchestration (or version) is not registered: nothing was decided; the caller
    // abandons the batch with backoff (and poison after max attempts).
    bool handler_missing = false;
    // The history was omitted but no matching resident execution was found: nothing was
    // decided; the caller runs the turn again with the full history.
    bool needs_full_history = false;
    // The turn resumed a resident execution (no replay).
    bool resumed = false;
};

class ResidentExecution;

// Where a dispatcher keeps an execution between turns (the resident cache holds one per
// instance). After a turn that leaves the execution waiting, the slot holds its context and
// its suspended fiber, so the next turn resumes the code instead of replaying the history. A
// slot whose execution id and last event id do not match the next turn's is replayed.
struct ResidentSlot {
    ResidentSlot();
    ~ResidentSlot();
    ResidentSlot(ResidentSlot&&) noexcept;
    ResidentSlot& operator=(ResidentSlot&&) noexcept;

    bool holds() const { return execution != nullptr; }
    void clear();

    std::unique_ptr<ResidentExecution> execution;
    uint64_t execution_id = 0;
    uint64_t last_event_id = 0; // of the history the held execution has seen
    // What the held execution costs in memory, roughly: its fiber stack and its history (as
    // encoded JSON). Counted as events are added, so a turn costs what is new.
    std::size_t footprint_bytes = 0;
};

// With `slot`, a matching resident execution is resumed, and an execution left waiting is
// kept there; without, every turn replays the history on a fresh fiber.
TurnResult run_turn(const OrchestrationRegistry& registry, StackPool& stacks,
                    const TurnInput& input, ResidentSlot* slot = nullptr);

// The turn for a batch fetched more than max_attempts times: user code never runs; the
// execution fails with `poison` (starting it first when it has no history yet, so the failure
// is visible), open activities are cancelled and a parent is told. Nothing happens for a batch
// that starts nothing or an execution that already ended.
TurnResult poison_turn(const OrchestrationRegistry& registry, const TurnInput& input,
                       PoisonError poison);

// The event id of the OrchestrationFailed that ends an execution whose history does not
// decode (duroxide's sentinel): the real last id is unknown, and the ack only appends.
inline constexpr uint64_t kUnreadableHistoryFailureEventId = 99999;

// The turn for a batch whose history does not decode, fetched more than max_attempts times:
// user code never runs; the execution fails with `poison` (FailedDeserialization) by appending
// one OrchestrationFailed with the sentinel id. Open activities and a parent cannot be known.
TurnResult unreadable_history_poison_turn(const TurnInput& input, PoisonError poison);

} // namespace duroxide::core
