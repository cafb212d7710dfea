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
  std::string multipart = "multipart/form-data; boundary=x";
  EXPECT_EQ(BodyKindOf(&html), BodyKind::kUnknown);
  EXPECT_EQ(BodyKindOf(&multipart), BodyKind::kMultipart);
  EXPECT_EQ(BodyKindOf(nullptr), BodyKind::kUnknown);
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
  EXPECT_FALSE(cut.JsonHas("payment.method", "paypal"));  // does not parse: not readable
  EXPECT_FALSE(cut.readable());
  BodyFields bad(BodyKind::kJson, "not json", true);
  EXPECT_FALSE(bad.JsonHas("a", "b"));
  EXPECT_FALSE(bad.readable());
  EXPECT_TRUE(j.readable());
}

TEST(BodyFieldsTest, StrictJsonRefusesWhatLenientParsersAccept) {
  for (const char* text :
       {R"({"a":"b"} x)", R"({"a":"b"}{"c":1})", R"({"a":/*c*/"b"})", "{\"a\":\"b\"} // c",
        "{\"a\":\"\xff\"}", "{'a':'b'}", R"({"a":"b",})", "\xef\xbb\xbf{\"a\":\"b\"}x"}) {
    BodyFields f(BodyKind::kJson, text, true);
    EXPECT_FALSE(f.readable()) << text;
  }
}

TEST(BodyFieldsTest, KeysIgnoreCaseValuesDoNot) {
  BodyFields j(BodyKind::kJson, R"({"Payment": {"Method": "paypal"}, "Top": "x"})", true);
  EXPECT_TRUE(j.JsonHas("payment.method", "paypal"));
  EXPECT_TRUE(j.JsonHas("PAYMENT.METHOD", "paypal"));
  EXPECT_FALSE(j.JsonHas("payment.method", "PayPal"));
  EXPECT_TRUE(j.FormHas("top", "x"));                   // top-level JSON keys serve form rules
  EXPECT_FALSE(j.FormHas("payment.method", "paypal"));  // but not nested ones
  BodyFields f(BodyKind::kForm, "Shipping_Method=express", true);
  EXPECT_TRUE(f.FormHas("shipping_method", "express"));
  EXPECT_FALSE(f.FormHas("shipping_method", "Express"));
}

TEST(BodyFieldsTest, DuplicateKeysMatchEitherValue) {
  BodyFields j(BodyKind::kJson, R"({"m": "card", "M": "paypal", "a": [{"m": "x"}]})", true);
  EXPECT_TRUE(j.JsonHas("m", "card"));
  EXPECT_TRUE(j.JsonHas("m", "paypal"));
  EXPECT_FALSE(j.JsonHas("a.m", "x"));  // inside an array: not reached by a dotted path
  BodyFields f(BodyKind::kForm, "m=card&m=invoice", true);
  EXPECT_TRUE(f.FormHas("m", "invoice"));
}

TEST(BodyFieldsTest, ReadableByContentTypeAndEncoding) {
  std::string plain = "text/plain";
  std::string form = "application/x-www-form-urlencoded";
  std::string gzip = "gzip";
  std::string identity = "Identity";
  EXPECT_FALSE(BodyFields(nullptr, nullptr, "a=b", true).readable());
  EXPECT_FALSE(BodyFields(&plain, nullptr, "a=b", true).readable());
  EXPECT_FALSE(BodyFields(&form, &gzip, "a=b", true).readable());
  EXPECT_TRUE(BodyFields(&form, &identity, "a=b", true).FormHas("a", "b"));
  // A charset the gate does not read byte for byte (UTF-16 …) is not readable.
  std::string utf16 = "application/x-www-form-urlencoded; charset=UTF-16";
  std::string quoted = "application/json; charset=\"utf-32\"";
  std::string utf8 = "application/x-www-form-urlencoded; Charset=UTF-8";
  EXPECT_FALSE(BodyFields(&utf16, nullptr, "a=b", true).readable());
  EXPECT_FALSE(BodyFields(&quoted, nullptr, "{}", true).readable());
  EXPECT_TRUE(BodyFields(&utf8, nullptr, "a=b", true).FormHas("a", "b"));
  EXPECT_TRUE(BodyFields(nullptr, nullptr, "", true).readable());  // no body, no fields
  EXPECT_FALSE(BodyFields(nullptr, nullptr, "", false).readable());
}

