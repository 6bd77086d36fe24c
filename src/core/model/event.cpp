#include "core/model/event.hpp"

#include <array>
#include <type_traits>

namespace duroxide::core {

namespace {
// Indexed like EventKind. Three queue kinds keep the serde names they had before being renamed.
constexpr std::array<const char*, std::variant_size_v<EventKind>> kTypeNames = {
    "OrchestrationStarted",
    "OrchestrationCompleted",
    "OrchestrationFailed",
    "ActivityScheduled",
    "ActivityCompleted",
    "ActivityFailed",
    "ActivityCancelRequested",
    "TimerCreated",
    "TimerFired",
    "ExternalSubscribed",
    "ExternalEvent",
    "OrchestrationChained",
    "SubOrchestrationScheduled",
    "SubOrchestrationCompleted",
    "SubOrchestrationFailed",
    "SubOrchestrationCancelRequested",
    "OrchestrationContinuedAsNew",
    "OrchestrationCancelRequested",
    "ExternalSubscribedCancelled",
    "ExternalSubscribedPersistent",
    "ExternalEventPersistent",
    "ExternalSubscribedPersistentCancelled",
    "CustomStatusUpdated",
    "KeyValueSet",
    "KeyValueCleared",
    "KeyValuesCleared",
    "SessionOpened",
    "SessionClosed",
};
} // namespace

const char* event_type_name(std::size_t index) {
    return index < kTypeNames.size() ? kTypeNames[index] : "Unknown";
}

const char* Event::type_name() const {
    return event_type_name(kind.index());
}

bool Event::is_terminal() const {
    return std::holds_alternative<events::OrchestrationCompleted>(kind) ||
           std::holds_alternative<events::OrchestrationFailed>(kind) ||
           std::holds_alternative<events::OrchestrationContinuedAsNew>(kind);
}

const std::string* Event::cancellation_reason() const {
    return std::visit(
        [](const auto& k) -> const std::string* {
            using K = std::decay_t<decltype(k)>;
            if constexpr (std::is_same_v<K, events::ActivityCancelRequested> ||
                          std::is_same_v<K, events::SubOrchestrationCancelRequested> ||
                          std::is_same_v<K, events::ExternalSubscribedCancelled> ||
                          std::is_same_v<K, events::QueueSubscriptionCancelled>) {
                return &k.reason;
            } else {
                return nullptr;
            }
        },
        kind);
}

} // namespace duroxide::core
