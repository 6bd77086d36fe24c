// Activity tags in the core: the tag travels from the schedule call to the ActivityScheduled
// event (and its JSON) and the worker item, takes part in the replay match and is limited in
// size; the worker tag filter settings are parsed and matched.
#include "core/codec/json_codec.hpp"
#include "core/model/limits.hpp"
#include "core/replay/turn.hpp"
#include "core/routing/tag_filter.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core;

namespace {

WorkItem start_item(const std::string& name) {
    return {work::StartOrchestration{.instance = "inst",
                                     .orchestration = name,
                                     .input = "in",
                                     .version = std::nullopt,
                                     .parent_instance = std::nullopt,
                                     .parent_id = std::nullopt,
                                     .execution_id = 1,
                                     .parent_execution_id = std::nullopt}};
}

TurnResult first_turn(const OrchestrationRegistry& registry, StackPool& stacks,
                      const std::string& name) {
    TurnInput input{"inst", 1, {}, {start_item(name)}, 1000};
    return run_turn(registry, stacks, input);
}

} // namespace

TEST(Tags, ATaggedActivityCarriesItsTagToTheEventAndTheWorkerItem) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Gpu", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity_with_tag("Render", "frame", "gpu").value();
    });
    StackPool stacks(64 * 1024);
    const TurnResult first = first_turn(registry, stacks, "Gpu");
    ASSERT_EQ(first.worker_items.size(), 1u);
    const auto& execute = std::get<work::ActivityExecute>(first.worker_items[0].kind);
    EXPECT_EQ(execute.tag, std::optional<std::string>("gpu"));
    EXPECT_EQ(execute.session_id, std::nullopt);
    ASSERT_EQ(first.history_delta.size(), 2u);
    const auto& scheduled = std::get<events::ActivityScheduled>(first.history_delta[1].kind);
    EXPECT_EQ(scheduled.tag, std::optional<std::string>("gpu"));
    const std::string json = codec::encode(first.history_delta[1]);
    EXPECT_NE(json.find(R"("tag":"gpu")"), std::string::npos) << json;
    EXPECT_EQ(codec::decode_event(json), first.history_delta[1]);
    EXPECT_NE(codec::encode(first.worker_items[0]).find(R"("tag":"gpu")"), std::string::npos);
}

TEST(Tags, AnUntaggedActivityHasNoTag) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Plain", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity("Render", "frame").value();
    });
    StackPool stacks(64 * 1024);
    const TurnResult first = first_turn(registry, stacks, "Plain");
    const std::string json = codec::encode(first.history_delta[1]);
    EXPECT_EQ(json.find(R"("tag")"), std::string::npos) << json; // omitted, as duroxide does
    EXPECT_EQ(std::get<work::ActivityExecute>(first.worker_items[0].kind).tag, std::nullopt);
}

TEST(Tags, SessionAndTagTogether) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Both", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity("Render", "frame", ActivityOptions{"s1", "gpu"}).value();
    });
    StackPool stacks(64 * 1024);
    const TurnResult first = first_turn(registry, stacks, "Both");
    const auto& execute = std::get<work::ActivityExecute>(first.worker_items[0].kind);
    EXPECT_EQ(execute.session_id, std::optional<std::string>("s1"));
    EXPECT_EQ(execute.tag, std::optional<std::string>("gpu"));
}

