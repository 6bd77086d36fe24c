// The codec's field descriptions (core/codec/wire_fields.hpp), from the value side: every event
// kind and work item built in C++ with every field set survives encode then decode, a few
// encode to JSON written out here, and the decoder names the field a description lists when
// it is missing. (codec_event_test / codec_work_items_test go from golden JSON instead.)
#include "core/codec/json_codec.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace duroxide::core;
namespace codec = duroxide::core::codec;

namespace {

Event envelope(EventKind kind, std::optional<uint64_t> source = std::nullopt) {
    return Event{.event_id = 4,
                 .source_event_id = source,
                 .instance_id = "inst",
                 .execution_id = 2,
                 .timestamp_ms = 1700000000123,
                 .duroxide_version = "0.1.29",
                 .kind = std::move(kind)};
}

const ErrorDetails kFailure = ErrorDetails::activity_failed("boom");

// One value of every event kind, every optional field set (and a few with none set).
std::vector<Event> every_event() {
    using namespace events;
    return {
        envelope(OrchestrationStarted{.name = "N",
                                      .version = "1.2.3",
                                      .input = "in",
                                      .parent_instance = "p",
                                      .parent_id = 9,
                                      .carry_forward_events = CarryForwardEvents{{"q", "a"}},
                                      .initial_custom_status = "s",
                                      .parent_execution_id = 3,
                                      .open_sessions = std::vector<std::string>{"s1"}}),
        envelope(OrchestrationStarted{.name = "N",
                                      .version = "1.0.0",
                                      .input = "",
                                      .parent_instance = std::nullopt,
                                      .parent_id = std::nullopt,
                                      .carry_forward_events = std::nullopt,
                                      .initial_custom_status = std::nullopt,
                                      .parent_execution_id = std::nullopt,
                                      .open_sessions = std::nullopt}),
        envelope(OrchestrationCompleted{.output = "out"}),
        envelope(OrchestrationFailed{.details = kFailure}),
        envelope(ActivityScheduled{.name = "A", .input = "x", .session_id = "s", .tag = "gpu"}),
        envelope(ActivityCompleted{.result = "r"}, 3),
        envelope(ActivityFailed{.details = kFailure}, 3),
        envelope(ActivityCancelRequested{.reason = "dropped_future"}, 3),
        envelope(TimerCreated{.fire_at_ms = 99}),
        envelope(TimerFired{.fire_at_ms = 99}, 3),
        envelope(ExternalSubscribed{.name = "Go"}),
        envelope(ExternalEvent{.name = "Go", .data = "d"}),
        envelope(OrchestrationChained{.name = "C", .instance = "c1", .input = "i"}),
        envelope(SubOrchestrationScheduled{.name = "C", .instance = "c2", .input = "i"}),
        envelope(SubOrchestrationCompleted{.result = "r"}, 3),
        envelope(SubOrchestrationFailed{.details = kFailure}, 3),
        envelope(SubOrchestrationCancelRequested{.reason = "dropped_future"}, 3),
        envelope(OrchestrationContinuedAsNew{.input = "next"}),
        envelope(OrchestrationCancelRequested{.reason = "user"}),
        envelope(ExternalSubscribedCancelled{.reason = "orchestration_terminal"}, 3),
        envelope(QueueSubscribed{.name = "q"}),
        envelope(QueueEventDelivered{.name = "q", .data = "m"}),
        envelope(QueueSubscriptionCancelled{.reason = "orchestration_terminal"}, 3),
        envelope(CustomStatusUpdated{.status = "st"}),
        envelope(CustomStatusUpdated{.status = std::nullopt}),
        envelope(KeyValueSet{.key = "k", .value = "v", .last_updated_at_ms = 5}),
        envelope(KeyValueCleared{.key = "k"}),
        envelope(KeyValuesCleared{}),
        envelope(SessionOpened{.session_id = "s"}),
        envelope(SessionClosed{.session_id = "s"}),
    };
}

std::vector<WorkItem> every_work_item() {
    using namespace work;
    return {
        {StartOrchestration{.instance = "c",
                            .orchestration = "O",
                            .input = "x",
                            .version = "2.0.0",
                            .parent_instance = "p",
                            .parent_id = 2,
                            .execution_id = 1,
                            .parent_execution_id = 7}},
        {StartOrchestration{.instance = "i",
                            .orchestration = "O",
                            .input = "x",
                            .version = std::nullopt,
                            .parent_instance = std::nullopt,
                            .parent_id = std::nullopt,
                            .execution_id = 1,
                            .parent_execution_id = std::nullopt}},
        {ActivityExecute{.instance = "i",
                         .execution_id = 1,
                         .id = 2,
                         .name = "A",
                         .input = "x",
                         .session_id = "s",
                         .tag = "t"}},
        {ActivityCompleted{.instance = "i", .execution_id = 1, .id = 2, .result = "r"}},
        {ActivityFailed{.instance = "i", .execution_id = 1, .id = 2, .details = kFailure}},
        {TimerFired{.instance = "i", .execution_id = 1, .id = 3, .fire_at_ms = 42}},
        {ExternalRaised{.instance = "i", .name = "Go", .data = "d"}},
        {SubOrchCompleted{
            .parent_instance = "p", .parent_execution_id = 1, .parent_id = 2, .result = "r"}},
        {SubOrchFailed{
            .parent_instance = "p", .parent_execution_id = 1, .parent_id = 2, .details = kFailure}},
        {CancelInstance{.instance = "i", .reason = "user"}},
        {ContinueAsNew{.instance = "i",
                       .orchestration = "L",
                       .input = "1",
                       .version = "1.0.0",
                       .carry_forward_events = {{"q", "m"}},
                       .initial_custom_status = "s",
                       .open_sessions = std::vector<std::string>{}}},
        {QueueMessage{.instance = "i", .name = "q", .data = "m"}},
    };
}

} // namespace

