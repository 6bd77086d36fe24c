#include "core/codec/json_codec.hpp"
#include "core/model/error_details.hpp"

#include <gtest/gtest.h>

using namespace duroxide::core;

TEST(CodecSqlError, ApplicationErrorKeepsSqlFields) {
    ErrorDetails details = ErrorDetails::activity_failed("duplicate key");
    std::get<ApplicationError>(details.value).sql =
        SqlErrorFields{"23505", "Key (id)=(1) already exists.", std::nullopt, "SQL function f"};
    const std::string json = codec::encode(details);
    EXPECT_NE(json.find("\"sqlstate\":\"23505\""), std::string::npos) << json;
    EXPECT_EQ(json.find("\"hint\""), std::string::npos) << json;
    EXPECT_EQ(codec::decode_error_details(json), details);
}

TEST(CodecSqlError, DuroxideShapeUnchangedWithoutSqlFields) {
    const ErrorDetails details = ErrorDetails::activity_failed("boom");
    EXPECT_EQ(codec::encode(details),
              "{\"Application\":{\"kind\":\"ActivityFailed\",\"message\":\"boom\","
              "\"retryable\":false}}");
    EXPECT_EQ(codec::decode_error_details(codec::encode(details)), details);
}
