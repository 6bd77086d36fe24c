// The workflow interpreter on the in-memory runtime: exact histories of SQL-authored
// workflows, with the SQL step played by a stand-in for the system activity.
#include "memory_runtime.hpp"

#include "core/workflow/definition.hpp"
#include "core/workflow/interpreter.hpp"
#include "core/workflow/json.hpp"
#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using namespace duroxide::core::workflow;
using duroxide::testing::MemoryRuntime;

namespace {

class WorkflowTest : public ::testing::Test {
protected:
    void SetUp() override {
        rt.orchestrations.register_orchestration(
            std::string(kWorkflowOrchestration),
            [](OrchestrationContext& ctx, const std::string& in) { return run_workflow(ctx, in); });
        // The SQL step: echoes its statement and parameters as one row; fails for the statement
        // or first parameter "FAIL".
        rt.activities.register_system_activity(
            std::string(kWorkflowSqlActivity),
            [this](ActivityContext&, const std::string& in) -> std::string {
                sql.push_back(in);
                const Json call = Json::parse(in);
                const auto& params = call.find("params")->as_array();
                if (call.find("sql")->as_string() == "FAIL" ||
                    (!params.empty() && params[0] == Json("FAIL"))) {
                    throw std::runtime_error("ERROR: boom");
                }
                JsonObject row;
                row["sql"] = *call.find("sql");
                row["params"] = *call.find("params");
                JsonObject result;
                result["rows"] = Json(JsonArray{Json(std::move(row))});
                result["row_count"] = Json(1);
                return Json(std::move(result)).dump();
            });
        rt.activities.register_system_activity(
            std::string(kWorkflowDefinitionActivity),
            [](ActivityContext&, const std::string& in) -> std::string {
                const Json request = Json::parse(in);
                if (request.find("workflow")->as_string() != "child") {
                    throw std::runtime_error("no workflow");
                }
                return R"({"version":"1.0.0","definition":{"kind":"return","value":{"$expr":"$input * 10"}}})";
            });
        rt.activities.register_activity("Upper", [](ActivityContext&, const std::string& s) {
            std::string out = s;
            for (auto& c : out) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            return out;
        });
        rt.activities.register_activity("Flaky", [this](ActivityContext&, const std::string&) {
            if (++flaky_calls < 3) {
                throw std::runtime_error("not yet");
            }
            return std::string("done");
        });
    }

    void start(const std::string& instance, const std::string& definition,
               const std::string& input = "null") {
        rt.start(instance, std::string(kWorkflowOrchestration),
                 R"({"workflow":"w","version":"1.0.0","definition":)" + definition +
                     R"(,"input":)" + input + "}");
    }

    MemoryRuntime rt;
    std::vector<std::string> sql;
    int flaky_calls = 0;
};

} // namespace

TEST_F(WorkflowTest, SequenceOfSqlStepsBindsParametersFromInputAndEarlierResults) {
    start("seq", R"({"kind":"seq","steps":[
        {"kind":"sql","query":"INSERT 1","params":["$input.sku", "$input.qty"],"as":"reserve"},
        {"kind":"sql","query":"INSERT 2","params":["$steps.reserve.rows[0].params[0]", null, {"a":1}]},
        {"kind":"return","value":{"first":"$steps.reserve.rows[0].sql","n":"$steps.reserve.row_count"}}]})",
          R"({"sku":"A1","qty":3})");
    const auto& done = rt.finish("seq");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, R"({"first":"INSERT 1","n":1})");
    ASSERT_EQ(sql.size(), 2u);
    EXPECT_EQ(sql[0], R"({"params":["A1","3"],"sql":"INSERT 1"})");
    EXPECT_EQ(sql[1], R"({"params":["A1",null,"{\"a\":1}"],"sql":"INSERT 2"})");
    EXPECT_EQ(rt.shape("seq"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
              "4 ActivityScheduled, 5 ActivityCompleted<4, "
              "6 OrchestrationCompleted");
}

TEST_F(WorkflowTest, IfSwitchAndActivities) {
    start("if", R"({"kind":"seq","steps":[
        {"kind":"activity","name":"Upper","input":"$input.name","as":"up"},
        {"kind":"if","condition":"$steps.up == 'ADA'","then":{"kind":"set_status","value":"yes"},
         "else":{"kind":"set_status","value":"no"}},
        {"kind":"switch","value":"len($steps.up) ","cases":[{"when":2,"do":{"kind":"return","value":"two"}},
         {"when":3,"do":{"kind":"return","value":"three"}}],"default":{"kind":"return","value":"many"}}]})",
          R"({"name":"ada"})");
    const auto& done = rt.finish("if");
    EXPECT_EQ(done.output, R"("three")");
    EXPECT_EQ(rt.instances.at("if").custom_status, "yes");
}

