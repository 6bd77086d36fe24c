// Running one activity of a plugin: builds its context, calls it, and turns the outcome into
// the completion work item (an exception becomes an application ActivityFailed). Pure C++.
#pragma once

#include "core/model/work_item.hpp"
#include "duroxide/registry.hpp"

namespace duroxide::core {

// `handler` is the registered activity; the result is ActivityCompleted or ActivityFailed.
WorkItem run_activity(const ActivityFn& handler, const work::ActivityExecute& item);

} // namespace duroxide::core
