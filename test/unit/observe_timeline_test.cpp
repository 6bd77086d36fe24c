// The instance pictures (src/core/observe): rows derived from histories, the SVG drawn from
// them, the Mermaid tree, and the escaping of every user value.
#include "core/codec/json_codec.hpp"
#include "core/observe/instance_graph.hpp"
#include "core/observe/text.hpp"
#include "core/observe/timeline.hpp"
#include "core/observe/timeline_svg.hpp"
#include "core/observe/tree_input.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace duroxide::core;
using namespace duroxide::core::observe;

namespace {

// Builds a history event by event: id = position + 1, at the given millisecond.
class History {
public:
    explicit History(std::string instance) : instance_(std::move(instance)) {}

    History& at(uint64_t ms) {
        now_ = ms;
        return *this;
    }
    uint64_t add(EventKind kind, std::optional<uint64_t> source = std::nullopt) {
        Event e{.event_id = events_.size() + 1,
                .source_event_id = source,
                .instance_id = instance_,
                .execution_id = 1,
                .timestamp_ms = now_,
                .duroxide_version = "0.1.0",
                .kind = std::move(kind)};
        events_.push_back(std::move(e));
        return events_.size();
    }
    uint64_t start(const std::string& name, std::optional<std::string> parent = std::nullopt) {
        return add(events::OrchestrationStarted{.name = name,
                                                .version = "1.0.0",
                                                .input = "",
                                                .parent_instance = std::move(parent),
                                                .parent_id = std::nullopt,
                                                .carry_forward_events = std::nullopt,
                                                .initial_custom_status = std::nullopt,
                                                .parent_execution_id = std::nullopt,
                                                .open_sessions = std::nullopt});
    }
    InstanceHistory done(std::string status, std::optional<std::string> parent = std::nullopt) {
        return {.instance = instance_,
                .parent = std::move(parent),
                .status = std::move(status),
                .history = events_};
    }

private:
    std::string instance_;
    uint64_t now_ = 0;
    std::vector<Event> events_;
};

// An activity scheduled outside any session, untagged.
events::ActivityScheduled scheduled(std::string name, std::string input) {
    return {.name = std::move(name),
            .input = std::move(input),
            .session_id = std::nullopt,
            .tag = std::nullopt};
}

std::string describe(const TimelineRow& r) {
    static const char* kinds[] = {"instance", "activity", "timer", "wait", "dequeue", "sub"};
    std::string s = std::string(kinds[static_cast<int>(r.kind)]) + " " + r.name + " d" +
                    std::to_string(r.depth) + " " + outcome_name(r.outcome) + " " +
                    std::to_string(r.start_ms) + "-" +
                    (r.end_ms ? std::to_string(*r.end_ms) : std::string("open"));
    if (r.attempt > 1) {
        s += " attempt " + std::to_string(r.attempt);
    }
    return s;
}

std::vector<std::string> describe(const Timeline& t) {
    std::vector<std::string> out;
    for (const auto& r : t.rows) {
        out.push_back(describe(r));
    }
    return out;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

// A retried activity: fails, waits 100 ms on the backoff timer, succeeds.
InstanceHistory retried() {
    History h("retry-1");
    h.at(1000).start("Retrying");
    const auto first = h.at(1000).add(scheduled("FailTwice", "x"));
    h.at(1200).add(events::ActivityFailed{ErrorDetails::activity_failed("boom")}, first);
    const auto timer = h.at(1200).add(events::TimerCreated{1300});
    h.at(1300).add(events::TimerFired{1300}, timer);
    const auto second = h.at(1300).add(scheduled("FailTwice", "x"));
    h.at(1500).add(events::ActivityCompleted{"ok"}, second);
    h.at(1500).add(events::OrchestrationCompleted{"ok"});
    return h.done("Completed");
}

} // namespace

TEST(ObserveTimeline, RetriesAreAttemptsOfOneCallAndTheBackoffTimerIsARow) {
    const std::vector<InstanceHistory> tree{retried()};
    const Timeline t = build_timeline(tree, "retry-1", 9999);
    EXPECT_EQ(describe(t), (std::vector<std::string>{
                               "instance Retrying d0 completed 1000-1500",
                               "activity FailTwice d0 failed 1000-1200",
                               "timer  d0 completed 1200-1300",
                               "activity FailTwice d0 completed 1300-1500 attempt 2",
                           }));
    EXPECT_EQ(t.rows[1].detail, "boom");
    EXPECT_EQ(t.rows[2].detail, "fires after 100 ms");
    EXPECT_EQ(t.start_ms, 1000u);
    EXPECT_EQ(t.end_ms, 1500u);
}

TEST(ObserveTimeline, TheSameActivityWithAnotherInputOrAfterASuccessIsNotARetry) {
    History h("fan");
    h.at(0).start("FanOut");
    const auto a = h.add(scheduled("Hello", "a"));
    const auto b = h.add(scheduled("Hello", "b"));
    h.at(10).add(events::ActivityFailed{ErrorDetails::activity_failed("no")}, a);
    h.at(20).add(events::ActivityCompleted{"B"}, b);
    const auto c = h.add(scheduled("Hello", "b"));
    const std::vector<InstanceHistory> tree{h.done("Running")};
    const Timeline t = build_timeline(tree, "fan", 50);
    EXPECT_EQ(describe(t), (std::vector<std::string>{
                               "instance FanOut d0 running 0-open",
                               "activity Hello d0 failed 0-10",
                               "activity Hello d0 completed 0-20",
                               "activity Hello d0 running 20-open",
                           }));
    (void)c;
    EXPECT_EQ(t.end_ms, 50u) << "running work is drawn up to now";
}

TEST(ObserveTimeline, CancellationsEndTheirRowsAndUnawaitedWorkEndsWithTheExecution) {
    History h("c");
    h.at(0).start("TimeoutRace");
    const auto op = h.add(scheduled("LongOp", ""));
    const auto timer = h.add(events::TimerCreated{100});
    h.add(events::ExternalSubscribed{"Go"});
    const auto wait2 = h.add(events::ExternalSubscribed{"Go"});
    h.at(5).add(events::ExternalEvent{"Go", "1"});
    h.at(100).add(events::TimerFired{100}, timer);
    h.at(100).add(events::ActivityCancelRequested{"dropped"}, op);
    h.at(100).add(events::ExternalSubscribedCancelled{"dropped"}, wait2);
    h.add(scheduled("Never", ""));
    h.at(120).add(events::OrchestrationFailed{ErrorDetails::cancelled("stop")});
    const std::vector<InstanceHistory> tree{h.done("Failed")};
    const Timeline t = build_timeline(tree, "c", 500);
    EXPECT_EQ(describe(t), (std::vector<std::string>{
                               "instance TimeoutRace d0 cancelled 0-120",
                               "activity LongOp d0 cancelled 0-100",
                               "timer  d0 completed 0-100",
                               "wait Go d0 completed 0-5",
                               "wait Go d0 cancelled 0-100",
                               "activity Never d0 cancelled 100-120",
                           }));
    EXPECT_EQ(t.rows[1].detail, "cancelled: dropped");
    EXPECT_EQ(t.rows[5].detail, "not awaited when the execution ended");
}

TEST(ObserveTimeline, QueueMessagesDeliveredBeforeADequeueAreTakenWhenItSubscribes) {
    History h("q");
    h.at(0).start("Mailbox");
    h.at(1).add(events::QueueEventDelivered{"Signal", "a"});
    h.at(2).add(events::QueueSubscribed{"Signal"});
    h.at(3).add(events::QueueSubscribed{"Signal"});
    h.at(7).add(events::QueueEventDelivered{"Signal", "b"});
    const std::vector<InstanceHistory> tree{h.done("Running")};
    EXPECT_EQ(describe(build_timeline(tree, "q", 10)), (std::vector<std::string>{
                                                           "instance Mailbox d0 running 0-open",
                                                           "dequeue Signal d0 completed 2-2",
                                                           "dequeue Signal d0 completed 3-7",
                                                       }));
}

TEST(ObserveTimeline, ChildrenFollowTheRowThatStartedThemOneLevelDeeper) {
    History parent("p");
    parent.at(0).start("Parent");
    const auto sub = parent.at(1).add(events::SubOrchestrationScheduled{
        .name = "ChildUpper", .instance = "p::sub::2", .input = "x"});
    parent.at(1).add(scheduled("After", ""));
    parent.at(9).add(events::SubOrchestrationFailed{ErrorDetails::orchestration_failed("bad")},
                     sub);
    History child("p::sub::2");
    child.at(2).start("ChildUpper", "p");
    child.at(2).add(scheduled("Upper", "x"));
    History orphan("p::sub::old"); // a child of an earlier execution: no row started it
    orphan.at(0).start("Old", "p");
    History stranger("elsewhere"); // not in this tree
    stranger.at(0).start("Other");
    const std::vector<InstanceHistory> tree{stranger.done("Running"), orphan.done("Running", "p"),
                                            child.done("Running", "p"), parent.done("Running")};
    const Timeline t = build_timeline(tree, "p", 20);
    EXPECT_EQ(describe(t), (std::vector<std::string>{
                               "instance Parent d0 running 0-open",
                               "sub ChildUpper d0 failed 1-9",
                               "instance ChildUpper d1 running 2-open",
                               "activity Upper d1 running 2-open",
                               "activity After d0 running 1-open",
                               "instance Old d1 running 0-open",
                           }));
    EXPECT_EQ(t.rows[1].child, "p::sub::2");
}

TEST(ObserveTimeline, AnUnknownRootIsEmptyAndRowsBeyondTheLimitAreCounted) {
    const std::vector<InstanceHistory> tree{retried()};
    EXPECT_TRUE(build_timeline(tree, "nope", 0).rows.empty());
    const Timeline t = build_timeline(tree, "retry-1", 0, 2);
    EXPECT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows_left_out, 2u);
    EXPECT_EQ(count(timeline_svg(t), "2 more rows not shown"), 1u);
}