TEST_F(WorkflowTest, ParallelJoinsEveryBranchAndMultiStepBranchesRunAsChildren) {
    start("par", R"({"kind":"seq","steps":[
        {"kind":"parallel","branches":[
            {"kind":"sql","query":"A","as":"a"},
            {"kind":"seq","steps":[{"kind":"sql","query":"B1","as":"b1"},
                                   {"kind":"sql","query":"B2","params":["$steps.b1.rows[0].sql"],"as":"b2"}]}]},
        {"kind":"return","value":["$steps.a.rows[0].sql","$steps.b2.rows[0].params[0]"]}]})");
    const auto& done = rt.finish("par");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(done.output, R"(["A","B1"])");
    EXPECT_EQ(rt.shape("par"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                               "3 SubOrchestrationScheduled, 4 ActivityCompleted<2, "
                               "5 SubOrchestrationCompleted<3, 6 OrchestrationCompleted");
    EXPECT_EQ(rt.shape("par::sub::3"), "1 OrchestrationStarted, 2 ActivityScheduled, "
                                       "3 ActivityCompleted<2, 4 ActivityScheduled, "
                                       "5 ActivityCompleted<4, 6 OrchestrationCompleted");
}

TEST_F(WorkflowTest, RaceCancelsTheLoser) {
    start("race", R"({"kind":"race","branches":[
        {"kind":"wait_event","event":"go"},{"kind":"sleep","duration":"1 min"}]})");
    rt.run([&] {
        return rt.instances.count("race") && rt.instances.at("race").current().history.size() >= 3;
    });
    rt.raise_event("race", "go", R"({"ok":true})");
    const auto& done = rt.finish("race");
    EXPECT_EQ(done.output, R"({"index":0,"result":{"ok":true}})");
    EXPECT_EQ(rt.shape("race"), "1 OrchestrationStarted, 2 ExternalSubscribed, 3 TimerCreated, "
                                "4 ExternalEvent, 5 OrchestrationCompleted");
}

TEST_F(WorkflowTest, WaitEventTimesOutIntoTheCatchAndCompensates) {
    start("saga", R"({"kind":"try",
        "body":{"kind":"seq","steps":[
            {"kind":"sql","query":"reserve","as":"reserve"},
            {"kind":"wait_event","event":"approve","timeout":"1 h"}]},
        "catch":{"kind":"seq","steps":[
            {"kind":"sql","query":"release","params":["$error.message"]},
            {"kind":"fail","message":{"$expr":"'rejected: ' + $error.message"}}]},
        "finally":{"kind":"set_status","value":"closed"}})");
    const auto& done = rt.finish("saga");
    EXPECT_EQ(done.status, "Failed");
    ASSERT_EQ(sql.size(), 2u);
    EXPECT_EQ(
        sql[1],
        R"({"params":["timeout: event \"approve\" had nothing within 3600000 ms"],"sql":"release"})");
    EXPECT_EQ(rt.instances.at("saga").custom_status, "closed");
    EXPECT_EQ(rt.shape("saga"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityCompleted<2, "
              "4 ExternalSubscribed, 5 TimerCreated, 6 TimerFired<5, "
              "7 ExternalSubscribedCancelled<4, 8 ActivityScheduled, 9 ActivityCompleted<8, "
              "10 CustomStatusUpdated, 11 OrchestrationFailed");
}

TEST_F(WorkflowTest, FailedSqlStepIsCaught) {
    start("catch", R"({"kind":"try","body":{"kind":"sql","query":"FAIL"},
        "catch":{"kind":"return","value":{"caught":"$error.message","at":"$error.at"}}})");
    EXPECT_EQ(rt.finish("catch").output, R"({"at":"$.body","caught":"ERROR: boom"})");
}

TEST_F(WorkflowTest, UncaughtFailureFailsTheWorkflow) {
    start(
        "fail",
        R"({"kind":"seq","steps":[{"kind":"sql","query":"FAIL"},{"kind":"sql","query":"never"}]})");
    const auto& done = rt.finish("fail");
    EXPECT_EQ(done.status, "Failed");
    EXPECT_EQ(sql.size(), 1u);
}

TEST_F(WorkflowTest, ActivityRetriesWithBackoff) {
    start(
        "retry",
        R"({"kind":"activity","name":"Flaky","retry":{"max_attempts":3,"backoff":"fixed","delay":"2 s"}})");
    const auto& done = rt.finish("retry");
    EXPECT_EQ(done.output, R"("done")");
    EXPECT_EQ(flaky_calls, 3);
    EXPECT_EQ(rt.shape("retry"),
              "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityFailed<2, 4 TimerCreated, "
              "5 TimerFired<4, 6 ActivityScheduled, 7 ActivityFailed<6, 8 TimerCreated, "
              "9 TimerFired<8, 10 ActivityScheduled, 11 ActivityCompleted<10, "
              "12 OrchestrationCompleted");
}

