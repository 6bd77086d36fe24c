// The typed layer (include/duroxide/typed.hpp): codecs, typed scheduling, typed registration.
#include "core/replay/turn.hpp"
#include "duroxide/typed.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

using namespace duroxide;
using namespace duroxide::core;

namespace {

struct Point {
    int x = 0, y = 0;
    bool operator==(const Point&) const = default;
};

} // namespace

// A user type: "x,y".
template <>
struct duroxide::Codec<Point> {
    static std::string encode(const Point& p) {
        return std::to_string(p.x) + "," + std::to_string(p.y);
    }
    static Point decode(std::string_view text) {
        const auto comma = text.find(',');
        if (comma == std::string_view::npos) {
            throw CodecError("expected x,y");
        }
        return Point{Codec<int>::decode(text.substr(0, comma)),
                     Codec<int>::decode(text.substr(comma + 1))};
    }
};

namespace {

struct Instance {
    OrchestrationRegistry registry;
    StackPool stacks{64 * 1024};
    std::vector<Event> history;

    TurnResult turn(std::vector<WorkItem> messages) {
        TurnInput input{"inst", 1, history, std::move(messages), 1000};
        TurnResult result = run_turn(registry, stacks, input);
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        return result;
    }
    TurnResult start(const std::string& name, const std::string& input) {
        return turn({WorkItem{work::StartOrchestration{.instance = "inst",
                                                       .orchestration = name,
                                                       .input = input,
                                                       .version = std::nullopt,
                                                       .parent_instance = std::nullopt,
                                                       .parent_id = std::nullopt,
                                                       .execution_id = 1,
                                                       .parent_execution_id = std::nullopt}}});
    }
};

// An ActivityContext with fixed ids, for calling a registered activity directly.
class FixedActivityContext final : public ActivityContext {
public:
    const std::string& instance_id() const override { return text_; }
    std::uint64_t execution_id() const override { return 1; }
    const std::string& activity_name() const override { return text_; }
    std::uint64_t activity_id() const override { return 2; }
    const std::optional<std::string>& session_id() const override { return none_; }
    const std::optional<std::string>& tag() const override { return none_; }
    const std::string& worker_id() const override { return text_; }
    void trace(TraceLevel, std::string_view) const override {}
    SqlResult run_sql(std::string_view, std::vector<std::optional<std::string>>) override {
        throw std::logic_error("no database here");
    }
    void heartbeat() override {}
    bool is_cancelled() override { return false; }

protected:
    std::shared_ptr<void>
    session_state_entry(std::string_view, const std::function<std::shared_ptr<void>()>&) override {
        throw std::logic_error("no session");
    }

private:
    std::string text_ = "t";
    std::optional<std::string> none_;
};

} // namespace

TEST(Typed, BuiltInCodecsRoundTripAsJsonText) {
    EXPECT_EQ(encode_value(std::string("raw \"text\"")), "raw \"text\"");
    EXPECT_EQ(Codec<std::string>::decode("as is"), "as is");
    EXPECT_EQ(encode_value(true), "true");
    EXPECT_FALSE(Codec<bool>::decode("false"));
    EXPECT_EQ(encode_value(-42), "-42");
    EXPECT_EQ(Codec<std::uint64_t>::decode("18446744073709551615"), UINT64_MAX);
    EXPECT_EQ(encode_value(2.5), "2.5");
    EXPECT_EQ(Codec<double>::decode(encode_value(0.1)), 0.1); // shortest text that round-trips
    EXPECT_EQ(Codec<Point>::decode(encode_value(Point{3, -4})), (Point{3, -4}));
}

TEST(Typed, TextThatIsNotTheTypeIsACodecError) {
    EXPECT_THROW(Codec<int>::decode("12x"), CodecError);
    EXPECT_THROW(Codec<int>::decode(""), CodecError);
    EXPECT_THROW(Codec<int>::decode(" 1"), CodecError);
    EXPECT_THROW(Codec<int>::decode("2.5"), CodecError);
    EXPECT_THROW(Codec<std::uint8_t>::decode("256"), CodecError);
    EXPECT_THROW(Codec<unsigned>::decode("-1"), CodecError);
    EXPECT_THROW(Codec<bool>::decode("True"), CodecError);
    EXPECT_THROW(Codec<double>::decode("nan"), CodecError);
    EXPECT_THROW(encode_value(std::numeric_limits<double>::infinity()), CodecError);
    try {
        decode_value<int>("many", "the result of activity Count");
        FAIL() << "no error";
    } catch (const CodecError& e) {
        EXPECT_STREQ(
            e.what(),
            "cannot decode the result of activity Count: expected an integer, got \"many\"");
    }
}