TEST(Tags, ReplayMatchesTheSameTagAndFailsOnAnother) {
    OrchestrationRegistry registry;
    std::optional<std::string> tag = "gpu";
    registry.register_orchestration("Gpu", [&tag](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity("Render", "frame", ActivityOptions{std::nullopt, tag}).value();
    });
    StackPool stacks(64 * 1024);
    const TurnResult first = first_turn(registry, stacks, "Gpu");
    const std::vector<WorkItem> completion = {WorkItem{
        work::ActivityCompleted{.instance = "inst", .execution_id = 1, .id = 2, .result = "ok"}}};

    const TurnResult same =
        run_turn(registry, stacks, {"inst", 1, first.history_delta, completion, 2000});
    EXPECT_EQ(same.status, ExecutionStatus::Completed);
    EXPECT_EQ(same.output, "ok");

    for (const std::optional<std::string>& changed :
         {std::optional<std::string>("io"), std::optional<std::string>()}) {
        tag = changed;
        const TurnResult other =
            run_turn(registry, stacks, {"inst", 1, first.history_delta, completion, 2000});
        EXPECT_EQ(other.status, ExecutionStatus::Failed);
        ASSERT_TRUE(other.error.has_value());
        EXPECT_TRUE(std::holds_alternative<ConfigurationError>(other.error->value));
        EXPECT_NE(other.output.find("schedule mismatch: history has activity Render(frame) with "
                                    "tag gpu at event 2"),
                  std::string::npos)
            << other.output;
    }
}

TEST(Tags, ATagOverTheLimitFailsTheOrchestration) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Long", [](OrchestrationContext& ctx, const std::string&) {
        ctx.schedule_activity("Plain", "a"); // scheduled before: cancelled with the failure
        try {
            ctx.schedule_activity_with_tag("Render", "frame",
                                           std::string(kMaxTagNameBytes + 1, 't'));
        } catch (const std::exception&) {
            return std::string("caught"); // not reached: nothing is thrown
        }
        return std::string("scheduled");
    });
    registry.register_orchestration("Limit", [](OrchestrationContext& ctx, const std::string&) {
        return ctx.schedule_activity_with_tag("Render", "frame", std::string(kMaxTagNameBytes, 't'))
            .value();
    });
    StackPool stacks(64 * 1024);
    const TurnResult failed = first_turn(registry, stacks, "Long");
    EXPECT_EQ(failed.status, ExecutionStatus::Failed);
    EXPECT_EQ(failed.output, "Activity 'Render' tag size (257 bytes) exceeds limit (256 bytes)");
    ASSERT_TRUE(failed.error.has_value());
    EXPECT_TRUE(std::holds_alternative<ApplicationError>(failed.error->value));
    EXPECT_TRUE(failed.worker_items.empty());
    std::vector<std::string> kinds;
    for (const auto& event : failed.history_delta) {
        kinds.emplace_back(event.type_name());
    }
    // As duroxide: both schedules are recorded, then the failure, then their cancellations.
    EXPECT_EQ(kinds,
              (std::vector<std::string>{"OrchestrationStarted", "ActivityScheduled",
                                        "ActivityScheduled", "OrchestrationFailed",
                                        "ActivityCancelRequested", "ActivityCancelRequested"}));

    const TurnResult at_limit = first_turn(registry, stacks, "Limit");
    EXPECT_EQ(at_limit.status, ExecutionStatus::Running);
    EXPECT_EQ(at_limit.worker_items.size(), 1u);
}

TEST(Tags, ATagNameIsNonEmptyAndFreeOfTheFilterSeparators) {
    for (const std::string& name : std::vector<std::string>{"gpu", "GPU-1", "io.fast", "n_2:x",
                                                            std::string(kMaxTagNameBytes, 't')}) {
        EXPECT_FALSE(tag_name_problem(name).has_value()) << name;
    }
    EXPECT_EQ(tag_name_problem(""), "tag is empty");
    EXPECT_EQ(tag_name_problem(std::string(kMaxTagNameBytes + 1, 't')),
              "tag of 257 bytes exceeds the limit of 256 bytes");
    for (const std::string name : {"gpu ", " gpu", "a b", "a\tb", "a\nb", "a,b", "a;b", "a=b"}) {
        EXPECT_EQ(tag_name_problem(name), "tag \"" + name + "\" contains a blank, ',', ';' or '='");
    }
}

