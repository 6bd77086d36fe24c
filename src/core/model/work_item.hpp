// Work items: the messages of the two queues (reference §3.4). Everything but ActivityExecute
// goes to the orchestrator queue of its target instance; ActivityExecute goes to the worker
// queue.
#pragma once

#include "core/model/error_details.hpp"
#include "core/model/event.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace duroxide::core {

#define DUROXIDE_EQ(T) bool operator==(const T&) const = default

namespace work {
struct StartOrchestration {
    std::string instance, orchestration, input;
    std::optional<std::string> version;
    std::optional<std::string> parent_instance;
    std::optional<uint64_t> parent_id;
    uint64_t execution_id = 1;
    // Extension (written only when set): the parent's execution that scheduled this child.
    std::optional<uint64_t> parent_execution_id;
    DUROXIDE_EQ(StartOrchestration);
};
struct ActivityExecute {
    std::string instance;
    uint64_t execution_id = 0;
    uint64_t id = 0; // the ActivityScheduled event id
    std::string name, input;
    std::optional<std::string> session_id, tag;
    DUROXIDE_EQ(ActivityExecute);
};
struct ActivityCompleted {
    std::string instance;
    uint64_t execution_id = 0, id = 0;
    std::string result;
    DUROXIDE_EQ(ActivityCompleted);
};
struct ActivityFailed {
    std::string instance;
    uint64_t execution_id = 0, id = 0;
    ErrorDetails details;
    DUROXIDE_EQ(ActivityFailed);
};
struct TimerFired {
    std::string instance;
    uint64_t execution_id = 0, id = 0, fire_at_ms = 0;
    DUROXIDE_EQ(TimerFired);
};
struct ExternalRaised {
    std::string instance, name, data;
    DUROXIDE_EQ(ExternalRaised);
};
struct SubOrchCompleted {
    std::string parent_instance;
    uint64_t parent_execution_id = 0, parent_id = 0;
    std::string result;
    DUROXIDE_EQ(SubOrchCompleted);
};
struct SubOrchFailed {
    std::string parent_instance;
    uint64_t parent_execution_id = 0, parent_id = 0;
    ErrorDetails details;
    DUROXIDE_EQ(SubOrchFailed);
};
struct CancelInstance {
    std::string instance, reason;
    DUROXIDE_EQ(CancelInstance);
};
struct ContinueAsNew {
    std::string instance, orchestration, input;
    std::optional<std::string> version;
    CarryForwardEvents carry_forward_events;
    std::optional<std::string> initial_custom_status;
    // Extension (written only when set): the explicit sessions that stay open in the next
    // execution (see events::OrchestrationStarted::open_sessions).
    std::optional<std::vector<std::string>> open_sessions;
    DUROXIDE_EQ(ContinueAsNew);
};
struct QueueMessage {
    std::string instance, name, data;
    DUROXIDE_EQ(QueueMessage);
};
} // namespace work

using WorkItemKind = std::variant<work::StartOrchestration, work::ActivityExecute,
                                  work::ActivityCompleted, work::ActivityFailed, work::TimerFired,
                                  work::ExternalRaised, work::SubOrchCompleted, work::SubOrchFailed,
                                  work::CancelInstance, work::ContinueAsNew, work::QueueMessage>;

struct WorkItem {
    WorkItemKind kind;

    // The variant name, which is also the JSON tag, e.g. "StartOrchestration".
    const char* type_name() const;
    // The instance whose queue the item belongs to (parent_instance for SubOrch*).
    const std::string& target_instance() const;
    bool is_worker_item() const { return std::holds_alternative<work::ActivityExecute>(kind); }
    DUROXIDE_EQ(WorkItem);
};

// The type tag of kind index `index` (WorkItemKind's alternative order).
const char* work_item_type_name(std::size_t index);

#undef DUROXIDE_EQ

} // namespace duroxide::core
