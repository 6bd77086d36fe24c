// The peer-parity sugar of SQL-authored workflows: if_rows (an `if` on "the named sql result
// has rows").
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

class WorkflowSugarTest : public ::testing::Test {
protected:
    void SetUp() override {
        rt.orchestrations.register_orchestration(
            std::string(kWorkflowOrchestration),
            [](OrchestrationContext& ctx, const std::string& in) { return run_workflow(ctx, in); });
        // The SQL step: no rows for the statement "none", one row otherwise.
        rt.activities.register_system_activity(
            std::string(kWorkflowSqlActivity), [](ActivityContext&, const std::string& in) {
                return Json::parse(in).find("sql")->as_string() == "none"
                           ? std::string(R"({"rows":[],"row_count":0})")
                           : std::string(R"({"rows":[{"n":1}],"row_count":1})");
            });
    }
    std::string run(const std::string& instance, const std::string& definition) {
        rt.start(instance, std::string(kWorkflowOrchestration),
                 R"({"workflow":"w","version":"1.0.0","definition":)" + definition +
                     R"(,"input":null})");
        const auto& done = rt.finish(instance);
        return done.status + " " + done.output;
    }
    static std::string if_rows(const std::string& query) {
        return R"({"kind":"seq","steps":[{"kind":"sql","query":")" + query +
               R"(","as":"found"},
            {"kind":"if_rows","step":"found","then":{"kind":"return","value":"has rows"},
             "else":{"kind":"return","value":"empty"}}]})";
    }
    MemoryRuntime rt;
};

TEST_F(WorkflowSugarTest, IfRowsTakesThenWhenTheNamedResultHasRows) {
    EXPECT_EQ(run("some", if_rows("some")), R"(Completed "has rows")");
    EXPECT_EQ(run("none", if_rows("none")), R"(Completed "empty")");
}

TEST_F(WorkflowSugarTest, IfRowsIsValidatedLikeAnIf) {
    // The step must be a name visible at that point.
    EXPECT_THROW(parse_definition_text(R"({"kind":"if_rows","step":"later",
        "then":{"kind":"return","value":1}})"),
                 DefinitionError);
    EXPECT_THROW(parse_definition_text(R"({"kind":"if_rows","then":{"kind":"return","value":1}})"),
                 DefinitionError);
    EXPECT_THROW(
        parse_definition_text(R"({"kind":"seq","steps":[{"kind":"sql","query":"q","as":"a"},
        {"kind":"if_rows","step":"a b","then":{"kind":"return","value":1}}]})"),
        DefinitionError);
    EXPECT_THROW(
        parse_definition_text(R"({"kind":"seq","steps":[{"kind":"sql","query":"q","as":"a"},
        {"kind":"if_rows","step":"a","condition":"true","then":{"kind":"return","value":1}}]})"),
        DefinitionError);
    EXPECT_NO_THROW(parse_definition_text(if_rows("q")));
}

} // namespace

namespace {

TEST_F(WorkflowSugarTest, BreakEndsTheInnermostLoopAndRunsFinally) {
    // Three ticks (iterations 0, 1, 2), then break; the finally of the try around the break
    // still runs (a fourth SQL step), and the outer loop runs once.
    EXPECT_EQ(run("brk", R"({"kind":"seq","steps":[
        {"kind":"loop","max_iterations":2,"body":
          {"kind":"loop","max_iterations":10,"body":{"kind":"seq","steps":[
            {"kind":"sql","query":"tick"},
            {"kind":"try","body":
              {"kind":"if","condition":"$iteration == 2","then":{"kind":"break"}},
             "finally":{"kind":"sql","query":"cleanup"}}]}}},
        {"kind":"return","value":"after"}]})"),
              R"(Completed "after")");
    // Outer iterations: 2; per outer iteration 3 ticks and 3 cleanups (the finally runs on
    // every pass, the last time on the way out of the break).
    std::size_t scheduled = 0;
    for (const auto& e : rt.instances.at("brk").current().history) {
        scheduled += std::holds_alternative<core::events::ActivityScheduled>(e.kind);
    }
    EXPECT_EQ(scheduled, 12u);
}

TEST_F(WorkflowSugarTest, BreakOnlyInsideALoopOfTheSameInstance) {
    EXPECT_THROW(parse_definition_text(R"({"kind":"break"})"), DefinitionError);
    EXPECT_THROW(parse_definition_text(R"({"kind":"seq","steps":[{"kind":"break"}]})"),
                 DefinitionError);
    // A parallel/race/foreach branch may run as a child instance: no break across it.
    EXPECT_THROW(parse_definition_text(R"({"kind":"loop","max_iterations":2,"body":
        {"kind":"parallel","branches":[{"kind":"break"}]}})"),
                 DefinitionError);
    EXPECT_THROW(parse_definition_text(R"({"kind":"loop","max_iterations":2,"body":
        {"kind":"race","branches":[{"kind":"break"}]}})"),
                 DefinitionError);
    EXPECT_THROW(parse_definition_text(R"({"kind":"loop","max_iterations":2,"body":
        {"kind":"foreach","items":"$input","body":{"kind":"break"}}})"),
                 DefinitionError);
    EXPECT_NO_THROW(parse_definition_text(R"({"kind":"loop","max_iterations":2,"body":
        {"kind":"if","condition":"true","then":{"kind":"break"}}})"));
    EXPECT_NO_THROW(parse_definition_text(R"({"kind":"loop","max_iterations":2,"body":
        {"kind":"parallel","branches":[{"kind":"loop","body":{"kind":"break"}}]}})"));
}

} // namespace
