// Running one activity of a plugin: builds its context, calls it, and turns the outcome into
// the completion work item (an exception becomes an application ActivityFailed). Pure C++.
#pragma once

#include "core/model/work_item.hpp"
#include "core/sessions/session_states.hpp"
#include "duroxide/registry.hpp"
#include "duroxide/trace.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace duroxide::core {

// What the worker running the activity lends its context.
struct ActivityEnvironment {
    std::string worker_id;
    SessionStates* session_states = nullptr; // the worker's; null: no session state
    // Writes a trace line of the activity (to the server log, in the worker).
    std::function<void(const work::ActivityExecute&, TraceLevel, std::string_view)> trace;
};

// `handler` is the registered activity; the result is ActivityCompleted or ActivityFailed.
WorkItem run_activity(const ActivityFn& handler, const work::ActivityExecute& item,
                      const ActivityEnvironment& environment);

} // namespace duroxide::core
