// The waiting room on Redis (`[state] backend = "redis"`) in the real
// binary, in front of the demo shop, with a real redis-server started by the
// test: queue and admission through HTTP, state surviving a tidegate
// restart, no Redis command per admitted request, and the failure cases of
// reliability-cases.md (34–39) with each [state].on_failure mode; the room's
// store lines in [server].error_log.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/rfc3339.h"
#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/proc_stats.h"
#include "tests/integration/harness/redis_server.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct RoomVisitor {
  std::string pass;
  std::string wait;
  std::string Cookie() const {
    std::string c;
    if (!pass.empty()) c += "tg_pass_shop=" + pass;
    if (!wait.empty()) c += std::string(c.empty() ? "" : "; ") + "tg_wait_shop=" + wait;
    return c;
  }
  void Absorb(const HttpMessage& m) {
    for (const auto& [name, value] : m.headers) {
      if (name != "Set-Cookie" && name != "set-cookie") continue;
      std::string pair = value.substr(0, value.find(';'));
      std::string n = pair.substr(0, pair.find('='));
      std::string v = pair.substr(pair.find('=') + 1);
      if (n == "tg_pass_shop") pass = v;
      if (n == "tg_wait_shop") wait = v;
    }
  }
};

bool IsQueuePage(const HttpMessage& m) {
  return m.body.find("id=\"tg-queue\"") != std::string::npos;
}

// calls=N of one command in INFO commandstats (0 when never called).
long CommandCalls(const std::string& info, const std::string& command) {
  std::string key = "cmdstat_" + command + ":calls=";
  size_t at = info.find(key);
  if (at == std::string::npos) return 0;
  return std::stol(info.substr(at + key.size()));
}

class QueueRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) GTEST_SKIP() << "redis-server is not installed";
    shop_ = StartDemoShopOrFail(dir_);
    std::ofstream(dir_.File("k1")) << "queue-redis-test-signing-key-0123456789ab\n";
  }

  void StartRedis() { redis_ = StartRedisOrFail(dir_); }
  // A visitor queued, Redis stopped, tidegate restarted (on_failure =
  // local): every answer has the visitor in line, with its position or
  // with "Your place is kept", never a sale's draw. `room` = the room's keys.
  void ExpectTheTruthAfterARestartWithRedisDown(const std::string& room);

  std::string Config(const std::string& redis_address, const std::string& on_failure,
                     const std::string& room_keys, const std::string& timeout = "300ms") {
    return "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 2\n"
           "drain_timeout = \"5s\"\n"
           "\n[upstream]\nservers = [\"127.0.0.1:" +
           std::to_string(shop_->port()) +
           "\"]\n"
           "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
           "audit_log = \"${DIR}/audit.jsonl\"\n"
           "\n[state]\nbackend = \"redis\"\nredis = \"" +
           redis_address + "\"\non_failure = \"" + on_failure + "\"\nredis_timeout = \"" + timeout +
           "\"\n"
           "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
           "\n[rooms.shop]\nmatch = [\"^/\"]\nrefresh_interval = \"1s\"\n" +
           room_keys;
  }

  void Start(const std::string& redis_address, const std::string& on_failure,
             const std::string& room_keys, const std::string& timeout = "300ms") {
    ASSERT_TRUE(shop_);
    TidegateOptions options;
    options.config = Config(redis_address, on_failure, room_keys, timeout);
    tidegate_ = StartTidegateOrFail(dir_, options);
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  HttpMessage Request(const std::string& method, const std::string& target, RoomVisitor* v,
                      const std::string& extra = "", const std::string& body = "",
                      milliseconds budget = milliseconds(5000)) {
    auto conn = ConnectOrFail(tidegate_->port());
    if (!conn) return {};
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: shop.test\r\n";
    if (v != nullptr && !v->Cookie().empty()) req += "Cookie: " + v->Cookie() + "\r\n";
    req += extra;
    if (!body.empty() || method == "POST") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "Connection: close\r\n\r\n" + body;
    EXPECT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(budget));
    EXPECT_TRUE(m.ok) << m.error;
    if (v != nullptr) v->Absorb(m);
    return m;
  }

  Json Poll(RoomVisitor* v) {
    HttpMessage m = Request("GET", "/.tidegate/queue", v);
    return Json::parse(m.body, nullptr, false);
  }

  bool PollUntilAdmitted(RoomVisitor* v, milliseconds within = milliseconds(5000)) {
    auto deadline = steady_clock::now() + within;
    while (steady_clock::now() < deadline) {
      Json j = Poll(v);
      if (j.is_object() && j.value("admitted", false)) return true;
      std::this_thread::sleep_for(milliseconds(100));  // pacing only
    }
    return false;
  }

  HttpMessage Checkout(RoomVisitor* v) {
    std::string body = "shipping_method=standard&payment_method=card";
    RoomVisitor with_cart = *v;
    HttpMessage m =
        Request("POST", "/checkout", &with_cart,
                "Cookie: cart=1:1\r\nContent-Type: application/x-www-form-urlencoded\r\n", body);
    v->pass = with_cart.pass;
    return m;
  }

  // Retries a newcomer's request until `accept` holds or `within` passes.
  template <typename Accept>
  bool Eventually(Accept accept, milliseconds within = milliseconds(8000)) {
    auto deadline = steady_clock::now() + within;
    while (steady_clock::now() < deadline) {
      if (accept()) return true;
      std::this_thread::sleep_for(milliseconds(100));  // pacing only
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

TEST_F(QueueRedisTest, QueueAndAdmissionThroughRedis) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "closed", "total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor inside;
  HttpMessage first = Request("GET", "/", &inside);
  EXPECT_EQ(first.status, 200);
  EXPECT_FALSE(IsQueuePage(first));
  ASSERT_FALSE(inside.pass.empty()) << first.raw.substr(0, 400);
  EXPECT_EQ(redis_->Command("EXISTS tidegate:{room:shop}:s"), ":1\r\n");
  std::vector<RoomVisitor> waiting(2);
  for (RoomVisitor& w : waiting) {
    HttpMessage page = Request("GET", "/", &w);
    EXPECT_EQ(page.status, 200);
    EXPECT_TRUE(IsQueuePage(page)) << page.body.substr(0, 300);
    EXPECT_FALSE(w.wait.empty());
  }
  EXPECT_EQ(Poll(&waiting[1])["position"], 2);
  EXPECT_EQ(Poll(&waiting[0])["position"], 1);
  // JSON on a protected route waits for the store like the page does.
  HttpMessage json = Request("GET", "/", &waiting[1], "Accept: application/json\r\n");
  EXPECT_EQ(Json::parse(json.body, nullptr, false).value("position", 0), 2) << json.body;
  // The order placed frees the slot: the first in line gets in, not the second.
  EXPECT_EQ(Checkout(&inside).status, 200);
  EXPECT_TRUE(inside.pass.empty());
  EXPECT_EQ(Poll(&waiting[1])["in_queue"], true);
  ASSERT_TRUE(PollUntilAdmitted(&waiting[0]));
  HttpMessage in = Request("GET", "/", &waiting[0]);
  EXPECT_EQ(in.status, 200);
  EXPECT_FALSE(IsQueuePage(in));
}

TEST_F(QueueRedisTest, StateSurvivesATidegateRestart) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "closed", "total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor inside, second, third;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  ASSERT_FALSE(inside.pass.empty());
  ASSERT_TRUE(IsQueuePage(Request("GET", "/", &second)));
  ASSERT_TRUE(IsQueuePage(Request("GET", "/", &third)));
  ASSERT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  tidegate_.reset();
  Start(redis_->address(), "closed", "total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  // The pass is still valid, the queue positions are kept.
  HttpMessage again = Request("GET", "/", &inside);
  EXPECT_EQ(again.status, 200);
  EXPECT_FALSE(IsQueuePage(again));
  EXPECT_EQ(Poll(&third)["position"], 2);
  EXPECT_EQ(Poll(&second)["position"], 1);
  RoomVisitor newcomer;
  EXPECT_TRUE(IsQueuePage(Request("GET", "/", &newcomer)));
  EXPECT_EQ(Poll(&newcomer)["position"], 3);
}

// An admitted shopper's request makes no Redis command: only the periodic
// tick (at most one per 250 ms per process) and at most one session
// renewal (when the 10-s bucket changes) may run while N requests pass.
TEST_F(QueueRedisTest, AdmittedRequestsMakeNoRedisCommand) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "closed", "total_active_users = 50\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor shopper;
  ASSERT_EQ(Request("GET", "/", &shopper).status, 200);
  ASSERT_FALSE(shopper.pass.empty());
  constexpr int kRequests = 300;
  std::string before = redis_->Command("INFO commandstats");
  auto start = steady_clock::now();
  // Keep-alive: many requests on one connection, the cheapest way to send N.
  auto conn = ConnectOrFail(tidegate_->port());
  ASSERT_TRUE(conn);
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    std::string req =
        "GET / HTTP/1.1\r\nHost: shop.test\r\nCookie: " + shopper.Cookie() + "\r\n\r\n";
    ASSERT_TRUE(conn->Send(req));
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.status, 200) << m.raw.substr(0, 300);
    if (m.status == 200 && !IsQueuePage(m)) ++ok;
    shopper.Absorb(m);
  }
  double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  std::string after = redis_->Command("INFO commandstats");
  EXPECT_EQ(ok, kRequests);
  long calls = CommandCalls(after, "evalsha") + CommandCalls(after, "eval") -
               CommandCalls(before, "evalsha") - CommandCalls(before, "eval");
  // Ticks: at most one per 250 ms (+1 at each end); renewals: at most one.
  long bound = static_cast<long>(seconds / 0.25) + 2 + 1;
  EXPECT_LE(calls, bound) << kRequests << " requests in " << seconds << " s";
  std::printf("[ measure  ] %d admitted requests in %.2f s: %ld room script calls (ticks)\n",
              kRequests, seconds, calls);
  EXPECT_LT(calls, kRequests / 10);
}

