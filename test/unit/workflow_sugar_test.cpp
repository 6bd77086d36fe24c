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
