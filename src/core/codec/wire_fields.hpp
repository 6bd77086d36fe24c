// The wire description of every event kind, work item and action: for each type, its JSON
// fields in wire order, each a {wire name, member pointer, how an absent optional is written}.
// The encoder and the decoder of json_codec.cpp both walk these lists, so a field's name and
// place are written once. How a field is written and read follows from its member's type:
//
//   std::string, uint64_t              required
//   std::optional<std::string|uint64_t> null when absent (field) or left out (omitted); on
//                                       input a missing field and null are the same
//   CarryForwardEvents                 an array of [queue, data] pairs; missing reads as empty
//   std::optional<CarryForwardEvents>,
//   std::optional<std::vector<std::string>>  left out when absent (only `omitted` is used)
//   ErrorDetails                       externally tagged (json_codec.hpp)
//
// The type tags come from the model (event_type_name, work_item_type_name, action_type_name).
#pragma once

#include "core/model/action.hpp"
#include "core/model/event.hpp"
#include "core/model/work_item.hpp"

#include <tuple>

namespace duroxide::core::codec::wire {

// How an absent optional field is written: as null, or not at all.
enum class Absent { Null, Omit };

template <class T, class M>
struct Field {
    const char* name;
    M T::*member;
    Absent absent;
};

template <class T, class M>
constexpr Field<T, M> field(const char* name, M T::*member) {
    return {name, member, Absent::Null};
}
template <class T, class M>
constexpr Field<T, M> omitted(const char* name, M T::*member) {
    return {name, member, Absent::Omit};
}

// Fields<T>::list: T's fields, in wire order.
template <class T>
struct Fields;

// The envelope of every event, followed on the wire by "type" and the kind's fields.
template <>
struct Fields<Event> {
    using T = Event;
    static constexpr auto list = std::make_tuple(
        field("event_id", &T::event_id), field("source_event_id", &T::source_event_id),
        field("instance_id", &T::instance_id), field("execution_id", &T::execution_id),
        field("timestamp_ms", &T::timestamp_ms), field("duroxide_version", &T::duroxide_version));
};

// --- event kinds

template <>
struct Fields<events::OrchestrationStarted> {
    using T = events::OrchestrationStarted;
    static constexpr auto list = std::make_tuple(
        field("name", &T::name), field("version", &T::version), field("input", &T::input),
        field("parent_instance", &T::parent_instance), field("parent_id", &T::parent_id),
        omitted("carry_forward_events", &T::carry_forward_events),
        omitted("initial_custom_status", &T::initial_custom_status),
        omitted("parent_execution_id", &T::parent_execution_id),
        omitted("open_sessions", &T::open_sessions));
};
template <>
struct Fields<events::OrchestrationCompleted> {
    static constexpr auto list =
        std::make_tuple(field("output", &events::OrchestrationCompleted::output));
};
template <>
struct Fields<events::OrchestrationFailed> {
    static constexpr auto list =
        std::make_tuple(field("details", &events::OrchestrationFailed::details));
};
template <>
struct Fields<events::ActivityScheduled> {
    using T = events::ActivityScheduled;
    static constexpr auto list =
        std::make_tuple(field("name", &T::name), field("input", &T::input),
                        omitted("session_id", &T::session_id), omitted("tag", &T::tag));
};
template <>
struct Fields<events::ActivityCompleted> {
    static constexpr auto list =
        std::make_tuple(field("result", &events::ActivityCompleted::result));
};
template <>
struct Fields<events::ActivityFailed> {
    static constexpr auto list =
        std::make_tuple(field("details", &events::ActivityFailed::details));
};
template <>
struct Fields<events::ActivityCancelRequested> {
    static constexpr auto list =
        std::make_tuple(field("reason", &events::ActivityCancelRequested::reason));
};
template <>
struct Fields<events::TimerCreated> {
    static constexpr auto list =
        std::make_tuple(field("fire_at_ms", &events::TimerCreated::fire_at_ms));
};
template <>
struct Fields<events::TimerFired> {
    static constexpr auto list =
        std::make_tuple(field("fire_at_ms", &events::TimerFired::fire_at_ms));
};
template <>
struct Fields<events::ExternalSubscribed> {
    static constexpr auto list = std::make_tuple(field("name", &events::ExternalSubscribed::name));
};
template <>
struct Fields<events::ExternalEvent> {
    using T = events::ExternalEvent;
    static constexpr auto list = std::make_tuple(field("name", &T::name), field("data", &T::data));
};
template <>
struct Fields<events::OrchestrationChained> {
    using T = events::OrchestrationChained;
    static constexpr auto list = std::make_tuple(
        field("name", &T::name), field("instance", &T::instance), field("input", &T::input));
};
template <>
struct Fields<events::SubOrchestrationScheduled> {
    using T = events::SubOrchestrationScheduled;
    static constexpr auto list = std::make_tuple(
        field("name", &T::name), field("instance", &T::instance), field("input", &T::input));
};
template <>
struct Fields<events::SubOrchestrationCompleted> {
    static constexpr auto list =
        std::make_tuple(field("result", &events::SubOrchestrationCompleted::result));
};
template <>
struct Fields<events::SubOrchestrationFailed> {
    static constexpr auto list =
        std::make_tuple(field("details", &events::SubOrchestrationFailed::details));
};
template <>
struct Fields<events::SubOrchestrationCancelRequested> {
    static constexpr auto list =
        std::make_tuple(field("reason", &events::SubOrchestrationCancelRequested::reason));
};
template <>
struct Fields<events::OrchestrationContinuedAsNew> {
    static constexpr auto list =
        std::make_tuple(field("input", &events::OrchestrationContinuedAsNew::input));
};
template <>
struct Fields<events::OrchestrationCancelRequested> {
    static constexpr auto list =
        std::make_tuple(field("reason", &events::OrchestrationCancelRequested::reason));
};
template <>
struct Fields<events::ExternalSubscribedCancelled> {
    static constexpr auto list =
        std::make_tuple(field("reason", &events::ExternalSubscribedCancelled::reason));
};
template <>
struct Fields<events::QueueSubscribed> {
    static constexpr auto list = std::make_tuple(field("name", &events::QueueSubscribed::name));
};
template <>
struct Fields<events::QueueEventDelivered> {
    using T = events::QueueEventDelivered;
    static constexpr auto list = std::make_tuple(field("name", &T::name), field("data", &T::data));
};
template <>
struct Fields<events::QueueSubscriptionCancelled> {
    static constexpr auto list =
        std::make_tuple(field("reason", &events::QueueSubscriptionCancelled::reason));
};
template <>
struct Fields<events::CustomStatusUpdated> {
    static constexpr auto list =
        std::make_tuple(field("status", &events::CustomStatusUpdated::status));
};
template <>
struct Fields<events::KeyValueSet> {
    using T = events::KeyValueSet;
    static constexpr auto list =
        std::make_tuple(field("key", &T::key), field("value", &T::value),
                        field("last_updated_at_ms", &T::last_updated_at_ms));
};
template <>
struct Fields<events::KeyValueCleared> {
    static constexpr auto list = std::make_tuple(field("key", &events::KeyValueCleared::key));
};
template <>
struct Fields<events::KeyValuesCleared> {
    static constexpr auto list = std::make_tuple();
};
template <>
struct Fields<events::SessionOpened> {
    static constexpr auto list =
        std::make_tuple(field("session_id", &events::SessionOpened::session_id));
};
template <>
struct Fields<events::SessionClosed> {
    static constexpr auto list =
        std::make_tuple(field("session_id", &events::SessionClosed::session_id));
};

// --- work items

template <>
struct Fields<work::StartOrchestration> {
    using T = work::StartOrchestration;
    static constexpr auto list =
        std::make_tuple(field("instance", &T::instance), field("orchestration", &T::orchestration),
                        field("input", &T::input), field("version", &T::version),
                        field("parent_instance", &T::parent_instance),
                        field("parent_id", &T::parent_id), field("execution_id", &T::execution_id),
                        omitted("parent_execution_id", &T::parent_execution_id));
};
template <>
struct Fields<work::ActivityExecute> {
    using T = work::ActivityExecute;
    static constexpr auto list =
        std::make_tuple(field("instance", &T::instance), field("execution_id", &T::execution_id),
                        field("id", &T::id), field("name", &T::name), field("input", &T::input),
                        omitted("session_id", &T::session_id), omitted("tag", &T::tag));
};
template <>
struct Fields<work::ActivityCompleted> {
    using T = work::ActivityCompleted;
    static constexpr auto list =
        std::make_tuple(field("instance", &T::instance), field("execution_id", &T::execution_id),
                        field("id", &T::id), field("result", &T::result));
};
template <>
struct Fields<work::ActivityFailed> {
    using T = work::ActivityFailed;
    static constexpr auto list =
        std::make_tuple(field("instance", &T::instance), field("execution_id", &T::execution_id),
                        field("id", &T::id), field("details", &T::details));
};
template <>
struct Fields<work::TimerFired> {
    using T = work::TimerFired;
    static constexpr auto list =
        std::make_tuple(field("instance", &T::instance), field("execution_id", &T::execution_id),
                        field("id", &T::id), field("fire_at_ms", &T::fire_at_ms));
};
template <>
struct Fields<work::ExternalRaised> {
    using T = work::ExternalRaised;
    static constexpr auto list = std::make_tuple(field("instance", &T::instance),
                                                 field("name", &T::name), field("data", &T::data));
};
template <>
struct Fields<work::SubOrchCompleted> {
    using T = work::SubOrchCompleted;
    static constexpr auto list =
        std::make_tuple(field("parent_instance", &T::parent_instance),
                        field("parent_execution_id", &T::parent_execution_id),
                        field("parent_id", &T::parent_id), field("result", &T::result));
};
template <>
struct Fields<work::SubOrchFailed> {
    using T = work::SubOrchFailed;
    static constexpr auto list =
        std::make_tuple(field("parent_instance", &T::parent_instance),
                        field("parent_execution_id", &T::parent_execution_id),
                        field("parent_id", &T::parent_id), field("details", &T::details));
};
template <>
struct Fields<work::CancelInstance> {
    using T = work::CancelInstance;
    static constexpr auto list =
        std::make_tuple(field("instance", &T::instance), field("reason", &T::reason));
};
template <>
struct Fields<work::ContinueAsNew> {
    using T = work::ContinueAsNew;
    static constexpr auto list =
        std::make_tuple(field("instance", &T::instance), field("orchestration", &T::orchestration),
                        field("input", &T::input), field("version", &T::version),
                        field("carry_forward_events", &T::carry_forward_events),
                        omitted("initial_custom_status", &T::initial_custom_status),
                        omitted("open_sessions", &T::open_sessions));
};
template <>
struct Fields<work::QueueMessage> {
    using T = work::QueueMessage;
    static constexpr auto list = std::make_tuple(field("instance", &T::instance),
                                                 field("name", &T::name), field("data", &T::data));
};

// --- actions

template <>
struct Fields<actions::CallActivity> {
    using T = actions::CallActivity;
    static constexpr auto list = std::make_tuple(
        field("scheduling_event_id", &T::scheduling_event_id), field("name", &T::name),
        field("input", &T::input), omitted("session_id", &T::session_id), omitted("tag", &T::tag));
};
template <>
struct Fields<actions::CreateTimer> {
    using T = actions::CreateTimer;
    static constexpr auto list = std::make_tuple(
        field("scheduling_event_id", &T::scheduling_event_id), field("fire_at_ms", &T::fire_at_ms));
};
template <>
struct Fields<actions::WaitExternal> {
    using T = actions::WaitExternal;
    static constexpr auto list = std::make_tuple(
        field("scheduling_event_id", &T::scheduling_event_id), field("name", &T::name));
};
template <>
struct Fields<actions::StartOrchestrationDetached> {
    using T = actions::StartOrchestrationDetached;
    static constexpr auto list = std::make_tuple(
        field("scheduling_event_id", &T::scheduling_event_id), field("name", &T::name),
        field("version", &T::version), field("instance", &T::instance), field("input", &T::input));
};
template <>
struct Fields<actions::StartSubOrchestration> {
    using T = actions::StartSubOrchestration;
    static constexpr auto list = std::make_tuple(
        field("scheduling_event_id", &T::scheduling_event_id), field("name", &T::name),
        field("version", &T::version), field("instance", &T::instance), field("input", &T::input));
};
template <>
struct Fields<actions::ContinueAsNew> {
    using T = actions::ContinueAsNew;
    static constexpr auto list =
        std::make_tuple(field("input", &T::input), field("version", &T::version));
};
template <>
struct Fields<actions::UpdateCustomStatus> {
    static constexpr auto list =
        std::make_tuple(field("status", &actions::UpdateCustomStatus::status));
};
template <>
struct Fields<actions::DequeueEvent> {
    using T = actions::DequeueEvent;
    static constexpr auto list = std::make_tuple(
        field("scheduling_event_id", &T::scheduling_event_id), field("name", &T::name));
};
template <>
struct Fields<actions::SetKeyValue> {
    using T = actions::SetKeyValue;
    static constexpr auto list =
        std::make_tuple(field("key", &T::key), field("value", &T::value),
                        field("last_updated_at_ms", &T::last_updated_at_ms));
};
template <>
struct Fields<actions::ClearKeyValue> {
    static constexpr auto list = std::make_tuple(field("key", &actions::ClearKeyValue::key));
};
template <>
struct Fields<actions::ClearKeyValues> {
    static constexpr auto list = std::make_tuple();
};

} // namespace duroxide::core::codec::wire
