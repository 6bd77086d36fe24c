// Workflow definitions (docs/workflows.md): JSON validated into a typed tree of nodes. Every
// error names the JSON path of the offending node ("$.steps[2].query"), so that
// duroxide.define_workflow can report it in its DETAIL.
#pragma once

#include "core/workflow/expression.hpp"
#include "core/workflow/json.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core::workflow {

// A definition's JSON text is at most this long, and nodes nest at most this deep (the
// interpreter walks the tree recursively on a fiber stack).
inline constexpr std::size_t kMaxDefinitionBytes = 128 * 1024;
inline constexpr int kMaxNodeDepth = 24;
// Intervals (sleep, timeouts, retry delays) are at most this long.
inline constexpr std::int64_t kMaxIntervalMs = 366LL * 24 * 3600 * 1000;
inline constexpr std::int64_t kMaxForeachInFlight = 1000;
// An http step's request timeout when it names none.
inline constexpr std::int64_t kDefaultHttpTimeoutMs = 30000;

class DefinitionError : public std::invalid_argument {
public:
    DefinitionError(std::string path, const std::string& message)
        : std::invalid_argument(path + ": " + message), path_(std::move(path)), message_(message) {}
    const std::string& path() const { return path_; }
    const std::string& message() const { return message_; }

private:
    std::string path_, message_;
};

enum class NodeKind {
    Seq,
    Sql,
    Activity,
    Parallel,
    Race,
    If,
    Switch,
    Sleep,
    WaitEvent,
    SetStatus,
    Fail,
    Return,
    Try,
    Foreach,
    Loop,
    Dequeue,
    SubWorkflow,
    KvSet,
    Break,
    Http,
    WaitForSchedule,
};

struct RetrySpec {
    std::uint32_t max_attempts = 1;
    std::string backoff = "none"; // none, fixed, linear, exponential
    std::int64_t delay_ms = 100;
    std::int64_t max_delay_ms = 30000;
    double multiplier = 2.0;
    std::optional<std::int64_t> timeout_ms; // per attempt
};

struct Node {
    NodeKind kind = NodeKind::Seq;
    std::string path;           // JSON path in the definition ("$", "$.steps[1]")
    std::string as;             // the name its result is kept under in $steps (empty: not kept)
    Json source;                // the node's JSON (a branch run as a child instance carries it)
    std::vector<Node> children; // see the accessors below for each kind's meaning
    std::optional<Expression> condition; // if, loop/while, switch value, foreach items,
                                         // sleep's until
    Json value;       // template: sql params, activity/sub input, status, http request, ...
    std::string text; // sql query, activity/event/queue/workflow/orchestration name, kv key
    std::optional<std::string> version; // sub_workflow
    bool plugin_orchestration = false;  // sub_workflow of a plugin orchestration
    std::optional<std::string> tag, session;
    std::optional<std::string> timezone; // wait_for_schedule (text: the cron expression)
    std::optional<RetrySpec> retry;
    std::int64_t duration_ms = 0;                                      // sleep
    std::optional<std::int64_t> timeout_ms;                            // wait_event, dequeue
    std::int64_t max_in_flight = 10;                                   // foreach
    std::optional<std::int64_t> max_iterations, continue_as_new_every; // loop
    std::vector<Json> cases; // switch: the value each of the first cases.size() children needs
    bool has_else = false;   // if: children[1]; switch: the child after the cases
    int try_catch = -1, try_finally = -1; // try: indexes in children (body is children[0])
};

// What a (sub)definition may refer to from outside: the names already in $steps, and whether
// it runs inside a foreach body ($item, $index), a catch ($error) or a loop ($iteration).
struct ValidationContext {
    std::set<std::string> visible_steps;
    bool in_foreach = false, in_catch = false, in_loop = false;
    bool root = true; // continue_as_new_every is allowed on a root loop only
    // Inside a loop body of this instance: not across a parallel/race/foreach branch, which
    // may run as a child instance.
    bool can_break = false;
};

// Validates a definition and builds its tree; throws DefinitionError.
Node parse_definition(const Json& definition, const ValidationContext& context = {});
// The same from JSON text (size limit, JSON syntax and nesting checked first).
Node parse_definition_text(std::string_view text, const ValidationContext& context = {});

// "500 ms", "5 s", "2 min", "1 h", "1 day", "1h 30min", or a bare number of milliseconds.
// Throws std::invalid_argument for anything else or past kMaxIntervalMs.
std::int64_t parse_interval_ms(std::string_view text);

const char* kind_name(NodeKind kind);

} // namespace duroxide::core::workflow