// Such a tag would be accepted by the schedule call but could be named in no worker's filter:
// only an `any` worker would ever run the activity. It fails the orchestration instead, like
// an over-long tag.
TEST(Tags, ATagNoFilterCanNameFailsTheOrchestration) {
    std::string tag;
    OrchestrationRegistry registry;
    registry.register_orchestration("Bad", [&tag](OrchestrationContext& ctx, const std::string&) {
        try {
            return ctx.schedule_activity_with_tag("Render", "frame", tag).value();
        } catch (const std::exception&) {
            return std::string("caught"); // not reached: nothing is thrown
        }
    });
    StackPool stacks(64 * 1024);
    for (const std::string bad : {"", "gpu ", "a,b", "a;b", "a=b"}) {
        tag = bad;
        const TurnResult failed = first_turn(registry, stacks, "Bad");
        EXPECT_EQ(failed.status, ExecutionStatus::Failed) << bad;
        EXPECT_EQ(failed.output, "activity " + *tag_name_problem(bad)) << bad;
        ASSERT_TRUE(failed.error.has_value()) << bad;
        EXPECT_TRUE(std::holds_alternative<ApplicationError>(failed.error->value)) << bad;
        EXPECT_TRUE(failed.worker_items.empty()) << bad;
    }
    tag = "gpu";
    const TurnResult scheduled = first_turn(registry, stacks, "Bad");
    EXPECT_EQ(scheduled.status, ExecutionStatus::Running);
    EXPECT_EQ(scheduled.worker_items.size(), 1u);
}

TEST(Tags, EveryRetryAttemptCarriesTheTag) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Retry", [](OrchestrationContext& ctx, const std::string&) {
        RetryPolicy policy(3);
        policy.with_backoff(NoBackoff{});
        return ctx.schedule_activity_with_retry("Flaky", "x", policy, {std::nullopt, "io"}).value();
    });
    StackPool stacks(64 * 1024);
    std::vector<Event> history;
    std::vector<WorkItem> messages = {start_item("Retry")};
    std::vector<std::optional<std::string>> tags;
    TurnResult result;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        result = run_turn(registry, stacks, {"inst", 1, history, messages, 1000u + attempt});
        history.insert(history.end(), result.history_delta.begin(), result.history_delta.end());
        ASSERT_EQ(result.worker_items.size(), 1u) << "attempt " << attempt;
        const auto& execute = std::get<work::ActivityExecute>(result.worker_items[0].kind);
        tags.push_back(execute.tag);
        messages = {
            attempt < 3
                ? WorkItem{work::ActivityFailed{.instance = "inst",
                                                .execution_id = 1,
                                                .id = execute.id,
                                                .details = ErrorDetails::activity_failed("no")}}
                : WorkItem{work::ActivityCompleted{
                      .instance = "inst", .execution_id = 1, .id = execute.id, .result = "ok"}}};
    }
    result = run_turn(registry, stacks, {"inst", 1, history, messages, 2000});
    EXPECT_EQ(result.status, ExecutionStatus::Completed);
    EXPECT_EQ(tags, (std::vector<std::optional<std::string>>(3, "io")));
    int tagged_schedules = 0;
    for (const auto& event : history) {
        if (auto* scheduled = std::get_if<events::ActivityScheduled>(&event.kind)) {
            tagged_schedules += scheduled->tag == std::optional<std::string>("io");
        }
    }
    EXPECT_EQ(tagged_schedules, 3);
}

TEST(TagFilter, ParsesEveryForm) {
    EXPECT_EQ(parse_tag_filter("default"), TagFilter{});
    EXPECT_EQ(parse_tag_filter(" ANY "), (TagFilter{TagFilter::Mode::Any, {}}));
    EXPECT_EQ(parse_tag_filter("none"), (TagFilter{TagFilter::Mode::None, {}}));
    EXPECT_EQ(parse_tag_filter("tags:gpu, io"), (TagFilter{TagFilter::Mode::Tags, {"gpu", "io"}}));
    EXPECT_EQ(parse_tag_filter("default,gpu,gpu"),
              (TagFilter{TagFilter::Mode::DefaultAnd, {"gpu"}}));
    for (const char* text : {"default", "any", "none", "tags:gpu,io", "default,gpu"}) {
        EXPECT_EQ(parse_tag_filter(text).to_string(), text);
        EXPECT_EQ(parse_tag_filter(parse_tag_filter(text).to_string()), parse_tag_filter(text));
    }
}