TEST(ObserveSvg, OneRowGroupPerRowColouredByOutcomeWithRetriesMarked) {
    const std::vector<InstanceHistory> tree{retried()};
    const std::string svg = timeline_svg(build_timeline(tree, "retry-1", 0));
    EXPECT_EQ(
        svg.rfind(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"",
            0),
        0u);
    EXPECT_EQ(count(svg, "<g class=\"row "), 4u);
    EXPECT_EQ(count(svg, "<g class=\"row instance completed\""), 1u);
    EXPECT_EQ(count(svg, "<g class=\"row activity failed\" data-attempt=\"1\""), 1u);
    EXPECT_EQ(count(svg, "<g class=\"row timer completed\""), 1u);
    EXPECT_EQ(count(svg, "<g class=\"row activity completed\" data-attempt=\"2\""), 1u);
    EXPECT_EQ(count(svg, "class=\"retry\""), 1u);
    EXPECT_EQ(count(svg, ">FailTwice (attempt 2)</text>"), 1u);
    EXPECT_NE(svg.find("fill=\"#e53935\" class=\"bar\""), std::string::npos) << "a red bar";
    EXPECT_NE(svg.find("fill=\"#43a047\" class=\"bar\""), std::string::npos) << "a green bar";
    EXPECT_NE(svg.find("activity FailTwice: failed after 200 ms (boom)"), std::string::npos);
    EXPECT_EQ(count(svg, "<svg"), 1u);
    EXPECT_EQ(count(svg, "</svg>"), 1u);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.find("href"), std::string::npos) << "nothing to load";
}

