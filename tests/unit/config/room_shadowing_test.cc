// Audit F7: a room whose every `match` pattern is also matched by an earlier
// room (rooms are tried in name order, the first match wins) is never used.
// The loader warns (Config::warnings) only when that is certain: plain
// prefix patterns (config/room_match.h) covered by an earlier plain prefix.
// The rooms are mode = "off" (no signing key needed): the gate's match
// order does not depend on the mode.
#include <gtest/gtest.h>

#include "config/room_match.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::LoadWithMinimal;

std::string Warnings(const LoadResult& result) {
  std::string out;
  for (const std::string& w : result.config->warnings) out += w + "\n";
  return out;
}

TEST(RoomShadowingTest, ARoomBehindAPrefixThatCoversItIsReportedWithBothPlaces) {
  LoadResult result = LoadWithMinimal(
      "[rooms.b]\nmatch = [\"^/sale\"]\nmode = \"off\"\n"
      "[rooms.a]\nmatch = [\"^/checkout\", \"^/\"]\nmode = \"off\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);  // a warning, not an error
  ASSERT_EQ(result.config->warnings.size(), 1u) << Warnings(result);
  const std::string& w = result.config->warnings[0];
  // The minimal config is 6 lines; [rooms.b] is line 7, its match line 8.
  EXPECT_NE(w.find("main.toml:8:9 rooms.b.match: warning: room 'b' is never used"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("\"^/sale\" by room 'a' (\"^/\" at "), std::string::npos) << w;
  EXPECT_NE(w.find("main.toml:11:24)"), std::string::npos) << w;
  EXPECT_NE(w.find("narrow the match of room 'a'"), std::string::npos) << w;
}

TEST(RoomShadowingTest, EveryPatternMustBeCoveredPossiblyByDifferentRooms) {
  // c's two prefixes are taken by a and b: never used.
  LoadResult both = LoadWithMinimal(
      "[rooms.a]\nmatch = [\"^/SALE\"]\nmode = \"off\"\n"
      "[rooms.b]\nmatch = [\"^/promo/\"]\nmode = \"off\"\n"
      "[rooms.c]\nmatch = [\"^/sale/shoes\", \"^/Promo/x\"]\nmode = \"off\"\n");
  ASSERT_TRUE(both.ok()) << AllErrors(both);
  ASSERT_EQ(both.config->warnings.size(), 1u) << Warnings(both);
  EXPECT_NE(both.config->warnings[0].find("room 'c' is never used"), std::string::npos);
  EXPECT_NE(both.config->warnings[0].find("narrow the match of rooms 'a', 'b'"), std::string::npos)
      << both.config->warnings[0];

  // One pattern of c not covered ("^/promotions" does not start with
  // "/promo/"): c still takes those paths.
  LoadResult partly = LoadWithMinimal(
      "[rooms.a]\nmatch = [\"^/sale\"]\nmode = \"off\"\n"
      "[rooms.b]\nmatch = [\"^/promo/\"]\nmode = \"off\"\n"
      "[rooms.c]\nmatch = [\"^/sale/shoes\", \"^/promotions\"]\nmode = \"off\"\n");
  ASSERT_TRUE(partly.ok()) << AllErrors(partly);
  EXPECT_TRUE(partly.config->warnings.empty()) << Warnings(partly);
}

TEST(RoomShadowingTest, OnlyCertainCasesAreReported) {
  for (const char* rooms : {
           // A later room before in name order is no shadow: "a" is first.
           "[rooms.a]\nmatch = [\"^/sale\"]\nmode = \"off\"\n"
           "[rooms.b]\nmatch = [\"^/\"]\nmode = \"off\"\n",
           // A longer earlier prefix does not cover a shorter later one.
           "[rooms.a]\nmatch = [\"^/sale/shoes\"]\nmode = \"off\"\n"
           "[rooms.b]\nmatch = [\"^/sale\"]\nmode = \"off\"\n",
           // Regular expressions are not judged, on either side.
           "[rooms.a]\nmatch = [\"/\"]\nmode = \"off\"\n"
           "[rooms.b]\nmatch = [\"^/sale\"]\nmode = \"off\"\n",
           "[rooms.a]\nmatch = [\"^/\"]\nmode = \"off\"\n"
           "[rooms.b]\nmatch = [\"^/sale$\"]\nmode = \"off\"\n",
           "[rooms.a]\nmatch = [\"^/(sale|promo)\"]\nmode = \"off\"\n"
           "[rooms.b]\nmatch = [\"^/sale\"]\nmode = \"off\"\n",
           // Different prefixes.
           "[rooms.a]\nmatch = [\"^/checkout\"]\nmode = \"off\"\n"
           "[rooms.b]\nmatch = [\"^/sale\"]\nmode = \"off\"\n",
       }) {
    LoadResult result = LoadWithMinimal(rooms);
    ASSERT_TRUE(result.ok()) << rooms << AllErrors(result);
    EXPECT_TRUE(result.config->warnings.empty()) << rooms << Warnings(result);
  }
}

TEST(RoomShadowingTest, EqualPatternsAndCaseShadowToo) {
  LoadResult result = LoadWithMinimal(
      "[rooms.a]\nmatch = [\"^/Sale\"]\nmode = \"off\"\n"
      "[rooms.b]\nmatch = [\"^/sale\"]\nmode = \"off\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  ASSERT_EQ(result.config->warnings.size(), 1u) << Warnings(result);
  EXPECT_NE(result.config->warnings[0].find("room 'b' is never used"), std::string::npos);
}

TEST(RoomMatchTest, LiteralPrefixPatternIsThePlainCaretPrefix) {
  EXPECT_EQ(LiteralPrefixPattern("^/"), "/");
  EXPECT_EQ(LiteralPrefixPattern("^/sale-2/x_y"), "/sale-2/x_y");
  for (const char* regex : {"", "/sale", "^/sale$", "^/sale.", "^/(a|b)", "^/a\\.b"}) {
    EXPECT_FALSE(LiteralPrefixPattern(regex)) << regex;
  }
}

}  // namespace
}  // namespace tidegate::config
