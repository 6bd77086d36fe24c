// TEMPORARY (issue 16 helper "wf"): the security envelope the workflow SQL step runs in.
// The lead replaces this declaration's implementation (workflow_envelope.cpp) with the shared
// activity envelope (helper "env": role switch + SECURITY_RESTRICTED_OPERATION + GUC nest level
// + timeout) at merge; the SQL step (workflow_sql_step.cpp) calls only this function.
#pragma once

#include "pg/postgres.hpp"

#include <functional>

namespace duroxide::runtime {

// Runs `callable` (which may use pg::call and SPI) as `role`, as a security-restricted
// operation, with the settings it changes undone afterwards; restores the caller's user and
// security context whether it returns or throws. The temporary implementation does NOT
// enforce `timeout_ms`.
void run_as_role_in_envelope(Oid role, int timeout_ms, const std::function<void()>& callable);

} // namespace duroxide::runtime
