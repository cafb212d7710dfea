// Behind a CDN or a load balancer ([server].trusted_proxies, audit 19 F1,
// F2, F4): every connection comes from the front, so the per-address rules
// must read the client from the field the front sets, and only from a
// front named in the configuration.
// * The rooms' per-address ticket cap counts each shopper's own address
//   (before: the 61st newcomer of a minute through one front got 429), the
//   rightmost untrusted address of X-Forwarded-For: a client's own claim on
//   the left is not believed.
// * Without trusted_proxies, or from a peer outside them, X-Forwarded-For
//   changes nothing.
// * The front's X-Forwarded-Proto: https gives the room's cookies their
//   __Host-/Secure form and reaches the origin; the origin gets the whole
//   X-Forwarded-For chain with the front's address appended.
// * The maintenance bypass networks judge the reported address.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/room_cookies.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using std::chrono::milliseconds;

class TrustedProxiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "trusted-proxies-test-key-0123456789abcdef\n";
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  // `server_keys` go into [server]; `tail` after everything.
  void Start(const std::string& server_keys, const std::string& tail) {
    ASSERT_TRUE(shop_);
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n" +
        server_keys + "\n[upstream]\nservers = [\"127.0.0.1:" + std::to_string(shop_->port()) +
        "\"]\n\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n" +
        tail;
    tidegate_ = StartTidegateOrFail(dir_, options);
  }

  // A room that queues every newcomer, at most `cap` places per address a minute.
  static std::string Room(int cap) {
    return "\n[rooms.shop]\nmatch = [\"^/\"]\nmode = \"queue_all\"\n"
           "max_tickets_per_ip_per_minute = " +
           std::to_string(cap) + "\n";
  }

  // A newcomer's request with `extra` header lines; the room's cookies go
  // into *jar.
  HttpMessage Join(const std::string& extra, RoomCookies* jar) {
    auto conn = ConnectOrFail(tidegate_->port());
    if (!conn) return {};
    EXPECT_TRUE(
        conn->Send("GET / HTTP/1.1\r\nHost: shop.test\r\n" + extra + "Connection: close\r\n\r\n"));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    EXPECT_TRUE(m.ok) << m.error;
    jar->Absorb(m);
    return m;
  }

  HttpMessage Get(const std::string& target, const std::string& extra) {
    auto conn = ConnectOrFail(tidegate_->port());
    if (!conn) return {};
    EXPECT_TRUE(conn->Send("GET " + target + " HTTP/1.1\r\nHost: shop.test\r\n" + extra +
                           "Connection: close\r\n\r\n"));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    EXPECT_TRUE(m.ok) << m.error;
    return m;
  }

  // The cap counts fixed one-minute windows: start early in a minute so a
  // test stays in one (a bounded wait of at most 16 s).
  static void WaitForAFreshMinute() {
    auto deadline = std::chrono::steady_clock::now() + milliseconds(16000);
    while (std::time(nullptr) % 60 >= 44 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(200));
    }
  }

  TempDir dir_{"tidegate-fronts"};
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

TEST_F(TrustedProxiesTest, BehindATrustedFrontTheCapCountsEachShoppersOwnAddress) {
  WaitForAFreshMinute();
  Start("trusted_proxies = [\"127.0.0.0/8\"]\n", Room(2));
  ASSERT_TRUE(tidegate_);
  for (int i = 1; i <= 5; ++i) {
    RoomCookies jar;
    HttpMessage m = Join("X-Forwarded-For: 198.51.100." + std::to_string(i) + "\r\n", &jar);
    EXPECT_EQ(m.status, 200) << "shopper " << i << " refused: " << m.body.substr(0, 300);
    EXPECT_TRUE(jar.HasPlace()) << "shopper " << i;
  }
  // The same shopper's address is capped; a client's own claim on the left
  // of an untrusted hop is not believed (198.51.100.1 is the client).
  RoomCookies second;
  EXPECT_EQ(Join("X-Forwarded-For: 198.51.100.1\r\n", &second).status, 200);
  RoomCookies third;
  EXPECT_EQ(Join("X-Forwarded-For: 203.0.113.77, 198.51.100.1\r\n", &third).status, 429);
  EXPECT_FALSE(third.HasPlace());
  // Forwarded through a second front of the trusted networks.
  RoomCookies fourth;
  EXPECT_EQ(Join("X-Forwarded-For: 198.51.100.1, 127.0.0.9\r\n", &fourth).status, 429);
}