// A newcomer's request with a body waits for Redis (kStop), then goes on
// to the shop with its body; the shop's Tidegate-Session: end is applied.
TEST_F(QueueRedisTest, NewcomersRequestWithABodyContinuesAfterTheStoreAnswers) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "closed", "total_active_users = 50\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor newcomer;
  HttpMessage order = Checkout(&newcomer);
  EXPECT_EQ(order.status, 200) << order.raw.substr(0, 400);
  EXPECT_FALSE(IsQueuePage(order));
  EXPECT_FALSE(order.HasHeader("Tidegate-Session"));
}

// on_failure = local: a visitor queued through Redis keeps its place when
// Redis dies, and is admitted from this instance's own state when a slot
// frees.
TEST_F(QueueRedisTest, QueuedVisitorKeepsItsPlaceWhenRedisDies) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "local", "total_active_users = 1\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor inside, waiting;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  ASSERT_FALSE(inside.pass.empty());
  ASSERT_TRUE(IsQueuePage(Request("GET", "/", &waiting)));
  ASSERT_TRUE(redis_->Stop());
  Json j = Poll(&waiting);
  EXPECT_EQ(j["in_queue"], true) << j.dump();
  EXPECT_EQ(j["position"], 1) << j.dump();
  // Still full (the active session was carried over): a newcomer queues.
  RoomVisitor newcomer;
  EXPECT_TRUE(IsQueuePage(Request("GET", "/", &newcomer)));
  EXPECT_EQ(Checkout(&inside).status, 200);
  EXPECT_TRUE(PollUntilAdmitted(&waiting)) << "not admitted from local state";
  EXPECT_EQ(Poll(&newcomer)["in_queue"], true);
}

