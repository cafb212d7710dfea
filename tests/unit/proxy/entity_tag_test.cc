#include "proxy/entity_tag.h"

#include <gtest/gtest.h>

namespace tidegate::proxy {
namespace {

TEST(EntityTagTest, IfNoneMatchListsTagUsesWeakComparison) {
  const char* tag = "\"tg-1a2b\"";
  struct Case {
    const char* field;
    bool hit;
  };
  const Case cases[] = {
      {"\"tg-1a2b\"", true},
      {"W/\"tg-1a2b\"", true},
      {"\"x\", \"tg-1a2b\"", true},
      {"\"x\",W/\"tg-1a2b\" , \"y\"", true},
      {"*", true},
      {" * ", true},
      {"\"tg-1a2c\"", false},
      {"tg-1a2b", false},                   // not quoted: not an entity-tag
      {"\"tg-1a2b", false},                 // unterminated
      {"\"tg-1a2b\"x", false},              // trailing junk in the element
      {"x\"tg-1a2b\", \"tg-1a2b\"", true},  // a bad element, then the tag
      {"", false},
      {",,", false},
      {"*x", false},
      {"\"\"", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    EXPECT_EQ(IfNoneMatchListsTag(c.field, tag), c.hit);
  }
  EXPECT_TRUE(IfNoneMatchListsTag("\"a\"", "W/\"a\""));
}

TEST(EntityTagTest, IfNoneMatchHitsReadsEveryField) {
  HeaderList headers;
  EXPECT_FALSE(IfNoneMatchHits(headers, "\"a\""));
  headers.Add("If-None-Match", "\"x\"");
  headers.Add("if-none-match", "\"a\"");
  EXPECT_TRUE(IfNoneMatchHits(headers, "\"a\""));
  EXPECT_FALSE(IfNoneMatchHits(headers, "\"b\""));
}

}  // namespace
}  // namespace tidegate::proxy
