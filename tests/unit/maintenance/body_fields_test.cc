#include "maintenance/body_fields.h"

#include <gtest/gtest.h>

namespace tidegate::maintenance {
namespace {

TEST(BodyFieldsTest, KindFromContentType) {
  std::string form = "application/x-www-form-urlencoded; charset=UTF-8";
  std::string json = "Application/JSON";
  std::string problem = "application/problem+json";
  std::string html = "text/html";
  EXPECT_EQ(BodyKindOf(&form), BodyKind::kForm);
  EXPECT_EQ(BodyKindOf(&json), BodyKind::kJson);
  EXPECT_EQ(BodyKindOf(&problem), BodyKind::kJson);
  EXPECT_EQ(BodyKindOf(&html), BodyKind::kNone);
  EXPECT_EQ(BodyKindOf(nullptr), BodyKind::kNone);
}

TEST(BodyFieldsTest, FormFields) {
  BodyFields f(BodyKind::kForm, "a=1&shipping_method=express&note=gift+wrap&x=%C3%A9", true);
  EXPECT_TRUE(f.FormHas("shipping_method", "express"));
  EXPECT_TRUE(f.FormHas("note", "gift wrap"));
  EXPECT_TRUE(f.FormHas("x", "\xC3\xA9"));
  EXPECT_FALSE(f.FormHas("shipping_method", "standard"));
  EXPECT_FALSE(f.FormHas("json", "x"));
  EXPECT_FALSE(f.JsonHas("a", "1"));
}

TEST(BodyFieldsTest, CutFormIgnoresTheLastPair) {
  // Cut at the bound in the middle of "method=invoice_later".
  BodyFields cut(BodyKind::kForm, "a=1&method=invoice", false);
  EXPECT_TRUE(cut.FormHas("a", "1"));
  EXPECT_FALSE(cut.FormHas("method", "invoice"));
  BodyFields whole(BodyKind::kForm, "a=1&method=invoice", true);
  EXPECT_TRUE(whole.FormHas("method", "invoice"));
}

TEST(BodyFieldsTest, JsonDottedPaths) {
  BodyFields j(BodyKind::kJson,
               R"({"payment": {"method": "paypal", "amount": 12, "saved": true}, "n": null})",
               true);
  EXPECT_TRUE(j.JsonHas("payment.method", "paypal"));
  EXPECT_TRUE(j.JsonHas("payment.amount", "12"));
  EXPECT_TRUE(j.JsonHas("payment.saved", "true"));
  EXPECT_TRUE(j.JsonHas("n", "null"));
  EXPECT_FALSE(j.JsonHas("payment.method", "card"));
  EXPECT_FALSE(j.JsonHas("payment", "paypal"));
  EXPECT_FALSE(j.JsonHas("payment.method.x", "paypal"));
  EXPECT_FALSE(j.JsonHas("missing.path", "x"));
  BodyFields cut(BodyKind::kJson, R"({"payment": {"method": "paypal", "ite)", false);
  EXPECT_FALSE(cut.JsonHas("payment.method", "paypal"));  // does not parse: no match
  BodyFields bad(BodyKind::kJson, "not json", true);
  EXPECT_FALSE(bad.JsonHas("a", "b"));
}

}  // namespace
}  // namespace tidegate::maintenance
