// Golden JSON for every event kind: decoding then encoding gives back the exact bytes duroxide
// writes, and decoded fields hold the right values.
#include "core/codec/json_codec.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace duroxide::core;
namespace codec = duroxide::core::codec;

namespace {

const std::string kEnvelope =
    R"("event_id":2,"source_event_id":null,"instance_id":"i","execution_id":1,)"
    R"("timestamp_ms":1700000000000,"duroxide_version":"0.1.29",)";
const std::string kEnvelopeWithSource =
    R"("event_id":3,"source_event_id":2,"instance_id":"i","execution_id":1,)"
    R"("timestamp_ms":1700000000000,"duroxide_version":"0.1.29",)";

std::string event_json(const std::string& envelope, const std::string& kind) {
    return "{" + envelope + kind + "}";
}

struct Golden {
    const char* type;
    std::string json;
};

std::vector<Golden> goldens() {
    return {
        {"OrchestrationStarted",
         event_json(kEnvelope,
                    R"("type":"OrchestrationStarted","name":"HelloWorld","version":"1.0.0",)"
                    R"("input":"World","parent_instance":null,"parent_id":null)")},
        {"OrchestrationStarted",
         event_json(
             kEnvelope,
             R"("type":"OrchestrationStarted","name":"Child","version":"2.1.0","input":"x",)"
             R"("parent_instance":"p","parent_id":7,"carry_forward_events":[["q","a"],["q","b"]],)"
             R"("initial_custom_status":"s")")},
        {"OrchestrationCompleted",
         event_json(kEnvelope, R"("type":"OrchestrationCompleted","output":"Hello, World!")")},
        {"OrchestrationFailed",
         event_json(kEnvelope, R"("type":"OrchestrationFailed","details":{"Application":{"kind":)"
                               R"("OrchestrationFailed","message":"boom","retryable":false}})")},
        {"ActivityScheduled",
         event_json(kEnvelope, R"("type":"ActivityScheduled","name":"Hello","input":"Rust")")},
        {"ActivityScheduled",
         event_json(kEnvelope, R"("type":"ActivityScheduled","name":"Gpu","input":"m",)"
                               R"("session_id":"s1","tag":"gpu")")},
        {"ActivityCompleted",
         event_json(kEnvelopeWithSource, R"("type":"ActivityCompleted","result":"Hello, Rust!")")},
        {"ActivityFailed", event_json(kEnvelopeWithSource,
                                      R"("type":"ActivityFailed","details":{"Application":{"kind":)"
                                      R"("ActivityFailed","message":"boom","retryable":false}})")},
        {"ActivityCancelRequested",
         event_json(kEnvelopeWithSource,
                    R"("type":"ActivityCancelRequested","reason":"dropped_future")")},
        {"TimerCreated",
         event_json(kEnvelope, R"("type":"TimerCreated","fire_at_ms":1700000000020)")},
        {"TimerFired",
         event_json(kEnvelopeWithSource, R"("type":"TimerFired","fire_at_ms":1700000000020)")},
        {"ExternalSubscribed", event_json(kEnvelope, R"("type":"ExternalSubscribed","name":"Go")")},
        {"ExternalEvent",
         event_json(kEnvelope, R"("type":"ExternalEvent","name":"Go","data":"ok")")},
        {"OrchestrationChained",
         event_json(
             kEnvelope,
             R"("type":"OrchestrationChained","name":"Chained","instance":"W1","input":"A")")},
        {"SubOrchestrationScheduled",
         event_json(kEnvelope, R"("type":"SubOrchestrationScheduled","name":"ChildUpper",)"
                               R"("instance":"p::sub::2","input":"hi")")},
        {"SubOrchestrationCompleted",
         event_json(kEnvelopeWithSource, R"("type":"SubOrchestrationCompleted","result":"HI")")},
        {"SubOrchestrationFailed",
         event_json(
             kEnvelopeWithSource,
             R"("type":"SubOrchestrationFailed","details":{"Application":{"kind":{"Cancelled":)"
             R"({"reason":"parent canceled"}},"message":"","retryable":false}})")},
        {"SubOrchestrationCancelRequested",
         event_json(kEnvelopeWithSource,
                    R"("type":"SubOrchestrationCancelRequested","reason":"dropped_future")")},
        {"OrchestrationContinuedAsNew",
         event_json(kEnvelope, R"("type":"OrchestrationContinuedAsNew","input":"1")")},
        {"OrchestrationCancelRequested",
         event_json(kEnvelope, R"("type":"OrchestrationCancelRequested","reason":"user_request")")},
        {"ExternalSubscribedCancelled",
         event_json(kEnvelopeWithSource,
                    R"("type":"ExternalSubscribedCancelled","reason":"orchestration_terminal")")},
        {"ExternalSubscribedPersistent",
         event_json(kEnvelope, R"("type":"ExternalSubscribedPersistent","name":"Signal")")},
        {"ExternalEventPersistent",
         event_json(kEnvelope,
                    R"("type":"ExternalEventPersistent","name":"Signal","data":"early_bird")")},
        {"ExternalSubscribedPersistentCancelled",
         event_json(kEnvelopeWithSource,
                    R"("type":"ExternalSubscribedPersistentCancelled","reason":"dropped_future")")},
        {"CustomStatusUpdated",
         event_json(kEnvelope, R"("type":"CustomStatusUpdated","status":"v1")")},
        {"CustomStatusUpdated",
         event_json(kEnvelope, R"("type":"CustomStatusUpdated","status":null)")},
        {"KeyValueSet",
         event_json(
             kEnvelope,
             R"("type":"KeyValueSet","key":"k","value":"v","last_updated_at_ms":1700000000001)")},
        {"KeyValueCleared", event_json(kEnvelope, R"("type":"KeyValueCleared","key":"k")")},
        {"KeyValuesCleared", event_json(kEnvelope, R"("type":"KeyValuesCleared")")},
        {"SessionOpened", event_json(kEnvelope, R"("type":"SessionOpened","session_id":"s1")")},
        {"SessionClosed", event_json(kEnvelope, R"("type":"SessionClosed","session_id":"s1")")},
        // Our extension: the sessions a continued execution starts with (omitted when unset).
        {"OrchestrationStarted",
         event_json(kEnvelope,
                    R"("type":"OrchestrationStarted","name":"Loop","version":"1.0.0","input":"2",)"
                    R"("parent_instance":null,"parent_id":null,"open_sessions":["a","b"])")},
    };
}

} // namespace

