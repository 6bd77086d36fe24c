// Golden JSON for every work item, action and error-details variant, and hostile input.
#include "core/codec/json_codec.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace duroxide::core;
namespace codec = duroxide::core::codec;

TEST(WorkItemCodec, EveryVariantRoundTripsToTheSameBytes) {
    const std::vector<std::string> goldens = {
        R"({"StartOrchestration":{"instance":"i","orchestration":"HelloWorld","input":"World",)"
        R"("version":null,"parent_instance":null,"parent_id":null,"execution_id":1}})",
        R"({"StartOrchestration":{"instance":"p::sub::2","orchestration":"Child","input":"x",)"
        R"("version":"2.0.0","parent_instance":"p","parent_id":2,"execution_id":1}})",
        R"({"ActivityExecute":{"instance":"i","execution_id":1,"id":2,"name":"Hello","input":"Rust"}})",
        R"({"ActivityExecute":{"instance":"i","execution_id":1,"id":2,"name":"Hello","input":"Rust",)"
        R"("session_id":"s","tag":"gpu"}})",
        R"({"ActivityCompleted":{"instance":"i","execution_id":1,"id":2,"result":"ok"}})",
        R"({"ActivityFailed":{"instance":"i","execution_id":1,"id":2,"details":{"Application":)"
        R"({"kind":"ActivityFailed","message":"boom","retryable":false}}}})",
        R"({"TimerFired":{"instance":"i","execution_id":1,"id":3,"fire_at_ms":1700000000020}})",
        R"({"ExternalRaised":{"instance":"i","name":"Go","data":"ok"}})",
        R"({"SubOrchCompleted":{"parent_instance":"p","parent_execution_id":1,"parent_id":2,)"
        R"("result":"HI"}})",
        R"({"SubOrchFailed":{"parent_instance":"p","parent_execution_id":1,"parent_id":2,)"
        R"("details":{"Poison":{"attempt_count":11,"max_attempts":10,"message_type":{"Orchestration":)"
        R"({"instance":"c","execution_id":1}},"message":"[]"}}}})",
        R"({"CancelInstance":{"instance":"i","reason":"user_request"}})",
        R"({"ContinueAsNew":{"instance":"i","orchestration":"Loop","input":"1","version":null,)"
        R"("carry_forward_events":[["q","m1"]],"initial_custom_status":"s"}})",
        R"({"ContinueAsNew":{"instance":"i","orchestration":"Loop","input":"1","version":"1.0.0",)"
        R"("carry_forward_events":[]}})",
        R"({"ContinueAsNew":{"instance":"i","orchestration":"Loop","input":"1","version":null,)"
        R"("carry_forward_events":[],"open_sessions":[]}})",
        R"({"QueueMessage":{"instance":"i","name":"Signal","data":"early_bird"}})",
    };
    std::set<std::string> seen;
    for (const auto& golden : goldens) {
        SCOPED_TRACE(golden);
        WorkItem item = codec::decode_work_item(golden);
        EXPECT_EQ(codec::encode(item), golden);
        seen.insert(item.type_name());
    }
    EXPECT_EQ(seen.size(), std::variant_size_v<WorkItemKind>);
    const auto items = codec::decode_work_items("[" + goldens[0] + "," + goldens[8] + "]");
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].target_instance(), "i");
    EXPECT_EQ(items[1].target_instance(), "p"); // SubOrch* go to the parent's queue
    EXPECT_FALSE(items[0].is_worker_item());
    EXPECT_TRUE(codec::decode_work_item(goldens[2]).is_worker_item());
    EXPECT_EQ(codec::decode_work_items(codec::encode_work_items(items)), items);
}

TEST(WorkItemCodec, CarryForwardDefaultsToEmpty) {
    const auto item = codec::decode_work_item(
        R"({"ContinueAsNew":{"instance":"i","orchestration":"L","input":"1","version":null}})");
    EXPECT_TRUE(std::get<work::ContinueAsNew>(item.kind).carry_forward_events.empty());
}

