// RFC 9110 §6.6.1 through the real binary: every response tidegate makes
// itself (queue page, maintenance page, error pages, built-in routes)
// carries a Date, and a forwarded response gets one when the origin sent
// none, while an origin's own Date goes through unchanged.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <optional>
#include <string>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

constexpr char kOriginDate[] = "Sun, 06 Nov 1994 08:49:37 GMT";

constexpr char kTail[] =
    "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
    "\n[rooms.drop]\nmatch = [\"^/drop\"]\nmode = \"queue_all\"\n"
    "total_active_users = 1\nnew_users_per_minute = 1\nmax_tickets_per_ip_per_minute = 0\n"
    "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n"
    "maintenance = { message = \"Checkout is being upgraded\", "
    "starts_at = 2020-01-01T00:00:00Z, until = 2199-01-01T00:00:00Z }\n";

// /dated answers with the origin's own Date (/dated-listed also names it in
// Connection), /chunked without Date in chunks, /broken closes without an
// answer (a 502), anything else answers without Date.
ScriptedOrigin::Script Origin() {
  return [](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      if (req.url == "/broken") {
        conn.Close();
        return;
      }
      if (req.url == "/dated") {
        conn.Send(ResponseBytes(200, "dated", "Date: " + std::string(kOriginDate) + "\r\n"));
      } else if (req.url == "/dated-listed") {
        conn.Send(ResponseBytes(200, "dated",
                                "Connection: date\r\nDate: " + std::string(kOriginDate) + "\r\n"));
      } else if (req.url == "/chunked") {
        conn.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
      } else {
        conn.Send(ResponseBytes(200, "plain:" + req.url));
      }
    }
  };
}

// The seconds since the epoch an IMF-fixdate names, or nullopt when it is
// not one (exact format: 29 bytes, "GMT").
std::optional<time_t> ParseImfFixdate(const std::string& value) {
  if (value.size() != 29 || value.compare(25, 4, " GMT") != 0) return std::nullopt;
  tm parts{};
  const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return timegm(&parts);
}

class DateHeaderTest : public ProxyTest {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("k1")) << "date-test-signing-key-0123456789abcdef0123\n";
    StartWithOrigin(Origin(), {}, {}, kTail);
    ASSERT_TRUE(Started());
  }

  // Exactly one Date, an IMF-fixdate of now (within a few seconds: the
  // value is the loop's cached second).
  static void ExpectCurrentDate(const HttpMessage& r) {
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.HeaderCount("Date"), 1) << Printable(r.raw);
    std::string value = *r.Header("Date");
    std::optional<time_t> when = ParseImfFixdate(value);
    ASSERT_TRUE(when) << "not an IMF-fixdate: " << value;
    time_t now = time(nullptr);
    EXPECT_LE(*when, now) << value;
    EXPECT_GE(*when, now - 5) << value;
  }
};

TEST_F(DateHeaderTest, QueuePageCarriesDate) {
  HttpMessage r = RoundTrip(Get("/drop/shoes"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.body.find("id=\"tg-queue\""), std::string::npos) << Printable(r.raw);
  ExpectCurrentDate(r);
  // HEAD gets the same head.
  HttpMessage head = RoundTrip("HEAD /drop/shoes HTTP/1.1\r\nHost: shop.test\r\n\r\n",
                               ReadOptions{.head_request = true});
  ExpectCurrentDate(head);
}

TEST_F(DateHeaderTest, MaintenancePageCarriesDate) {
  HttpMessage r = RoundTrip(Get("/checkout"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 503);
  ExpectCurrentDate(r);
}

TEST_F(DateHeaderTest, ProxyErrorsCarryDate) {
  HttpMessage bad_gateway = RoundTrip(Get("/broken"));
  ASSERT_TRUE(bad_gateway.ok) << bad_gateway.error;
  EXPECT_EQ(bad_gateway.status, 502);
  ExpectCurrentDate(bad_gateway);
  HttpMessage bad_request = RoundTrip("GET /x HTTP/1.1\r\n\r\n");  // no Host: 400
  ASSERT_TRUE(bad_request.ok) << bad_request.error;
  EXPECT_EQ(bad_request.status, 400);
  ExpectCurrentDate(bad_request);
}

TEST_F(DateHeaderTest, BuiltInRouteCarriesDate) {
  HttpMessage r = RoundTrip(Get("/.tidegate/health"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  ExpectCurrentDate(r);
}

TEST_F(DateHeaderTest, ForwardedResponseWithoutDateGetsOne) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  // Two on one connection (the second reuses the stream's head storage),
  // then a chunked one.
  for (const char* path : {"/a", "/b", "/chunked"}) {
    ASSERT_TRUE(conn->Send(Get(path)));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    ExpectCurrentDate(r);
  }
}

TEST_F(DateHeaderTest, OriginsDateIsKept) {
  HttpMessage r = RoundTrip(Get("/dated"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, "dated");
  EXPECT_EQ(r.HeaderCount("Date"), 1) << Printable(r.raw);
  EXPECT_EQ(r.Header("Date").value_or(""), kOriginDate);
  // Even when the origin lists Date in Connection (it is no hop-by-hop
  // field; removing it would leave the response without one).
  HttpMessage listed = RoundTrip(Get("/dated-listed"));
  ASSERT_TRUE(listed.ok) << listed.error;
  EXPECT_EQ(listed.HeaderCount("Date"), 1) << Printable(listed.raw);
  EXPECT_EQ(listed.Header("Date").value_or(""), kOriginDate);
}

}  // namespace
}  // namespace tidegate::itest
