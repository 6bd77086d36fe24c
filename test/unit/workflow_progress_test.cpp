// workflow_progress: which node of the definition scheduled each unit of work, found by
// replaying the recorded history offline through the interpreter, on the in-memory runtime.
#include "memory_runtime.hpp"

#include "core/workflow/interpreter.hpp"
#include "core/workflow/json.hpp"
#include "core/workflow/progress.hpp"
#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core::workflow;
using duroxide::testing::MemoryRuntime;

namespace {

class WorkflowProgressTest : public ::testing::Test {
protected:
    void SetUp() override {
        rt.orchestrations.register_orchestration(
            std::string(kWorkflowOrchestration),
            [](OrchestrationContext& ctx, const std::string& in) { return run_workflow(ctx, in); });
        // The SQL step: one row echoing the statement; the statement "FAIL" fails.
        rt.activities.register_system_activity(
            std::string(kWorkflowSqlActivity),
            [](ActivityContext&, const std::string& in) -> std::string {
                const Json call = Json::parse(in);
                if (call.find("sql")->as_string() == "FAIL") {
                    throw std::runtime_error("ERROR: boom");
                }
                return R"({"rows":[{"n":1}],"row_count":1})";
            });
        rt.activities.register_activity("Flaky", [this](ActivityContext&, const std::string&) {
            if (++flaky_calls < 2) {
                throw std::runtime_error("not yet");
            }
            return std::string("\"done\"");
        });
    }

    void start(const std::string& instance, const std::string& definition) {
        rt.start(instance, std::string(kWorkflowOrchestration),
                 R"({"workflow":"w","version":"1.0.0","definition":)" + definition +
                     R"(,"input":null})");
    }

    // "path kind state attempts" per row, plus whether the times are set ("s" started, "f"
    // finished), e.g. "$.steps[0] sql done 1 sf".
    std::vector<std::string> progress(const std::string& instance, bool follow = false) {
        ChildHistories children;
        if (follow) {
            children = [this](const std::string& id) -> const std::vector<core::Event>* {
                auto it = rt.instances.find(id);
                return it == rt.instances.end() ? nullptr : &it->second.current().history;
            };
        }
        const Json rows = workflow_progress(rt.instances.at(instance).current().history, children);
        std::vector<std::string> out;
        for (const auto& row : rows.as_array()) {
            auto text = [&](const char* key) {
                const Json* v = row.find(key);
                return v->is_null() ? std::string("-") : v->as_string();
            };
            std::string line = text("path") + " " + text("kind") + " " + text("state") + " " +
                               std::to_string(row.find("attempts")->as_int()) + " ";
            line += row.find("started_ms")->is_null() ? "" : "s";
            line += row.find("finished_ms")->is_null() ? "" : "f";
            out.push_back(line);
        }
        return out;
    }

    MemoryRuntime rt;
    int flaky_calls = 0;
};

bool has_events(MemoryRuntime& rt, const std::string& instance, std::size_t n) {
    return rt.instances.count(instance) && rt.instances.at(instance).current().history.size() >= n;
}

TEST_F(WorkflowProgressTest, AttributesEachScheduleEventToItsNode) {
    start("p1", R"({"kind":"seq","steps":[
        {"kind":"sql","query":"a"},
        {"kind":"parallel","branches":[
            {"kind":"sql","query":"b"},
            {"kind":"seq","steps":[{"kind":"sql","query":"c"}]}]},
        {"kind":"wait_event","event":"approve"},
        {"kind":"sleep","duration":"1 min"}]})");
    // Waiting for the event: a and the parallel branches are done, the wait runs, the sleep
    // is still to come.
    rt.run([&] { return has_events(rt, "p1", 8); });
    EXPECT_EQ(progress("p1"),
              (std::vector<std::string>{
                  "$ seq - 0 ",
                  "$.steps[0] sql done 1 sf",
                  "$.steps[1] parallel - 0 ",
                  "$.steps[1].branches[0] sql done 1 sf",
                  "$.steps[1].branches[1] seq done 1 sf",
                  "$.steps[1].branches[1].steps[0] sql - 0 ", // runs in the branch child
                  "$.steps[2] wait_event running 1 s",
                  "$.steps[3] sleep pending 0 ",
              }));
    rt.raise_event("p1", "approve", "true");
    EXPECT_EQ(rt.finish("p1").status, "Completed");
    const auto rows = progress("p1");
    // The wait's completion does not name it in history: done, with no finish time.
    EXPECT_EQ(rows[6], "$.steps[2] wait_event done 1 s");
    EXPECT_EQ(rows[7], "$.steps[3] sleep done 1 sf");
}