TEST(Typed, ActivitiesSubOrchestrationsAndContinueAsNewCarryEncodedValues) {
    Instance run;
    register_orchestration_typed<int>(
        run.registry, "Double", [](OrchestrationContext& ctx, const int& n) -> Point {
            if (n < 0) {
                continue_as_new_typed(ctx, -n);
            }
            const int doubled = schedule_activity_typed<int>(ctx, "Twice", n).value();
            const Point p = schedule_sub_orchestration_typed<Point>(ctx, "Mirror", doubled).value();
            return Point{p.y, p.x};
        });
    // A negative input continues as new with its absolute value, encoded.
    auto continued = run.start("Double", "-21");
    ASSERT_EQ(continued.status, ExecutionStatus::ContinuedAsNew);
    EXPECT_EQ(continued.output, "21");

    Instance second;
    second.registry = run.registry;
    auto first = second.start("Double", "21");
    const auto& execute = std::get<work::ActivityExecute>(first.worker_items.at(0).kind);
    EXPECT_EQ(execute.input, "21");
    auto child = second.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = execute.id, .result = "42"}}});
    const auto& start = std::get<work::StartOrchestration>(child.orchestrator_items.at(0).kind);
    EXPECT_EQ(start.input, "42");
    auto done = second.turn({WorkItem{work::SubOrchCompleted{
        .parent_instance = "inst", .parent_execution_id = 1, .parent_id = 4, .result = "42,7"}}});
    EXPECT_EQ(done.status, ExecutionStatus::Completed);
    EXPECT_EQ(done.output, "7,42");
}

TEST(Typed, AResultThatDoesNotDecodeFailsTheOrchestrationClearly) {
    Instance run;
    run.registry.register_orchestration("Count", [](OrchestrationContext& ctx, const std::string&) {
        return std::to_string(schedule_activity_typed<int>(ctx, "Count", std::string("x")).value());
    });
    run.start("Count", "");
    auto result = run.turn({WorkItem{work::ActivityCompleted{
        .instance = "inst", .execution_id = 1, .id = 2, .result = "forty-two"}}});
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output,
              "cannot decode the result of activity Count: expected an integer, got \"forty-two\"");
}

TEST(Typed, EventsAndMessagesDecodeOrFailTheOrchestration) {
    Instance run;
    run.registry.register_orchestration("Typed", [](OrchestrationContext& ctx, const std::string&) {
        const bool go = schedule_wait_typed<bool>(ctx, "Go").value();
        const Point p = dequeue_event_typed<Point>(ctx, "Points").value();
        return encode_value(go) + ":" + encode_value(p);
    });
    run.start("Typed", "");
    run.turn({WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = "true"}}});
    auto done = run.turn(
        {WorkItem{work::QueueMessage{.instance = "inst", .name = "Points", .data = "1,2"}}});
    EXPECT_EQ(done.output, "true:1,2");

    Instance bad;
    bad.registry = run.registry;
    bad.start("Typed", "");
    bad.turn({WorkItem{work::ExternalRaised{.instance = "inst", .name = "Go", .data = "true"}}});
    auto failed = bad.turn(
        {WorkItem{work::QueueMessage{.instance = "inst", .name = "Points", .data = "nowhere"}}});
    EXPECT_EQ(failed.status, ExecutionStatus::Failed);
    EXPECT_EQ(failed.output, "cannot decode a message of queue Points: expected x,y");
}

TEST(Typed, AFailedTypedCallIsAnErrorNotADecodeFailure) {
    Instance run;
    run.registry.register_orchestration(
        "Careful", [](OrchestrationContext& ctx, const std::string&) {
            std::string error;
            auto count = schedule_activity_typed<int>(ctx, "Count", 1).value_or_error(error);
            return count ? std::string("counted") : "error: " + error;
        });
    run.start("Careful", "");
    auto result = run.turn({WorkItem{
        work::ActivityFailed{.instance = "inst",
                             .execution_id = 1,
                             .id = 2,
                             .details = ErrorDetails::activity_failed("out of fingers")}}});
    EXPECT_EQ(result.output, "error: out of fingers");
}

TEST(Typed, ABadOrchestrationInputFailsItWithoutRunningTheCode) {
    Instance run;
    bool ran = false;
    register_orchestration_typed<int>(run.registry, "Numbers",
                                      [&ran](OrchestrationContext&, const int& n) {
                                          ran = true;
                                          return n + 1;
                                      });
    auto result = run.start("Numbers", "one");
    EXPECT_FALSE(ran);
    EXPECT_EQ(result.status, ExecutionStatus::Failed);
    EXPECT_EQ(result.output,
              "cannot decode the input of orchestration Numbers: expected an integer, got \"one\"");
    // And a versioned typed registration resolves like any other.
    register_orchestration_typed<int>(
        run.registry, "Numbers", [](OrchestrationContext&, const int& n) { return n + 2; },
        "2.0.0");
    EXPECT_EQ(run.registry.resolve("Numbers")->version.to_string(), "2.0.0");
}

TEST(Typed, TypedActivitiesDecodeTheirInputAndEncodeTheirResult) {
    ActivityRegistry activities;
    register_activity_typed<Point>(activities, "Length2", [](ActivityContext&, const Point& p) {
        return p.x * p.x + p.y * p.y;
    });
    FixedActivityContext ctx;
    const ActivityFn* fn = activities.find("Length2");
    ASSERT_NE(fn, nullptr);
    EXPECT_EQ((*fn)(ctx, "3,4"), "25");
    EXPECT_THROW((*fn)(ctx, "3;4"), CodecError);
}
