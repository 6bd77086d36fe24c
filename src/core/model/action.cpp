#include "core/model/action.hpp"

#include <array>

namespace duroxide::core {

const char* action_type_name(const Action& action) {
    static constexpr std::array<const char*, std::variant_size_v<Action>> kNames = {
        "CallActivity",          "CreateTimer",
        "WaitExternal",          "StartOrchestrationDetached",
        "StartSubOrchestration", "ContinueAsNew",
        "UpdateCustomStatus",    "DequeueEvent",
        "SetKeyValue",           "ClearKeyValue",
        "ClearKeyValues",
    };
    return kNames[action.index()];
}

} // namespace duroxide::core
