// Audit 17 F6: the origin cannot set tidegate's own cookies. A Set-Cookie
// from the origin for tg_pass_<room>, tg_wait_<room> or tg_bypass (also
// with the __Host- prefix) is removed before the shopper sees it; the shop's
// other cookies pass unchanged and in order; the removal is counted
// (origin_errors_total{kind="own_cookie"}) and logged (upstream.own_cookie).
#include <gtest/gtest.h>
#include <strings.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/admin_metrics.h"
#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/room_cookies.h"

namespace tidegate::itest {
namespace {

class OriginCookiesTest : public ProxyTest {
 protected:
  bool WaitMetric(const std::string& sample, double value) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadMetric(tidegate_->admin_port(), sample) == value) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
};

constexpr char kOwnCookieSample[] = "tidegate_origin_errors_total{kind=\"own_cookie\"}";

// /set answers with the audit's four cookies between two of the shop's;
// every other path gets a plain 200 with the shop's cookie only.
ScriptedOrigin::Script SetsTidegatesCookies() {
  return [](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      if (req.url == "/set") {
        conn.Send(ResponseBytes(200, "ok:/set",
                                "Set-Cookie: cart=1; Path=/\r\n"
                                "Set-Cookie: tg_pass_shop=forged; Path=/\r\n"
                                "Set-Cookie: tg_wait_shop=; Max-Age=0\r\n"
                                "Set-Cookie: tg_bypass=x; Path=/\r\n"
                                "Set-Cookie: __Host-tg_bypass=y; Path=/; Secure\r\n"
                                "Set-Cookie: session=abc; HttpOnly\r\n"));
      } else {
        conn.Send(ResponseBytes(200, "ok:" + req.url, "Set-Cookie: cart=2\r\n"));
      }
    }
  };
}

std::vector<std::string> SetCookies(const HttpMessage& m) {
  std::vector<std::string> out;
  for (const auto& [name, value] : m.headers) {
    if (strcasecmp(name.c_str(), "set-cookie") == 0) out.push_back(value);
  }
  return out;
}

TEST_F(OriginCookiesTest, OriginsSetCookieForTidegatesCookiesIsRemoved) {
  StartWithOrigin(SetsTidegatesCookies());
  ASSERT_TRUE(Started());
  HttpMessage r = RoundTrip(Get("/set"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok:/set");
  EXPECT_EQ(SetCookies(r), (std::vector<std::string>{"cart=1; Path=/", "session=abc; HttpOnly"}))
      << Printable(r.raw);
  EXPECT_EQ(r.raw.find("tg_"), std::string::npos) << Printable(r.raw);
  EXPECT_TRUE(WaitMetric(kOwnCookieSample, 1));
  EXPECT_NE(tidegate_->Stderr().find("warn upstream.own_cookie: 127.0.0.1:"), std::string::npos)
      << tidegate_->Stderr();
  // A response setting only the shop's cookies is untouched and not counted.
  r = RoundTrip(Get("/other"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(SetCookies(r), (std::vector<std::string>{"cart=2"}));
  EXPECT_TRUE(WaitMetric(kOwnCookieSample, 1));
}

// Behind a waiting room: the pass tidegate issues on the origin's response
// is the only tg_pass_shop the shopper gets (the origin's forged one and
// its clearing of the wait cookie are gone), and it admits the shopper.
TEST_F(OriginCookiesTest, TidegatesOwnPassStillGoesOutWithTheOriginsResponse) {
  std::ofstream(dir_.File("k1")) << "origin-cookies-test-signing-key-0123456789\n";
  StartWithOrigin(SetsTidegatesCookies(), {}, {},
                  "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
                  "\n[rooms.shop]\nmatch = [\"^/\"]\ntotal_active_users = 1000\n"
                  "new_users_per_minute = 6000\nmax_tickets_per_ip_per_minute = 0\n");
  ASSERT_TRUE(Started());
  RoomCookies shopper;
  HttpMessage first = GetWithRoomCookies(port(), "/set", &shopper);
  ASSERT_EQ(first.status, 200) << Printable(first.raw);
  EXPECT_EQ(first.body, "ok:/set");
  int passes = 0;
  for (const std::string& c : SetCookies(first)) {
    if (c.starts_with("tg_pass_shop=")) ++passes;
    EXPECT_EQ(c.find("forged"), std::string::npos) << c;
    EXPECT_EQ(c.find("tg_bypass"), std::string::npos) << c;
    EXPECT_FALSE(c.starts_with("tg_wait_shop=; Max-Age=0")) << c;
  }
  EXPECT_EQ(passes, 1) << Printable(first.raw);
  ASSERT_FALSE(shopper.pass.empty()) << "the shopper was not admitted";
  EXPECT_NE(shopper.pass, "forged");
  EXPECT_NE(first.raw.find("Set-Cookie: cart=1; Path=/\r\n"), std::string::npos);
  EXPECT_NE(first.raw.find("Set-Cookie: session=abc; HttpOnly\r\n"), std::string::npos);
  // The pass tidegate issued works: the next request reaches the origin.
  HttpMessage next = GetWithRoomCookies(port(), "/next", &shopper);
  EXPECT_EQ(next.status, 200) << Printable(next.raw);
  EXPECT_EQ(next.body, "ok:/next");
  EXPECT_TRUE(WaitMetric(kOwnCookieSample, 1));
}

}  // namespace
}  // namespace tidegate::itest
