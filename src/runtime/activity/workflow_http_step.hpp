// The `http` step of SQL-authored workflows (core/workflow/interpreter.hpp,
// kWorkflowHttpActivity), run by an activity worker with libcurl.
#pragma once

#include "core/model/work_item.hpp"

#include <string>

namespace duroxide::runtime {

// The output of __duroxide_syscall:workflow_http: {"status": n, "headers": {name: value},
// "body": text, "json": parsed (when the response says it is JSON)}. Throws WorkflowStepError
// for a refused request (host not on duroxide.http_allowed_hosts, or the list empty), a
// transport failure, a too large response or a status outside the expected ones.
std::string run_workflow_http_step(const core::work::ActivityExecute& item);

} // namespace duroxide::runtime
