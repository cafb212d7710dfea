#include "maintenance/request_fields.h"
#include "proxy/cookie_header.h"

#include <gtest/gtest.h>

namespace tidegate::maintenance {
namespace {

TEST(RequestFieldsTest, Query) {
  EXPECT_TRUE(QueryHas("/p?a=1&b=2", "b", "2"));
  EXPECT_TRUE(QueryHas("/p?q=red+shoes", "q", "red shoes"));
  EXPECT_TRUE(QueryHas("/p?q=red%20shoes#frag", "q", "red shoes"));
  EXPECT_TRUE(QueryHas("/p?fl%61g", "flag", ""));
  EXPECT_FALSE(QueryHas("/p", "a", "1"));
  EXPECT_FALSE(QueryHas("/p?a=12", "a", "1"));
  EXPECT_FALSE(QueryHas("/p?A=1", "a", "1"));  // names are case-sensitive
  EXPECT_FALSE(QueryHas("/p#?a=1", "a", "1"));
  // ';' separates pairs in a second reading (Rack, older Python and Go).
  EXPECT_TRUE(QueryHas("/p?x=1;method=invoice", "method", "invoice"));
  EXPECT_TRUE(QueryHas("/p?method=invoice;x=1", "method", "invoice"));
  EXPECT_TRUE(QueryHas("/p?q=a;b", "q", "a;b"));  // the '&'-only reading
  EXPECT_TRUE(QueryHas("/p?q=a;b", "b", ""));
  EXPECT_FALSE(QueryHas("/p?x=1%3Bmethod=invoice", "method", "invoice"));  // an encoded ';' is data
}

// Audit 5, finding 1: a name also matches as PHP reads it.
TEST(RequestFieldsTest, QueryNamesAlsoMatchAsPhpReadsThem) {
  EXPECT_TRUE(QueryHas("/p?+method=invoice", "method", "invoice"));
  EXPECT_TRUE(QueryHas("/p?%20method=invoice", "method", "invoice"));
  EXPECT_TRUE(QueryHas("/p?method%00x=invoice", "method", "invoice"));
  EXPECT_TRUE(QueryHas("/p?shipping.method=express", "shipping_method", "express"));
  EXPECT_TRUE(QueryHas("/p?shipping+method=express", "shipping_method", "express"));
  EXPECT_TRUE(QueryHas("/p?shipping[method=express", "shipping_method", "express"));
  EXPECT_TRUE(QueryHas("/p?x[]=a&x[]=b", "x[1]", "b"));
  EXPECT_FALSE(QueryHas("/p?x[]=a&x[]=b", "x[0]", "b"));
  EXPECT_TRUE(QueryHas("/p?x[%200]=a", "x[0]", "a"));
  // The name as sent still matches (never fewer matches than before).
  EXPECT_TRUE(QueryHas("/p?shipping.method=express", "shipping.method", "express"));
  EXPECT_FALSE(QueryHas("/p?method.=invoice", "method", "invoice"));  // PHP: method_
  EXPECT_FALSE(QueryHas("/p?+method=card", "method", "invoice"));
}

// Audit 5, finding 2: `form` rules read the query's names case-insensitively.
TEST(RequestFieldsTest, QueryNameCaseForFormRules) {
  EXPECT_FALSE(QueryHas("/p?SHIPPING_METHOD=express", "shipping_method", "express"));
  EXPECT_TRUE(
      QueryHas("/p?SHIPPING_METHOD=express", "shipping_method", "express", NameCase::kInsensitive));
  EXPECT_TRUE(
      QueryHas("/p?Shipping.Method=express", "shipping_method", "express", NameCase::kInsensitive));
  EXPECT_FALSE(QueryHas("/p?SHIPPING_METHOD=EXPRESS", "shipping_method", "express",
                        NameCase::kInsensitive));  // values stay exact
}

TEST(RequestFieldsTest, Cookies) {
  proxy::HeaderList h;
  h.Add("cookie", "a=1;b=2 ; c = 3");
  EXPECT_TRUE(CookieHas(h, "a", "1"));
  EXPECT_TRUE(CookieHas(h, "b", "2"));
  EXPECT_TRUE(CookieHas(h, "c", "3"));
  EXPECT_FALSE(CookieHas(h, "A", "1"));
  EXPECT_FALSE(CookieHas(h, "d", ""));
  int seen = 0;
  h.Add("Cookie", "a=9");
  EXPECT_FALSE(proxy::ForEachCookie(h, "a", [&](std::string_view) { return ++seen, false; }));
  EXPECT_EQ(seen, 2);
}

TEST(RequestFieldsTest, HeadersAndHost) {
  proxy::HeaderList h;
  h.Add("X-A", "1");
  h.Add("x-a", "2");
  EXPECT_TRUE(HeaderHas(h, "x-a", "2"));
  EXPECT_FALSE(HeaderHas(h, "x-a", "3"));
  EXPECT_EQ(HostWithoutPort("shop.example:8080"), "shop.example");
  EXPECT_EQ(HostWithoutPort("shop.example"), "shop.example");
  EXPECT_EQ(HostWithoutPort("[::1]:80"), "[::1]");
  // One trailing dot (fully qualified name) is the same host.
  EXPECT_EQ(HostWithoutPort("shop.example."), "shop.example");
  EXPECT_EQ(HostWithoutPort("shop.example.:8443"), "shop.example");
  EXPECT_EQ(HostWithoutPort("shop.example.."), "shop.example.");
  EXPECT_EQ(HostWithoutPort("."), ".");
}

}  // namespace
}  // namespace tidegate::maintenance
