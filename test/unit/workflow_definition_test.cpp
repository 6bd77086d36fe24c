// Workflow definitions: the validator (every refusal names the JSON path of the offending
// node), intervals, and the expression language.
#include "core/workflow/definition.hpp"
#include "core/workflow/expression.hpp"

#include <gtest/gtest.h>

using namespace duroxide::core::workflow;

namespace {

// The path of the error a definition is refused with ("" when it is accepted).
std::string refusal(const std::string& definition) {
    try {
        parse_definition_text(definition);
        return "";
    } catch (const DefinitionError& e) {
        return e.path() + " | " + e.message();
    }
}

std::string path_of(const std::string& definition) {
    const std::string r = refusal(definition);
    return r.substr(0, r.find(" | "));
}

Json eval(const std::string& expression, const std::string& scope) {
    return Expression::parse(expression).evaluate(Json::parse(scope));
}

} // namespace

TEST(WorkflowDefinition, AcceptsEveryKind) {
    const std::string def = R"({"kind":"seq","steps":[
        {"kind":"sql","query":"SELECT 1 AS n","as":"one"},
        {"kind":"activity","name":"A","input":{"n":"$steps.one.rows[0].n"},
         "retry":{"max_attempts":3,"backoff":"fixed","delay":"1 s"},"timeout":"5 s","tag":"t"},
        {"kind":"parallel","branches":[{"kind":"sleep","duration":"1 s"},
                                        {"kind":"sql","query":"SELECT 2","as":"two"}]},
        {"kind":"if","condition":"$steps.two.row_count > 0","then":{"kind":"set_status","value":"ok"},
         "else":{"kind":"fail","message":"no rows"}},
        {"kind":"race","branches":[{"kind":"wait_event","event":"go"},{"kind":"sleep","duration":"1 h"}]},
        {"kind":"switch","value":"$input.mode","cases":[{"when":"a","do":{"kind":"kv_set","key":"k","value":1}}],
         "default":{"kind":"dequeue","queue":"q","timeout":"1 min"}},
        {"kind":"try","body":{"kind":"sql","query":"SELECT 3"},
         "catch":{"kind":"set_status","value":"$error.message"},"finally":{"kind":"sleep","duration":"1 ms"}},
        {"kind":"foreach","items":"$input.items","max_in_flight":2,
         "body":{"kind":"activity","name":"B","input":"$item"}},
        {"kind":"while","condition":"$iteration < 3","body":{"kind":"sleep","duration":"1 s"}},
        {"kind":"sub_workflow","workflow":"child","version":"1.0.0","input":"$input"},
        {"kind":"wait_event","event":"approve","timeout":"1 day","as":"approval"},
        {"kind":"return","value":{"approved":"$steps.approval","literal":"$$5"}}]})";
    EXPECT_EQ(refusal(def), "");
    const Node root = parse_definition_text(def);
    EXPECT_EQ(root.kind, NodeKind::Seq);
    EXPECT_EQ(root.children.size(), 12u);
    EXPECT_EQ(root.children[1].retry->max_attempts, 3u);
    EXPECT_EQ(*root.children[1].retry->timeout_ms, 5000);
    EXPECT_EQ(root.children[7].max_in_flight, 2);
    EXPECT_EQ(*root.children[10].timeout_ms, 86'400'000);
}

