// duroxide's built-in activities, the system calls behind OrchestrationContext::new_guid,
// utc_now and get_kv_value_from_instance (names with the "__duroxide_syscall:" prefix). The
// activity workers run them themselves, in the transaction that records their completion, so
// that get_kv_value reads the store's live view there.
#pragma once

#include "core/model/work_item.hpp"
#include "store/store.hpp"

#include <string_view>

namespace duroxide::runtime {

bool is_system_activity(std::string_view name);

// The completion of a system activity (an application failure for bad input or an unknown
// system call).
core::WorkItem run_system_activity(store::Store& store, const core::work::ActivityExecute& item);

} // namespace duroxide::runtime
