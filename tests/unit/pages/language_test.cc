#include "pages/language.h"

#include <gtest/gtest.h>

namespace tidegate::pages {
namespace {

TEST(PickLanguageTest, EmptyOrUnknownFallsBack) {
  EXPECT_EQ(PickLanguage("", Language::kFrench), Language::kFrench);
  EXPECT_EQ(PickLanguage("de-DE, es;q=0.8", Language::kEnglish), Language::kEnglish);
  EXPECT_EQ(PickLanguage(";;;,,q=", Language::kEnglish), Language::kEnglish);
}

TEST(PickLanguageTest, RegionalVariantsCount) {
  EXPECT_EQ(PickLanguage("fr-CA", Language::kEnglish), Language::kFrench);
  EXPECT_EQ(PickLanguage("en-GB,en;q=0.9", Language::kFrench), Language::kEnglish);
  EXPECT_EQ(PickLanguage("FR", Language::kEnglish), Language::kFrench);
}

TEST(PickLanguageTest, QualityDecidesNotOrder) {
  EXPECT_EQ(PickLanguage("en;q=0.4, fr;q=0.9", Language::kEnglish), Language::kFrench);
  EXPECT_EQ(PickLanguage("de, fr;q=0.5, en;q=0.7", Language::kFrench), Language::kEnglish);
  // First of equal quality wins.
  EXPECT_EQ(PickLanguage("fr, en", Language::kEnglish), Language::kFrench);
}

TEST(PickLanguageTest, RefusedAndMalformedQualitiesAreIgnored) {
  EXPECT_EQ(PickLanguage("fr;q=0, en;q=0.1", Language::kFrench), Language::kEnglish);
  EXPECT_EQ(PickLanguage("fr;q=2, en;q=0.1", Language::kFrench), Language::kEnglish);
  EXPECT_EQ(PickLanguage("fr;q=abc", Language::kEnglish), Language::kEnglish);
}

TEST(PickLanguageTest, WildcardMeansFallback) {
  EXPECT_EQ(PickLanguage("de, *;q=0.5", Language::kFrench), Language::kFrench);
}

TEST(LanguageCodeTest, RoundTrips) {
  EXPECT_EQ(LanguageCode(Language::kFrench), "fr");
  EXPECT_EQ(ParseLanguageCode("en"), Language::kEnglish);
  EXPECT_FALSE(ParseLanguageCode("de"));
}

}  // namespace
}  // namespace tidegate::pages