TEST_F(TrustedProxiesTest, WithoutATrustedFrontTheFieldChangesNothing) {
  WaitForAFreshMinute();
  // The peer (127.0.0.1) is outside the trusted networks.
  Start("trusted_proxies = [\"10.0.0.0/8\"]\n", Room(2));
  ASSERT_TRUE(tidegate_);
  int refused = 0;
  for (int i = 1; i <= 3; ++i) {
    RoomCookies jar;
    refused +=
        Join("X-Forwarded-For: 198.51.100." + std::to_string(i) + "\r\n", &jar).status == 429;
  }
  EXPECT_EQ(refused, 1) << "the peer's address is capped whatever X-Forwarded-For says";
}

TEST_F(TrustedProxiesTest, TheFrontsHttpsGivesTheRoomsSecureCookies) {
  Start("trusted_proxies = [\"127.0.0.1\"]\n", Room(0));
  ASSERT_TRUE(tidegate_);
  HttpMessage https = Get("/", "X-Forwarded-For: 198.51.100.4\r\nX-Forwarded-Proto: https\r\n");
  EXPECT_EQ(https.status, 200);
  bool secure_wait = false;
  for (const auto& [name, value] : https.headers) {
    if ((name == "Set-Cookie" || name == "set-cookie") &&
        value.rfind("__Host-tg_wait_shop=", 0) == 0)
      secure_wait = value.find("; Secure") != std::string::npos;
  }
  EXPECT_TRUE(secure_wait) << "the front's https gives the __Host-/Secure cookie";
  HttpMessage http = Get("/", "X-Forwarded-Proto: http\r\n");
  for (const auto& [name, value] : http.headers) {
    if (name == "Set-Cookie" || name == "set-cookie") {
      EXPECT_EQ(value.find("__Host-"), std::string::npos) << value;
    }
  }
}

TEST_F(TrustedProxiesTest, TheOriginGetsTheWholeChainAndTheFrontsScheme) {
  Start("trusted_proxies = [\"127.0.0.1\"]\n", "");
  ASSERT_TRUE(tidegate_);
  HttpMessage echo =
      Get("/echo", "X-Forwarded-For: 198.51.100.4, 10.1.1.1\r\nX-Forwarded-Proto: https\r\n");
  ASSERT_EQ(echo.status, 200) << echo.body;
  EXPECT_NE(echo.body.find("X-Forwarded-For: 198.51.100.4, 10.1.1.1, 127.0.0.1\r\n"),
            std::string::npos)
      << echo.body;
  EXPECT_NE(echo.body.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << echo.body;
}

TEST_F(TrustedProxiesTest, MaintenanceBypassNetworksJudgeTheReportedAddress) {
  Start("trusted_proxies = [\"127.0.0.1\"]\n",
        "\n[features.checkout]\nmatch = [{ path = \"^/checkout\" }]\n"
        "maintenance = { message = \"Paused\" }\n"
        "\n[maintenance]\nbypass_cidrs = [\"192.0.2.0/24\"]\n");
  ASSERT_TRUE(tidegate_);
  EXPECT_EQ(Get("/checkout", "X-Forwarded-For: 192.0.2.10\r\n").status, 200);  // staff
  EXPECT_EQ(Get("/checkout", "X-Forwarded-For: 198.51.100.10\r\n").status, 503);
  EXPECT_EQ(Get("/checkout", "").status, 503);  // the front itself is no staff network
}

}  // namespace
}  // namespace tidegate::itest