// Case 34: Redis down at start. on_failure = local: the shop is served
// from local state, and the room moves to Redis once it is up.
TEST_F(QueueRedisTest, RedisDownAtStartRunsLocallyThenJoinsRedis) {
  StartRedis();
  ASSERT_TRUE(redis_);
  std::string address = redis_->address();
  ASSERT_TRUE(redis_->Stop());
  Start(address, "local", "total_active_users = 50\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor early;
  HttpMessage m = Request("GET", "/", &early);
  EXPECT_EQ(m.status, 200);
  EXPECT_FALSE(IsQueuePage(m));
  EXPECT_FALSE(early.pass.empty()) << "admitted by the local fallback";
  // /.tidegate/health says so: alive (200), degraded, and which parts.
  HttpMessage health = Request("GET", "/.tidegate/health", nullptr);
  EXPECT_EQ(health.status, 200);
  Json h = Json::parse(health.body, nullptr, false);
  EXPECT_EQ(h["status"], "degraded") << health.body;
  std::set<std::string> parts;
  for (const Json& p : h["degraded"]) parts.insert(p.value("part", ""));
  EXPECT_TRUE(parts.count("room:shop")) << health.body;
  EXPECT_TRUE(parts.count("state_store")) << health.body;
  std::string error;
  ASSERT_TRUE(redis_->Restart(&error)) << error;
  EXPECT_TRUE(Eventually([&] {
    RoomVisitor v;
    Request("GET", "/", &v);
    return redis_->Command("EXISTS tidegate:{room:shop}:s") == ":1\r\n";
  })) << "the room never reached Redis";
  EXPECT_TRUE(Eventually(
      [&] {
        HttpMessage m = Request("GET", "/.tidegate/health", nullptr);
        return Json::parse(m.body, nullptr, false).value("status", "") == "ok";
      },
      milliseconds(15000)))
      << "health never recovered";
  // The pass issued while Redis was down is still valid.
  HttpMessage again = Request("GET", "/", &early);
  EXPECT_EQ(again.status, 200);
  EXPECT_FALSE(IsQueuePage(again));
  EXPECT_NE(tidegate_->Stderr().find("shared store failed"), std::string::npos);
}

// Audit 13, finding 2: a restart while Redis is down (on_failure = local).
// The restarted process has not read the room's queue order, so a visitor
// queued before has no known place for now. The room has no scheduled
// event: the answer must say the place is kept and being checked again,
// never announce a sale and a random draw (the pre-queue text).
TEST_F(QueueRedisTest, QueuedVisitorAfterARestartWithRedisDownIsToldTheTruth) {
  ExpectTheTruthAfterARestartWithRedisDown("total_active_users = 1\nnew_users_per_minute = 6\n");
}

// The same in a room whose scheduled event started an hour ago: its draw is
// long made, so an unknown place is not a draw to wait for (the page said
// "The sale opens at <now>" and "drawn at random" through the whole sale).
TEST_F(QueueRedisTest, QueuedVisitorAfterARestartWithRedisDownIsToldTheTruthDuringAnEvent) {
  auto now = std::chrono::system_clock::now();
  ExpectTheTruthAfterARestartWithRedisDown(
      "total_active_users = 1\nnew_users_per_minute = 6\n"
      "\n[[rooms.shop.events]]\nname = \"sale\"\nprequeue_start = " +
      common::FormatRfc3339(now - std::chrono::hours(2)) +
      "\nstart = " + common::FormatRfc3339(now - std::chrono::hours(1)) +
      "\nend = " + common::FormatRfc3339(now + std::chrono::hours(1)) + "\n");
}

void QueueRedisTest::ExpectTheTruthAfterARestartWithRedisDown(const std::string& room) {
  StartRedis();
  ASSERT_TRUE(redis_);
  std::string address = redis_->address();
  Start(address, "local", room);
  ASSERT_TRUE(tidegate_);
  RoomVisitor inside, waiting;
  ASSERT_EQ(Request("GET", "/", &inside).status, 200);
  ASSERT_FALSE(inside.pass.empty());
  ASSERT_TRUE(IsQueuePage(Request("GET", "/", &waiting)));
  ASSERT_FALSE(waiting.wait.empty());
  ASSERT_EQ(Poll(&waiting)["position"], 1);
  ASSERT_TRUE(redis_->Stop());
  ASSERT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  tidegate_.reset();
  Start(address, "local", room);
  ASSERT_TRUE(tidegate_);
  for (int i = 0; i < 3; ++i) {  // not a moment's answer: the store stays down
    Json j = Poll(&waiting);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["in_queue"], true) << j.dump();
    EXPECT_FALSE(j.contains("draw_at")) << "no scheduled event, no draw: " << j.dump();
    std::string message = j.value("message", "");
    EXPECT_EQ(message.find("drawn at random"), std::string::npos) << j.dump();
    EXPECT_EQ(message.find("sale opens"), std::string::npos) << j.dump();
    if (j["position"].is_null()) {
      EXPECT_NE(message.find("Your place is kept"), std::string::npos) << j.dump();
      EXPECT_EQ(j["estimated_wait_seconds"], nullptr) << j.dump();
      EXPECT_EQ(j.value("wait_text", ""), "\u2014") << j.dump();
    } else {
      EXPECT_EQ(j["position"], 1) << j.dump();
    }
    // The page says the same (live region), and shows no draw time.
    HttpMessage page = Request("GET", "/", &waiting);
    ASSERT_TRUE(IsQueuePage(page)) << page.body.substr(0, 300);
    EXPECT_EQ(page.body.find("drawn at random"), std::string::npos);
    EXPECT_EQ(page.body.find("draw at"), std::string::npos);
    if (j["position"].is_null()) {
      EXPECT_NE(page.body.find("Your place is kept"), std::string::npos);
    }
    std::this_thread::sleep_for(milliseconds(400));  // pacing only
  }
}