TEST_F(WorkflowProgressTest, FailedCancelledAndRetriedWork) {
    start("p2", R"({"kind":"seq","steps":[
        {"kind":"activity","name":"Flaky","retry":{"max_attempts":3}},
        {"kind":"race","branches":[
            {"kind":"wait_event","event":"go"},{"kind":"sleep","duration":"1 s"}]},
        {"kind":"try","body":{"kind":"sql","query":"FAIL"},
         "catch":{"kind":"sql","query":"undo"}}]})");
    EXPECT_EQ(rt.finish("p2").status, "Completed");
    EXPECT_EQ(progress("p2"), (std::vector<std::string>{
                                  "$ seq - 0 ",
                                  // two attempts (the backoff timer between them is the node's)
                                  "$.steps[0] activity done 2 sf",
                                  "$.steps[1] race - 0 ",
                                  "$.steps[1].branches[0] wait_event cancelled 1 sf",
                                  "$.steps[1].branches[1] sleep done 1 sf",
                                  "$.steps[2] try - 0 ",
                                  "$.steps[2].body sql failed 1 sf",
                                  "$.steps[2].catch sql done 1 sf",
                              }));
    // The interpreter runs the attempts itself, with the engine retry helper's calls in the
    // same order: attempt, backoff timer, attempt (the history of instances started before).
    EXPECT_EQ(rt.shape("p2"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, 4 TimerCreated, "
              "5 TimerFired<4, 6 ActivityScheduled, 7 ActivityCompleted<6, 8 ExternalSubscribed, "
              "9 TimerCreated, 10 TimerFired<9, 11 ExternalSubscribedCancelled<8, "
              "12 ActivityScheduled, 13 ActivityFailed<12, 14 ActivityScheduled, "
              "15 ActivityCompleted<14, 16 OrchestrationCompleted");
}

TEST_F(WorkflowProgressTest, AWaitThatTimedOutFailed) {
    start("p4", R"({"kind":"try","body":{"kind":"wait_event","event":"never","timeout":"1 s"},
        "catch":{"kind":"return","value":"gave up"}})");
    EXPECT_EQ(rt.finish("p4").status, "Completed");
    EXPECT_EQ(progress("p4"),
              (std::vector<std::string>{"$ try - 0 ", "$.body wait_event failed 1 sf",
                                        "$.catch return - 0 "}));
}

TEST_F(WorkflowProgressTest, LoopsCountAttemptsAndAnythingElseIsRefused) {
    start("p3", R"({"kind":"loop","max_iterations":3,"body":{"kind":"sql","query":"tick"}})");
    EXPECT_EQ(rt.finish("p3").status, "Completed");
    EXPECT_EQ(progress("p3"), (std::vector<std::string>{"$ loop - 0 ", "$.body sql done 3 sf"}));

    rt.orchestrations.register_orchestration(
        "Plain", [](OrchestrationContext&, const std::string&) { return "x"; });
    rt.start("plain", "Plain", "null");
    rt.finish("plain");
    EXPECT_THROW(workflow_progress(rt.instances.at("plain").current().history),
                 std::invalid_argument);
}

TEST_F(WorkflowProgressTest, NodesInsideBranchesComeFromTheChildInstances) {
    // A parallel branch of two steps and a foreach body of a seq run as child instances.
    const std::string definition = R"({"kind":"seq","steps":[
        {"kind":"parallel","branches":[
            {"kind":"sql","query":"SELECT 1"},
            {"kind":"seq","steps":[{"kind":"sql","query":"SELECT 2"},
                                   {"kind":"activity","name":"Flaky","retry":{"max_attempts":3}}]}]},
        {"kind":"foreach","items":"$input","body":{"kind":"seq","steps":[
            {"kind":"sql","query":"SELECT $1","params":["$item"]},
            {"kind":"try","body":{"kind":"sql","query":"FAIL"},
             "catch":{"kind":"return","value":0}}]}}]})";
    rt.start("c1", std::string(kWorkflowOrchestration),
             R"({"workflow":"w","version":"1.0.0","definition":)" + definition +
                 R"(,"input":[1,2,3]})");
    EXPECT_EQ(rt.finish("c1").status, "Completed");
    // Without the children: the nodes inside have no state.
    EXPECT_EQ(progress("c1")[4], "$.steps[0].branches[1].steps[0] sql - 0 ");
    EXPECT_EQ(progress("c1", true), (std::vector<std::string>{
                                        "$ seq - 0 ",
                                        "$.steps[0] parallel - 0 ",
                                        "$.steps[0].branches[0] sql done 1 sf",
                                        "$.steps[0].branches[1] seq done 1 sf",
                                        "$.steps[0].branches[1].steps[0] sql done 1 sf",
                                        // inside the child: two attempts of the retried activity
                                        "$.steps[0].branches[1].steps[1] activity done 2 sf",
                                        "$.steps[1] foreach - 0 ",
                                        "$.steps[1].body seq done 3 sf",
                                        // one per item, merged: three runs each
                                        "$.steps[1].body.steps[0] sql done 3 sf",
                                        "$.steps[1].body.steps[1] try - 0 ",
                                        "$.steps[1].body.steps[1].body sql failed 3 sf",
                                        "$.steps[1].body.steps[1].catch return - 0 ",
                                    }));
}

} // namespace
