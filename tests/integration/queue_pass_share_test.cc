// One pass cookie copied to clients on many networks (audit 14 finding 2),
// in the real binary in front of the demo shop, with the in-process store
// and with a real redis-server: clients on distinct loopback source
// addresses (127.0.x.y, each a network as tidegate sees it) present the
// same pass; at most PassNetworks::kMaxNetworks (4) networks use it — the
// owner's and three copies — the others are queued as newcomers with the
// `pass_shared` notice, their copy cleared, and
// room_abuse_total{reason="pass_shared"} and GET /v1/state count them. One
// shopper moving between networks across pass renewals keeps its pass.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/room_cookies.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr char kOperatorToken[] = "passshare-operator-token-0123456789abcdef";
constexpr int kMaxNetworks = 4;  // queue/pass_networks.h

class QueuePassShareTest : public ::testing::TestWithParam<bool> {  // true: Redis
 protected:
  void SetUp() override {
    if (GetParam() && !RedisServer::Available()) GTEST_SKIP() << "redis-server is not installed";
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "passshare-test-signing-key-0123456789abcdef\n";
    if (GetParam()) redis_ = StartRedisOrFail(dir_);
    ASSERT_TRUE(shop_);
    std::string state;
    if (GetParam()) {
      ASSERT_TRUE(redis_);
      state = "\n[state]\nbackend = \"redis\"\nredis = \"" + redis_->address() + "\"\n";
    }
    TidegateOptions options;
    options.config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\ndrain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(shop_->port()) +
        "\"]\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit.jsonl\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        Sha256Hex(kOperatorToken) + "\", role = \"operator\" }]\n" + state +
        "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
        "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n"
        "total_active_users = 1\nnew_users_per_minute = 6000\n";
    tidegate_ = StartTidegateOrFail(dir_, options);
    ASSERT_TRUE(tidegate_);
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  // GET `target` from the loopback address `source`, the visitor's cookies
  // sent and the room's new ones absorbed.
  HttpMessage Get(const std::string& source, const std::string& target, RoomCookies* v,
                  uint16_t port = 0, const std::string& extra = "") {
    auto conn = ConnectFromOrFail(source, port != 0 ? port : tidegate_->port());
    if (!conn) return {};
    std::string req = "GET " + target +
                      " HTTP/1.1\r\nHost: " + std::string(port != 0 ? "127.0.0.1" : "shop.test") +
                      "\r\nAccept: application/json\r\n";
    if (v != nullptr && !v->Cookie().empty()) req += "Cookie: " + v->Cookie() + "\r\n";
    req += extra + "Connection: close\r\n\r\n";
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(10000)));
    EXPECT_TRUE(m.ok) << m.error;
    if (v != nullptr) v->Absorb(m);
    return m;
  }

  // The room's JSON answer (queued), or null: the shop's page (let in).
  static Json Queued(const HttpMessage& m) {
    Json j = Json::parse(m.body, nullptr, false);
    if (j.is_object() && j.contains("in_queue")) return j;
    return nullptr;
  }

  uint64_t PassSharedInMetrics() {
    HttpMessage m = Get("127.0.0.1", "/metrics", nullptr, tidegate_->admin_port());
    std::string key = "tidegate_room_abuse_total{room=\"shop\",reason=\"pass_shared\"} ";
    size_t at = m.body.find(key);
    if (at == std::string::npos) return UINT64_MAX;
    return std::stoull(m.body.substr(at + key.size()));
  }

  Json State() {
    HttpMessage m = Get("127.0.0.1", "/v1/state", nullptr, tidegate_->admin_port(),
                        std::string("Authorization: Bearer ") + kOperatorToken + "\r\n");
    return Json::parse(m.body, nullptr, false);
  }

  TempDir dir_{"tidegate-passshare"};
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

TEST_P(QueuePassShareTest, ACopiedPassLetsAtMostFourNetworksInTheOthersQueueWithTheNotice) {
  RoomCookies owner;
  ASSERT_TRUE(Queued(Get("127.0.5.1", "/", &owner)).is_null()) << "the first shopper is let in";
  ASSERT_FALSE(owner.pass.empty());
  constexpr int kCopies = 8;
  int let_in = 0;
  int refused = 0;
  for (int i = 1; i <= kCopies; ++i) {
    RoomCookies copy;
    copy.pass = owner.pass;
    std::string source = "127.0.6." + std::to_string(i);
    HttpMessage m = Get(source, "/", &copy);
    Json j = Queued(m);
    if (j.is_null()) {
      ++let_in;
      continue;
    }
    ++refused;
    EXPECT_EQ(j["in_queue"], true) << source << " " << j.dump();
    EXPECT_EQ(j.value("notice", ""), "pass_shared") << source << " " << j.dump();
    EXPECT_GT(j.value("position", 0), 0) << "a newcomer's place: " << j.dump();
    EXPECT_TRUE(copy.pass.empty()) << "the copy is cleared";
    EXPECT_FALSE(copy.wait.empty()) << "a wait cookie of its own";
    // Its next request is an ordinary place in line.
    Json again = Queued(Get(source, "/", &copy));
    ASSERT_FALSE(again.is_null());
    EXPECT_EQ(again.value("notice", ""), "") << again.dump();
  }
  EXPECT_EQ(let_in, kMaxNetworks - 1) << "the owner's network is one of the four";
  EXPECT_EQ(refused, kCopies - let_in);
  EXPECT_TRUE(Queued(Get("127.0.5.1", "/", &owner)).is_null()) << "the owner keeps its pass";
  EXPECT_EQ(PassSharedInMetrics(), static_cast<uint64_t>(refused));
  Json state = State();
  EXPECT_EQ(state["rooms"]["shop"]["abuse"]["pass_shared"], refused) << state.dump();
  EXPECT_EQ(state["rooms"]["shop"]["counters"]["active"], 1) << state.dump();
}

// A phone between Wi-Fi and cellular: three networks, renewals from each
// (the 10-s session buckets change twice), never refused.
TEST_P(QueuePassShareTest, OneShopperRoamingOverThreeNetworksKeepsItsPass) {
  RoomCookies shopper;
  ASSERT_TRUE(Queued(Get("127.0.7.1", "/", &shopper)).is_null());
  ASSERT_FALSE(shopper.pass.empty());
  const std::string networks[] = {"127.0.7.1", "127.0.7.2", "127.0.7.3"};
  for (int i = 0; i < 24; ++i) {
    std::string source = networks[(i / 3) % 3];
    Json j = Queued(Get(source, "/", &shopper));
    ASSERT_TRUE(j.is_null()) << "request " << i << " from " << source << ": " << j.dump();
    ASSERT_FALSE(shopper.pass.empty());
    std::this_thread::sleep_for(milliseconds(1000));  // pacing: crosses two buckets
  }
  EXPECT_EQ(PassSharedInMetrics(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, QueuePassShareTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Redis" : "Local"; });

}  // namespace
}  // namespace tidegate::itest