TEST(EventCodec, EveryKindRoundTripsToTheSameBytes) {
    std::set<std::string> kinds_seen;
    for (const auto& golden : goldens()) {
        SCOPED_TRACE(golden.json);
        Event event = codec::decode_event(golden.json);
        EXPECT_STREQ(event.type_name(), golden.type);
        EXPECT_EQ(codec::encode(event), golden.json);
        kinds_seen.insert(golden.type);
    }
    EXPECT_EQ(kinds_seen.size(), std::variant_size_v<EventKind>) << "a kind has no golden";
}

TEST(EventCodec, DecodesEnvelopeAndFields) {
    Event started = codec::decode_event(goldens()[1].json);
    EXPECT_EQ(started.event_id, 2u);
    EXPECT_FALSE(started.source_event_id);
    EXPECT_EQ(started.instance_id, "i");
    EXPECT_EQ(started.execution_id, 1u);
    EXPECT_EQ(started.timestamp_ms, 1700000000000u);
    const auto& s = std::get<events::OrchestrationStarted>(started.kind);
    EXPECT_EQ(s.name, "Child");
    EXPECT_EQ(s.version, "2.1.0");
    EXPECT_EQ(s.parent_instance, "p");
    EXPECT_EQ(s.parent_id, 7u);
    ASSERT_TRUE(s.carry_forward_events);
    EXPECT_EQ(s.carry_forward_events->size(), 2u);
    EXPECT_EQ((*s.carry_forward_events)[1], std::make_pair(std::string("q"), std::string("b")));
    EXPECT_EQ(s.initial_custom_status, "s");

    Event completed = codec::decode_event(goldens()[6].json);
    EXPECT_EQ(completed.source_event_id, 2u);
    EXPECT_EQ(std::get<events::ActivityCompleted>(completed.kind).result, "Hello, Rust!");

    Event reset = codec::decode_event(goldens()[25].json);
    EXPECT_FALSE(std::get<events::CustomStatusUpdated>(reset.kind).status);
}

