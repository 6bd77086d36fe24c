// Running one activity of a plugin: builds its context, calls it, and turns the outcome into
// the completion work item (an exception becomes an application ActivityFailed). Pure C++.
#pragma once

#include "core/model/work_item.hpp"
#include "core/sessions/session_states.hpp"
#include "duroxide/activity_context.hpp"
#include "duroxide/registry.hpp"
#include "duroxide/trace.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core {

// How activity code reaches the code that runs it (the fiber runner): its ctx.sql(),
// ctx.heartbeat() and ctx.is_cancelled() go through it.
class ActivityChannel {
public:
    virtual ~ActivityChannel() = default;
    virtual SqlResult sql(std::string_view query,
                          std::vector<std::optional<std::string>> params) = 0;
    // A suspension point; returns whether the activity is cancelled.
    virtual bool suspend() = 0;
};

// What the worker running the activity lends its context.
struct ActivityEnvironment {
    std::string worker_id;
    SessionStates* session_states = nullptr; // the worker's; null: no session state
    // Writes a trace line of the activity (to the server log, in the worker).
    std::function<void(const work::ActivityExecute&, TraceLevel, std::string_view)> trace;
    // Null when the activity runs on a plain stack: ctx.sql() then throws std::logic_error.
    ActivityChannel* channel = nullptr;
    // The largest output recorded (duroxide.max_payload_size); a larger one fails the
    // activity. 0: no limit.
    std::size_t max_output_bytes = 0;
};

// `handler` is the registered activity; the result is ActivityCompleted or ActivityFailed.
WorkItem run_activity(const ActivityFn& handler, const work::ActivityExecute& item,
                      const ActivityEnvironment& environment);

} // namespace duroxide::core