TEST(ObserveSvg, BarsSpanFromScheduleToCompletionOnOneScale) {
    const std::vector<InstanceHistory> tree{retried()};
    const std::string svg = timeline_svg(build_timeline(tree, "retry-1", 0));
    // 500 ms over the 650 pixel plot from x = 360: the first attempt 0-200 ms, 260 pixels.
    EXPECT_NE(svg.find("<rect x=\"360\" y=\"118\" width=\"260\" height=\"14\" fill=\"#e53935\""),
              std::string::npos)
        << svg;
    // The second attempt 300-500 ms: from 360 + 390.
    EXPECT_NE(svg.find("<rect x=\"750\" y=\"162\" width=\"260\""), std::string::npos);
}

TEST(ObserveSvg, CancelledWorkIsHatchedAndRunningWorkHasAnOpenEnd) {
    History h("c");
    h.at(0).start("X");
    const auto a = h.add(scheduled("A", ""));
    h.add(scheduled("B", ""));
    h.at(10).add(events::ActivityCancelRequested{"dropped"}, a);
    const std::vector<InstanceHistory> tree{h.done("Running")};
    const std::string svg = timeline_svg(build_timeline(tree, "c", 20));
    EXPECT_EQ(count(svg, "<g class=\"row activity cancelled\""), 1u);
    EXPECT_EQ(count(svg, "fill=\"url(#hatch)\" class=\"bar\""), 1u);
    EXPECT_EQ(count(svg, "class=\"cancel\""), 1u);
    EXPECT_EQ(count(svg, "<g class=\"row activity running\""), 1u);
    EXPECT_EQ(count(svg, "stroke-dasharray=\"4 2\""), 2u) << "the instance and B run";
}

