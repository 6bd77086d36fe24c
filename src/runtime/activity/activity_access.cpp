#include "runtime/activity/activity_access.hpp"

#include "core/validation/message_quote.hpp"

namespace duroxide::runtime {

namespace {

// Names in the message: at most this many bytes each.
constexpr std::size_t kNameBytes = 128;

} // namespace

core::WorkItem activity_call_denied(const core::work::ActivityExecute& item,
                                    const std::optional<std::string>& owner_name) {
    const std::string activity = core::quoted(item.name, kNameBytes);
    std::string message =
        owner_name ? "permission denied: role " + core::quoted(*owner_name, kNameBytes) +
                         ", the owner of this instance, may not call activity " + activity +
                         " (not in its allowed_roles; see duroxide.register_sql_activity / "
                         "duroxide.register_plugin)"
                   : "permission denied: this instance records no owner, and activity " + activity +
                         " was not registered by a role that has duroxide_admin's privileges now";
    return core::WorkItem{core::work::ActivityFailed{
        item.instance, item.execution_id, item.id,
        core::ErrorDetails::application(core::AppActivityFailed{}, std::move(message), false)}};
}

} // namespace duroxide::runtime