// /.tidegate/health follows a room's shared store without any shopper
// request (ticks follow traffic; the rooms nobody visits are ticked by the
// control thread, RoomRegistry::TickIdle): Redis killed, the idle room is
// listed as degraded; Redis back, it is cleared. The shop is never visited.
TEST_F(QueueRedisTest, HealthFollowsRedisWithoutShopperRequests) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "local", "total_active_users = 50\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  auto room_listed = [&] {
    HttpMessage m = Request("GET", "/.tidegate/health", nullptr);
    Json h = Json::parse(m.body, nullptr, false);
    if (!h.is_object() || !h.contains("degraded") || !h["degraded"].is_array()) return false;
    for (const Json& p : h["degraded"]) {
      if (p.is_object() && p.value("part", "") == "room:shop") return true;
    }
    return false;
  };
  EXPECT_FALSE(room_listed());
  ASSERT_TRUE(redis_->Stop());
  EXPECT_TRUE(Eventually(room_listed, milliseconds(15000)))
      << "a room without visitors never noticed that Redis is down\n"
      << tidegate_->Stderr();
  std::string error;
  ASSERT_TRUE(redis_->Restart(&error)) << error;
  EXPECT_TRUE(Eventually([&] { return !room_listed(); }, milliseconds(20000)))
      << "health kept listing the room after Redis came back\n"
      << tidegate_->Stderr();
}

// Case 35: Redis killed under load: every pending request is answered
// within its budget (on_failure = local: served from local state).
TEST_F(QueueRedisTest, RedisKilledUnderLoadEveryRequestAnswered) {
  StartRedis();
  ASSERT_TRUE(redis_);
  // Newcomers from one address: no per-address cap.
  Start(redis_->address(), "local",
        "total_active_users = 1000\nnew_users_per_minute = 60000\n"
        "max_tickets_per_ip_per_minute = 0\n");
  ASSERT_TRUE(tidegate_);
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        std::string error;
        auto conn = RawConnection::Connect(tidegate_->port(), &error);
        if (!conn) {
          failed.fetch_add(1);
          continue;
        }
        // Newcomers: every request needs the store.
        conn->Send("GET / HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n");
        HttpMessage m = ReadResponse(*conn, Within(milliseconds(3000)));
        if (m.ok && (m.status == 200 || m.status == 503)) {
          answered.fetch_add(1);
        } else {
          failed.fetch_add(1);
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(500));  // load before the kill
  int before_kill = answered.load();
  ASSERT_TRUE(redis_->Stop());
  std::this_thread::sleep_for(milliseconds(1000));  // load after the kill
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_GT(before_kill, 0);
  EXPECT_GT(answered.load(), before_kill);
  EXPECT_EQ(failed.load(), 0) << "requests unanswered within 3 s";
}

