#include "pages/page_template.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <fstream>

#include "pages/local_time.h"

namespace tidegate::pages {
namespace {

TEST(PageTemplateTest, RendersAndEscapes) {
  std::string error;
  auto page = PageTemplate::FromText("<p>{{message}}</p>{{{raw}}}", &error);
  ASSERT_TRUE(page) << error;
  TemplateData data;
  data.set("message", "<script>&\"");
  data.set("raw", "<b>");
  EXPECT_EQ(page->Render(data), "<p>&lt;script&gt;&amp;&quot;</p><b>");
  EXPECT_EQ(page->origin(), "built-in");
}

TEST(PageTemplateTest, BrokenTemplateIsAnError) {
  std::string error;
  EXPECT_FALSE(PageTemplate::FromText("{{#open}} never closed", &error));
  EXPECT_FALSE(error.empty());
}

TEST(PageTemplateTest, MerchantOverrideWinsAndBrokenOverrideNamesTheFile) {
  auto dir = std::filesystem::temp_directory_path() / ("tg-pages-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "page.html") << "custom {{x}}";
  std::ofstream(dir / "broken.html") << "{{#x}}";
  std::string error;
  auto page = PageTemplate::Load(dir.string(), "page.html", "builtin {{x}}", &error);
  ASSERT_TRUE(page) << error;
  TemplateData data;
  data.set("x", "1");
  EXPECT_EQ(page->Render(data), "custom 1");
  auto fallback = PageTemplate::Load(dir.string(), "absent.html", "builtin {{x}}", &error);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->Render(data), "builtin 1");
  EXPECT_FALSE(PageTemplate::Load(dir.string(), "broken.html", "", &error));
  EXPECT_NE(error.find("broken.html"), std::string::npos) << error;
  std::filesystem::remove_all(dir);
}

// Audit 10 F2: "Unclosed tag at 16" was a byte offset the merchant had to
// count; the error now names the line and column.
TEST(PageTemplateTest, ParseErrorOffsetBecomesLineAndColumn) {
  EXPECT_EQ(PageTemplate::PlaceParseError("{{#x}} unclosed {{", "Unclosed tag at 16"),
            "1:17: Unclosed tag");
  EXPECT_EQ(PageTemplate::PlaceParseError("<p>\n  <b>x</b>\n", "Unclosed section \"s\" at 9"),
            "2:6: Unclosed section \"s\"");
  EXPECT_EQ(PageTemplate::PlaceParseError("x", "no offset here"), "no offset here");
  EXPECT_EQ(PageTemplate::PlaceParseError("x", "Unclosed tag at 99"), "Unclosed tag at 99");

  auto dir = std::filesystem::temp_directory_path() / ("tg-pages-pos-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "maintenance.html") << "<html>\n<p>{{#x}} unclosed {{</p>\n";
  std::string error;
  EXPECT_FALSE(PageTemplate::Load(dir.string(), "maintenance.html", "", &error));
  EXPECT_EQ(error, (dir / "maintenance.html").string() + ":2:20: Unclosed tag");
  std::filesystem::remove_all(dir);
}

TEST(LocalTimeTest, FormatsInTheProcessTimeZone) {
  setenv("TZ", "Europe/Paris", 1);
  tzset();
  // 2026-11-23T13:30:00Z is 14:30 in Paris (UTC+1 in winter).
  WallTime t = std::chrono::system_clock::from_time_t(1795440600);
  EXPECT_EQ(FormatClock(t), "14:30");
  EXPECT_EQ(FormatIsoLocal(t), "2026-11-23T14:30:00+01:00");
  EXPECT_EQ(FormatClockOrDate(t, t, Language::kFrench), "14:30");
  EXPECT_EQ(FormatClockOrDate(t + std::chrono::hours(24), t, Language::kFrench), "24 nov. 14:30");
  EXPECT_EQ(FormatClockOrDate(t + std::chrono::hours(24), t, Language::kEnglish), "24 Nov 14:30");
  setenv("TZ", "UTC", 1);
  tzset();
}

}  // namespace
}  // namespace tidegate::pages