TEST(EventCodec, MissingOptionalFieldsEqualNull) {
    // Older writers omit parent_instance / parent_id; both forms decode the same.
    const std::string without = event_json(
        kEnvelope, R"("type":"OrchestrationStarted","name":"H","version":"1.0.0","input":"x")");
    const std::string with_nulls =
        event_json(kEnvelope, R"("type":"OrchestrationStarted","name":"H","version":"1.0.0",)"
                              R"("input":"x","parent_instance":null,"parent_id":null)");
    EXPECT_EQ(codec::decode_event(without), codec::decode_event(with_nulls));
    EXPECT_EQ(codec::encode(codec::decode_event(without)), with_nulls);
}

TEST(EventCodec, TerminalKinds) {
    for (const auto& golden : goldens()) {
        const Event event = codec::decode_event(golden.json);
        const std::string type = golden.type;
        const bool terminal = type == "OrchestrationCompleted" || type == "OrchestrationFailed" ||
                              type == "OrchestrationContinuedAsNew";
        EXPECT_EQ(event.is_terminal(), terminal) << type;
    }
}

TEST(EventCodec, HistoryRoundTrip) {
    std::vector<Event> history;
    for (const auto& golden : goldens()) {
        history.push_back(codec::decode_event(golden.json));
    }
    const std::string json = codec::encode_history(history);
    EXPECT_EQ(codec::decode_history(json), history);
    EXPECT_EQ(codec::encode_history({}), "[]");
    EXPECT_TRUE(codec::decode_history("[]").empty());
}

TEST(EventCodec, StringsWithQuotesNewlinesAndUnicodeSurvive) {
    Event event{1,
                std::nullopt,
                "inst \"quoted\"",
                1,
                5,
                "0.1.29",
                events::ExternalEvent{"na\nme", "dätä \\ \t \u00e9 \xF0\x9F\x98\x80"}};
    EXPECT_EQ(codec::decode_event(codec::encode(event)), event);
    Event with_nul{
        1, std::nullopt, "i", 1, 5, "0.1.29", events::ActivityCompleted{std::string("a\0b", 3)}};
    EXPECT_EQ(codec::decode_event(codec::encode(with_nul)), with_nul);
}

// The stored form (duroxide.history.event_data): the row's columns hold the keys.
namespace {

codec::StoredEventKeys keys_of(const Event& event) {
    return {.instance_id = event.instance_id,
            .execution_id = event.execution_id,
            .event_id = event.event_id,
            .type = event.type_name()};
}

} // namespace

TEST(StoredEventCodec, EveryKindRoundTripsThroughTheStoredForm) {
    for (const auto& golden : goldens()) {
        SCOPED_TRACE(golden.json);
        const Event event = codec::decode_event(golden.json);
        const std::string stored = codec::encode_stored(event);
        for (const char* key : {"\"event_id\"", "\"instance_id\"", "\"execution_id\"", "\"type\"",
                                "\"duroxide_version\"", "null"}) {
            EXPECT_EQ(stored.find(key), std::string::npos) << key << " in " << stored;
        }
        EXPECT_LT(stored.size(), golden.json.size());
        // Both forms decode to the same event, and the stored form rebuilds the full bytes.
        EXPECT_EQ(codec::decode_stored_event(stored, keys_of(event)), event);
        EXPECT_EQ(codec::decode_stored_event(golden.json, keys_of(event)), event);
        EXPECT_EQ(codec::full_form_of_stored(stored, keys_of(event)), golden.json);
        EXPECT_EQ(codec::encode_stored(codec::decode_stored_event(stored, keys_of(event))), stored);
    }
}

