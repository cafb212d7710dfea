// Unit tests of proxy/origin_set_cookie.h (an origin's Set-Cookie for
// tidegate's own cookies is removed), common/cookie_names.h (which names are
// tidegate's) and the parser's has_set_cookie flag that gates the removal.
#include "proxy/origin_set_cookie.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/cookie_names.h"
#include "proxy/http1_codec.h"
#include "tests/unit/proxy/parse_response_head.h"

namespace tidegate::proxy {
namespace {

TEST(OwnCookieNameTest, TidegatesCookiesWithAndWithoutHostPrefix) {
  for (const char* name :
       {"tg_wait_shop", "tg_pass_shop", "tg_bypass", "__Host-tg_wait_shop", "__Host-tg_pass_shop",
        "__Host-tg_bypass", "tg_pass_removed_room", "tg_wait_"}) {
    EXPECT_TRUE(common::IsOwnCookieName(name)) << name;
  }
  // Case-sensitive as browsers and the request side compare names; other
  // prefixes and look-alikes are the shop's.
  for (const char* name : {"cart", "tg_bypass2", "tg_bypas", "TG_PASS_shop", "Tg_bypass",
                           "__HOST-tg_bypass", "__host-tg_pass_shop", "__Secure-tg_pass_shop",
                           "x_tg_pass_shop", "tg_passshop", "tg_", "", "__Host-"}) {
    EXPECT_FALSE(common::IsOwnCookieName(name)) << name;
  }
}

TEST(SetCookieNameTest, NameAsTheBrowserSendsItBack) {
  EXPECT_EQ(SetCookieNameSentBack("tg_pass_shop=forged; Path=/"), "tg_pass_shop");
  EXPECT_EQ(SetCookieNameSentBack("tg_wait_shop=; Max-Age=0"), "tg_wait_shop");
  EXPECT_EQ(SetCookieNameSentBack(" \ttg_bypass \t= x"), "tg_bypass");
  EXPECT_EQ(SetCookieNameSentBack("cart=1"), "cart");
  EXPECT_EQ(SetCookieNameSentBack("a;tg_bypass=x"), "a");  // nameless cookie "a"
  EXPECT_EQ(SetCookieNameSentBack("; tg_bypass=x"), "");
  // A nameless cookie goes back as its value alone: "tg_bypass=x".
  EXPECT_EQ(SetCookieNameSentBack("=tg_bypass=x; Path=/"), "tg_bypass");
  EXPECT_EQ(SetCookieNameSentBack(" = tg_pass_shop = y"), "tg_pass_shop");
  EXPECT_EQ(SetCookieNameSentBack("tg_pass_shop"), "tg_pass_shop");
  EXPECT_EQ(SetCookieNameSentBack(""), "");
}

std::vector<std::string> Lines(const HeaderList& headers) {
  std::vector<std::string> out;
  for (const Header& h : headers.fields()) out.push_back(h.name + ": " + h.value);
  return out;
}

TEST(RemoveOwnSetCookiesTest, RemovesOnlyTidegatesAndKeepsTheOrder) {
  HeaderList headers;
  headers.Add("Content-Type", "text/html");
  headers.Add("Set-Cookie", "cart=1; Path=/");
  headers.Add("Set-Cookie", "tg_pass_shop=forged");
  headers.Add("set-cookie", "tg_wait_shop=; Max-Age=0");
  headers.Add("X-Note", "tg_bypass=x");
  headers.Add("SET-COOKIE", "tg_bypass=x");
  headers.Add("Set-Cookie", "session=abc; HttpOnly");
  headers.Add("Set-Cookie", "__Host-tg_bypass=y; Path=/; Secure");
  headers.Add("Set-Cookie", "=tg_pass_shop=nameless");
  headers.Add("Set-Cookie", "TG_PASS_shop=other");
  headers.Add("Set-Cookie2", "tg_bypass=x");
  EXPECT_EQ(RemoveOwnSetCookies(&headers), 5u);
  EXPECT_EQ(Lines(headers), (std::vector<std::string>{
                                "Content-Type: text/html", "Set-Cookie: cart=1; Path=/",
                                "X-Note: tg_bypass=x", "Set-Cookie: session=abc; HttpOnly",
                                "Set-Cookie: TG_PASS_shop=other", "Set-Cookie2: tg_bypass=x"}));
  EXPECT_EQ(RemoveOwnSetCookies(&headers), 0u);
  EXPECT_EQ(headers.size(), 6u);
}

TEST(RemoveOwnSetCookiesTest, NothingToRemove) {
  HeaderList headers;
  EXPECT_EQ(RemoveOwnSetCookies(&headers), 0u);
  headers.Add("Set-Cookie", "tg_pass_shop=x");
  EXPECT_EQ(RemoveOwnSetCookies(&headers), 1u);
  EXPECT_EQ(headers.size(), 0u);
}

TEST(RemoveOwnSetCookiesTest, ParserSaysWhetherTheOriginSetACookie) {
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").has_set_cookie);
  EXPECT_TRUE(ParseResponseHead("HTTP/1.1 200 OK\r\nsEt-CoOkIe: a=1\r\nContent-Length: 0\r\n\r\n")
                  .has_set_cookie);
  // Ten letters that are not Set-Cookie (Connection shares the length).
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nSet-Cooki: a\r\n"
                                 "Content-Length: 0\r\n\r\n")
                   .has_set_cookie);
  ResponseHead head =
      ParseResponseHead("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 0\r\n\r\n");
  ClearHeadKeepingStorage(head);
  EXPECT_FALSE(head.has_set_cookie);
}

}  // namespace
}  // namespace tidegate::proxy
