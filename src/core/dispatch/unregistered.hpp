// Saying why work waits or fails when its orchestration or activity is not registered
// (issue 17 item 1): the reason text for the backoff log line and for the final (poison)
// failure, so that neither the server log nor the instance's error leaves the user guessing.
#pragma once

#include "core/replay/turn.hpp"
#include "duroxide/registry.hpp"

#include <optional>
#include <string>

namespace duroxide::core::dispatch {

// `orchestration "X" version "Y" is not registered` (or `... "X" is not registered` when no
// version was pinned) when nothing registered runs this turn's orchestration; nullopt when it
// is registered or the turn starts nothing.
std::optional<std::string> unregistered_orchestration(const OrchestrationRegistry& registry,
                                                      const TurnInput& input);

// `activity "X" is not registered`.
std::string unregistered_activity(const std::string& name);

} // namespace duroxide::core::dispatch