// Case 36: Redis frozen (SIGSTOP). on_failure = closed: our timeouts fire
// (503 + Retry-After, well before the client's budget); after SIGCONT the
// room works again.
TEST_F(QueueRedisTest, FrozenRedisTimesOutThenRecovers) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "closed", "total_active_users = 50\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor warm;
  ASSERT_EQ(Request("GET", "/", &warm).status, 200);
  ASSERT_TRUE(redis_->Pause());
  RoomVisitor frozen;
  auto start = steady_clock::now();
  HttpMessage m = Request("GET", "/", &frozen, "", "", milliseconds(4000));
  auto took = steady_clock::now() - start;
  EXPECT_EQ(m.status, 503) << m.raw.substr(0, 300);
  EXPECT_TRUE(m.HasHeader("Retry-After"));
  EXPECT_TRUE(frozen.pass.empty());
  EXPECT_LT(took, milliseconds(3000)) << "the 300 ms timeout did not fire";
  // The admitted shopper is not affected: no store call on its path.
  HttpMessage inside = Request("GET", "/", &warm);
  EXPECT_EQ(inside.status, 200);
  EXPECT_FALSE(IsQueuePage(inside));
  ASSERT_TRUE(redis_->Resume());
  EXPECT_TRUE(Eventually([&] {
    RoomVisitor v;
    HttpMessage r = Request("GET", "/", &v);
    return r.status == 200 && !v.pass.empty();
  })) << "no recovery after SIGCONT";
}

// Audit 20 F1: a reload that changes [state].on_failure is not applied
// (the rooms' stores keep the mode they were made with) and says so; the
// gate and /.tidegate/health both follow the mode in force, never half of
// each.
TEST_F(QueueRedisTest, AReloadThatChangesOnFailureWaitsForARestartAndSaysSo) {
  StartRedis();
  ASSERT_TRUE(redis_);
  const std::string room = "total_active_users = 50\nnew_users_per_minute = 6000\n";
  Start(redis_->address(), "closed", room);
  ASSERT_TRUE(tidegate_);
  RoomVisitor warm;
  ASSERT_EQ(Request("GET", "/", &warm).status, 200);
  ASSERT_TRUE(tidegate_->RewriteConfig(Config(redis_->address(), "local", room)));
  ASSERT_TRUE(tidegate_->Reload());
  EXPECT_TRUE(Eventually([&] {
    return tidegate_->Stderr().find("restart tidegate to apply it") != std::string::npos;
  })) << tidegate_->Stderr();
  ASSERT_TRUE(redis_->Stop());
  RoomVisitor newcomer;
  HttpMessage m = Request("GET", "/", &newcomer);
  EXPECT_EQ(m.status, 503) << "the reloaded \"local\" was half-applied: " << m.raw.substr(0, 300);
  EXPECT_TRUE(m.HasHeader("Retry-After"));
  std::string health;
  EXPECT_TRUE(Eventually([&] {
    health = Request("GET", "/.tidegate/health", nullptr).body;
    return health.find("room:shop") != std::string::npos;
  })) << health;
  EXPECT_NE(health.find("on_failure = closed"), std::string::npos) << health;
  EXPECT_EQ(health.find("on_failure = local"), std::string::npos) << health;
}

