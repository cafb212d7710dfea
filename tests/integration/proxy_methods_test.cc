// Audit 19, with a scripted origin that records every byte it receives:
// * F12: every TRACE is answered 405 by tidegate (never forwarded, never
//   reflected), whatever Max-Forwards says and even on a room's path.
// * F5: Max-Forwards on OPTIONS is one decimal number, decremented (capped
//   at 2^32 - 1); repeated or not a number → 400, not forwarded.
// * F7: an origin's 426 reaches the client with its Upgrade field (named
//   in Connection); other answers never carry Upgrade.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/shopper.h"

namespace tidegate::itest {
namespace {

// /ws: 426 with Upgrade; /up: 200 that also names Upgrade (must be
// dropped); anything else: 200 "ok:<url>" and the request's Max-Forwards.
ScriptedOrigin::Script Origin() {
  return [](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest(std::chrono::milliseconds(30000));
      if (!req.ok) return;
      std::string bytes;
      if (req.url == "/ws") {
        bytes =
            ResponseBytes(426, "upgrade needed", "Upgrade: websocket\r\nConnection: Upgrade\r\n");
      } else if (req.url == "/up") {
        bytes = ResponseBytes(200, "no switch", "Upgrade: h2c\r\nConnection: Upgrade\r\n");
      } else {
        bytes =
            ResponseBytes(200, "ok:" + req.url + " mf=" + req.Header("Max-Forwards").value_or("-"));
      }
      if (!conn.Send(bytes)) return;
    }
  };
}

class ProxyMethodsTest : public ProxyTest {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("k1")) << "proxy-methods-test-key-0123456789abcdef\n";
    // A room that queues everyone on /queued: a TRACE there is still 405.
    StartWithOrigin(Origin(), {}, {},
                    "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
                    "\n[rooms.shop]\nmatch = [\"^/queued\"]\nmode = \"queue_all\"\n"
                    "total_active_users = 1\nnew_users_per_minute = 1\n");
    ASSERT_TRUE(Started());
  }

  HttpMessage Send(const std::string& method, const std::string& target,
                   const std::string& extra = "") {
    HttpMessage r =
        RoundTrip(method + " " + target + " HTTP/1.1\r\nHost: shop.test\r\n" + extra + "\r\n");
    EXPECT_TRUE(r.ok) << r.error;
    return r;
  }
};

TEST_F(ProxyMethodsTest, EveryTraceIsAnswered405AndNeverForwarded) {
  for (const char* extra : {"", "Max-Forwards: 5\r\n", "Max-Forwards: 0\r\n",
                            "Max-Forwards: 1\r\nMax-Forwards: 9\r\n"}) {
    for (const char* target : {"/echo", "/queued/page"}) {
      HttpMessage r = Send("TRACE", target, std::string("Cookie: secret=trace-cookie\r\n") + extra);
      EXPECT_EQ(r.status, 405) << target << " " << extra << Printable(r.raw);
      EXPECT_TRUE(r.HasHeader("Allow")) << Printable(r.raw);
      EXPECT_EQ(r.raw.find("trace-cookie"), std::string::npos) << "reflected";
      EXPECT_FALSE(r.HasHeader("Set-Cookie")) << "the room saw it: " << Printable(r.raw);
    }
  }
  ExpectServes("/after");  // the connection pool and the origin still work
  ExpectOriginNeverSaw("TRACE");
  ExpectOriginNeverSaw("trace-cookie");
}

TEST_F(ProxyMethodsTest, MaxForwardsIsOneNumberDecrementedAndCapped) {
  HttpMessage r = Send("OPTIONS", "/o", "Max-Forwards: 3\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok:/o mf=2");
  r = Send("OPTIONS", "/o", "Max-Forwards: 99999999999999999999999\r\n");
  EXPECT_EQ(r.body, "ok:/o mf=4294967295") << "the lesser of value - 1 and the cap";
  r = Send("OPTIONS", "/o", "Max-Forwards: 0\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.HasHeader("Allow"));
  EXPECT_EQ(r.body, "") << "answered here";

  for (const char* extra : {"Max-Forwards: 1\r\nMax-Forwards: 5\r\n", "Max-Forwards: 1, 1\r\n",
                            "Max-Forwards: abc\r\n", "Max-Forwards: -1\r\n"}) {
    r = Send("OPTIONS", "/refused", extra);
    EXPECT_EQ(r.status, 400) << extra << Printable(r.raw);
  }
  // Other methods ignore it (RFC 9110 §7.6.2 concerns TRACE and OPTIONS).
  r = Send("GET", "/g", "Max-Forwards: abc\r\n");
  EXPECT_EQ(r.body, "ok:/g mf=abc");
  ExpectOriginNeverSaw("/refused");
}

TEST_F(ProxyMethodsTest, A426KeepsItsUpgradeField) {
  HttpMessage r = Send("GET", "/ws");
  EXPECT_EQ(r.status, 426) << Printable(r.raw);
  EXPECT_EQ(r.Header("Upgrade").value_or(""), "websocket") << Printable(r.raw);
  EXPECT_EQ(r.Header("Connection").value_or(""), "upgrade") << Printable(r.raw);
  EXPECT_EQ(r.body, "upgrade needed");

  r = Send("GET", "/ws", "Connection: close\r\n");
  EXPECT_EQ(r.Header("Upgrade").value_or(""), "websocket") << Printable(r.raw);
  EXPECT_EQ(r.Header("Connection").value_or(""), "close, upgrade") << Printable(r.raw);

  r = Send("GET", "/up");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.HasHeader("Upgrade")) << "hop-by-hop on any other answer: " << Printable(r.raw);
  EXPECT_FALSE(r.HasHeader("Connection")) << Printable(r.raw);
}

}  // namespace
}  // namespace tidegate::itest