TEST(WorkflowDefinition, RefusesWithThePathOfTheNode) {
    EXPECT_EQ(refusal(R"({"kind":"seq","steps":[{"kind":"nope"}]})"),
              "$.steps[0].kind | unknown kind \"nope\"");
    EXPECT_EQ(refusal(R"({"kind":"seq","steps":[{"kind":"sql"}]})"),
              "$.steps[0] | missing field \"query\"");
    EXPECT_EQ(refusal(R"({"steps":[]})"), "$ | missing field \"kind\"");
    EXPECT_EQ(refusal(R"({"kind":"sql","query":42})"), "$.query | must be a string, not number");
    EXPECT_EQ(refusal(R"({"kind":"sql","query":"SELECT 1","params":"x"})"),
              "$.params | must be an array");
    EXPECT_EQ(refusal(R"({"kind":"sleep","duration":"5 fortnights"})"),
              "$.duration | bad interval \"5 fortnights\": unknown unit \"fortnights\"");
    EXPECT_EQ(refusal(R"({"kind":"sleep","duration":"400 days"})"),
              "$.duration | bad interval \"400 days\": longer than 366 days");
    EXPECT_EQ(refusal(R"({"kind":"seq","steps":[{"kind":"sql","query":"x","as":"a"},
                                                {"kind":"sql","query":"y","as":"a"}]})"),
              "$.steps[1].as | duplicate step name \"a\"");
    EXPECT_EQ(refusal(R"({"kind":"sql","query":"x","colour":"red"})"),
              "$.colour | unknown field of a sql node");
    EXPECT_EQ(refusal(R"([1,2])"), "$ | a node must be a JSON object, not array");
    EXPECT_EQ(path_of(R"({"kind":"sql",)"), "$");
    EXPECT_EQ(
        refusal(R"({"kind":"if","condition":"$input.x >","then":{"kind":"sql","query":"x"}})"),
        "$.condition | bad expression: expression ends too early at offset 10");
    EXPECT_EQ(path_of(R"({"kind":"seq","steps":[{"kind":"loop","continue_as_new_every":5,
                       "body":{"kind":"sleep","duration":"1 s"}}]})"),
              "$.steps[0].continue_as_new_every");
    EXPECT_EQ(
        refusal(
            R"({"kind":"foreach","items":"$input","max_in_flight":0,"body":{"kind":"sleep","duration":1}})"),
        "$.max_in_flight | must be an integer from 1 to 1000");
}

TEST(WorkflowDefinition, RefusesReferencesToResultsThatCannotExist) {
    // A later step, not an earlier one.
    EXPECT_EQ(path_of(R"({"kind":"seq","steps":[
        {"kind":"sql","query":"x","params":["$steps.b.rows"]},{"kind":"sql","query":"y","as":"b"}]})"),
              "$.steps[0].params[0]");
    // A step inside an if's branch may not have run.
    EXPECT_EQ(path_of(R"({"kind":"seq","steps":[
        {"kind":"if","condition":"true","then":{"kind":"sql","query":"x","as":"maybe"}},
        {"kind":"return","value":"$steps.maybe"}]})"),
              "$.steps[1].value");
    // A step cannot read its own result.
    EXPECT_EQ(path_of(R"({"kind":"sql","query":"x","as":"me","params":["$steps.me"]})"),
              "$.params[0]");
    // Every branch of a parallel has run after it; a race's losers have not.
    EXPECT_EQ(refusal(R"({"kind":"seq","steps":[
        {"kind":"parallel","branches":[{"kind":"sql","query":"x","as":"p"}]},
        {"kind":"return","value":"$steps.p"}]})"),
              "");
    EXPECT_EQ(path_of(R"({"kind":"seq","steps":[
        {"kind":"race","branches":[{"kind":"sql","query":"x","as":"r"}]},
        {"kind":"return","value":{"$expr":"$steps.r"}}]})"),
              "$.steps[1].value.$expr");
    // $item outside a foreach, $error outside a catch, an unknown root.
    EXPECT_EQ(path_of(R"({"kind":"return","value":"$item"})"), "$.value");
    EXPECT_EQ(refusal(R"({"kind":"try","body":{"kind":"fail","message":"$error"},
                          "catch":{"kind":"return","value":"$error.message"}})"),
              "$.body.message | $error exists only inside a catch");
    EXPECT_EQ(refusal(R"({"kind":"return","value":"$secret.x"})"),
              "$.value | unknown root \"$secret\" (input, vars, steps, item, index, error or "
              "iteration)");
    EXPECT_EQ(refusal(R"({"kind":"return","value":"$vars.region"})"), "");
}

TEST(WorkflowDefinition, LimitsOfSizeAndNesting) {
    std::string deep = R"({"kind":"sleep","duration":"1 s"})";
    for (int i = 0; i < kMaxNodeDepth; ++i) {
        deep = R"({"kind":"seq","steps":[)" + deep + "]}";
    }
    EXPECT_EQ(refusal(deep).substr(refusal(deep).find(" | ")),
              " | nodes nest deeper than 24 levels");
    std::string big = R"({"kind":"sql","query":")" + std::string(kMaxDefinitionBytes, 'x') + "\"}";
    EXPECT_EQ(refusal(big), "$ | definition larger than 128 kB");
}

