#include "common/ascii.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

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

// The literal compare answers exactly as EqualsIgnoreCase for every byte
// value at every position (CR must not pass for '-', '@' not for '`').
template <LowerLiteral kLiteral>
void ExpectLiteralAgreesWithEqualsIgnoreCase(std::string_view literal) {
  std::string s(literal);
  EXPECT_TRUE(EqualsIgnoreCaseLiteral<kLiteral>(s));
  for (size_t i = 0; i < s.size(); ++i) {
    std::string t = s;
    for (int c = 0; c < 256; ++c) {
      t[i] = static_cast<char>(c);
      ASSERT_EQ(EqualsIgnoreCaseLiteral<kLiteral>(t), EqualsIgnoreCase(t, literal))
          << literal << " byte " << i << " = " << c;
    }
  }
  EXPECT_FALSE(EqualsIgnoreCaseLiteral<kLiteral>(s + "x"));
  EXPECT_FALSE(EqualsIgnoreCaseLiteral<kLiteral>(s.substr(0, s.size() - 1)));
}

TEST(AsciiTest, EqualsIgnoreCaseLiteralIsExactAtEveryLength) {
  ExpectLiteralAgreesWithEqualsIgnoreCase<"te">("te");
  ExpectLiteralAgreesWithEqualsIgnoreCase<"via">("via");
  ExpectLiteralAgreesWithEqualsIgnoreCase<"date">("date");
  ExpectLiteralAgreesWithEqualsIgnoreCase<"keep-alive">("keep-alive");
  ExpectLiteralAgreesWithEqualsIgnoreCase<"100-continue">("100-continue");
  ExpectLiteralAgreesWithEqualsIgnoreCase<"content-length">("content-length");
  ExpectLiteralAgreesWithEqualsIgnoreCase<"x-forwarded-for">("x-forwarded-for");
  ExpectLiteralAgreesWithEqualsIgnoreCase<"proxy-authorization">("proxy-authorization");
  EXPECT_TRUE(EqualsIgnoreCaseLiteral<"transfer-encoding">("Transfer-ENCODING"));
  EXPECT_FALSE(EqualsIgnoreCaseLiteral<"content-length">("content\rlength"));
  EXPECT_TRUE(EqualsIgnoreCaseLiteral<"">(""));
}

}  // namespace
}  // namespace tidegate::common
