// The timeline of an instance tree, derived from the histories the store keeps: one row per
// instance (its execution from start to end) followed by one row per piece of work it
// scheduled (activity attempt, timer, wait for an event, dequeue, sub-orchestration), in
// schedule order, each child instance's rows right after the row that started it.
// Pure: the caller reads the histories (after its access check) and renders the rows
// (timeline_svg.hpp, instance_graph.hpp).
#pragma once

#include "core/model/event.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace duroxide::core::observe {

// One instance of the tree and the history of its current execution.
struct InstanceHistory {
    std::string instance;
    std::optional<std::string> parent; // the parent instance, for a sub-orchestration
    std::string status;                // as the client sees it: Running, Completed, Failed, ...
    std::vector<Event> history;
};

enum class RowKind { Instance, Activity, Timer, Wait, Dequeue, SubOrchestration };
enum class Outcome { Running, Completed, Failed, Cancelled };

struct TimelineRow {
    RowKind kind = RowKind::Activity;
    std::string instance; // the instance the row belongs to (for Instance rows: itself)
    int depth = 0;        // 0 for the root instance and its work, 1 for its children's, ...
    std::string name{};   // orchestration, activity, event or queue name; "" for timers
    uint64_t start_ms = 0;
    std::optional<uint64_t> end_ms{}; // nullopt while running
    Outcome outcome = Outcome::Running;
    // Activities: 1 for the first call, n for the nth consecutive call of the same activity
    // with the same input after a failed one (a retry).
    int attempt = 1;
    std::string detail{};                   // error message, cancellation reason, timer delay
    std::optional<std::string> child{};     // SubOrchestration rows: the child instance
    std::optional<uint64_t> execution_id{}; // Instance rows
};

struct Timeline {
    std::string root;
    std::vector<TimelineRow> rows;
    std::size_t rows_left_out = 0; // beyond max_rows
    uint64_t start_ms = 0;         // earliest start of any row
    uint64_t end_ms = 0;           // latest end (or now_ms when something still runs)
};

// Builds the timeline of `root` from `tree` (root first or anywhere; instances whose parent is
// not in the tree are ignored unless they are the root). Rows still running end at `now_ms`
// in the picture. At most `max_rows` rows are kept.
Timeline build_timeline(std::span<const InstanceHistory> tree, const std::string& root,
                        uint64_t now_ms, std::size_t max_rows = 2000);

const char* outcome_name(Outcome outcome);

} // namespace duroxide::core::observe
