#include "proxy/error_pages.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tidegate::proxy {
namespace {

TEST(ErrorPagesTest, HtmlLinksTheStatusPage) {
  ErrorPage page = MakeErrorPage(502, false);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("502 Bad Gateway"), std::string::npos);
  EXPECT_NE(page.body.find("href=\"/.tidegate/status\""), std::string::npos);
}

TEST(ErrorPagesTest, JsonVariant) {
  ErrorPage page = MakeErrorPage(504, true);
  EXPECT_EQ(page.content_type, "application/json");
  nlohmann::json body = nlohmann::json::parse(page.body);
  EXPECT_EQ(body["status"], 504);
  EXPECT_EQ(body["error"], "Gateway Timeout");
  EXPECT_EQ(body["status_page"], "/.tidegate/status");
}

TEST(ErrorPagesTest, DetailIsEscaped) {
  ErrorPage page = MakeErrorPage(400, false, "<script>\"x\"</script>");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;&quot;x&quot;"), std::string::npos);
}

TEST(ErrorPagesTest, MarkupGoesRightAfterBody) {
  ErrorPage page = MakeErrorPage(502, false, {}, "<div class=\"tg-banner\">x</div>");
  EXPECT_NE(page.body.find("<body><div class=\"tg-banner\">x</div><h1>"), std::string::npos);
  EXPECT_NE(page.body.find("name=\"viewport\""), std::string::npos);
  ErrorPage json = MakeErrorPage(502, true, {}, "<div>x</div>");
  EXPECT_EQ(json.body.find("<div>"), std::string::npos);
}

TEST(ErrorPagesTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(599), "");
}

}  // namespace
}  // namespace tidegate::proxy
