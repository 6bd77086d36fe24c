#include "core/validation/identifiers.hpp"

#include <gtest/gtest.h>

using duroxide::core::identifier_problem;
using duroxide::core::payload_problem;
using duroxide::core::plugin_name_problem;

TEST(Identifier, AcceptsOrdinaryIds) {
    EXPECT_FALSE(identifier_problem("order-42"));
    EXPECT_FALSE(identifier_problem("inst::sub::2"));
    EXPECT_FALSE(identifier_problem("ünïcode id with spaces"));
    EXPECT_FALSE(identifier_problem(std::string(256, 'x')));
}

TEST(Identifier, RefusesEmptyLongAndControlCharacters) {
    EXPECT_EQ(identifier_problem(""), "must not be empty");
    EXPECT_EQ(identifier_problem(std::string(257, 'x')),
              "is too long (257 bytes, the limit is 256)");
    EXPECT_EQ(identifier_problem("a\nb"), "must not contain control characters");
    EXPECT_EQ(identifier_problem(std::string("a\0b", 3)), "must not contain control characters");
    EXPECT_EQ(identifier_problem("tab\there"), "must not contain control characters");
    EXPECT_EQ(identifier_problem("del\x7f"), "must not contain control characters");
}

TEST(PluginName, AcceptsLibraryNames) {
    EXPECT_FALSE(plugin_name_problem("hello_plugin"));
    EXPECT_FALSE(plugin_name_problem("sample-plugin2"));
    EXPECT_FALSE(plugin_name_problem(std::string(63, 'p')));
}

TEST(PluginName, RefusesPathTricks) {
    EXPECT_TRUE(plugin_name_problem("../../tmp/evil"));
    EXPECT_TRUE(plugin_name_problem("/usr/lib/evil"));
    EXPECT_TRUE(plugin_name_problem("evil.so"));
    EXPECT_TRUE(plugin_name_problem("a/b"));
    EXPECT_TRUE(plugin_name_problem(".."));
    EXPECT_TRUE(plugin_name_problem("$libdir"));
    EXPECT_TRUE(plugin_name_problem("-rf"));
    EXPECT_TRUE(plugin_name_problem(""));
    EXPECT_TRUE(plugin_name_problem(std::string(64, 'p')));
    EXPECT_TRUE(plugin_name_problem("name with space"));
}

TEST(Payload, LimitIsInclusive) {
    EXPECT_FALSE(payload_problem(std::string(10, 'x'), 10));
    EXPECT_EQ(payload_problem(std::string(11, 'x'), 10),
              "is too large (11 bytes, the limit is 10)");
    EXPECT_FALSE(payload_problem("", 0));
}