// Visitors that reset their connection while the gate waits for Redis: the
// exchange ends (StreamFilter::OnDestroy cancels the gate's pending store
// call), the connection is freed, and the store's replies arriving later are
// dropped without touching the freed filters (the sanitize build checks the
// memory side); the proxy keeps serving.
TEST_F(QueueRedisTest, ClientsGoneWhileTheirStoreReplyIsPending) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "closed", "total_active_users = 50\nnew_users_per_minute = 6000\n",
        "2s");
  ASSERT_TRUE(tidegate_);
  RoomVisitor warm;
  ASSERT_EQ(Request("GET", "/", &warm).status, 200);  // both links up
  ASSERT_TRUE(redis_->Pause());
  std::vector<std::unique_ptr<RawConnection>> gone;
  for (int i = 0; i < 6; ++i) {
    auto conn = ConnectOrFail(tidegate_->port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET / HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
    gone.push_back(std::move(conn));
  }
  // Held by the gate: nothing comes back while Redis is frozen.
  EXPECT_EQ(gone[0]->ReadMore(milliseconds(300)), ReadStatus::kTimeout);
  for (auto& conn : gone) conn->Reset();
  std::this_thread::sleep_for(milliseconds(200));  // the proxy sees the resets first
  ASSERT_TRUE(redis_->Resume());                   // then the replies arrive
  EXPECT_TRUE(Eventually([&] {
    RoomVisitor v;
    HttpMessage r = Request("GET", "/", &v);
    return r.status == 200 && !v.pass.empty();
  })) << "the proxy stopped serving after the late replies";
  ASSERT_TRUE(tidegate_->process().Running()) << tidegate_->Stderr();
}

// Case 37: error replies (OOM with maxmemory + noeviction). on_failure =
// open: newcomers are let through (without a pass); then it recovers.
TEST_F(QueueRedisTest, ErrorRepliesWithOnFailureOpen) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "open", "total_active_users = 50\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  RoomVisitor first;
  ASSERT_EQ(Request("GET", "/", &first).status, 200);
  ASSERT_EQ(redis_->Command("CONFIG SET maxmemory-policy noeviction"), "+OK\r\n");
  ASSERT_EQ(redis_->Command("CONFIG SET maxmemory 1"), "+OK\r\n");
  RoomVisitor v;
  HttpMessage m = Request("GET", "/", &v);
  EXPECT_EQ(m.status, 200);
  EXPECT_FALSE(IsQueuePage(m));
  EXPECT_TRUE(v.pass.empty()) << "no pass without the store";
  ASSERT_EQ(redis_->Command("CONFIG SET maxmemory 0"), "+OK\r\n");
  EXPECT_TRUE(Eventually([&] {
    RoomVisitor w;
    Request("GET", "/", &w);
    return !w.pass.empty();
  }));
}

