#include "core/validation/message_quote.hpp"
#include "core/validation/reserved_ids.hpp"

#include <gtest/gtest.h>

using duroxide::core::is_generated_child_id;

TEST(Quoted, QuotesAndEscapes) {
    EXPECT_EQ(duroxide::core::quoted("order-42"), "\"order-42\"");
    EXPECT_EQ(duroxide::core::quoted("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
    EXPECT_EQ(duroxide::core::quoted("a\nb\r\tc"), "\"a\\nb\\r\\tc\"");
    EXPECT_EQ(duroxide::core::quoted(std::string("x\0y\x1b\x7f", 5)), "\"x\\x00y\\x1b\\x7f\"");
}

TEST(Quoted, TruncatesLongValues) {
    const std::string big(3 * 1024 * 1024, 'x');
    const std::string q = duroxide::core::quoted(big);
    EXPECT_EQ(q, "\"" + std::string(64, 'x') + "\"... (3145728 bytes)");
    EXPECT_EQ(duroxide::core::quoted(std::string(64, 'y')), "\"" + std::string(64, 'y') + "\"");
    EXPECT_EQ(duroxide::core::quoted("abcdef", 3), "\"abc\"... (6 bytes)");
}

TEST(Quoted, CutsAtCharacterBoundary) {
    // "é" is two bytes: a cut after 3 bytes of "aéé" keeps "aé", not half a character.
    EXPECT_EQ(duroxide::core::quoted("a\xc3\xa9\xc3\xa9", 4), "\"a\xc3\xa9\"... (5 bytes)");
}

TEST(ReservedIds, GeneratedChildIds) {
    EXPECT_TRUE(is_generated_child_id("order-1::sub::2"));
    EXPECT_TRUE(is_generated_child_id("a::sub::1::sub::17"));
    EXPECT_FALSE(is_generated_child_id("order-1"));
    EXPECT_FALSE(is_generated_child_id("order-1::sub::"));
    EXPECT_FALSE(is_generated_child_id("order-1::sub::x"));
    EXPECT_FALSE(is_generated_child_id("::sub::3"));
    EXPECT_FALSE(is_generated_child_id("a::sub::3b"));
}
