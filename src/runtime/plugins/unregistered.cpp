#include "runtime/plugins/unregistered.hpp"

#include "core/validation/message_quote.hpp"
#include "pg/guard.hpp"

namespace duroxide::runtime {

std::optional<std::string> unregistered_orchestration(const OrchestrationRegistry& registry,
                                                      const core::TurnInput& input) {
    std::string name;
    std::optional<std::string> version;
    if (!input.history.empty()) {
        const auto* started =
            std::get_if<core::events::OrchestrationStarted>(&input.history.front().kind);
        if (started == nullptr) {
            return std::nullopt;
        }
        name = started->name;
        version = started->version;
    } else {
        bool found = false;
        for (const core::WorkItem& message : input.messages) {
            if (const auto* start = std::get_if<core::work::StartOrchestration>(&message.kind)) {
                name = start->orchestration;
                version = start->version;
                found = true;
                break;
            }
            if (const auto* next = std::get_if<core::work::ContinueAsNew>(&message.kind)) {
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
    return "orchestration " + core::quoted(name) +
           (version ? " version " + core::quoted(*version) : std::string()) + " is not registered";
}

std::string unregistered_activity(const std::string& name) {
    return "activity " + core::quoted(name) + " is not registered";
}

void log_unregistered_backoff(const std::string& reason, const std::string& instance,
                              int64_t retry_in_ms, uint32_t attempt, uint32_t max_attempts) {
    const std::string message = "duroxide: " + reason + ": instance " + core::quoted(instance) +
                                " retries in " + std::to_string(retry_in_ms) + " ms (attempt " +
                                std::to_string(attempt) + " of " + std::to_string(max_attempts) +
                                ", then it fails)";
    pg::call([&message] {
        ereport(LOG, (errmsg_internal("%s", message.c_str()),
                      errhint("Register the plugin or SQL activity that provides it.")));
    });
}

} // namespace duroxide::runtime
