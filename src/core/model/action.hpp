// Actions: the decisions an orchestration turn emits (reference §3.3). The replay engine matches
// them against the schedule events of history and turns new ones into events and work items.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace duroxide::core {

#define DUROXIDE_EQ(T) bool operator==(const T&) const = default

namespace actions {
struct CallActivity {
    uint64_t scheduling_event_id = 0;
    std::string name, input;
    std::optional<std::string> session_id, tag;
    DUROXIDE_EQ(CallActivity);
};
struct CreateTimer {
    uint64_t scheduling_event_id = 0, fire_at_ms = 0;
    DUROXIDE_EQ(CreateTimer);
};
struct WaitExternal {
    uint64_t scheduling_event_id = 0;
    std::string name;
    DUROXIDE_EQ(WaitExternal);
};
struct StartOrchestrationDetached {
    uint64_t scheduling_event_id = 0;
    std::string name;
    std::optional<std::string> version;
    std::string instance, input;
    DUROXIDE_EQ(StartOrchestrationDetached);
};
struct StartSubOrchestration {
    uint64_t scheduling_event_id = 0;
    std::string name;
    std::optional<std::string> version;
    std::string instance, input;
    DUROXIDE_EQ(StartSubOrchestration);
};
struct ContinueAsNew {
    std::string input;
    std::optional<std::string> version;
    DUROXIDE_EQ(ContinueAsNew);
};
struct UpdateCustomStatus {
    std::optional<std::string> status;
    DUROXIDE_EQ(UpdateCustomStatus);
};
struct DequeueEvent {
    uint64_t scheduling_event_id = 0;
    std::string name;
    DUROXIDE_EQ(DequeueEvent);
};
struct SetKeyValue {
    std::string key, value;
    uint64_t last_updated_at_ms = 0;
    DUROXIDE_EQ(SetKeyValue);
};
struct ClearKeyValue {
    std::string key;
    DUROXIDE_EQ(ClearKeyValue);
};
struct ClearKeyValues {
    DUROXIDE_EQ(ClearKeyValues);
};
} // namespace actions

using Action =
    std::variant<actions::CallActivity, actions::CreateTimer, actions::WaitExternal,
                 actions::StartOrchestrationDetached, actions::StartSubOrchestration,
                 actions::ContinueAsNew, actions::UpdateCustomStatus, actions::DequeueEvent,
                 actions::SetKeyValue, actions::ClearKeyValue, actions::ClearKeyValues>;

// The variant name, also the JSON tag.
const char* action_type_name(const Action& action);
// The tag of alternative `index` (Action's order).
const char* action_type_name(std::size_t index);

#undef DUROXIDE_EQ

} // namespace duroxide::core
