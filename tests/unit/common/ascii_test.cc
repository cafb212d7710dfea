#include "common/ascii.h"

#include <gtest/gtest.h>

namespace tidegate::common {
namespace {

TEST(AsciiTest, EqualsIgnoreCaseIsAsciiOnly) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-TYPE"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("cookie", "cookies"));
  EXPECT_FALSE(EqualsIgnoreCase("a[", "A{"));              // '[' and '{' are 32 apart, not letters
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\x89", "\xc3\xa9"));  // É / é: bytes compared as they are
}

TEST(AsciiTest, AsciiLowerChangesOnlyLetters) {
  EXPECT_EQ(AsciiLower('Q'), 'q');
  EXPECT_EQ(AsciiLower('q'), 'q');
  EXPECT_EQ(AsciiLower('@'), '@');
  EXPECT_EQ(AsciiLower('\xc9'), '\xc9');
}

TEST(AsciiTest, TrimOwsRemovesSpacesAndTabsOnly) {
  EXPECT_EQ(TrimOws(" \t a b \t"), "a b");
  EXPECT_EQ(TrimOws("\r\nx\r\n"), "\r\nx\r\n");
  EXPECT_EQ(TrimOws("   "), "");
}

}  // namespace
}  // namespace tidegate::common