TEST_F(WorkflowTest, ForeachBoundsTheFanOut) {
    start("fan", R"({"kind":"foreach","items":"$input","max_in_flight":2,
        "body":{"kind":"sql","query":"row","params":["$item","$index"]}})",
          R"(["a","b","c"])");
    const auto& done = rt.finish("fan");
    EXPECT_EQ(done.status, "Completed");
    // At most two scheduled before the first completes.
    EXPECT_EQ(rt.shape("fan"), "1 OrchestrationStarted, 2 ActivityScheduled, 3 ActivityScheduled, "
                               "4 ActivityCompleted<2, 5 ActivityScheduled, "
                               "6 ActivityCompleted<3, 7 ActivityCompleted<5, "
                               "8 OrchestrationCompleted");
    EXPECT_EQ(sql[2], R"({"params":["c","2"],"sql":"row"})");
}

TEST_F(WorkflowTest, LoopContinuesAsNewEveryNIterations) {
    start("loop", R"({"kind":"while","condition":"$iteration < 5","continue_as_new_every":2,
        "body":{"kind":"sql","query":"tick","params":["$iteration"],"as":"tick"}})");
    const auto& done = rt.finish("loop");
    EXPECT_EQ(done.status, "Completed");
    EXPECT_EQ(rt.instances.at("loop").executions.size(), 3u);
    ASSERT_EQ(sql.size(), 5u);
    EXPECT_EQ(sql[4], R"({"params":["4"],"sql":"tick"})");
    EXPECT_EQ(done.output, R"({"row_count":1,"rows":[{"params":["4"],"sql":"tick"}]})");
}

TEST_F(WorkflowTest, SleepKvDequeueAndSubWorkflow) {
    start("misc", R"({"kind":"seq","steps":[
        {"kind":"sleep","duration":"10 s"},
        {"kind":"kv_set","key":"state","value":"slept"},
        {"kind":"dequeue","queue":"jobs","as":"job"},
        {"kind":"sub_workflow","workflow":"child","input":"$steps.job.n","as":"child"},
        {"kind":"return","value":"$steps.child"}]})");
    rt.run([&] { return rt.instances.count("misc") && rt.kv_value("misc", "state").has_value(); });
    rt.enqueue_event("misc", "jobs", R"({"n":4})");
    const auto& done = rt.finish("misc");
    EXPECT_EQ(done.output, "40");
    EXPECT_EQ(rt.kv_value("misc", "state"), "slept");
}

TEST_F(WorkflowTest, BadDefinitionFailsTheInstance) {
    start("bad", R"({"kind":"nope"})");
    const auto& done = rt.finish("bad");
    EXPECT_EQ(done.status, "Failed");
}

TEST_F(WorkflowTest, DeepestDefinitionRunsOnTheSmallestFiberStack) {
    // The memory runtime's fibers have 64 kB, duroxide.fiber_stack_size's minimum.
    std::string deep = R"({"kind":"sql","query":"deep","params":[{"$expr":")" +
                       std::string(30, '(') + "1" + std::string(30, ')') + R"("}]})";
    for (int i = 1; i < kMaxNodeDepth; ++i) {
        deep = (i % 2 ? R"({"kind":"seq","steps":[)" + deep + "]}"
                      : R"({"kind":"try","body":)" + deep +
                            R"(,"catch":{"kind":"fail","message":"x"}})");
    }
    start("deep", deep);
    EXPECT_EQ(rt.finish("deep").status, "Completed");
}

TEST_F(WorkflowTest, RaceCancelsALosingChildBranch) {
    start("race-child", R"({"kind":"race","branches":[
        {"kind":"seq","steps":[{"kind":"wait_event","event":"never"},{"kind":"sql","query":"late"}]},
        {"kind":"sleep","duration":"1 s"}]})");
    const auto& done = rt.finish("race-child");
    EXPECT_EQ(done.output, R"({"index":1,"result":null})");
    // The losing branch ran as a child instance; select cancelled it.
    rt.run([&] { return rt.is_finished("race-child::sub::2"); });
    EXPECT_EQ(rt.instances.at("race-child::sub::2").current().status, "Failed");
    EXPECT_TRUE(sql.empty());
}

TEST_F(WorkflowTest, ForeachStopsAtTheFirstFailure) {
    start("fan-fail", R"({"kind":"foreach","items":"$input","max_in_flight":1,
        "body":{"kind":"sql","query":"Q","params":["$item"]}})",
          R"(["ok","FAIL","never"])");
    const auto& done = rt.finish("fan-fail");
    EXPECT_EQ(done.status, "Failed");
    ASSERT_EQ(sql.size(), 2u); // the third item never started
}