TEST(ActionCodec, EveryVariantRoundTrips) {
    const std::vector<std::string> goldens = {
        R"({"CallActivity":{"scheduling_event_id":2,"name":"A","input":"x"}})",
        R"({"CallActivity":{"scheduling_event_id":2,"name":"A","input":"x","session_id":"s","tag":"t"}})",
        R"({"CreateTimer":{"scheduling_event_id":3,"fire_at_ms":99}})",
        R"({"WaitExternal":{"scheduling_event_id":4,"name":"Go"}})",
        R"({"StartOrchestrationDetached":{"scheduling_event_id":5,"name":"C","version":null,)"
        R"("instance":"W1","input":"A"}})",
        R"({"StartSubOrchestration":{"scheduling_event_id":6,"name":"C","version":"1.0.0",)"
        R"("instance":"p::sub::6","input":"x"}})",
        R"({"ContinueAsNew":{"input":"1","version":null}})",
        R"({"UpdateCustomStatus":{"status":"v1"}})",
        R"({"UpdateCustomStatus":{"status":null}})",
        R"({"DequeueEvent":{"scheduling_event_id":7,"name":"q"}})",
        R"({"SetKeyValue":{"key":"k","value":"v","last_updated_at_ms":5}})",
        R"({"ClearKeyValue":{"key":"k"}})",
        R"({"ClearKeyValues":{}})",
    };
    std::set<std::string> seen;
    for (const auto& golden : goldens) {
        SCOPED_TRACE(golden);
        Action action = codec::decode_action(golden);
        EXPECT_EQ(codec::encode(action), golden);
        seen.insert(action_type_name(action));
    }
    EXPECT_EQ(seen.size(), std::variant_size_v<Action>);
}

TEST(ErrorDetailsCodec, EveryVariantRoundTripsWithCategoryAndDisplay) {
    struct Case {
        std::string json, category, display;
        bool retryable;
    };
    const std::vector<Case> cases = {
        {R"({"Infrastructure":{"operation":"ack","message":"lock lost","retryable":true}})",
         "infrastructure", "infrastructure:ack: lock lost", true},
        {R"({"Infrastructure":{"operation":"decode","message":"bad","retryable":false}})",
         "infrastructure", "infrastructure:decode: bad", false},
        {R"({"Application":{"kind":"ActivityFailed","message":"busy","retryable":true}})",
         "application", "busy", true},
        {R"({"Configuration":{"kind":"Nondeterminism","resource":"","message":"schedule mismatch"}})",
         "configuration", "nondeterministic: schedule mismatch", false},
        {R"({"Configuration":{"kind":"Nondeterminism","resource":"A1","message":null}})",
         "configuration", "nondeterministic: A1", false},
        {R"({"Application":{"kind":"ActivityFailed","message":"boom","retryable":false}})",
         "application", "boom", false},
        {R"({"Application":{"kind":"OrchestrationFailed","message":"Input cannot be empty","retryable":false}})",
         "application", "Input cannot be empty", false},
        {R"({"Application":{"kind":"Panicked","message":"oops","retryable":false}})", "application",
         "orchestration panicked: oops", false},
        {R"({"Application":{"kind":{"Cancelled":{"reason":"user_request"}},"message":"","retryable":false}})",
         "application", "canceled: user_request", false},
        {R"({"Poison":{"attempt_count":11,"max_attempts":10,"message_type":{"Orchestration":)"
         R"({"instance":"i","execution_id":1}},"message":"batch"}})",
         "poison", "poison: orchestration i exceeded 11 attempts (max 10)", false},
        {R"({"Poison":{"attempt_count":4,"max_attempts":3,"message_type":{"Activity":{"instance":"i",)"
         R"("execution_id":1,"activity_name":"A","activity_id":2}},"message":"m"}})",
         "poison", "poison: activity A#2 exceeded 4 attempts (max 3)", false},
        {R"({"Poison":{"attempt_count":2,"max_attempts":1,"message_type":{"FailedDeserialization":)"
         R"({"instance":"i","execution_id":1,"error":"bad"}},"message":"m"}})",
         "poison", "poison: m (attempt 2 of max 1)", false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.json);
        ErrorDetails details = codec::decode_error_details(c.json);
        EXPECT_EQ(codec::encode(details), c.json);
        EXPECT_EQ(details.category(), c.category);
        EXPECT_EQ(details.display_message(), c.display);
        EXPECT_EQ(details.is_retryable(), c.retryable);
    }
    EXPECT_EQ(ErrorDetails::cancelled("parent canceled").display_message(),
              "canceled: parent canceled");
    EXPECT_EQ(ErrorDetails::activity_failed("x"),
              codec::decode_error_details(
                  R"({"Application":{"kind":"ActivityFailed","message":"x","retryable":false}})"));
    EXPECT_FALSE(ErrorDetails::activity_failed("x") == ErrorDetails::orchestration_failed("x"));
}