TEST(BodyFieldsTest, MultipartBody) {
  std::string type = "multipart/form-data; boundary=\"b b\"";
  BodyFields f(&type, nullptr,
               "--b b\r\nContent-Disposition: form-data; name=\"Method\"\r\n\r\ninvoice\r\n"
               "--b b--\r\n",
               true);
  EXPECT_TRUE(f.readable());
  EXPECT_TRUE(f.FormHas("method", "invoice"));
  EXPECT_FALSE(f.JsonHas("method", "invoice"));
}

// Audit 5, finding 1: form and multipart names also match as PHP reads them.
TEST(BodyFieldsTest, FormNamesAlsoMatchAsPhpReadsThem) {
  for (const char* body :
       {"shipping.method=express", "shipping+method=express", "shipping%20method=express",
        "shipping[method=express", "+shipping_method=express", "shipping_method%00x=express",
        "a=1&Shipping.Method=express"}) {
    BodyFields f(BodyKind::kForm, body, true);
    EXPECT_TRUE(f.FormHas("shipping_method", "express")) << body;
    EXPECT_FALSE(f.FormHas("shipping_method", "card")) << body;
  }
  BodyFields sent(BodyKind::kForm, "shipping.method=express", true);
  EXPECT_TRUE(sent.FormHas("shipping.method", "express"));  // the name as sent still counts
  BodyFields indexed(BodyKind::kForm, "shipping.method[0]=express", true);
  EXPECT_TRUE(indexed.FormHas("shipping_method[0]", "express"));
  BodyFields appended(BodyKind::kForm, "shipping_method[]=card&shipping_method[]=express", true);
  EXPECT_TRUE(appended.FormHas("shipping_method[1]", "express"));
  EXPECT_FALSE(appended.FormHas("shipping_method[0]", "express"));
  BodyFields spaced(BodyKind::kForm, "shipping_method[%200]=express", true);
  EXPECT_TRUE(spaced.FormHas("shipping_method[0]", "express"));
  BodyFields dotted_tail(BodyKind::kForm, "method.=invoice", true);
  EXPECT_FALSE(dotted_tail.FormHas("method", "invoice"));  // PHP reads method_
}

TEST(BodyFieldsTest, MultipartNamesAlsoMatchAsPhpReadsThem) {
  auto part = [](const std::string& disposition) {
    return "--b\r\nContent-Disposition: form-data; " + disposition + "\r\n\r\nexpress\r\n--b--\r\n";
  };
  for (const char* name : {"name='shipping_method'", "name=\"shipping.method\"",
                           "name=\"shipping method\"", "name=\" shipping_method\""}) {
    BodyFields f(BodyKind::kMultipart, part(name), true);
    ASSERT_TRUE(f.readable()) << name;
    EXPECT_TRUE(f.FormHas("shipping_method", "express")) << name;
  }
}

// Audit 5, finding 5: every Content-Encoding line counts; two different
// Content-Type lines are undecided.
TEST(BodyFieldsTest, EveryContentEncodingAndContentTypeLineCounts) {
  auto read = [](std::vector<std::pair<std::string, std::string>> lines) {
    proxy::HeaderList headers;
    for (auto& [name, value] : lines) headers.Add(name, value);
    return BodyFields(headers, "shipping_method=express", true);
  };
  const std::string form = "application/x-www-form-urlencoded";
  EXPECT_TRUE(read({{"Content-Type", form}}).FormHas("shipping_method", "express"));
  EXPECT_TRUE(read({{"Content-Type", form}, {"Content-Encoding", "identity"}}).readable());
  EXPECT_FALSE(
      read({{"Content-Type", form}, {"Content-Encoding", "identity"}, {"content-encoding", "gzip"}})
          .readable());
  EXPECT_FALSE(read({{"Content-Type", form}, {"Content-Encoding", "identity, gzip"}}).readable());
  EXPECT_FALSE(read({{"Content-Type", form}, {"Content-Type", "text/plain"}}).readable());
  EXPECT_FALSE(read({{"Content-Type", "text/plain"}, {"Content-Type", form}}).readable());
  // The same type twice is no doubt.
  EXPECT_TRUE(
      read({{"Content-Type", form}, {"Content-Type", form}}).FormHas("shipping_method", "express"));
  EXPECT_FALSE(read({}).readable());  // no type
  proxy::HeaderList gzip;
  gzip.Add("Content-Encoding", "gzip");
  EXPECT_TRUE(BodyFields(gzip, "", true).readable());  // an empty body has no fields
}

}  // namespace
}  // namespace tidegate::maintenance
