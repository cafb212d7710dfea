// Audit 19 F3: a CORS preflight (OPTIONS with Origin and
// Access-Control-Request-Method; browsers send it without cookies) passes an
// active room untouched — the origin answers it, no ticket is issued and no
// session taken — while a plain OPTIONS is still a request like any other.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/integration/harness/admin_metrics.h"
#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/room_cookies.h"
#include "tests/integration/harness/shopper.h"

namespace tidegate::itest {
namespace {

// What a browser sends before a cross-origin POST with a JSON body.
const std::string kPreflight =
    "OPTIONS /echo HTTP/1.1\r\nHost: shop.test\r\nOrigin: https://app.shop.test\r\n"
    "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n"
    "Sec-Fetch-Mode: cors\r\nAccept: */*\r\nConnection: close\r\n\r\n";

class QueuePreflightTest : public ProxyTest {
 protected:
  void StartRoom(const std::string& room_keys) {
    std::ofstream(dir_.File("k1")) << "queue-preflight-test-key-0123456789abcdef\n";
    StartWithDemoShop({}, {},
                      "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
                      "\n[rooms.shop]\nmatch = [\"^/\"]\n" +
                          room_keys);
  }

  double Gauge(const std::string& name) {
    return ReadMetric(tidegate_->admin_port(), name + "{room=\"shop\"}").value_or(-1);
  }

  // A preflight answered by the origin (the demo shop's /echo), with none of
  // the room's cookies.
  void ExpectOriginAnswersPreflight() {
    HttpMessage m = RoundTrip(kPreflight);
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.status, 200) << Printable(m.raw);
    EXPECT_EQ(m.body.rfind("OPTIONS /echo HTTP/1.1\r\n", 0), 0u) << Printable(m.raw);
    EXPECT_NE(m.body.find("Origin: https://app.shop.test\r\n"), std::string::npos);
    EXPECT_FALSE(IsQueuePage(m));
    EXPECT_FALSE(m.HasHeader("Set-Cookie")) << Printable(m.raw);
  }
};

TEST_F(QueuePreflightTest, QueueAllLetsPreflightsThroughWithoutATicket) {
  StartRoom("mode = \"queue_all\"\ntotal_active_users = 1\nnew_users_per_minute = 1\n");
  ASSERT_TRUE(Started());
  RoomCookies first;
  ASSERT_TRUE(IsQueuePage(GetWithRoomCookies(port(), "/", &first)));
  uint64_t ticket = WaitTicket(first.wait);
  ASSERT_GT(ticket, 0u) << first.wait;

  for (int i = 0; i < 5; ++i) ExpectOriginAnswersPreflight();

  // A plain OPTIONS (no Access-Control-Request-Method) is still queued, and
  // takes the very next ticket: the preflights took none.
  HttpMessage plain = RoundTrip(
      "OPTIONS /echo HTTP/1.1\r\nHost: shop.test\r\nOrigin: https://app.shop.test\r\n"
      "Connection: close\r\n\r\n");
  ASSERT_TRUE(plain.ok) << plain.error;
  EXPECT_TRUE(IsQueuePage(plain)) << Printable(plain.raw);
  RoomCookies second;
  second.Absorb(plain);
  EXPECT_EQ(WaitTicket(second.wait), ticket + 1) << Printable(plain.raw);
}

TEST_F(QueuePreflightTest, AutoTakesNoSessionForAPreflight) {
  StartRoom("mode = \"auto\"\ntotal_active_users = 2\nnew_users_per_minute = 600\n");
  ASSERT_TRUE(Started());
  for (int i = 0; i < 5; ++i) ExpectOriginAnswersPreflight();
  EXPECT_EQ(Gauge("tidegate_room_active"), 0);
  EXPECT_EQ(Gauge("tidegate_room_queued"), 0);

  // The room still counts the visitors who come in.
  RoomCookies shopper;
  HttpMessage page = GetWithRoomCookies(port(), "/", &shopper);
  EXPECT_FALSE(IsQueuePage(page));
  EXPECT_FALSE(shopper.pass.empty()) << Printable(page.raw);
  EXPECT_EQ(Gauge("tidegate_room_active"), 1);
}

}  // namespace
}  // namespace tidegate::itest