TEST(CodecErrors, MalformedInputIsATypedError) {
    const std::vector<std::string> bad = {
        "",
        "{",
        "not json",
        R"({"event_id":1})",                          // missing fields
        R"([1,2,3])",                                 // not an object
        R"({"Start":{}} trailing)",                   // trailing garbage
        R"({"StartOrchestration":{"instance":"i"}})", // as an event: no type
    };
    for (const auto& json : bad) {
        SCOPED_TRACE(json);
        EXPECT_THROW(codec::decode_event(json), codec::CodecError);
    }
    EXPECT_THROW(codec::decode_work_item(R"({"NoSuchItem":{}})"), codec::CodecError);
    EXPECT_THROW(codec::decode_work_item(R"({"A":{},"B":{}})"), codec::CodecError);
    EXPECT_THROW(
        codec::decode_work_item(
            R"({"ActivityCompleted":{"instance":"i","execution_id":-1,"id":2,"result":"r"}})"),
        codec::CodecError);
    EXPECT_THROW(
        codec::decode_work_item(
            R"({"ActivityCompleted":{"instance":7,"execution_id":1,"id":2,"result":"r"}})"),
        codec::CodecError);
    EXPECT_THROW(codec::decode_error_details(
                     R"({"Application":{"kind":"Weird","message":"","retryable":false}})"),
                 codec::CodecError);
    EXPECT_THROW(codec::decode_history(R"({"not":"an array"})"), codec::CodecError);
    try {
        codec::decode_work_item(R"({"TimerFired":{"instance":"i","execution_id":1,"id":3}})");
        FAIL() << "expected a CodecError";
    } catch (const codec::CodecError& e) {
        EXPECT_NE(std::string(e.what()).find("fire_at_ms"), std::string::npos) << e.what();
    }
}

TEST(CodecErrors, DeepNestingIsRefusedWithoutRecursion) {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    EXPECT_THROW(codec::decode_history(deep), codec::CodecError);
    const std::string deep_objects = std::string(50000, '{') + std::string(50000, '}');
    EXPECT_THROW(codec::decode_event(deep_objects), codec::CodecError);
    // Brackets inside strings do not count as nesting.
    Event event{
        1, std::nullopt, "i", 1, 1, "0.1.29", events::ExternalEvent{"n", std::string(1000, '[')}};
    EXPECT_EQ(codec::decode_event(codec::encode(event)), event);
}

TEST(CodecErrors, OversizedInputIsRefused) {
    codec::DecodeLimits limits;
    limits.max_bytes = 100;
    const std::string big =
        R"({"QueueMessage":{"instance":"i","name":"q","data":")" + std::string(200, 'x') + R"("}})";
    EXPECT_THROW(codec::decode_work_item(big, limits), codec::CodecError);
    EXPECT_NO_THROW(codec::decode_work_item(big));
}
