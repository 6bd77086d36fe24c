// History events: the append-only record of an orchestration execution (reference §3.1).
// One struct per kind; Event holds the common envelope and the kind as a variant.
#pragma once

#include "core/model/error_details.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace duroxide::core {

using CarryForwardEvents = std::vector<std::pair<std::string, std::string>>; // (queue, data)

#define DUROXIDE_EQ(T) bool operator==(const T&) const = default

namespace events {
struct OrchestrationStarted {
    std::string name, version, input;
    std::optional<std::string> parent_instance;
    std::optional<uint64_t> parent_id;
    std::optional<CarryForwardEvents> carry_forward_events;
    std::optional<std::string> initial_custom_status;
    // An extension of duroxide's shape (written only when set): the parent execution that
    // scheduled this child, reported back with its completion so that a parent which has
    // continued as new meanwhile ignores it.
    std::optional<uint64_t> parent_execution_id;
    // An extension of duroxide's shape (written only when set): the explicit sessions open when
    // the previous execution continued as new (they stay open; set, even empty, once the
    // instance has opened any session, which keeps it in explicit session mode).
    std::optional<std::vector<std::string>> open_sessions;
    DUROXIDE_EQ(OrchestrationStarted);
};
struct OrchestrationCompleted {
    std::string output;
    DUROXIDE_EQ(OrchestrationCompleted);
};
struct OrchestrationFailed {
    ErrorDetails details;
    DUROXIDE_EQ(OrchestrationFailed);
};
struct ActivityScheduled {
    std::string name, input;
    std::optional<std::string> session_id, tag;
    DUROXIDE_EQ(ActivityScheduled);
};
struct ActivityCompleted {
    std::string result;
    DUROXIDE_EQ(ActivityCompleted);
};
struct ActivityFailed {
    ErrorDetails details;
    DUROXIDE_EQ(ActivityFailed);
};
struct ActivityCancelRequested {
    std::string reason;
    DUROXIDE_EQ(ActivityCancelRequested);
};
struct TimerCreated {
    uint64_t fire_at_ms = 0;
    DUROXIDE_EQ(TimerCreated);
};
struct TimerFired {
    uint64_t fire_at_ms = 0;
    DUROXIDE_EQ(TimerFired);
};
struct ExternalSubscribed {
    std::string name;
    DUROXIDE_EQ(ExternalSubscribed);
};
struct ExternalEvent {
    std::string name, data;
    DUROXIDE_EQ(ExternalEvent);
};
struct OrchestrationChained {
    std::string name, instance, input;
    DUROXIDE_EQ(OrchestrationChained);
};
struct SubOrchestrationScheduled {
    std::string name, instance, input;
    DUROXIDE_EQ(SubOrchestrationScheduled);
};
struct SubOrchestrationCompleted {
    std::string result;
    DUROXIDE_EQ(SubOrchestrationCompleted);
};
struct SubOrchestrationFailed {
    ErrorDetails details;
    DUROXIDE_EQ(SubOrchestrationFailed);
};
struct SubOrchestrationCancelRequested {
    std::string reason;
    DUROXIDE_EQ(SubOrchestrationCancelRequested);
};
struct OrchestrationContinuedAsNew {
    std::string input;
    DUROXIDE_EQ(OrchestrationContinuedAsNew);
};
struct OrchestrationCancelRequested {
    std::string reason;
    DUROXIDE_EQ(OrchestrationCancelRequested);
};
struct ExternalSubscribedCancelled {
    std::string reason;
    DUROXIDE_EQ(ExternalSubscribedCancelled);
};
struct QueueSubscribed {
    std::string name;
    DUROXIDE_EQ(QueueSubscribed);
};
struct QueueEventDelivered {
    std::string name, data;
    DUROXIDE_EQ(QueueEventDelivered);
};
struct QueueSubscriptionCancelled {
    std::string reason;
    DUROXIDE_EQ(QueueSubscriptionCancelled);
};
struct CustomStatusUpdated {
    std::optional<std::string> status; // nullopt = reset
    DUROXIDE_EQ(CustomStatusUpdated);
};
struct KeyValueSet {
    std::string key, value;
    uint64_t last_updated_at_ms = 0;
    DUROXIDE_EQ(KeyValueSet);
};
struct KeyValueCleared {
    std::string key;
    DUROXIDE_EQ(KeyValueCleared);
};
struct KeyValuesCleared {
    DUROXIDE_EQ(KeyValuesCleared);
};
// Explicit activity sessions (OrchestrationContext::open_session / close_session).
struct SessionOpened {
    std::string session_id;
    DUROXIDE_EQ(SessionOpened);
};
struct SessionClosed {
    std::string session_id;
    DUROXIDE_EQ(SessionClosed);
};
} // namespace events

using EventKind =
    std::variant<events::OrchestrationStarted, events::OrchestrationCompleted,
                 events::OrchestrationFailed, events::ActivityScheduled, events::ActivityCompleted,
                 events::ActivityFailed, events::ActivityCancelRequested, events::TimerCreated,
                 events::TimerFired, events::ExternalSubscribed, events::ExternalEvent,
                 events::OrchestrationChained, events::SubOrchestrationScheduled,
                 events::SubOrchestrationCompleted, events::SubOrchestrationFailed,
                 events::SubOrchestrationCancelRequested, events::OrchestrationContinuedAsNew,
                 events::OrchestrationCancelRequested, events::ExternalSubscribedCancelled,
                 events::QueueSubscribed, events::QueueEventDelivered,
                 events::QueueSubscriptionCancelled, events::CustomStatusUpdated,
                 events::KeyValueSet, events::KeyValueCleared, events::KeyValuesCleared,
                 events::SessionOpened, events::SessionClosed>;

struct Event {
    uint64_t event_id = 0;
    std::optional<uint64_t> source_event_id;
    std::string instance_id;
    uint64_t execution_id = 0;
    uint64_t timestamp_ms = 0;
    std::string duroxide_version;
    EventKind kind;

    // Completed, Failed or ContinuedAsNew: the execution is over.
    bool is_terminal() const;
    // The reason of a cancellation breadcrumb (ActivityCancelRequested,
    // SubOrchestrationCancelRequested, ExternalSubscribedCancelled, QueueSubscriptionCancelled);
    // nullptr for every other kind.
    const std::string* cancellation_reason() const;
    // The JSON "type" tag, e.g. "ActivityScheduled", "ExternalSubscribedPersistent".
    const char* type_name() const;
    DUROXIDE_EQ(Event);
};

// The "type" tag of kind index `index` (EventKind's alternative order).
const char* event_type_name(std::size_t index);

#undef DUROXIDE_EQ

} // namespace duroxide::core
