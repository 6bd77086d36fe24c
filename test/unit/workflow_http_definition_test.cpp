// Workflow definitions: the http node (its fields, the request template it builds, and every
// refusal with the JSON path of the offending field), and the interpreter running it with its
// retry policy against a stand-in for the system activity.
#include "memory_runtime.hpp"

#include "core/workflow/definition.hpp"
#include "core/workflow/interpreter.hpp"
#include "duroxide/activity_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core::workflow;

namespace {

std::string refusal(const std::string& definition) {
    try {
        parse_definition_text(definition);
        return "";
    } catch (const DefinitionError& e) {
        return e.path() + " | " + e.message();
    }
}

} // namespace

TEST(WorkflowHttpNode, BuildsTheRequestTemplate) {
    const Node root = parse_definition_text(R"({"kind":"seq","steps":[
        {"kind":"sql","query":"SELECT 1 AS id","as":"row"},
        {"kind":"http","method":"POST","url":"$input.url","as":"call",
         "headers":{"X-Id":"$steps.row.rows[0].id"},"body":{"id":"$steps.row.rows[0].id"},
         "timeout":"5 s","expect_status":[200,"300-304"],
         "retry":{"max_attempts":3,"backoff":"fixed","delay":"10 ms"},"tag":"net"},
        {"kind":"return","value":"$steps.call.json"}]})");
    const Node& http = root.children[1];
    EXPECT_EQ(http.kind, NodeKind::Http);
    EXPECT_EQ(http.as, "call");
    EXPECT_EQ(*http.tag, "net");
    ASSERT_TRUE(http.retry);
    EXPECT_EQ(http.retry->max_attempts, 3u);
    EXPECT_EQ(http.retry->backoff, "fixed");
    EXPECT_EQ(http.value.dump(),
              R"({"body":{"id":"$steps.row.rows[0].id"},"expect":[[200,200],[300,304]],)"
              R"("headers":{"X-Id":"$steps.row.rows[0].id"},"method":"POST",)"
              R"("timeout_ms":5000,"url":"$input.url"})");
}

TEST(WorkflowHttpNode, Defaults) {
    const Node n = parse_definition_text(R"({"kind":"http","url":"http://127.0.0.1:1/x"})");
    EXPECT_FALSE(n.retry);
    EXPECT_EQ(n.value.dump(), R"({"expect":[[200,299]],"headers":{},"method":"GET",)"
                              R"("timeout_ms":30000,"url":"http://127.0.0.1:1/x"})");
    EXPECT_EQ(parse_definition_text(R"({"kind":"http","url":"https://h/","expect_status":302})")
                  .value.find("expect")
                  ->dump(),
              "[[302,302]]");
}

TEST(WorkflowHttpNode, RefusesWithThePath) {
    EXPECT_EQ(refusal(R"({"kind":"seq","steps":[{"kind":"http"}]})"),
              "$.steps[0] | missing field \"url\"");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"ftp://h/x"})"),
              "$.url | must start with http:// or https:// (got \"ftp://h/x\")");
    EXPECT_EQ(refusal(R"({"kind":"http","url":""})"), "$.url | must be a non-empty string");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","method":"BREW"})"),
              "$.method | must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (got \"BREW\")");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","headers":[1]})"),
              "$.headers | must be an object of header values");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","headers":{"a b":"x"}})"),
              "$.headers | bad header name \"a b\"");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","timeout":"soon"})"),
              "$.timeout | bad interval \"soon\": a number expected");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","expect_status":700})"),
              "$.expect_status | a status must be from 100 to 599");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","expect_status":"299-200"})"),
              "$.expect_status | must be a status (200), a range (\"200-299\") or an array of "
              "those");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","expect_status":[]})"),
              "$.expect_status | must not be empty");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","retry":{"max_attempts":0}})"),
              "$.retry.max_attempts | must be an integer from 1 to 100");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"http://h/","session":"s"})"),
              "$.session | unknown field of a http node");
    EXPECT_EQ(refusal(R"({"kind":"http","url":"$steps.nope.url"})"),
              "$.url | refers to step \"nope\", whose result cannot exist here (no earlier step, "
              "or one inside a branch, body or catch that may not have run, has that \"as\")");
}

TEST(WorkflowHttpNode, RunsTheEvaluatedRequestWithItsRetryPolicy) {
    duroxide::testing::MemoryRuntime rt;
    rt.orchestrations.register_orchestration(
        std::string(kWorkflowOrchestration),
        [](OrchestrationContext& ctx, const std::string& in) { return run_workflow(ctx, in); });
    std::vector<std::string> requests;
    rt.activities.register_system_activity(
        std::string(kWorkflowHttpActivity),
        [&requests](ActivityContext&, const std::string& in) -> std::string {
            requests.push_back(in);
            if (requests.size() < 3) {
                throw std::runtime_error("http step: returned status 503, expected 200-299");
            }
            return R"({"status":200,"headers":{},"body":"{}","json":{"ok":true}})";
        });
    rt.start("h", std::string(kWorkflowOrchestration),
             R"({"workflow":"w","version":"1.0.0","input":{"url":"http://h/x","id":7},
                 "definition":{"kind":"seq","steps":[
                   {"kind":"http","method":"POST","url":"$input.url","as":"call",
                    "headers":{"X-Id":"$input.id"},"body":{"id":"$input.id"},
                    "retry":{"max_attempts":3,"backoff":"fixed","delay":"1 s"}},
                   {"kind":"return","value":"$steps.call.json.ok"}]}})");
    const auto& done = rt.finish("h");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, "true");
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0], R"({"body":{"id":7},"expect":[[200,299]],"headers":{"X-Id":7},)"
                           R"("method":"POST","timeout_ms":30000,"url":"http://h/x"})");
    EXPECT_EQ(rt.shape("h"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, 4 TimerCreated, "
              "5 TimerFired<4, 6 ActivityScheduled, 7 ActivityFailed<6, 8 TimerCreated, "
              "9 TimerFired<8, 10 ActivityScheduled, 11 ActivityCompleted<10, "
              "12 OrchestrationCompleted");
}