TEST(ObserveSvg, EveryUserValueIsEscaped) {
    const std::string hostile = "<script>alert('x')</script>&\"]]>\x01\xff";
    History h(hostile);
    h.at(0).start(hostile);
    const auto a = h.add(scheduled(hostile, ""));
    h.at(5).add(events::ActivityFailed{ErrorDetails::activity_failed(hostile)}, a);
    h.add(events::ExternalSubscribed{hostile});
    h.add(events::SubOrchestrationScheduled{
        .name = hostile, .instance = hostile + "::c", .input = ""});
    const std::vector<InstanceHistory> tree{h.done(hostile)};
    const std::string svg = timeline_svg(build_timeline(tree, hostile, 10));
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.find("]]>"), std::string::npos);
    EXPECT_EQ(svg.find('\x01'), std::string::npos);
    EXPECT_EQ(svg.find('\xff'), std::string::npos);
    EXPECT_NE(svg.find("&lt;script&gt;alert(&apos;x&apos;)"), std::string::npos);
    // Every '<' opens one of our own elements (or ends one).
    for (auto at = svg.find('<'); at != std::string::npos; at = svg.find('<', at + 1)) {
        const char next = svg[at + 1];
        EXPECT_TRUE(next == '/' || next == '?' || (next >= 'a' && next <= 'z'))
            << svg.substr(at, 20);
    }
}

