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
  ErrorPage page = MakeErrorPage(400, false, {.detail = "<script>\"x\"</script>"});
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;&quot;x&quot;"), std::string::npos);
}

TEST(ErrorPagesTest, MarkupGoesRightAfterBody) {
  ErrorPage page =
      MakeErrorPage(502, false, {.after_body_open = "<div class=\"tg-banner\">x</div>"});
  EXPECT_NE(page.body.find("<body><div class=\"tg-banner\">x</div><h1>"), std::string::npos);
  EXPECT_NE(page.body.find("name=\"viewport\""), std::string::npos);
  ErrorPage json = MakeErrorPage(502, true, {.after_body_open = "<div>x</div>"});
  EXPECT_EQ(json.body.find("<div>"), std::string::npos);
}

TEST(ErrorPagesTest, FrenchPage) {
  ErrorPage page = MakeErrorPage(502, false, {.language = pages::Language::kFrench});
  EXPECT_NE(page.body.find("<html lang=\"fr\">"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("La boutique n’a pas pu être jointe."), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(">État du service</a>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<title>502 Bad Gateway</title>"), std::string::npos);
  // A caller's own detail is shown as given.
  ErrorPage own = MakeErrorPage(400, false, {.detail = "x", .language = pages::Language::kFrench});
  EXPECT_NE(own.body.find("<p>x</p>"), std::string::npos) << own.body;
  // JSON stays English.
  ErrorPage json = MakeErrorPage(504, true, {.language = pages::Language::kFrench});
  EXPECT_EQ(nlohmann::json::parse(json.body)["detail"],
            "The shop took too long to answer. Please try again in a moment.");
}

TEST(ErrorPagesTest, TheShopsStatusPageIsLinkedAndEscaped) {
  ErrorPage page =
      MakeErrorPage(502, false, {.status_link = "https://status.example.com/?a=1&b=\"2\""});
  EXPECT_NE(page.body.find("href=\"https://status.example.com/?a=1&amp;b=&quot;2&quot;\""),
            std::string::npos)
      << page.body;
  EXPECT_EQ(page.body.find("/.tidegate/status"), std::string::npos);
  ErrorPage json = MakeErrorPage(502, true, {.status_link = "https://status.example.com/"});
  EXPECT_EQ(nlohmann::json::parse(json.body)["status_page"], "https://status.example.com/");
}

TEST(ErrorPagesTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(599), "");
}

}  // namespace
}  // namespace tidegate::proxy
