#include "runtime/activity_access.hpp"

namespace duroxide::runtime {

namespace {

// At most `limit` bytes of a name for a message, marked when cut.
std::string shortened(const std::string& name, std::size_t limit = 128) {
    return name.size() <= limit ? name : name.substr(0, limit) + "...";
}

} // namespace

std::optional<Oid> owner_oid(const std::optional<std::string>& owner) {
    if (!owner) {
        return std::nullopt;
    }
    return static_cast<Oid>(std::stoul(*owner));
}

core::WorkItem activity_call_denied(const core::work::ActivityExecute& item,
                                    const std::string& owner_name) {
    return core::WorkItem{core::work::ActivityFailed{
        item.instance, item.execution_id, item.id,
        core::ErrorDetails::application(
            core::AppActivityFailed{},
            "permission denied: role \"" + shortened(owner_name) +
                "\", the owner of this instance, may not call activity \"" + shortened(item.name) +
                "\" (not in its allowed_roles; see duroxide.register_sql_activity / "
                "duroxide.register_plugin)",
            false)}};
}

} // namespace duroxide::runtime
