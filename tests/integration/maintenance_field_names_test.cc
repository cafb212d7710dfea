// Audit 5 through the real binary: field spellings a PHP or Rails origin
// reads as the rule's field (PHP name mangling, `x[]`, query name case, a
// JSON path in bracket notation) and doubled Content-Encoding /
// Content-Type lines. Every feature is under maintenance with
// on_undecided = "block": each such request must get 503 and the scripted
// origin, which records every byte it receives, must never see it. A
// control request with another value reaches the origin.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

constexpr char kFeatures[] =
    "\n[features.shipx]\n"
    "match = [{ path = \"^/ship/b\", methods = [\"POST\"], form = { shipping_method = "
    "\"express\" } }]\n"
    "maintenance = { starts_at = 2020-01-01T00:00:00Z, until = 2199-01-01T00:00:00Z }\n"
    "\n[features.shipw]\n"
    "match = [{ path = \"^/ship/w\", methods = [\"POST\"], form = { \"shipping_method[0]\" = "
    "\"express\" } }]\n"
    "maintenance = { starts_at = 2020-01-01T00:00:00Z, until = 2199-01-01T00:00:00Z }\n"
    "\n[features.jsb]\n"
    "match = [{ path = \"^/pay/b\", methods = [\"POST\"], json = { \"payment.method\" = "
    "\"paypal\" } }]\n"
    "maintenance = { starts_at = 2020-01-01T00:00:00Z, until = 2199-01-01T00:00:00Z }\n"
    "\n[features.invoice]\n"
    "match = [{ path = \"^/api/payments\", methods = [\"POST\"], query = { method = "
    "\"invoice\" } }]\n"
    "maintenance = { starts_at = 2020-01-01T00:00:00Z, until = 2199-01-01T00:00:00Z }\n";

constexpr char kForm[] = "application/x-www-form-urlencoded";

class MaintenanceFieldNamesTest : public ProxyTest {
 protected:
  void SetUp() override {
    StartWithOrigin(ServeOkForever(), {}, {}, kFeatures);
    ASSERT_TRUE(Started());
  }

  // One POST carrying the marker header "X-T: <marker>"; `extra` holds
  // complete header lines (a Content-Type among them, or none).
  static std::string Post(const std::string& target, const std::string& marker,
                          const std::string& extra, const std::string& body) {
    return "POST " + target +
           " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\nX-T: " + marker + "\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  static std::string FormType() { return std::string("Content-Type: ") + kForm + "\r\n"; }

  struct Case {
    std::string target;
    std::string extra;  // header lines
    std::string body;
  };

  // Each case gets 503; afterwards the origin has seen none of them.
  void ExpectAllBlocked(const std::vector<Case>& cases) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      std::string marker = "blocked-" + std::to_string(i) + "-end";
      HttpMessage r = RoundTrip(Post(c.target, marker, c.extra, c.body));
      ASSERT_TRUE(r.ok) << c.target << " " << Printable(c.body) << ": " << r.error;
      EXPECT_EQ(r.status, 503) << c.target << " " << Printable(c.extra + c.body) << ": "
                               << Printable(r.raw);
    }
    for (size_t i = 0; i < cases.size(); ++i) {
      ExpectOriginNeverSaw("X-T: blocked-" + std::to_string(i) + "-end");
    }
  }

  // The control: a request that is not the feature reaches the origin.
  void ExpectReaches(const std::string& target, const std::string& extra, const std::string& body) {
    HttpMessage r = RoundTrip(Post(target, "control", extra, body));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200) << target << " " << Printable(body) << ": " << Printable(r.raw);
  }
};

std::string Multipart(const std::string& disposition_params) {
  return "--B\r\nContent-Disposition: form-data; " + disposition_params +
         "\r\n\r\nexpress\r\n--B--\r\n";
}

TEST_F(MaintenanceFieldNamesTest, FormNamesAsPhpReadsThemAreTheFeature) {
  const std::string multipart = "Content-Type: multipart/form-data; boundary=B\r\n";
  ExpectAllBlocked({
      {"/ship/b", FormType(), "shipping.method=express"},
      {"/ship/b", FormType(), "shipping+method=express"},
      {"/ship/b", FormType(), "shipping%20method=express"},
      {"/ship/b", FormType(), "shipping[method=express"},
      {"/ship/b", FormType(), "+shipping_method=express"},
      {"/ship/b", FormType(), "shipping_method%00x=express"},
      {"/ship/b", multipart, Multipart("name='shipping_method'")},
      {"/ship/b", multipart, Multipart("name=\"shipping.method\"")},
      {"/ship/w", FormType(), "shipping.method[0]=express"},
      {"/ship/w", FormType(), "shipping_method[]=express"},
      {"/ship/w", FormType(), "shipping_method[%200]=express"},
  });
  ExpectReaches("/ship/b", FormType(), "shipping.method=card");
  ExpectReaches("/ship/w", FormType(), "shipping_method[]=card&shipping_method[]=express");
}

TEST_F(MaintenanceFieldNamesTest, QueryNamesAsPhpReadsThemAndInAnyCaseAreTheFeature) {
  const std::string json = "Content-Type: application/json\r\n";
  ExpectAllBlocked({
      {"/ship/b?shipping.method=express", FormType(), ""},
      {"/ship/b?+shipping_method=express", FormType(), ""},
      {"/ship/b?SHIPPING_METHOD=express", FormType(), ""},
      {"/api/payments?+method=invoice", json, "{}"},
      {"/api/payments?method%00x=invoice", json, "{}"},
  });
  ExpectReaches("/api/payments?method.=invoice", json, "{}");  // PHP reads method_
}

TEST_F(MaintenanceFieldNamesTest, AJsonPathInBracketNotationIsTheFeature) {
  ExpectAllBlocked({
      {"/pay/b", FormType(), "payment[method]=paypal"},
      {"/pay/b?payment[method]=paypal", FormType(), ""},
      {"/pay/b", "Content-Type: multipart/form-data; boundary=B\r\n",
       "--B\r\nContent-Disposition: form-data; "
       "name=\"payment[method]\"\r\n\r\npaypal\r\n--B--\r\n"},
  });
  ExpectReaches("/pay/b", FormType(), "payment[method]=card");
}

TEST_F(MaintenanceFieldNamesTest, EveryContentEncodingAndContentTypeLineCounts) {
  ExpectAllBlocked({
      {"/ship/b", FormType() + "Content-Encoding: identity\r\nContent-Encoding: gzip\r\n",
       "shipping_method=card"},
      {"/ship/b", FormType() + "Content-Type: text/plain\r\n", "shipping_method=card"},
  });
  ExpectReaches("/ship/b", FormType() + "Content-Encoding: identity\r\n", "shipping_method=card");
  ExpectReaches("/ship/b", FormType() + FormType(), "shipping_method=card");
}

}  // namespace
}  // namespace tidegate::itest