// Case 38: something that is not Redis on the port (the demo shop speaks
// HTTP). on_failure = closed: 503 + Retry-After, never a hang or a crash.
TEST_F(QueueRedisTest, NotRedisOnThePortWithOnFailureClosed) {
  ASSERT_TRUE(shop_);
  Start("127.0.0.1:" + std::to_string(shop_->port()), "closed",
        "total_active_users = 50\nnew_users_per_minute = 6000\n");
  ASSERT_TRUE(tidegate_);
  for (int i = 0; i < 3; ++i) {
    RoomVisitor v;
    auto start = steady_clock::now();
    HttpMessage m = Request("GET", "/", &v);
    EXPECT_EQ(m.status, 503) << m.raw.substr(0, 300);
    EXPECT_TRUE(m.HasHeader("Retry-After"));
    EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
    // An honest page: no made-up position, the place is kept.
    EXPECT_NE(m.body.find("We cannot check your place right now"), std::string::npos)
        << m.body.substr(0, 2000);
    EXPECT_NE(m.body.find("<dd id=\"tg-position\">\u2014</dd>"), std::string::npos);
  }
  RoomVisitor app;
  HttpMessage json =
      Request("GET", "/", &app, "Accept: application/json\r\nAccept-Language: fr\r\n");
  EXPECT_EQ(json.status, 503);
  Json j = Json::parse(json.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json.body;
  EXPECT_EQ(j["in_queue"], true);
  EXPECT_TRUE(j["position"].is_null());
  EXPECT_NE(j.value("message", "").find("Vous la gardez"), std::string::npos) << json.body;
  EXPECT_TRUE(Poll(nullptr).is_object());
}

// Case 39: Redis restarted many times: no file descriptor leak, and the
// room works on Redis after each restart.
TEST_F(QueueRedisTest, RedisRestartedManyTimesNoFdLeak) {
  StartRedis();
  ASSERT_TRUE(redis_);
  Start(redis_->address(), "local", "total_active_users = 500\nnew_users_per_minute = 60000\n");
  ASSERT_TRUE(tidegate_);
  auto visit = [&] {
    RoomVisitor v;
    HttpMessage m = Request("GET", "/", &v);
    return m.status == 200 && !v.pass.empty();
  };
  // Several connections, so that both workers have made their Redis link.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(visit());
  int fds_before = CountOpenFds(tidegate_->pid());
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(redis_->Stop());
    EXPECT_TRUE(visit()) << "round " << round << ": local fallback";
    std::string error;
    ASSERT_TRUE(redis_->Restart(&error)) << error;
    EXPECT_TRUE(Eventually([&] {
      visit();
      return redis_->Command("EXISTS tidegate:{room:shop}:s") == ":1\r\n";
    })) << "round "
        << round << ": back on Redis";
  }
  int fds_after = CountOpenFds(tidegate_->pid());
  // Slack: a link may be between sockets at either measurement.
  EXPECT_LE(fds_after, fds_before + 3) << "before " << fds_before << ", after " << fds_after;
}

// Audit 16 LOW-7: with [server].error_log a file, the room's store lines
// (failed, reachable again) are in that file, stamped with the time and
// level like every other line, and not on stderr unstamped.
TEST_F(QueueRedisTest, RoomStoreLinesGoToTheErrorLogFile) {
  StartRedis();
  ASSERT_TRUE(redis_);
  ASSERT_TRUE(shop_);
  TidegateOptions options;
  options.config =
      Config(redis_->address(), "local", "total_active_users = 50\nnew_users_per_minute = 6000\n");
  options.config.replace(options.config.find("workers = 2\n"), 12,
                         "workers = 2\nerror_log = \"${DIR}/error.log\"\n");
  tidegate_ = StartTidegateOrFail(dir_, options);
  ASSERT_TRUE(tidegate_);
  RoomVisitor first;
  ASSERT_EQ(Request("GET", "/", &first).status, 200);
  auto log = [&] {
    std::ifstream in(dir_.File("error.log"));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  // "<RFC 3339 time with ms> <level> <key>: <message>"
  auto stamped = [&](const std::string& level_key_message) {
    std::string text = log();
    size_t at = text.find(level_key_message);
    if (at == std::string::npos || at < 25) return false;
    size_t line = text.rfind('\n', at);
    line = line == std::string::npos ? 0 : line + 1;
    std::string stamp = text.substr(line, at - line);
    return stamp.size() == 25 && stamp[4] == '-' && stamp[10] == 'T' && stamp[19] == '.' &&
           stamp[23] == 'Z' && stamp[24] == ' ';
  };
  ASSERT_TRUE(redis_->Stop());
  EXPECT_TRUE(Eventually([&] {
    RoomVisitor v;
    Request("GET", "/", &v);
    return stamped("warn room.store: room 'shop': shared store failed");
  })) << "error.log:\n"
      << log() << "\nstderr:\n"
      << tidegate_->Stderr();
  std::string error;
  ASSERT_TRUE(redis_->Restart(&error)) << error;
  EXPECT_TRUE(Eventually(
      [&] {
        RoomVisitor v;
        Request("GET", "/", &v);
        return stamped("info room.store: room 'shop': shared store reachable again");
      },
      milliseconds(15000)))
      << log();
  EXPECT_EQ(tidegate_->Stderr().find("room 'shop'"), std::string::npos) << tidegate_->Stderr();
}

}  // namespace
}  // namespace tidegate::itest
