#include "pages/html_escape.h"

#include <gtest/gtest.h>

namespace tidegate::pages {
namespace {

TEST(EscapeHtmlTest, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(EscapeHtml("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
}

TEST(EscapeHtmlTest, CopiesEverythingElseUnchanged) {
  EXPECT_EQ(EscapeHtml("Caf\xc3\xa9 14:30 \xe2\x80\x94 ok"), "Caf\xc3\xa9 14:30 \xe2\x80\x94 ok");
  EXPECT_EQ(EscapeHtml(""), "");
}

TEST(EscapeHtmlTest, AppendKeepsWhatIsAlreadyThere) {
  std::string out = "<p>";
  AppendEscapedHtml("1 < 2", &out);
  EXPECT_EQ(out, "<p>1 &lt; 2");
}

}  // namespace
}  // namespace tidegate::pages
