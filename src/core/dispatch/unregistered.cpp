#include "core/dispatch/unregistered.hpp"

#include "core/validation/message_quote.hpp"

namespace duroxide::core::dispatch {

std::optional<std::string> unregistered_orchestration(const OrchestrationRegistry& registry,
                                                      const TurnInput& input) {
    std::string name;
    std::optional<std::string> version;
    if (!input.history.empty()) {
        const auto* started =
            std::get_if<events::OrchestrationStarted>(&input.history.front().kind);
        if (started == nullptr) {
            return std::nullopt;
        }
        name = started->name;
        version = started->version;
    } else {
        bool found = false;
        for (const WorkItem& message : input.messages) {
            if (const auto* start = std::get_if<work::StartOrchestration>(&message.kind)) {
                name = start->orchestration;
                version = start->version;
                found = true;
                break;
            }
            if (const auto* next = std::get_if<work::ContinueAsNew>(&message.kind)) {
                name = next->orchestration;
                version = next->version;
                found = true;
                break;
            }
        }
        if (!found) {
            return std::nullopt;
        }
    }
    bool registered = false;
    try {
        registered = version ? registry.resolve_exact(name, Semver::parse(*version)).has_value()
                             : registry.resolve(name).has_value();
    } catch (const std::invalid_argument&) {
        registered = false; // an unparsable version: nothing can run it
    }
    if (registered) {
        return std::nullopt;
    }
    return "orchestration " + quoted(name) +
           (version ? " version " + quoted(*version) : std::string()) + " is not registered";
}

std::string unregistered_activity(const std::string& name) {
    return "activity " + quoted(name) + " is not registered";
}

} // namespace duroxide::core::dispatch