TEST(WorkflowDefinition, Intervals) {
    EXPECT_EQ(parse_interval_ms("500 ms"), 500);
    EXPECT_EQ(parse_interval_ms("5 s"), 5000);
    EXPECT_EQ(parse_interval_ms("1h 30min"), 5'400'000);
    EXPECT_EQ(parse_interval_ms("2 days"), 172'800'000);
    EXPECT_EQ(parse_interval_ms("250"), 250);
    EXPECT_THROW(parse_interval_ms(""), std::invalid_argument);
    EXPECT_THROW(parse_interval_ms("5"
                                   " s x"),
                 std::invalid_argument);
    EXPECT_THROW(parse_interval_ms("-5 s"), std::invalid_argument);
}

TEST(WorkflowExpression, PathsLiteralsAndOperators) {
    const std::string scope =
        R"({"input":{"sku":"A1","qty":3,"odd key":true},
            "steps":{"reserve":{"rows":[{"id":7}],"row_count":1}}})";
    EXPECT_EQ(eval("$.input.sku", scope), Json("A1"));
    EXPECT_EQ(eval("$input.sku", scope), Json("A1"));
    EXPECT_EQ(eval("$steps.reserve.rows[0].id", scope), Json(7));
    EXPECT_EQ(eval("$input['odd key']", scope), Json(true));
    EXPECT_EQ(eval("$steps.reserve.rows[5].id", scope), Json()); // missing is null
    EXPECT_EQ(eval("$input.qty * 2 + 1", scope), Json(7));
    EXPECT_EQ(eval("$input.qty / 2", scope), Json(1.5));
    EXPECT_EQ(eval("'sku-' + $input.sku", scope), Json("sku-A1"));
    EXPECT_EQ(eval("$input.qty >= 3 and not ($input.sku == 'B')", scope), Json(true));
    EXPECT_EQ(eval("$input.qty > 3 || $input.sku != \"A1\"", scope), Json(false));
    EXPECT_EQ(eval("len($steps.reserve.rows) == 1 && exists($input.sku)", scope), Json(true));
    EXPECT_EQ(eval("coalesce($input.none, $input.qty)", scope), Json(3));
    EXPECT_EQ(eval("string($input.qty)", scope), Json("3"));
    EXPECT_EQ(eval("-$input.qty", scope), Json(-3));
    EXPECT_EQ(eval("null == $input.none", scope), Json(true));
    EXPECT_EQ(eval("$input.order", R"({"input":{"order":1}})"), Json(1)); // not "or" + "der"
}

TEST(WorkflowExpression, Errors) {
    EXPECT_THROW(Expression::parse("$input.sku =="), ExpressionError);
    EXPECT_THROW(Expression::parse("foo(1)"), ExpressionError);
    EXPECT_THROW(Expression::parse("'open"), ExpressionError);
    EXPECT_THROW(Expression::parse("1 2"), ExpressionError);
    EXPECT_THROW(Expression::parse(std::string(kMaxExpressionBytes + 1, '1')), ExpressionError);
    EXPECT_THROW(Expression::parse(std::string(100, '(') + "1" + std::string(100, ')')),
                 ExpressionError);
    EXPECT_THROW(eval("'a' < 1", "{}"), ExpressionError);
    EXPECT_THROW(eval("1 / 0", "{}"), ExpressionError);
}

TEST(WorkflowExpression, Templates) {
    const Json scope = Json::parse(R"({"input":{"sku":"A1","qty":3}})");
    EXPECT_EQ(evaluate_template(Json::parse(R"({"s":"$input.sku","n":{"$expr":"$input.qty + 1"},
                                                "lit":"$$input","plain":"x","a":[1,"$input.qty"]})"),
                                scope)
                  .dump(),
              R"({"a":[1,3],"lit":"$input","n":4,"plain":"x","s":"A1"})");
}
