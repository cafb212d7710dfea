// common/http_negotiation and common/query_string.
#include "common/http_negotiation.h"

#include <gtest/gtest.h>

#include <string>

#include "common/query_string.h"

namespace tidegate::common {
namespace {

TEST(HttpNegotiationTest, WantsJson) {
  std::string api = "application/json";
  std::string browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  std::string both = "text/html, application/json";
  std::string json_first = "application/json, text/html";
  EXPECT_TRUE(WantsJson(&api));
  EXPECT_FALSE(WantsJson(&browser));
  EXPECT_FALSE(WantsJson(&both));
  EXPECT_TRUE(WantsJson(&json_first));
  EXPECT_FALSE(WantsJson(nullptr));
  EXPECT_FALSE(WantsJson(std::string_view("*/*")));
  EXPECT_FALSE(WantsJson(std::string_view("")));
  EXPECT_TRUE(WantsJson(std::string_view("application/json;q=0.9, */*;q=0.1")));
}

// Media types are case-insensitive (RFC 9110 §8.3.1); the higher q-value
// wins, the order breaks a tie; a range with q=0 is "not acceptable", so it
// names nothing; other media types that merely start like application/json
// are not it.
TEST(HttpNegotiationTest, WantsJsonFollowsTheMediaTypeRules) {
  for (std::string_view accept :
       {"APPLICATION/JSON", "Application/Json; charset=utf-8", " application/json ,text/html",
        "text/html;q=0.9, application/json", "text/html;q=0, application/json",
        "text/html ; Q=0.000 , application/json", "application/json;q=0.01"}) {
    EXPECT_TRUE(WantsJson(accept)) << accept;
  }
  for (std::string_view accept :
       {"application/json;q=0", "application/json; q=0.0, text/html", "TEXT/HTML, application/json",
        "application/json-seq", "application/jsonx", "text/plain", "application/json;q=0.", ",,,",
        ";", "application/json;q=0;charset=utf-8", "application/json;q=0.5,text/html;q=1",
        "application/json;q=0.8, text/html;q=0.9"}) {
    EXPECT_FALSE(WantsJson(accept)) << accept;
  }
}

TEST(HttpNegotiationTest, QualityReadsThousandths) {
  EXPECT_EQ(Quality(""), 1000);
  EXPECT_EQ(Quality("q=0.5"), 500);
  EXPECT_EQ(Quality(" Q = 0.125 ;level=1"), 125);
  EXPECT_EQ(Quality("level=1;q=1.000"), 1000);
  EXPECT_EQ(Quality("q=0"), 0);
  EXPECT_EQ(Quality("q=0.0001"), 0) << "three decimals at most";
  EXPECT_EQ(Quality("q=7"), 1000) << "capped";
  EXPECT_EQ(Quality("q=x"), 1000) << "unreadable: as if absent";
}

TEST(QueryStringTest, QueryOf) {
  EXPECT_EQ(QueryOf("/.tidegate/queue?room=shop"), "room=shop");
  EXPECT_EQ(QueryOf("/a?b=1&c=2#frag"), "b=1&c=2");
  EXPECT_EQ(QueryOf("/a"), "");
  EXPECT_EQ(QueryOf("/a?"), "");
  EXPECT_EQ(QueryOf("/a?x=1?y=2"), "x=1?y=2");
  EXPECT_EQ(QueryOf("/a#frag?x=1"), "");
}

TEST(QueryStringTest, QueryParam) {
  EXPECT_EQ(QueryParam("room=shop", "room"), "shop");
  EXPECT_EQ(QueryParam("a=1&room=sale&room=shop", "room"), "sale") << "the first one";
  EXPECT_EQ(QueryParam("limit=5", "limit"), "5");
  EXPECT_EQ(QueryParam("limit", "limit"), "");
  EXPECT_EQ(QueryParam("limit=", "limit"), "");
  EXPECT_FALSE(QueryParam("limits=5", "limit"));
  EXPECT_FALSE(QueryParam("xlimit=5", "limit"));
  EXPECT_FALSE(QueryParam("", "limit"));
  EXPECT_FALSE(QueryParam("&&", "limit"));
  EXPECT_EQ(QueryParam("a=b=c", "a"), "b=c");
  EXPECT_EQ(QueryParam(QueryOf("/.tidegate/queue?room=shop&x=1"), "room"), "shop");
}

TEST(QueryStringTest, FormDecodeReadsEscapesAndPlusAndKeepsMalformedOnes) {
  std::string out = "stale";
  FormDecode("a%2Fb+c%zz%4", &out);
  EXPECT_EQ(out, "a/b c%zz%4");
  FormDecode("%74oken%00x%41", &out);
  EXPECT_EQ(out, std::string("token\0xA", 8));
  FormDecode("", &out);
  EXPECT_EQ(out, "");
}

TEST(QueryStringTest, ForEachQueryParamVisitsPairsInOrderUntilTold) {
  std::string seen;
  EXPECT_FALSE(ForEachQueryParam("a=1&b&&c=x=y", [&](std::string_view k, std::string_view v) {
    seen += std::string(k) + ":" + std::string(v) + ";";
    return false;
  }));
  EXPECT_EQ(seen, "a:1;b:;:;c:x=y;");
  int calls = 0;
  EXPECT_TRUE(ForEachQueryParam("a=1&b=2", [&](std::string_view k, std::string_view) {
    ++calls;
    return k == "a";
  }));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace tidegate::common