TEST(StoredEventCodec, LeavesOutOnlyWhatTheColumnsHoldAndNulls) {
    const Event completed = codec::decode_event(
        R"({"event_id":3,"source_event_id":2,"instance_id":"i","execution_id":1,)"
        R"("timestamp_ms":1700000000000,"duroxide_version":"0.1.29",)"
        R"("type":"ActivityCompleted","result":"Hello"})");
    EXPECT_EQ(codec::encode_stored(completed),
              R"({"source_event_id":2,"timestamp_ms":1700000000000,"result":"Hello"})");
    const Event started = codec::decode_event(
        R"({"event_id":1,"source_event_id":null,"instance_id":"i","execution_id":4,)"
        R"("timestamp_ms":5,"duroxide_version":"0.1.29","type":"OrchestrationStarted",)"
        R"("name":"N","version":"","input":"","parent_instance":null,"parent_id":null})");
    // Empty strings are values, not defaults: they stay.
    EXPECT_EQ(codec::encode_stored(started),
              R"({"timestamp_ms":5,"name":"N","version":"","input":""})");
}

TEST(StoredEventCodec, AnotherLibraryVersionIsKept) {
    Event event = codec::decode_event(
        R"({"event_id":2,"source_event_id":null,"instance_id":"i","execution_id":1,)"
        R"("timestamp_ms":7,"duroxide_version":"0.2.0","type":"TimerCreated","fire_at_ms":9})");
    const std::string stored = codec::encode_stored(event);
    EXPECT_EQ(stored, R"({"timestamp_ms":7,"duroxide_version":"0.2.0","fire_at_ms":9})");
    EXPECT_EQ(codec::decode_stored_event(stored, keys_of(event)).duroxide_version, "0.2.0");
}

TEST(StoredEventCodec, TheColumnsGiveTheKeys) {
    const codec::StoredEventKeys keys{
        .instance_id = "order-7", .execution_id = 3, .event_id = 12, .type = "ExternalEvent"};
    const Event event =
        codec::decode_stored_event(R"({"timestamp_ms":1,"name":"Go","data":"ok"})", keys);
    EXPECT_EQ(event.instance_id, "order-7");
    EXPECT_EQ(event.execution_id, 3u);
    EXPECT_EQ(event.event_id, 12u);
    EXPECT_FALSE(event.source_event_id);
    EXPECT_EQ(event.duroxide_version, codec::kStoredImpliedVersion);
    ASSERT_TRUE(std::holds_alternative<events::ExternalEvent>(event.kind));
    EXPECT_EQ(std::get<events::ExternalEvent>(event.kind).data, "ok");
}

TEST(StoredEventCodec, RefusesWhatIsNeitherForm) {
    const codec::StoredEventKeys keys{
        .instance_id = "i", .execution_id = 1, .event_id = 2, .type = "ActivityCompleted"};
    // The stored form still needs its own fields and a known type.
    EXPECT_THROW(codec::decode_stored_event(R"({"result":"x"})", keys), codec::CodecError);
    EXPECT_THROW(codec::decode_stored_event(R"({"timestamp_ms":1})", keys), codec::CodecError);
    EXPECT_THROW(codec::decode_stored_event(R"({"timestamp_ms":1,"result":"x"})",
                                            {.instance_id = "i", .type = "NoSuchKind"}),
                 codec::CodecError);
    EXPECT_THROW(codec::decode_stored_event("not json", keys), codec::CodecError);
    EXPECT_THROW(codec::full_form_of_stored(R"({"result":"x"})", keys), codec::CodecError);
    // What is not the stored form is left to the caller as it is.
    EXPECT_EQ(codec::full_form_of_stored("not json", keys), std::nullopt);
    EXPECT_EQ(codec::full_form_of_stored("[1]", keys), std::nullopt);
    EXPECT_EQ(codec::full_form_of_stored(goldens()[6].json, keys), std::nullopt);
}
