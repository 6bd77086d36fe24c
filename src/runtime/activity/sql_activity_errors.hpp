// How an SQL activity's function reports failure (issue 17 item 3), apart from how it runs
// (sql_activity.cpp): a NULL result is an error naming the function; an error it raises keeps
// PostgreSQL's SQLSTATE, DETAIL, HINT and CONTEXT in the recorded ErrorDetails; SQLSTATE
// DX001 marks it non-retryable (docs/user-guide.md "SQL activities").
#pragma once

#include "core/model/work_item.hpp"
#include "pg/postgres.hpp"
#include "pg/sql_error.hpp"

#include <string_view>

namespace duroxide::runtime {

// The SQLSTATE an SQL activity raises to fail without retries.
inline constexpr std::string_view kNonRetryableSqlstate = "DX001";

// Calls `function`(argument) with fmgr; a NULL result raises not_null_violation naming the
// function (schema-qualified, with its argument types) with a hint at RETURNING/COALESCE.
// Must run inside pg::call.
Datum call_activity_function(Oid function, Datum argument);

// The ActivityFailed recorded for an error the activity's function raised.
core::WorkItem sql_activity_failed(const core::work::ActivityExecute& item,
                                   const pg::SqlError& error);

} // namespace duroxide::runtime
