// Workflow definitions: the http_multipart node (the request template with its parts, the
// defaults, and every refusal with the JSON path of the offending field).
#include "core/workflow/definition.hpp"

#include <gtest/gtest.h>

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

std::string multipart(const std::string& extra) {
    return R"({"kind":"http_multipart","url":"http://h/up",)" + extra + "}";
}

} // namespace

TEST(WorkflowHttpMultipartNode, BuildsTheRequestTemplateWithItsParts) {
    const Node n = parse_definition_text(multipart(
        R"("method":"PUT","headers":{"X-Id":"$input.id"},"timeout":"2 s","expect_status":201,
           "parts":[{"name":"title","value":"$input.title"},
                    {"name":"report","value":"$input.csv","filename":"r.csv",
                     "content_type":"text/csv"}])"));
    EXPECT_EQ(n.kind, NodeKind::Http);
    EXPECT_EQ(n.value.dump(),
              R"({"expect":[[201,201]],"headers":{"X-Id":"$input.id"},"method":"PUT",)"
              R"("parts":[{"name":"title","value":"$input.title"},)"
              R"({"content_type":"text/csv","filename":"r.csv","name":"report",)"
              R"("value":"$input.csv"}],"timeout_ms":2000,"url":"http://h/up"})");
}

TEST(WorkflowHttpMultipartNode, PostsByDefaultAndKeepsNoBody) {
    const Node n = parse_definition_text(multipart(R"("parts":[{"name":"a","value":{"x":1}}])"));
    EXPECT_EQ(n.value.find("method")->as_string(), "POST");
    EXPECT_EQ(n.value.find("body"), nullptr);
    EXPECT_EQ(n.value.find("parts")->dump(), R"([{"name":"a","value":{"x":1}}])");
}

TEST(WorkflowHttpMultipartNode, RefusesWithThePath) {
    EXPECT_EQ(refusal(R"({"kind":"http_multipart","url":"http://h/"})"),
              "$ | missing field \"parts\"");
    EXPECT_EQ(refusal(multipart(R"("parts":[])")), "$.parts | must be an array of 1 to 100 parts");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"name":"a","value":1}],"body":"x")")),
              "$.body | unknown field of a http_multipart node");
    EXPECT_EQ(refusal(multipart(R"("method":"GET","parts":[{"name":"a","value":1}])")),
              "$.method | must be POST, PUT or PATCH for a multipart request (got \"GET\")");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"value":1}])")),
              "$.parts[0] | missing field \"name\"");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"name":"a"}])")),
              "$.parts[0] | missing field \"value\"");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"name":"a","value":1,"size":3}])")),
              "$.parts[0].size | unknown field of a multipart part");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"name":"a\"b","value":1}])")),
              "$.parts[0].name | must not contain a double quote or a line break");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"name":"a","value":1,"filename":"x\ny"}])")),
              "$.parts[0].filename | must not contain a double quote or a line break");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"name":"a","value":1,"content_type":"csv"}])")),
              "$.parts[0].content_type | must be a media type such as \"text/csv\" (got "
              "\"csv\")");
    EXPECT_EQ(refusal(multipart(R"("parts":[{"name":"a","value":"$steps.nope"}])")),
              "$.parts[0].value | refers to step \"nope\", whose result cannot exist here (no "
              "earlier step, or one inside a branch, body or catch that may not have run, has "
              "that \"as\")");
    EXPECT_EQ(refusal(multipart(
                  R"("headers":{"Content-Type":"text/plain"},"parts":[{"name":"a","value":1}])")),
              "$.headers | a multipart request sets its own Content-Type (with the boundary); "
              "give each part's content_type instead");
    EXPECT_EQ(refusal(R"({"kind":"http_multipart","url":"ftp://h/",)"
                      R"("parts":[{"name":"a","value":1}]})"),
              "$.url | must start with http:// or https:// (got \"ftp://h/\")");
}