TEST(CodecFields, EveryEventKindRoundTripsFromItsValue) {
    std::set<std::size_t> kinds;
    for (const Event& event : every_event()) {
        const std::string json = codec::encode(event);
        SCOPED_TRACE(json);
        EXPECT_EQ(codec::decode_event(json), event);
        EXPECT_EQ(codec::encode(codec::decode_event(json)), json);
        kinds.insert(event.kind.index());
    }
    EXPECT_EQ(kinds.size(), std::variant_size_v<EventKind>) << "a kind has no value here";
}

TEST(CodecFields, EveryWorkItemRoundTripsFromItsValue) {
    std::set<std::size_t> kinds;
    for (const WorkItem& item : every_work_item()) {
        const std::string json = codec::encode(item);
        SCOPED_TRACE(json);
        EXPECT_EQ(codec::decode_work_item(json), item);
        EXPECT_EQ(codec::encode(codec::decode_work_item(json)), json);
        kinds.insert(item.kind.index());
    }
    EXPECT_EQ(kinds.size(), std::variant_size_v<WorkItemKind>) << "a type has no value here";
}

TEST(CodecFields, EventsEncodeToTheWireText) {
    const std::vector<Event> events = every_event();
    const std::string env = R"("event_id":4,"source_event_id":null,"instance_id":"inst",)"
                            R"("execution_id":2,"timestamp_ms":1700000000123,)"
                            R"("duroxide_version":"0.1.29",)";
    // Extensions (parent_execution_id, open_sessions) follow duroxide's fields.
    EXPECT_EQ(codec::encode(events[0]),
              "{" + env +
                  R"("type":"OrchestrationStarted","name":"N","version":"1.2.3","input":"in",)"
                  R"("parent_instance":"p","parent_id":9,"carry_forward_events":[["q","a"]],)"
                  R"("initial_custom_status":"s","parent_execution_id":3,"open_sessions":["s1"]})");
    // Absent: parent_instance and parent_id are null, the later additions left out.
    EXPECT_EQ(codec::encode(events[1]),
              "{" + env +
                  R"("type":"OrchestrationStarted","name":"N","version":"1.0.0","input":"",)"
                  R"("parent_instance":null,"parent_id":null})");
    EXPECT_EQ(codec::encode(events[24]),
              "{" + env + R"("type":"CustomStatusUpdated","status":null})");
    EXPECT_EQ(codec::encode(events[27]), "{" + env + R"("type":"KeyValuesCleared"})");
    // A renamed kind keeps duroxide's tag.
    EXPECT_EQ(codec::encode(events[21]),
              "{" + env + R"("type":"ExternalEventPersistent","name":"q","data":"m"})");
    EXPECT_EQ(codec::encode(events[6]),
              R"({"event_id":4,"source_event_id":3,"instance_id":"inst","execution_id":2,)"
              R"("timestamp_ms":1700000000123,"duroxide_version":"0.1.29","type":"ActivityFailed",)"
              R"("details":{"Application":{"kind":"ActivityFailed","message":"boom",)"
              R"("retryable":false}}})");
}

TEST(CodecFields, WorkItemsEncodeToTheWireText) {
    const std::vector<WorkItem> items = every_work_item();
    EXPECT_EQ(codec::encode(items[0]),
              R"({"StartOrchestration":{"instance":"c","orchestration":"O","input":"x",)"
              R"("version":"2.0.0","parent_instance":"p","parent_id":2,"execution_id":1,)"
              R"("parent_execution_id":7}})");
    EXPECT_EQ(codec::encode(items[1]),
              R"({"StartOrchestration":{"instance":"i","orchestration":"O","input":"x",)"
              R"("version":null,"parent_instance":null,"parent_id":null,"execution_id":1}})");
    EXPECT_EQ(codec::encode(items[2]),
              R"({"ActivityExecute":{"instance":"i","execution_id":1,"id":2,"name":"A",)"
              R"("input":"x","session_id":"s","tag":"t"}})");
    EXPECT_EQ(codec::encode(items[10]),
              R"({"ContinueAsNew":{"instance":"i","orchestration":"L","input":"1",)"
              R"("version":"1.0.0","carry_forward_events":[["q","m"]],)"
              R"("initial_custom_status":"s","open_sessions":[]}})");
}

TEST(CodecFields, TheDecoderNamesTheDescribedFieldThatIsMissing) {
    // The first field of the description that is missing or mistyped is the error.
    const std::string env = R"("event_id":1,"source_event_id":null,"instance_id":"i",)"
                            R"("execution_id":1,"timestamp_ms":0,"duroxide_version":"0.1.29",)";
    try {
        codec::decode_event("{" + env + R"("type":"ActivityScheduled","name":"A"})");
        FAIL() << "decoded an ActivityScheduled without input";
    } catch (const codec::CodecError& e) {
        EXPECT_STREQ(e.what(), R"(Event: missing field "input")");
    }
    try {
        codec::decode_work_item(
            R"({"TimerFired":{"instance":"i","execution_id":1,"id":"3","fire_at_ms":1}})");
        FAIL() << "decoded a TimerFired with a string id";
    } catch (const codec::CodecError& e) {
        EXPECT_STREQ(e.what(), R"(WorkItem: field "id" must be a non-negative integer)");
    }
    EXPECT_THROW(codec::decode_event("{" + env + R"("type":"Unknown"})"), codec::CodecError);
    EXPECT_THROW(codec::decode_work_item(R"({"Unknown":{}})"), codec::CodecError);
}
