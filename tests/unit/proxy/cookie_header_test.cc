#include "proxy/cookie_header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tidegate::proxy {
namespace {

std::vector<std::string> All(const HeaderList& h, std::string_view name) {
  std::vector<std::string> out;
  ForEachCookie(h, name, [&](std::string_view v) { out.emplace_back(v); });
  return out;
}

TEST(CookieHeaderTest, EveryValueOfEveryCookieFieldInOrder) {
  HeaderList h;
  h.Add("Cookie", "a=1; b=2;a=3");
  h.Add("X-Other", "a=9");
  h.Add("cookie", " a = \"4\" ;\tc=5");
  EXPECT_EQ(All(h, "a"), (std::vector<std::string>{"1", "3", "4"}));
  EXPECT_EQ(All(h, "c"), (std::vector<std::string>{"5"}));
}

TEST(CookieHeaderTest, NamesAreCaseSensitiveAndPairsNeedAnEqualsSign) {
  HeaderList h;
  h.Add("Cookie", "A=1; a; ab=2; =3; a=");
  EXPECT_EQ(All(h, "a"), (std::vector<std::string>{""}));
  EXPECT_EQ(All(h, "A"), (std::vector<std::string>{"1"}));
  EXPECT_TRUE(All(h, "b").empty());
}

TEST(CookieHeaderTest, ABoolVisitorStopsTheWalk) {
  HeaderList h;
  h.Add("Cookie", "a=1; a=2; a=3");
  int seen = 0;
  EXPECT_TRUE(ForEachCookie(h, "a", [&](std::string_view v) { return ++seen, v == "2"; }));
  EXPECT_EQ(seen, 2);
  EXPECT_FALSE(ForEachCookie(h, "a", [](std::string_view) { return false; }));
}

TEST(CookieHeaderTest, NextCookieValueAdvancesPastEachMatch) {
  std::string_view rest = "x=1; y=2; x=3";
  EXPECT_EQ(NextCookieValue(&rest, "x"), "1");
  EXPECT_EQ(NextCookieValue(&rest, "x"), "3");
  EXPECT_EQ(NextCookieValue(&rest, "x"), std::nullopt);
  EXPECT_TRUE(rest.empty());
}

}  // namespace
}  // namespace tidegate::proxy