TEST(TagFilter, RefusesWhatIsNotAFilter) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "is not a tag filter"},
        {"gpu", "is not a tag filter"},
        {"tags:", "tag is empty"},
        {"tags:a,,b", "tag is empty"},
        {"default,", "tag is empty"},
        {"tags:a,b,c,d,e,f", "6 tags given, at most 5"},
        {"tags:" + std::string(kMaxTagNameBytes + 1, 'x'),
         "tag of 257 bytes exceeds the limit of 256 bytes"},
        {"tags:a b", "tag \"a b\" contains a blank"},
        {"tags:a=b", "tag \"a=b\" contains a blank, ',', ';' or '='"},
        {"tags:gpu\tio", "tag \"gpu\tio\" contains a blank"},
    };
    for (const auto& [text, message] : cases) {
        try {
            parse_tag_filter(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const TagFilterError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
                << text << ": " << e.what();
        }
    }
    EXPECT_EQ(parse_tag_filter("tags:a,b,c,d,e").tags.size(), kMaxWorkerTags);
}

TEST(TagFilter, AdmitsByMode) {
    const std::optional<std::string> untagged, gpu = "gpu", io = "io";
    const TagFilter only_default = parse_tag_filter("default");
    EXPECT_TRUE(only_default.admits(untagged));
    EXPECT_FALSE(only_default.admits(gpu));
    const TagFilter only_gpu = parse_tag_filter("tags:gpu");
    EXPECT_FALSE(only_gpu.admits(untagged));
    EXPECT_TRUE(only_gpu.admits(gpu));
    EXPECT_FALSE(only_gpu.admits(io));
    const TagFilter default_and_gpu = parse_tag_filter("default,gpu");
    EXPECT_TRUE(default_and_gpu.admits(untagged));
    EXPECT_TRUE(default_and_gpu.admits(gpu));
    EXPECT_FALSE(default_and_gpu.admits(io));
    const TagFilter any = parse_tag_filter("any");
    EXPECT_TRUE(any.admits(untagged));
    EXPECT_TRUE(any.admits(io));
    const TagFilter none = parse_tag_filter("none");
    EXPECT_FALSE(none.admits(untagged));
    EXPECT_FALSE(none.admits(gpu));
}

TEST(TagFilter, PerWorkerOverrides) {
    EXPECT_TRUE(parse_worker_tag_filters("", 63).empty());
    EXPECT_TRUE(parse_worker_tag_filters(" ; ", 63).empty());
    const auto filters = parse_worker_tag_filters("1=tags:gpu; 3 = default,io;", 63);
    ASSERT_EQ(filters.size(), 2u);
    EXPECT_EQ(filters.at(1), (TagFilter{TagFilter::Mode::Tags, {"gpu"}}));
    EXPECT_EQ(filters.at(3), (TagFilter{TagFilter::Mode::DefaultAnd, {"io"}}));
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"tags:gpu", "is not <worker index>=<tag filter>"},
        {"x=any", "\"x\" is not an activity worker index (0 to 63)"},
        {"-1=any", "is not an activity worker index"},
        {"64=any", "is not an activity worker index"},
        {"1=any;1=none", "activity worker 1 is given twice"},
        {"1=gpu", "is not a tag filter"},
    };
    for (const auto& [text, message] : cases) {
        try {
            parse_worker_tag_filters(text, 63);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const TagFilterError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
                << text << ": " << e.what();
        }
    }
}
