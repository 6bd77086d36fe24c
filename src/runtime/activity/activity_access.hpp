// The per-activity allow-list (docs/operations.md, Threat model): an activity runs as the role
// that registered it, so an instance may call it only when its owner passes the registration's
// allow-list (duroxide._may_call_activity). The worker checks it when it fetches the activity,
// before running anything (activity_loop.cpp, fetch_and_run).
#pragma once

#include "core/model/work_item.hpp"
#include "pg/postgres.hpp"

#include <optional>
#include <string>

namespace duroxide::runtime {

// The completion of an activity whose instance's owner may not call it: failed, as an
// application error that is not retryable, naming the activity and the role (`owner_name`, as
// the store read it: this runs outside a transaction; none: the instance records no owner).
core::WorkItem activity_call_denied(const core::work::ActivityExecute& item,
                                    const std::optional<std::string>& owner_name);

} // namespace duroxide::runtime
