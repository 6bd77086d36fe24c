#include "core/model/work_item.hpp"

#include <array>

namespace duroxide::core {

namespace {
constexpr std::array<const char*, std::variant_size_v<WorkItemKind>> kTypeNames = {
    "StartOrchestration", "ActivityExecute", "ActivityCompleted", "ActivityFailed",
    "TimerFired",         "ExternalRaised",  "SubOrchCompleted",  "SubOrchFailed",
    "CancelInstance",     "ContinueAsNew",   "QueueMessage",
};
} // namespace

const char* work_item_type_name(std::size_t index) {
    return index < kTypeNames.size() ? kTypeNames[index] : "Unknown";
}

const char* WorkItem::type_name() const {
    return kTypeNames[kind.index()];
}

const std::string& WorkItem::target_instance() const {
    return std::visit(
        [](const auto& item) -> const std::string& {
            using T = std::decay_t<decltype(item)>;
            if constexpr (std::is_same_v<T, work::SubOrchCompleted> ||
                          std::is_same_v<T, work::SubOrchFailed>) {
                return item.parent_instance;
            } else {
                return item.instance;
            }
        },
        kind);
}

} // namespace duroxide::core