TEST(ObserveText, XmlEscapeReplacesWhatXmlCannotHold) {
    EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    EXPECT_EQ(xml_escape("tab\tnl\n"), "tab\tnl\n");
    EXPECT_EQ(xml_escape("\x01"), "\xEF\xBF\xBD");
    EXPECT_EQ(xml_escape("\xC3\xA9"), "\xC3\xA9") << "é is kept";
    EXPECT_EQ(xml_escape("\xC3"), "\xEF\xBF\xBD") << "a truncated sequence";
    EXPECT_EQ(xml_escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
    EXPECT_EQ(xml_escape("\xEF\xBF\xBE"), "\xEF\xBF\xBD") << "U+FFFE is not an XML character";
}

TEST(ObserveText, ShortenCountsCharactersNotBytes) {
    EXPECT_EQ(shorten("abc", 3), "abc");
    EXPECT_EQ(shorten("abcdef", 5), "ab...");
    EXPECT_EQ(shorten("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 4), "\xC3\xA9...");
    EXPECT_EQ(shorten("a\nb", 10), "a b");
    EXPECT_EQ(duration_text(250), "250 ms");
    EXPECT_EQ(duration_text(1500), "1.5 s");
    EXPECT_EQ(duration_text(2000), "2 s");
    EXPECT_EQ(duration_text(125'000), "2 min 5 s");
    EXPECT_EQ(duration_text(3 * 3'600'000 + 600'000), "3 h 10 min");
}

TEST(ObserveMermaid, TheTreeBreadthFirstWithStatusClassesAndEscapedLabels) {
    History root("r\"]; click n0");
    root.at(0).start("Root");
    History a("r::sub::2"), b("r::sub::3"), grandchild("g#1");
    a.at(0).start("A");
    b.at(0).start("B");
    grandchild.at(0).start("<G>");
    const std::vector<InstanceHistory> tree{grandchild.done("Failed", "r::sub::2"),
                                            a.done("Completed", "r\"]; click n0"),
                                            b.done("", "r\"]; click n0"), root.done("Running")};
    EXPECT_EQ(instance_graph_mermaid(tree, "r\"]; click n0"),
              "graph TD\n"
              "    n0[\"Root<br/>r#34;#93;#59; click n0<br/>Running\"]\n"
              "    n1[\"A<br/>r::sub::2<br/>Completed\"]\n"
              "    n2[\"B<br/>r::sub::3<br/>Pending\"]\n"
              "    n3[\"#60;G#62;<br/>g#35;1<br/>Failed\"]\n"
              "    n0 --> n1\n"
              "    n0 --> n2\n"
              "    n1 --> n3\n"
              "    classDef completed fill:#c8e6c9,stroke:#2e7d32\n"
              "    classDef failed fill:#ffcdd2,stroke:#b71c1c\n"
              "    classDef running fill:#bbdefb,stroke:#1565c0\n"
              "    classDef pending fill:#eeeeee,stroke:#757575\n"
              "    class n0 running\n"
              "    class n1 completed\n"
              "    class n2 pending\n"
              "    class n3 failed\n");
    EXPECT_EQ(instance_graph_mermaid(tree, "missing"), "graph TD\n");
}

TEST(ObserveTreeInput, DecodesTheTreeAndRefusesBadShapes) {
    const InstanceHistory h = retried();
    const std::string history = codec::encode_history(h.history);
    std::string escaped;
    for (char c : history) {
        if (c == '"' || c == '\\') {
            escaped += '\\';
        }
        escaped += c;
    }
    const auto tree = decode_instance_tree(
        R"([{"instance":"retry-1","parent":null,"status":"Completed","history":")" + escaped +
        R"("},{"instance":"x","parent":"retry-1","status":null,"history":null}])");
    ASSERT_EQ(tree.size(), 2u);
    EXPECT_EQ(tree[0].history, h.history);
    EXPECT_EQ(tree[0].status, "Completed");
    EXPECT_EQ(tree[1].parent, "retry-1");
    EXPECT_TRUE(tree[1].history.empty());
    EXPECT_THROW(decode_instance_tree("{"), std::invalid_argument);
    EXPECT_THROW(decode_instance_tree("{}"), std::invalid_argument);
    EXPECT_THROW(decode_instance_tree("[1]"), std::invalid_argument);
    EXPECT_THROW(decode_instance_tree(R"([{"parent":"x"}])"), std::invalid_argument);
    EXPECT_THROW(decode_instance_tree(R"([{"instance":1}])"), std::invalid_argument);
    EXPECT_THROW(decode_instance_tree(R"([{"instance":"a","history":"[{}]"}])"), codec::CodecError);
}
