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

std::vector<std::string> Values(const HeaderList& h, std::string_view name) {
  std::vector<std::string> out;
  for (const Header& f : h.fields()) {
    if (EqualsIgnoreCase(f.name, name)) out.push_back(f.value);
  }
  return out;
}

TEST(RemoveCookieTest, OtherCookiesStayByteIdenticalInOrder) {
  HeaderList h;
  h.Add("Cookie", "a=1; s=x;b=\"2\" ;  s = y; c=3");
  h.Add("X-Other", "s=1");
  EXPECT_EQ(RemoveCookie(&h, "s"), 2u);
  EXPECT_EQ(Values(h, "cookie"), (std::vector<std::string>{"a=1;b=\"2\" ; c=3"}));
  EXPECT_EQ(Values(h, "x-other"), (std::vector<std::string>{"s=1"}));
}

TEST(RemoveCookieTest, FirstAndLastCookieAndNamesThatOnlyLookAlike) {
  HeaderList h;
  h.Add("Cookie", "s=x; a=1; xs=2; s_=3; S=4; s=y");
  EXPECT_EQ(RemoveCookie(&h, "s"), 2u);
  EXPECT_EQ(Values(h, "cookie"), (std::vector<std::string>{"a=1; xs=2; s_=3; S=4"}));
}

TEST(RemoveCookieTest, AnEmptiedCookieFieldIsRemoved) {
  HeaderList h;
  h.Add("Cookie", "s=x");
  h.Add("Host", "shop.test");
  h.Add("cookie", " s=y ;");
  h.Add("Cookie", "a=1");
  EXPECT_EQ(RemoveCookie(&h, "s"), 2u);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.fields()[0].name, "Host");
  EXPECT_EQ(h.fields()[1].value, "a=1");
}

TEST(RemoveCookieTest, NothingToRemoveChangesNothing) {
  HeaderList h;
  h.Add("Cookie", "a=1;  bs=2;s");
  EXPECT_EQ(RemoveCookie(&h, "s"), 0u);
  EXPECT_EQ(Values(h, "cookie"), (std::vector<std::string>{"a=1;  bs=2;s"}));
}

std::string CacheControlAfter(std::vector<std::string> fields) {
  HeaderList h;
  for (std::string& f : fields) h.Add("Cache-Control", std::move(f));
  h.Add("Set-Cookie", "tg_pass_shop=x");
  MakeCachePrivate(&h);
  std::string joined;
  for (const std::string& v : Values(h, "cache-control")) joined += (joined.empty() ? "" : "|") + v;
  return joined;
}

TEST(MakeCachePrivateTest, SharedCacheDirectivesGiveWayToPrivate) {
  EXPECT_EQ(CacheControlAfter({}), "private");
  EXPECT_EQ(CacheControlAfter({"public, max-age=3600"}), "private, max-age=3600");
  EXPECT_EQ(CacheControlAfter({"PUBLIC, s-maxage=600, max-age=60, must-revalidate"}),
            "private, max-age=60, must-revalidate");
  EXPECT_EQ(CacheControlAfter({"max-age=60", "S-MaxAge = 600, no-cache"}),
            "private, max-age=60, no-cache");
  // A field-named private names fields only: the response itself is shared.
  EXPECT_EQ(CacheControlAfter({"public, private=\"X-A, X-B\", max-age=5"}), "private, max-age=5");
  EXPECT_EQ(CacheControlAfter({"no-cache=\"Set-Cookie\""}), "private, no-cache=\"Set-Cookie\"");
}

TEST(MakeCachePrivateTest, PrivateOrNoStoreAlreadyThereStays) {
  EXPECT_EQ(CacheControlAfter({"no-store"}), "no-store");
  EXPECT_EQ(CacheControlAfter({"Private, max-age=60"}), "Private, max-age=60");
  EXPECT_EQ(CacheControlAfter({"max-age=0", "no-store"}), "max-age=0|no-store");
}

}  // namespace
}  // namespace tidegate::proxy
