#include "core/model/action.hpp"

#include <array>

namespace duroxide::core {

namespace {
constexpr std::array<const char*, std::variant_size_v<Action>> kNames = {
    "CallActivity",          "CreateTimer",   "WaitExternal",       "StartOrchestrationDetached",
    "StartSubOrchestration", "ContinueAsNew", "UpdateCustomStatus", "DequeueEvent",
    "SetKeyValue",           "ClearKeyValue", "ClearKeyValues",
};
} // namespace

const char* action_type_name(std::size_t index) {
    return index < kNames.size() ? kNames[index] : "Unknown";
}

const char* action_type_name(const Action& action) {
    return kNames[action.index()];
}

} // namespace duroxide::core
