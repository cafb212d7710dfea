// queue/queue_reply: the URL of the queue page's "check again" link is built
// from the normalised path, never the raw request target (issue 11).
#include "queue/queue_reply.h"

#include <gtest/gtest.h>

#include <string>

namespace tidegate::queue {
namespace {

bool PointsElsewhere(const std::string& url) {
  return url.empty() || url[0] != '/' || (url.size() > 1 && (url[1] == '/' || url[1] == '\\'));
}

TEST(SelfUrlTest, NeverStartsWithTwoSlashesOrASlashAndABackslash) {
  for (std::string_view target :
       {"//evil.example/../checkout", "//evil.example/checkout", "///evil.example/x",
        "/\\evil.example", "/\\evil.example/checkout?x=1", "\\\\evil.example", "/\\/evil.example",
        "/./\\evil.example", "/.//evil.example", "/%2F%2Fevil.example", "/%5Cevil.example",
        "//evil.example", "/../\\evil.example", "http://evil.example/x", "", "?//evil.example",
        "*"}) {
    std::string url = SelfUrl(target);
    EXPECT_FALSE(PointsElsewhere(url)) << target << " -> " << url;
    EXPECT_EQ(url.find('\\'), std::string::npos) << target << " -> " << url;
  }
}

TEST(SelfUrlTest, TheNormalisedPathAndTheOriginalQuery) {
  EXPECT_EQ(SelfUrl("//evil.example/../checkout"), "/checkout");
  EXPECT_EQ(SelfUrl("/\\evil.example"), "/%5Cevil.example");
  EXPECT_EQ(SelfUrl("/checkout"), "/checkout");
  EXPECT_EQ(SelfUrl("/Product/42?size=42&color=red"), "/Product/42?size=42&color=red");
  EXPECT_EQ(SelfUrl("/cart;jsessionid=1?x=1#top"), "/cart;jsessionid=1?x=1");
  EXPECT_EQ(SelfUrl("/a/./b/../c/"), "/a/c/");
  EXPECT_EQ(SelfUrl("/%63art?q=%2F%2F"), "/cart?q=%2F%2F");
  // Bytes a link may not carry unescaped are percent-encoded (the page
  // HTML-escapes on top).
  EXPECT_EQ(SelfUrl("/cart?x=\"<script>"), "/cart?x=%22%3Cscript%3E");
  EXPECT_EQ(SelfUrl("/cart?next=\\\\evil"), "/cart?next=%5C%5Cevil");
  EXPECT_EQ(SelfUrl("/caf\xC3\xA9"), "/caf%C3%A9");
  EXPECT_EQ(SelfUrl("/bad%zz"), "/bad%25zz");
}

}  // namespace
}  // namespace tidegate::queue
