// The system activities behind SQL-authored workflows (core/workflow/interpreter.hpp):
// the `sql` step, run as the role that started the instance, and the loading of a named
// definition for a sub_workflow. Both run in the activity worker's transaction that records
// their completion (system_activities.cpp), so a step's writes commit with it, exactly once.
#pragma once

#include "core/model/work_item.hpp"
#include "store/store.hpp"

#include <string>

namespace duroxide::runtime {

// The output of __duroxide_syscall:workflow_sql: {"rows": [...], "row_count": n}. Throws
// WorkflowStepError for a failure the workflow sees (its SQL error, no owner to run as).
std::string run_workflow_sql_step(store::Store& store, const core::work::ActivityExecute& item);

// The output of __duroxide_syscall:workflow_definition: {"version": v, "definition": {...}}.
std::string load_workflow_definition(store::Store& store, const core::work::ActivityExecute& item);

struct WorkflowStepError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace duroxide::runtime
