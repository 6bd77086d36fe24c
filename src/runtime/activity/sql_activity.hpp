// Running an SQL activity: the registered function is called as the role that registered it,
// inside a subtransaction of the worker's transaction, so its writes commit together with the
// activity's completion or not at all (exactly-once database effects).
#pragma once

#include "core/model/work_item.hpp"
#include "runtime/plugins/handlers.hpp"

namespace duroxide::runtime {

core::WorkItem run_sql_activity(const SqlActivity& activity,
                                const core::work::ActivityExecute& item);

} // namespace duroxide::runtime
